// Package reports answers the practice admin's questions about the inbox:
// time to first response and to close (median and 90th percentile, per
// pool and per staff member), volume per day, the backlog and what is
// overdue, the share of patients seen who sent a secure message (the
// Meaningful Use measure), and reminder delivery and confirmation rates.
//
// Reports never scan the table. Period reports read one aggregate item per
// day (package aggregates keeps them on the write path); the backlog reads
// the active part of each owner's inbox index; reminders read the
// practice's campaigns and the appointments of the period. Reports hold
// ids, counts and durations only, and every one is audited.
package reports

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// Limits.
const (
	MaxDays        = 366
	DefaultDays    = 30
	MaxSeenPerCall = 5000
	// MUThreshold is the Meaningful Use Stage 2 secure-messaging measure:
	// more than 5% of unique patients seen send a secure message.
	MUThreshold = 0.05
)

// Store is what reports read (package dynamo).
type Store interface {
	DayStats(ctx context.Context, pid string, days []string) ([]carepost.DayStats, error)
	AddDayStats(ctx context.Context, pid, day string, d carepost.DayDelta) error
	Practice(ctx context.Context, pid string) (carepost.Practice, error)
	Inbox(ctx context.Context, pid string, owner carepost.Owner, f carepost.InboxFilter, after map[string]string, limit int) (carepost.Page[carepost.ThreadRecord], error)
	AppointmentsBetween(ctx context.Context, pid string, from, to time.Time, after map[string]string, limit int) (carepost.Page[carepost.AppointmentRecord], error)
	Campaigns(ctx context.Context, pid string, after map[string]string, limit int) (carepost.Page[carepost.Campaign], error)
}

// Auditor records report reads.
type Auditor interface {
	RecordAudit(ctx context.Context, p carepost.Principal, action, patientID, object, outcome string) error
}

// Service implements the reports.
type Service struct {
	Store Store
	Audit Auditor
	Now   func() time.Time
}

// New returns a service with the real clock.
func New(store Store, audit Auditor) *Service {
	return &Service{Store: store, Audit: audit, Now: time.Now}
}

// Period is a run of whole days in the practice's time zone, both ends
// included.
type Period struct {
	From string `json:"from"` // YYYY-MM-DD
	To   string `json:"to"`
	loc  *time.Location
}

// Days lists the period's days.
func (p Period) Days() []string {
	from, _ := time.ParseInLocation(time.DateOnly, p.From, time.UTC)
	to, _ := time.ParseInLocation(time.DateOnly, p.To, time.UTC)
	var out []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// Bounds are the period's first and last instants (end exclusive).
func (p Period) Bounds() (time.Time, time.Time) {
	from, _ := time.ParseInLocation(time.DateOnly, p.From, p.loc)
	to, _ := time.ParseInLocation(time.DateOnly, p.To, p.loc)
	return from, to.AddDate(0, 0, 1)
}

// ParsePeriod reads from and to (YYYY-MM-DD, inclusive); empty means the
// last DefaultDays days up to today in the practice's zone.
func ParsePeriod(from, to string, now time.Time, loc *time.Location) (Period, error) {
	today := now.In(loc).Format(time.DateOnly)
	if to == "" {
		to = today
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return Period{}, carepost.FieldError(carepost.CodeValidation, "to", "to must be a date (YYYY-MM-DD)")
	}
	if from == "" {
		from = t.AddDate(0, 0, -(DefaultDays - 1)).Format(time.DateOnly)
	}
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return Period{}, carepost.FieldError(carepost.CodeValidation, "from", "from must be a date (YYYY-MM-DD)")
	}
	if t.Before(f) {
		return Period{}, carepost.FieldError(carepost.CodeValidation, "to", "to is before from")
	}
	if n := int(t.Sub(f).Hours()/24) + 1; n > MaxDays {
		return Period{}, carepost.FieldError(carepost.CodeValidation, "from", "a report covers at most %d days", MaxDays)
	}
	return Period{From: from, To: to, loc: loc}, nil
}

// Dist summarizes durations: how many, and the median and 90th percentile
// in minutes (nearest-rank percentiles, so each is an observed value).
type Dist struct {
	Count         int     `json:"count"`
	MedianMinutes float64 `json:"medianMinutes"`
	P90Minutes    float64 `json:"p90Minutes"`
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 1) of
// sorted values: the smallest value with at least p of the values at or
// below it.
func Percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Summarize builds a Dist from samples in seconds.
func Summarize(samples []int64) Dist {
	s := slices.Clone(samples)
	slices.Sort(s)
	minutes := func(sec int64) float64 { return math.Round(float64(sec)/6) / 10 }
	return Dist{Count: len(s), MedianMinutes: minutes(Percentile(s, 0.5)), P90Minutes: minutes(Percentile(s, 0.9))}
}

// StaffDist is a Dist for one staff member.
type StaffDist struct {
	Subject string `json:"subject"`
	Name    string `json:"name,omitempty"`
	Dist
}

// Times are the distributions of one measure.
type Times struct {
	Overall Dist            `json:"overall"`
	ByPool  map[string]Dist `json:"byPool"`
	ByStaff []StaffDist     `json:"byStaff"`
}

