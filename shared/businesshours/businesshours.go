// Package businesshours counts time the way a practice works: in its own
// time zone, within its opening hours, skipping its holidays. The triage
// worker uses it to turn a turnaround target ("answer within 8 business
// hours") into a due time.
//
// Opening hours are wall-clock times in the practice's zone, so the length
// of a working day is measured on the real clock of that day: a practice
// open 00:00–24:00 works 23 hours on the day clocks spring forward. Times
// are always computed with time.Date in the practice's location, never by
// adding 24 hours, so the daylight-saving switch never shifts an opening
// time.
//
// It holds no patient data and never fails: a practice without hours gets
// Monday to Friday 08:00–17:00, an unknown time zone falls back to UTC
// (Validate reports both to whoever edits the settings).
package businesshours

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Lambda's provided.al2023 image carries no zoneinfo

	"github.com/carepost/carepost/shared/carepost"
)

// maxDays bounds the search for opening time (ten years of holidays).
const maxDays = 3660

// span is one opening interval of a weekday, in minutes after midnight.
type span struct{ open, close int }

// Calendar is a practice's working time.
type Calendar struct {
	loc      *time.Location
	week     [7][]span
	holidays map[string]bool // "2006-01-02" in the practice's zone
}

// DefaultHours are used when a practice has configured none: Monday to
// Friday, 08:00–17:00.
func DefaultHours() []carepost.OpeningHours {
	var h []carepost.OpeningHours
	for d := time.Monday; d <= time.Friday; d++ {
		h = append(h, carepost.OpeningHours{Day: d, Open: "08:00", Close: "17:00"})
	}
	return h
}

// ForPractice returns the calendar of p. It never fails: entries that do not
// parse are skipped (see Validate), no usable hours means DefaultHours, and
// an unknown time zone means UTC.
func ForPractice(p carepost.Practice) *Calendar {
	loc, err := location(p.TimeZone)
	if err != nil || p.TimeZone == "" {
		loc = time.UTC
	}
	c, _ := build(loc, p.Hours, p.Holidays)
	if c.empty() {
		c, _ = build(loc, DefaultHours(), p.Holidays)
	}
	return c
}

// Validate reports what is wrong with a practice's time settings (for the
// settings editor); ForPractice tolerates the same problems.
func Validate(p carepost.Practice) error {
	var errs []error
	if p.TimeZone == "" {
		errs = append(errs, errors.New("timeZone is required (an IANA name such as America/New_York)"))
	} else if _, err := location(p.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("timeZone %q is not an IANA time zone", p.TimeZone))
	}
	if _, err := build(time.UTC, p.Hours, p.Holidays); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// zones caches loaded locations: LoadLocation parses zoneinfo every time.
var zones sync.Map // name -> *time.Location

func location(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

func build(loc *time.Location, hours []carepost.OpeningHours, holidays []string) (*Calendar, error) {
	c := &Calendar{loc: loc, holidays: map[string]bool{}}
	var errs []error
	for i, h := range hours {
		open, err1 := clock(h.Open, false)
		cl, err2 := clock(h.Close, true)
		switch {
		case h.Day < time.Sunday || h.Day > time.Saturday:
			errs = append(errs, fmt.Errorf("hours[%d]: day must be 0 (Sunday) to 6 (Saturday)", i))
		case err1 != nil || err2 != nil:
			errs = append(errs, fmt.Errorf("hours[%d]: open and close must be HH:MM", i))
		case cl <= open:
			errs = append(errs, fmt.Errorf("hours[%d]: close must be after open", i))
		default:
			c.week[h.Day] = append(c.week[h.Day], span{open, cl})
		}
	}
	for d := range c.week {
		c.week[d] = merge(c.week[d])
	}
	for i, d := range holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			errs = append(errs, fmt.Errorf("holidays[%d]: must be YYYY-MM-DD", i))
			continue
		}
		c.holidays[d] = true
	}
	return c, errors.Join(errs...)
}

