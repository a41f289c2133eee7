package businesshours

import (
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

func weekdays(open, close string) []carepost.OpeningHours {
	var h []carepost.OpeningHours
	for d := time.Monday; d <= time.Friday; d++ {
		h = append(h, carepost.OpeningHours{Day: d, Open: open, Close: close})
	}
	return h
}

func local(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAdd(t *testing.T) {
	const ny = "America/New_York"
	clinic := carepost.Practice{TimeZone: ny, Hours: weekdays("09:00", "17:00"), Holidays: []string{"2026-12-25"}}
	lunch := carepost.Practice{TimeZone: ny, Hours: []carepost.OpeningHours{
		{Day: time.Monday, Open: "13:00", Close: "17:00"}, {Day: time.Monday, Open: "08:00", Close: "12:00"},
	}}
	allSunday := carepost.Practice{TimeZone: ny, Hours: []carepost.OpeningHours{{Day: time.Sunday, Open: "00:00", Close: "24:00"}}}
	berlin := carepost.Practice{TimeZone: "Europe/Berlin", Hours: weekdays("08:00", "18:00")}
	tests := []struct {
		name     string
		practice carepost.Practice
		from     string // in the practice's zone
		hours    time.Duration
		want     string // in the practice's zone
		wantUTC  string // optional: the instant, to pin the DST offset
	}{
		{"within the day", clinic, "2026-03-02 09:00", 3 * time.Hour, "2026-03-02 12:00", ""},
		{"spills into the next day", clinic, "2026-03-02 15:00", 4 * time.Hour, "2026-03-03 11:00", ""},
		{"ends exactly at closing", clinic, "2026-03-02 09:00", 8 * time.Hour, "2026-03-02 17:00", ""},
		{"friday afternoon skips the weekend", clinic, "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 10:00", "2026-03-09T14:00:00Z"},
		{"sent on saturday", clinic, "2026-03-07 11:30", 8 * time.Hour, "2026-03-09 17:00", ""},
		{"after hours", clinic, "2026-03-03 20:00", time.Hour, "2026-03-04 10:00", ""},
		{"before opening", clinic, "2026-03-03 06:00", 90 * time.Minute, "2026-03-03 10:30", ""},
		{"holiday friday and weekend", clinic, "2026-12-24 16:00", 2 * time.Hour, "2026-12-28 10:00", ""},
		{"sent on the holiday", clinic, "2026-12-25 10:00", time.Hour, "2026-12-28 10:00", ""},
		{"across several days", clinic, "2026-03-02 10:00", 40 * time.Hour, "2026-03-09 10:00", ""},
		{"16 hours is two working days", clinic, "2026-03-03 09:00", 16 * time.Hour, "2026-03-04 17:00", ""},
		{"DST starts (EST to EDT) over the weekend", clinic, "2026-03-06 16:30", time.Hour, "2026-03-09 09:30", "2026-03-09T13:30:00Z"},
		{"DST ends (EDT to EST) over the weekend", clinic, "2026-10-30 16:30", time.Hour, "2026-11-02 09:30", "2026-11-02T14:30:00Z"},
		{"23-hour day when clocks spring forward", allSunday, "2026-03-07 12:00", 23 * time.Hour, "2026-03-09 00:00", "2026-03-09T04:00:00Z"},
		{"25-hour day when clocks fall back", allSunday, "2026-10-31 12:00", 25 * time.Hour, "2026-11-02 00:00", "2026-11-02T05:00:00Z"},
		{"lunch break", lunch, "2026-03-02 11:00", 2 * time.Hour, "2026-03-02 14:00", ""},
		{"no hours: Monday to Friday 8 to 5", carepost.Practice{TimeZone: ny}, "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 09:00", ""},
		{"Europe: DST a different week", berlin, "2026-03-27 17:00", 2 * time.Hour, "2026-03-30 09:00", "2026-03-30T07:00:00Z"},
		{"zero is now", clinic, "2026-03-07 11:30", 0, "2026-03-07 11:30", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ForPractice(tt.practice)
			zone := tt.practice.TimeZone
			got := c.Add(local(t, zone, tt.from), tt.hours)
			if want := local(t, zone, tt.want); !got.Equal(want) {
				t.Errorf("Add(%s, %v) = %s, want %s", tt.from, tt.hours, got, want)
			}
			if tt.wantUTC != "" {
				if got, want := got.UTC().Format(time.RFC3339), tt.wantUTC; got != want {
					t.Errorf("instant = %s, want %s", got, want)
				}
			}
			if got, want := got.Location().String(), zone; got != want {
				t.Errorf("result zone = %s, want %s", got, want)
			}
			// Between is Add's inverse.
			if tt.hours > 0 {
				if got, want := c.Between(local(t, zone, tt.from), got), tt.hours; got != want {
					t.Errorf("Between = %v, want %v", got, want)
				}
			}
		})
	}
}

func TestIsOpen(t *testing.T) {
	const ny = "America/New_York"
	c := ForPractice(carepost.Practice{TimeZone: ny, Hours: weekdays("08:00", "17:00"), Holidays: []string{"2026-12-25"}})
	tests := []struct {
		at   string
		want bool
	}{
		{"2026-03-02 08:00", true},
		{"2026-03-02 07:59", false},
		{"2026-03-02 16:59", true},
		{"2026-03-02 17:00", false},
		{"2026-03-07 10:00", false}, // Saturday
		{"2026-12-25 10:00", false}, // holiday
		{"2026-12-24 10:00", true},
	}
	for _, tt := range tests {
		if got := c.IsOpen(local(t, ny, tt.at)); got != tt.want {
			t.Errorf("IsOpen(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestFallbacks(t *testing.T) {
	tests := []struct {
		name     string
		practice carepost.Practice
		wantZone string
		valid    bool
	}{
		{"valid", carepost.Practice{TimeZone: "America/Chicago", Hours: weekdays("08:00", "17:00"), Holidays: []string{"2026-07-03"}}, "America/Chicago", true},
		{"unknown zone is UTC", carepost.Practice{TimeZone: "Mars/Olympus", Hours: weekdays("08:00", "17:00")}, "UTC", false},
		{"no zone is UTC", carepost.Practice{Hours: weekdays("08:00", "17:00")}, "UTC", false},
		{"bad hours fall back to the default", carepost.Practice{TimeZone: "America/Chicago", Hours: []carepost.OpeningHours{{Day: time.Monday, Open: "17:00", Close: "08:00"}}}, "America/Chicago", false},
		{"bad holiday", carepost.Practice{TimeZone: "America/Chicago", Holidays: []string{"25/12/2026"}}, "America/Chicago", false},
		{"24:00 opens", carepost.Practice{TimeZone: "America/Chicago", Hours: []carepost.OpeningHours{{Day: time.Monday, Open: "24:00", Close: "24:00"}}}, "America/Chicago", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ForPractice(tt.practice)
			if got, want := c.Location().String(), tt.wantZone; got != want {
				t.Errorf("zone = %s, want %s", got, want)
			}
			if c.empty() {
				t.Error("calendar has no opening hours")
			}
			err := Validate(tt.practice)
			if got, want := err == nil, tt.valid; got != want {
				t.Errorf("Validate = %v, want valid=%v", err, want)
			}
		})
	}
	// The default calendar opens Monday 08:00.
	c := ForPractice(carepost.Practice{TimeZone: "America/Chicago", Hours: []carepost.OpeningHours{{Day: time.Monday, Open: "9", Close: "5"}}})
	if got, want := c.IsOpen(local(t, "America/Chicago", "2026-03-02 08:30")), true; got != want {
		t.Errorf("default hours open Monday 08:30 = %v, want %v", got, want)
	}
	if err := Validate(carepost.Practice{TimeZone: "x", Hours: []carepost.OpeningHours{{Day: 9, Open: "08:00", Close: "09:00"}}}); err == nil || !strings.Contains(err.Error(), "day must be") {
		t.Errorf("Validate = %v, want a day error", err)
	}
}

func BenchmarkAdd(b *testing.B) {
	c := ForPractice(carepost.Practice{TimeZone: "America/New_York", Hours: weekdays("08:00", "17:00"), Holidays: []string{"2026-12-25", "2027-01-01"}})
	from := time.Date(2026, 12, 24, 21, 0, 0, 0, time.UTC) // Thursday before a holiday weekend
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Add(from, 16*time.Hour)
	}
}

func BenchmarkForPractice(b *testing.B) {
	p := carepost.Practice{TimeZone: "America/New_York", Hours: weekdays("08:00", "17:00"), Holidays: []string{"2026-12-25", "2027-01-01"}}
	b.ReportAllocs()
	for b.Loop() {
		_ = ForPractice(p)
	}
}