// ResponseTimes is the response-time report.
type ResponseTimes struct {
	Period        Period `json:"period"`
	FirstResponse Times  `json:"firstResponse"` // patient's new thread -> first staff reply
	TimeToClose   Times  `json:"timeToClose"`   // patient's new thread -> first close
}

func (s *Service) admin(ctx context.Context, p carepost.Principal, report string) (carepost.Practice, *time.Location, error) {
	if p.Role != carepost.RoleAdmin || p.PracticeID == "" {
		if s.Audit != nil {
			_ = s.Audit.RecordAudit(ctx, p, "report.read", "", "report/"+report, "denied")
		}
		return carepost.Practice{}, nil, carepost.Errorf(carepost.CodeForbidden, "reports are for practice admins")
	}
	pr, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return pr, nil, err
	}
	loc, err := time.LoadLocation(pr.TimeZone)
	if err != nil || pr.TimeZone == "" {
		loc = time.UTC
	}
	return pr, loc, nil
}

func (s *Service) audit(ctx context.Context, p carepost.Principal, report string) error {
	if s.Audit == nil {
		return nil
	}
	return s.Audit.RecordAudit(ctx, p, "report.read", "", "report/"+report, "ok")
}

// days reads the aggregates of a period.
func (s *Service) days(ctx context.Context, p carepost.Principal, from, to string, report string) (carepost.Practice, Period, []carepost.DayStats, error) {
	pr, loc, err := s.admin(ctx, p, report)
	if err != nil {
		return pr, Period{}, nil, err
	}
	per, err := ParsePeriod(from, to, s.Now(), loc)
	if err != nil {
		return pr, per, nil, err
	}
	stats, err := s.Store.DayStats(ctx, p.PracticeID, per.Days())
	if err != nil {
		return pr, per, nil, err
	}
	return pr, per, stats, s.audit(ctx, p, report)
}

func times(pr carepost.Practice, samples map[string][]int64) Times {
	t := Times{Overall: Summarize(samples["all"]), ByPool: map[string]Dist{}, ByStaff: []StaffDist{}}
	for dim, v := range samples {
		switch {
		case strings.HasPrefix(dim, "pool:"):
			t.ByPool[strings.TrimPrefix(dim, "pool:")] = Summarize(v)
		case strings.HasPrefix(dim, "user:"):
			sub := strings.TrimPrefix(dim, "user:")
			t.ByStaff = append(t.ByStaff, StaffDist{Subject: sub, Name: pr.Staff[sub].Name, Dist: Summarize(v)})
		}
	}
	sort.Slice(t.ByStaff, func(i, j int) bool { return t.ByStaff[i].Subject < t.ByStaff[j].Subject })
	return t
}

// ResponseTimes reports time to first response and to close.
func (s *Service) ResponseTimes(ctx context.Context, p carepost.Principal, from, to string) (ResponseTimes, error) {
	pr, per, stats, err := s.days(ctx, p, from, to, "response-times")
	if err != nil {
		return ResponseTimes{}, err
	}
	frt, ttc := map[string][]int64{}, map[string][]int64{}
	for _, d := range stats {
		for k, v := range d.FirstResponse {
			frt[k] = append(frt[k], v...)
		}
		for k, v := range d.TimeToClose {
			ttc[k] = append(ttc[k], v...)
		}
	}
	return ResponseTimes{Period: per, FirstResponse: times(pr, frt), TimeToClose: times(pr, ttc)}, nil
}

// DayVolume is one day of the volume report.
type DayVolume struct {
	Day             string `json:"day"`
	Opened          int    `json:"opened"`        // threads patients opened
	OpenedByStaff   int    `json:"openedByStaff"` // clinician-initiated threads
	PatientMessages int    `json:"patientMessages"`
	StaffMessages   int    `json:"staffMessages"`
	Closed          int    `json:"closed"` // patients' threads closed for the first time
}

// Volume is the volume report.
type Volume struct {
	Period Period      `json:"period"`
	Days   []DayVolume `json:"days"`
	Totals DayVolume   `json:"totals"`
}

// Volume reports messages and threads per day.
func (s *Service) Volume(ctx context.Context, p carepost.Principal, from, to string) (Volume, error) {
	_, per, stats, err := s.days(ctx, p, from, to, "volume")
	if err != nil {
		return Volume{}, err
	}
	v := Volume{Period: per, Days: make([]DayVolume, 0, len(stats))}
	for _, d := range stats {
		dv := DayVolume{Day: d.Day, Opened: d.Opened, OpenedByStaff: d.OpenedByStaff, PatientMessages: d.PatientMessages, StaffMessages: d.StaffMessages, Closed: d.Closed}
		v.Days = append(v.Days, dv)
		v.Totals.Opened += d.Opened
		v.Totals.OpenedByStaff += d.OpenedByStaff
		v.Totals.PatientMessages += d.PatientMessages
		v.Totals.StaffMessages += d.StaffMessages
		v.Totals.Closed += d.Closed
	}
	v.Totals.Day = "total"
	return v, nil
}
