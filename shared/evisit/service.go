package evisit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/aggregates"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/reports"
)

// MaxMinutes bounds one entry.
const MaxMinutes = 240

// Store is what the service needs of the database (package dynamo).
type Store interface {
	PutTimeEntry(ctx context.Context, pid, tid string, e carepost.TimeEntry) error
	TimeEntries(ctx context.Context, pid, tid string) ([]carepost.TimeEntry, error)
	Thread(ctx context.Context, pid, tid string) (carepost.ThreadRecord, error)
	UpdateThread(ctx context.Context, c carepost.ThreadChange) error
	Practice(ctx context.Context, pid string) (carepost.Practice, error)
	AddDayStats(ctx context.Context, pid, day string, d carepost.DayDelta) error
	DayStats(ctx context.Context, pid string, days []string) ([]carepost.DayStats, error)
}

// Threads is the messaging core: the one visibility rule and the audit log.
type Threads interface {
	VisibleThread(ctx context.Context, p carepost.Principal, threadID, action string) (carepost.ThreadRecord, error)
	RecordAudit(ctx context.Context, p carepost.Principal, action, patientID, object, outcome string) error
}

// Service implements e-visit time.
type Service struct {
	Store   Store
	Threads Threads
	Now     func() time.Time
	NewID   func() string
}

// New returns a service with the real clock and random ids.
func New(store Store, threads Threads) *Service {
	return &Service{Store: store, Threads: threads, Now: time.Now, NewID: messaging.RandomID}
}

// LogInput records minutes spent on a thread; At (default now) is when the
// work was done.
type LogInput struct {
	Minutes int       `json:"minutes"`
	At      time.Time `json:"at,omitzero"`
}

// ThreadTime is a thread's time entries and its e-visit summary.
type ThreadTime struct {
	Entries []carepost.TimeEntry `json:"entries"`
	Summary Summary              `json:"summary"`
}

func (s *Service) zone(ctx context.Context, pid string) (*time.Location, error) {
	p, err := s.Store.Practice(ctx, pid)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil || p.TimeZone == "" {
		loc = time.UTC
	}
	return loc, nil
}

// Log records time. Clinicians and nurses log time (front desk and admin
// work is not e-visit time). Logging time on a thread nobody has reviewed
// yet starts its window: the person logging has reviewed it.
func (s *Service) Log(ctx context.Context, r messaging.Request, threadID string, in LogInput) (ThreadTime, error) {
	p := r.Principal
	if !p.Role.IsClinical() || p.PracticeID == "" {
		return ThreadTime{}, carepost.Errorf(carepost.CodeForbidden, "only clinicians and nurses log e-visit time")
	}
	if in.Minutes < 1 || in.Minutes > MaxMinutes {
		return ThreadTime{}, carepost.FieldError(carepost.CodeValidation, "minutes", "minutes must be between 1 and %d", MaxMinutes)
	}
	t, err := s.Threads.VisibleThread(ctx, p, threadID, "thread.time")
	if err != nil {
		return ThreadTime{}, err
	}
	now := s.Now().UTC()
	at := in.At.UTC()
	if in.At.IsZero() {
		at = now
	}
	if at.After(now.Add(time.Minute)) {
		return ThreadTime{}, carepost.FieldError(carepost.CodeValidation, "at", "at is in the future")
	}
	if at.Before(t.Created) {
		return ThreadTime{}, carepost.FieldError(carepost.CodeValidation, "at", "at is before the thread was opened")
	}
	id := s.NewID()
	if r.IdempotencyKey != "" {
		h := sha256.Sum256([]byte("time\x00" + p.PracticeID + "\x00" + p.Subject + "\x00" + r.IdempotencyKey))
		id = hex.EncodeToString(h[:16])
	}
	e := carepost.TimeEntry{ID: id, StaffID: p.Subject, Role: p.Role, Minutes: in.Minutes, At: at, Logged: now}
	if err := s.Store.PutTimeEntry(ctx, t.PracticeID, t.ID, e); err != nil && carepost.ErrorCode(err) != carepost.CodeConflict {
		return ThreadTime{}, err
	}
	if t.FirstReviewed.IsZero() {
		if t, err = s.startWindow(ctx, t, at); err != nil {
			return ThreadTime{}, err
		}
	}
	// Index the thread under its window's first day, so the billing CSV of
	// a period reads one aggregate per day.
	loc, err := s.zone(ctx, t.PracticeID)
	if err != nil {
		return ThreadTime{}, err
	}
	if err := s.Store.AddDayStats(ctx, t.PracticeID, aggregates.Day(t.FirstReviewed, loc), carepost.DayDelta{EVisits: []string{t.ID}}); err != nil {
		return ThreadTime{}, err
	}
	if err := s.Threads.RecordAudit(ctx, p, "thread.time", t.PatientID, "thread/"+t.ID+"/time/"+id, "ok"); err != nil {
		return ThreadTime{}, err
	}
	return s.summary(ctx, t)
}

