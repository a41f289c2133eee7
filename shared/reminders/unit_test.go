package reminders

import (
	"fmt"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

func TestDue(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	offsets := []int{72, 24}
	for _, tc := range []struct {
		name     string
		in       time.Duration
		reminded []int
		want     string // "offset also" or "none"
	}{
		{"4 days ahead: nothing yet", 96 * time.Hour, nil, "none"},
		{"71 h ahead: the 72 h reminder", 71 * time.Hour, nil, "72 []"},
		{"71 h ahead, already sent", 71 * time.Hour, []int{72}, "none"},
		{"30 h ahead after the 72 h one: nothing", 30 * time.Hour, []int{72}, "none"},
		{"23 h ahead: the 24 h reminder", 23 * time.Hour, []int{72}, "24 []"},
		{"booked 10 h ahead: only the 24 h one, the 72 h one superseded", 10 * time.Hour, nil, "24 [72]"},
		{"23 h ahead, both sent", 23 * time.Hour, []int{72, 24}, "none"},
		{"in the past", -time.Hour, nil, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := carepost.Appointment{Time: now.Add(tc.in), Reminded: tc.reminded}
			off, also, ok := due(a, offsets, now)
			got := "none"
			if ok {
				got = fmt.Sprintf("%d %v", off, also)
			}
			if got != tc.want {
				t.Errorf("due = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestOffsets(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, "[72 24]"},
		{[]int{24, 72, 2}, "[72 24 2]"},
		{[]int{0, -5, 24, 24}, "[24]"},
		{[]int{10000}, "[72 24]"},
	} {
		if got := fmt.Sprint(Offsets(carepost.Practice{ReminderOffsetsHours: tc.in})); got != tc.want {
			t.Errorf("Offsets(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