// clock parses "HH:MM" into minutes after midnight; "24:00" only as a close.
func clock(s string, isClose bool) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) != 2 || len(mm) != 2 {
		return 0, errors.New("bad time")
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && (m != 0 || !isClose)) {
		return 0, errors.New("bad time")
	}
	return h*60 + m, nil
}

// merge sorts a day's intervals and joins overlapping ones.
func merge(s []span) []span {
	slices.SortFunc(s, func(a, b span) int { return a.open - b.open })
	var out []span
	for _, x := range s {
		if n := len(out); n > 0 && x.open <= out[n-1].close {
			out[n-1].close = max(out[n-1].close, x.close)
			continue
		}
		out = append(out, x)
	}
	return out
}

func (c *Calendar) empty() bool {
	for _, d := range c.week {
		if len(d) > 0 {
			return false
		}
	}
	return true
}

// Location is the practice's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// at returns the instant of minute-of-day min on the local date y-m-d.
func (c *Calendar) at(y int, m time.Month, d, min int) time.Time {
	return time.Date(y, m, d, min/60, min%60, 0, 0, c.loc)
}

// IsHoliday reports whether t falls on one of the practice's holidays.
func (c *Calendar) IsHoliday(t time.Time) bool {
	return c.holidays[t.In(c.loc).Format(time.DateOnly)]
}

// IsOpen reports whether the practice is open at t.
func (c *Calendar) IsOpen(t time.Time) bool {
	lt := t.In(c.loc)
	if c.IsHoliday(lt) {
		return false
	}
	y, m, d := lt.Date()
	for _, s := range c.week[lt.Weekday()] {
		if !t.Before(c.at(y, m, d, s.open)) && t.Before(c.at(y, m, d, s.close)) {
			return true
		}
	}
	return false
}

// Add returns the instant at which d of working time has passed since from.
// Work only counts while the practice is open; the result is in the
// practice's zone. A non-positive d returns from.
func (c *Calendar) Add(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from.In(c.loc)
	}
	left := d
	cur := from.In(c.loc)
	y, m, day := cur.Date()
	for i := 0; i < maxDays; i++ {
		date := time.Date(y, m, day+i, 12, 0, 0, 0, c.loc) // noon: never in a DST gap
		if c.holidays[date.Format(time.DateOnly)] {
			continue
		}
		dy, dm, dd := date.Date()
		for _, s := range c.week[date.Weekday()] {
			open, close := c.at(dy, dm, dd, s.open), c.at(dy, dm, dd, s.close)
			if !close.After(cur) {
				continue
			}
			start := open
			if cur.After(open) {
				start = cur
			}
			avail := close.Sub(start)
			if left <= avail {
				return start.Add(left)
			}
			left -= avail
		}
	}
	// Unreachable with at least one opening interval (ForPractice
	// guarantees one) unless ten years are holidays: answer far away
	// rather than never.
	return cur.Add(d)
}

// AddHours is Add for whole business hours (turnaround targets).
func (c *Calendar) AddHours(from time.Time, hours int) time.Time {
	return c.Add(from, time.Duration(hours)*time.Hour)
}

// Between returns the working time between from and to (zero when to is
// not after from). The sweep uses it to space escalation steps.
func (c *Calendar) Between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	var total time.Duration
	cur := from.In(c.loc)
	y, m, day := cur.Date()
	for i := 0; i < maxDays; i++ {
		date := time.Date(y, m, day+i, 12, 0, 0, 0, c.loc)
		dy, dm, dd := date.Date()
		if c.at(dy, dm, dd, 0).After(to) {
			break
		}
		if c.holidays[date.Format(time.DateOnly)] {
			continue
		}
		for _, s := range c.week[date.Weekday()] {
			open, close := c.at(dy, dm, dd, s.open), c.at(dy, dm, dd, s.close)
			if open.Before(cur) {
				open = cur
			}
			if close.After(to) {
				close = to
			}
			if close.After(open) {
				total += close.Sub(open)
			}
		}
	}
	return total
}
