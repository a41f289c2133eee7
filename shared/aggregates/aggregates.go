// Package aggregates keeps, on the write path, what reports and the
// retention job read instead of the threads: per-practice per-day counters,
// response-time samples, the patients who wrote each day, and the index of
// closed threads. A report then reads one item per day of its period; the
// retention job reads only the index entries older than the retention
// period. Neither ever scans the table.
//
// Store wraps the messaging core's carepost.Store. After a thread or message
// write succeeds it adds to that day's aggregates (the day in the practice's
// time zone). The domain write has happened by then, so an aggregate that
// cannot be written is reported through OnError, not returned: reports may
// undercount after a failure, the messages are never lost. The closed-thread
// index is the exception on UpdateThread (closing a thread): its failure is
// returned, the client retries the close, and the retry writes it, so a
// closed thread cannot escape retention.
//
// It stores ids, counts and durations only: never patient data.
package aggregates

import (
	"context"
	"sync"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// markerTTL keeps the "first response counted" markers for as long as a
// thread can live.
const markerTTL = 20 * 365 * 24 * time.Hour

// Sink is where aggregates go (package dynamo).
type Sink interface {
	AddDayStats(ctx context.Context, pid, day string, d carepost.DayDelta) error
	PutClosed(ctx context.Context, pid, day, tid string) error
	MarkDone(ctx context.Context, pid, tid, step, mid string, ttl time.Duration) (bool, error)
}

// Store is the decorated store.
type Store struct {
	carepost.Store
	Sink    Sink
	OnError func(op string, err error)

	mu        sync.Mutex
	practices map[string]cachedPractice
}

type cachedPractice struct {
	p    carepost.Practice
	loc  *time.Location
	read time.Time
}

var _ carepost.Store = (*Store)(nil)

// Wrap decorates next.
func Wrap(next carepost.Store, sink Sink, onError func(op string, err error)) *Store {
	return &Store{Store: next, Sink: sink, OnError: onError, practices: map[string]cachedPractice{}}
}

// Day is the day (YYYY-MM-DD) of t in loc: the key of the day's aggregates.
func Day(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.DateOnly) }

// UTCDay is the day of t in UTC: the key of the closed-thread index.
func UTCDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func (s *Store) report(op string, err error) {
	if err != nil && s.OnError != nil {
		s.OnError(op, err)
	}
}

// practice returns the practice's settings, read at most once a minute.
func (s *Store) practice(ctx context.Context, pid string) (carepost.Practice, *time.Location, error) {
	s.mu.Lock()
	c, ok := s.practices[pid]
	s.mu.Unlock()
	if ok && time.Since(c.read) < time.Minute {
		return c.p, c.loc, nil
	}
	p, err := s.Store.Practice(ctx, pid)
	if err != nil {
		return p, time.UTC, err
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil || p.TimeZone == "" {
		loc = time.UTC
	}
	s.mu.Lock()
	s.practices[pid] = cachedPractice{p: p, loc: loc, read: time.Now()}
	s.mu.Unlock()
	return p, loc, nil
}

func patientSide(r carepost.Role) bool { return r == carepost.RolePatient || r == carepost.RoleProxy }

// poolOf is the pool a thread counts under: its owner when that is a pool,
// else the pool its category is routed to (a claimed thread still belongs
// to its pool's work), else "direct".
func poolOf(p carepost.Practice, t carepost.ThreadRecord) string {
	if pool, ok := t.Owner.Pool(); ok {
		return "pool:" + pool
	}
	o, ok := p.Routing[t.Category]
	if !ok {
		return "pool:frontdesk" // Practice.Route's default
	}
	if pool, ok := o.Pool(); ok {
		return "pool:" + pool
	}
	return "pool:direct"
}

func seconds(from, to time.Time) int64 {
	d := to.Sub(from)
	if d < 0 {
		d = 0
	}
	return int64(d / time.Second)
}

// CreateThread implements carepost.Store.
func (s *Store) CreateThread(ctx context.Context, t carepost.ThreadRecord, m carepost.MessageRecord) error {
	if err := s.Store.CreateThread(ctx, t, m); err != nil {
		return err
	}
	_, loc, err := s.practice(ctx, t.PracticeID)
	if err != nil {
		s.report("create", err)
		return nil
	}
	var d carepost.DayDelta
	if patientSide(t.OpenedByRole) {
		d.Opened, d.PatientMessages, d.Senders = 1, 1, []string{t.PatientID}
	} else {
		d.OpenedByStaff, d.StaffMessages = 1, 1
	}
	s.report("create", s.Sink.AddDayStats(ctx, t.PracticeID, Day(m.Sent, loc), d))
	return nil
}

// AppendMessage implements carepost.Store.
func (s *Store) AppendMessage(ctx context.Context, m carepost.MessageRecord, c carepost.ThreadChange) error {
	if err := s.Store.AppendMessage(ctx, m, c); err != nil {
		return err
	}
	t := c.Set
	t.PracticeID, t.ID = c.PracticeID, c.ThreadID
	if t.Status == carepost.StatusClosed {
		s.report("closed-index", s.Sink.PutClosed(ctx, t.PracticeID, UTCDay(t.Updated), t.ID))
	}
	p, loc, err := s.practice(ctx, t.PracticeID)
	if err != nil {
		s.report("append", err)
		return nil
	}
	var d carepost.DayDelta
	switch m.Kind {
	case carepost.KindPatient:
		d.PatientMessages, d.Senders = 1, []string{t.PatientID}
	case carepost.KindStaff:
		d.StaffMessages = 1
		if patientSide(t.OpenedByRole) {
			first, err := s.Sink.MarkDone(ctx, t.PracticeID, t.ID, "stat.first_response", "thread", markerTTL)
			if err != nil {
				s.report("first-response", err)
			} else if first {
				sec := seconds(t.Created, m.Sent)
				d.FirstResponse = map[string]int64{"all": sec, poolOf(p, t): sec, "user:" + m.SenderID: sec}
			}
		}
	default:
		return nil // system notes and retractions are not counted
	}
	s.report("append", s.Sink.AddDayStats(ctx, t.PracticeID, Day(m.Sent, loc), d))
	return nil
}

// UpdateThread implements carepost.Store.
func (s *Store) UpdateThread(ctx context.Context, c carepost.ThreadChange) error {
	if err := s.Store.UpdateThread(ctx, c); err != nil {
		return err
	}
	t := c.Set
	t.PracticeID, t.ID = c.PracticeID, c.ThreadID
	if t.Status != carepost.StatusClosed {
		return nil
	}
	if err := s.Sink.PutClosed(ctx, t.PracticeID, UTCDay(t.Updated), t.ID); err != nil {
		return err // the client retries the close, which writes the entry
	}
	if !patientSide(t.OpenedByRole) {
		return nil // time to close measures patients' questions
	}
	first, err := s.Sink.MarkDone(ctx, t.PracticeID, t.ID, "stat.close", "thread", markerTTL)
	if err != nil || !first {
		s.report("close", err)
		return nil
	}
	p, loc, err := s.practice(ctx, t.PracticeID)
	if err != nil {
		s.report("close", err)
		return nil
	}
	sec := seconds(t.Created, t.Updated)
	d := carepost.DayDelta{Closed: 1, TimeToClose: map[string]int64{"all": sec, poolOf(p, t): sec}}
	if sub, ok := t.Owner.User(); ok {
		d.TimeToClose["user:"+sub] = sec
	}
	s.report("close", s.Sink.AddDayStats(ctx, t.PracticeID, Day(t.Updated, loc), d))
	return nil
}
