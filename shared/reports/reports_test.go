package reports

import (
	"context"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		values   []int64
		p        float64
		want     int64
		wantDist Dist
	}{
		{"empty", nil, 0.5, 0, Dist{}},
		{"one", []int64{60}, 0.9, 60, Dist{Count: 1, MedianMinutes: 1, P90Minutes: 1}},
		{"even count median is the lower middle", []int64{60, 120, 180, 240}, 0.5, 120, Dist{Count: 4, MedianMinutes: 2, P90Minutes: 4}},
		{"odd count", []int64{300, 60, 180}, 0.5, 180, Dist{Count: 3, MedianMinutes: 3, P90Minutes: 5}},
		{"p90 of ten is the ninth", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9, Dist{Count: 10, MedianMinutes: 0.1, P90Minutes: 0.2}},
		{"p90 of eleven is the tenth", []int64{60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 6000}, 0.9, 600, Dist{Count: 11, MedianMinutes: 6, P90Minutes: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sorted := append([]int64(nil), tc.values...)
			d := Summarize(sorted)
			if d != tc.wantDist {
				t.Errorf("Summarize = %+v, want %+v", d, tc.wantDist)
			}
			if len(tc.values) > 0 && tc.name != "odd count" {
				if got := Percentile(tc.values, tc.p); got != tc.want {
					t.Errorf("Percentile(%v) = %d, want %d", tc.p, got, tc.want)
				}
			}
		})
	}
}

func TestParsePeriod(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC) // 28 Feb, 22:00 in New York
	for _, tc := range []struct {
		name, from, to   string
		wantFrom, wantTo string
		field            string
	}{
		{"default is the last 30 days in the practice's zone", "", "", "2026-01-30", "2026-02-28", ""},
		{"explicit", "2026-01-01", "2026-01-31", "2026-01-01", "2026-01-31", ""},
		{"one day", "2026-02-10", "2026-02-10", "2026-02-10", "2026-02-10", ""},
		{"to before from", "2026-02-10", "2026-02-09", "", "", "to"},
		{"bad date", "2026-13-01", "", "", "", "from"},
		{"a year and a day is too long", "2025-01-01", "2026-01-02", "", "", "from"},
		{"366 days is fine", "2024-01-01", "2024-12-31", "2024-01-01", "2024-12-31", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePeriod(tc.from, tc.to, now, ny)
			if tc.field != "" {
				e, ok := err.(*carepost.Error)
				if !ok || e.Field != tc.field || e.Code != carepost.CodeValidation {
					t.Fatalf("error %v, want a validation error on %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.From != tc.wantFrom || p.To != tc.wantTo {
				t.Errorf("period %s..%s, want %s..%s", p.From, p.To, tc.wantFrom, tc.wantTo)
			}
		})
	}
	p, _ := ParsePeriod("2026-03-07", "2026-03-09", now, ny) // DST starts on 8 March
	from, to := p.Bounds()
	if got, want := to.Sub(from), 71*time.Hour; got != want {
		t.Errorf("three days across the DST change last %v, want %v", got, want)
	}
	if got, want := len(p.Days()), 3; got != want {
		t.Errorf("%d days, want %d", got, want)
	}
}

// countingStore answers DayStats from a map and counts what is read.
type countingStore struct {
	Store
	days      map[string]carepost.DayStats
	dayReads  int
	calls     int
	inboxRead int
}

func (c *countingStore) Practice(context.Context, string) (carepost.Practice, error) {
	return carepost.Practice{TimeZone: "UTC", Staff: map[string]carepost.StaffRef{"n1": {Name: "Nurse One"}}}, nil
}
func (c *countingStore) DayStats(_ context.Context, _ string, days []string) ([]carepost.DayStats, error) {
	c.calls++
	c.dayReads += len(days)
	out := make([]carepost.DayStats, len(days))
	for i, d := range days {
		out[i] = c.days[d]
		out[i].Day = d
	}
	return out, nil
}
func (c *countingStore) Inbox(context.Context, string, carepost.Owner, carepost.InboxFilter, map[string]string, int) (carepost.Page[carepost.ThreadRecord], error) {
	c.inboxRead++
	return carepost.Page[carepost.ThreadRecord]{}, nil
}

// TestPeriodReportsReadOneItemPerDay: however many threads a period had,
// a report reads one aggregate per day and touches no thread.
func TestPeriodReportsReadOneItemPerDay(t *testing.T) {
	st := &countingStore{days: map[string]carepost.DayStats{
		"2026-02-01": {Opened: 400, PatientMessages: 900, FirstResponse: map[string][]int64{"all": {60, 120, 600}, "pool:nurses": {60, 120}, "user:n1": {60}}},
		"2026-02-02": {Opened: 300, Closed: 2, FirstResponse: map[string][]int64{"all": {1800}, "user:n1": {1800}}, TimeToClose: map[string][]int64{"all": {7200, 3600}}},
	}}
	s := &Service{Store: st, Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }}
	admin := carepost.Principal{Subject: "a1", Role: carepost.RoleAdmin, PracticeID: "p1"}
	rt, err := s.ResponseTimes(context.Background(), admin, "2026-02-01", "2026-02-28")
	if err != nil {
		t.Fatal(err)
	}
	if st.calls != 1 || st.dayReads != 28 || st.inboxRead != 0 {
		t.Errorf("read %d days in %d calls and %d inbox pages, want 28 days in 1 call and none", st.dayReads, st.calls, st.inboxRead)
	}
	if got, want := rt.FirstResponse.Overall, (Dist{Count: 4, MedianMinutes: 2, P90Minutes: 30}); got != want {
		t.Errorf("overall first response %+v, want %+v", got, want)
	}
	if got, want := rt.FirstResponse.ByPool["nurses"].Count, 2; got != want {
		t.Errorf("nurses pool count %d, want %d", got, want)
	}
	if len(rt.FirstResponse.ByStaff) != 1 || rt.FirstResponse.ByStaff[0].Name != "Nurse One" || rt.FirstResponse.ByStaff[0].Count != 2 {
		t.Errorf("by staff %+v", rt.FirstResponse.ByStaff)
	}
	if got, want := rt.TimeToClose.Overall, (Dist{Count: 2, MedianMinutes: 60, P90Minutes: 120}); got != want {
		t.Errorf("time to close %+v, want %+v", got, want)
	}
	v, err := s.Volume(context.Background(), admin, "2026-02-01", "2026-02-03")
	if err != nil {
		t.Fatal(err)
	}
	if v.Totals.Opened != 700 || len(v.Days) != 3 || v.Days[2].Opened != 0 {
		t.Errorf("volume %+v", v)
	}
	nurse := carepost.Principal{Subject: "n1", Role: carepost.RoleNurse, PracticeID: "p1"}
	if _, err := s.Volume(context.Background(), nurse, "", ""); carepost.ErrorCode(err) != carepost.CodeForbidden {
		t.Errorf("nurse reading a report: %v", err)
	}
}