// startWindow sets the thread's first review (once: a concurrent first
// review wins and is used).
func (s *Service) startWindow(ctx context.Context, t carepost.ThreadRecord, at time.Time) (carepost.ThreadRecord, error) {
	for range 3 {
		next := t
		next.FirstReviewed = at
		err := s.Store.UpdateThread(ctx, carepost.ThreadChange{PracticeID: t.PracticeID, ThreadID: t.ID, Version: t.Version, Set: next})
		if err == nil {
			next.Version++
			return next, nil
		}
		if carepost.ErrorCode(err) != carepost.CodeConflict {
			return t, err
		}
		if t, err = s.Store.Thread(ctx, t.PracticeID, t.ID); err != nil {
			return t, err
		}
		if !t.FirstReviewed.IsZero() {
			return t, nil
		}
	}
	return t, carepost.Errorf(carepost.CodeConflict, "the thread is changing; retry")
}

func (s *Service) summary(ctx context.Context, t carepost.ThreadRecord) (ThreadTime, error) {
	entries, err := s.Store.TimeEntries(ctx, t.PracticeID, t.ID)
	if err != nil {
		return ThreadTime{}, err
	}
	if entries == nil {
		entries = []carepost.TimeEntry{}
	}
	return ThreadTime{Entries: entries, Summary: Compute(t, entries, s.Now().UTC())}, nil
}

// Get returns a thread's time and e-visit summary (clinical staff and
// admins who may see the thread).
func (s *Service) Get(ctx context.Context, p carepost.Principal, threadID string) (ThreadTime, error) {
	if !p.Role.IsClinical() && p.Role != carepost.RoleAdmin {
		return ThreadTime{}, carepost.Errorf(carepost.CodeForbidden, "e-visit time is for clinical staff and admins")
	}
	t, err := s.Threads.VisibleThread(ctx, p, threadID, "thread.time.read")
	if err != nil {
		return ThreadTime{}, err
	}
	tt, err := s.summary(ctx, t)
	if err != nil {
		return tt, err
	}
	return tt, s.Threads.RecordAudit(ctx, p, "thread.time.read", t.PatientID, "thread/"+t.ID, "ok")
}

// CSVHeader is the billing export's header row.
var CSVHeader = []string{"window_start", "window_end", "status", "thread_id", "patient_id", "category", "billing_staff_id", "billing_staff_name", "billing_role", "clinician_minutes", "nurse_minutes", "cpt_code"}

// BillingCSV lists the billable e-visits whose window started in the period
// (days in the practice's zone), oldest first. Status is "complete" when the
// window has ended, "open" while time may still be added.
func (s *Service) BillingCSV(ctx context.Context, p carepost.Principal, from, to string) ([]byte, int, error) {
	if p.Role != carepost.RoleAdmin || p.PracticeID == "" {
		_ = s.Threads.RecordAudit(ctx, p, "report.evisits", "", "report/evisits", "denied")
		return nil, 0, carepost.Errorf(carepost.CodeForbidden, "the billing export is for practice admins")
	}
	practice, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return nil, 0, err
	}
	loc, err := time.LoadLocation(practice.TimeZone)
	if err != nil || practice.TimeZone == "" {
		loc = time.UTC
	}
	per, err := reports.ParsePeriod(from, to, s.Now(), loc)
	if err != nil {
		return nil, 0, err
	}
	days, err := s.Store.DayStats(ctx, p.PracticeID, per.Days())
	if err != nil {
		return nil, 0, err
	}
	start, end := per.Bounds()
	now := s.Now().UTC()
	var rows []Summary
	seen := map[string]bool{}
	for _, d := range days {
		for _, tid := range d.EVisits {
			if seen[tid] {
				continue
			}
			seen[tid] = true
			t, err := s.Store.Thread(ctx, p.PracticeID, tid)
			if carepost.ErrorCode(err) == carepost.CodeNotFound {
				continue // deleted by retention
			}
			if err != nil {
				return nil, 0, err
			}
			tt, err := s.summary(ctx, t)
			if err != nil {
				return nil, 0, err
			}
			sm := tt.Summary
			sm.Complete = !now.Before(sm.WindowEnd)
			if sm.Billable && !sm.WindowStart.Before(start) && sm.WindowStart.Before(end) {
				rows = append(rows, sm)
			}
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(CSVHeader)
	for _, r := range rows {
		status := "open"
		if r.Complete {
			status = "complete"
		}
		_ = w.Write([]string{
			r.WindowStart.Format(time.RFC3339), r.WindowEnd.Format(time.RFC3339), status, r.ThreadID, cell(r.PatientID), string(r.Category),
			cell(r.BillingStaff), cell(practice.Staff[r.BillingStaff].Name), string(r.BillingRole),
			strconv.Itoa(r.ClinicianMinutes), strconv.Itoa(r.NurseMinutes), r.Code,
		})
	}
	w.Flush()
	if err := s.Threads.RecordAudit(ctx, p, "report.evisits", "", "report/evisits/"+per.From+"/"+per.To, "ok"); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), len(rows), nil
}

// cell keeps a spreadsheet from reading a value as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
