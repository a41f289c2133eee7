// Package retention deletes closed threads once a practice's retention
// period has passed since their last activity — the thread, its messages,
// read receipts, attachment records, time entries and its attachments in the
// bucket — except while the practice or the thread is under legal hold.
// Every deletion and every hold change is audited (ids only).
//
// It finds candidates in the closed-thread index (package aggregates keeps
// it on the write path), reading only the entries older than the period;
// it never scans the table.
//
// Crypto-shredding: there is no separate per-thread or per-patient key to
// destroy. Each sealed value carries its own data key wrapped by the KMS key
// (package kmsenvelope), so deleting the items deletes the wrapped data keys
// with them; attachments are SSE-KMS objects whose wrapped data keys live in
// the object's metadata and go with the object. The bucket is versioned, so
// every version and delete marker of a thread's objects is deleted (a plain
// DeleteObject would leave the data for the noncurrent-version lifecycle,
// 30 days later). Copies remain in the
// table's point-in-time recovery window (35 days) and in backups (kept 7
// days) until those expire.
package retention

import (
	"context"
	"time"

	"github.com/carepost/carepost/shared/aggregates"
	"github.com/carepost/carepost/shared/carepost"
)

// Actor is who the audit log names for the job's deletions.
const Actor = "system:retention"

// MaxPerRun bounds one run's deletions per practice; the next run goes on.
const MaxPerRun = 500

// Store is what the job needs of the database (package dynamo).
type Store interface {
	Practices(ctx context.Context) ([]string, error)
	Practice(ctx context.Context, pid string) (carepost.Practice, error)
	ClosedBefore(ctx context.Context, pid, day string, after map[string]string, limit int) (carepost.Page[carepost.ClosedEntry], error)
	DeleteClosed(ctx context.Context, pid string, e carepost.ClosedEntry) error
	Thread(ctx context.Context, pid, tid string) (carepost.ThreadRecord, error)
	LegalHold(ctx context.Context, pid, tid string) (carepost.LegalHold, error)
	PutLegalHold(ctx context.Context, pid, tid string, h carepost.LegalHold) error
	DeleteThreadMeta(ctx context.Context, pid, tid string, version int64) error
	DeleteThreadItems(ctx context.Context, pid, tid string) (int, error)
}

// Objects is the attachments bucket (package s3objects). DeletePrefix
// removes every version of every object under prefix, not just the current
// one, and answers how many objects had data.
type Objects interface {
	DeletePrefix(ctx context.Context, prefix string) (int, error)
}

// Threads is the messaging core: visibility (for the hold endpoint) and the
// audit log.
type Threads interface {
	VisibleThread(ctx context.Context, p carepost.Principal, threadID, action string) (carepost.ThreadRecord, error)
	RecordAudit(ctx context.Context, p carepost.Principal, action, patientID, object, outcome string) error
}

// Service is the job and the hold endpoint.
type Service struct {
	Store   Store
	Objects Objects
	Threads Threads
	Now     func() time.Time
}

// New returns a service with the real clock.
func New(store Store, objects Objects, threads Threads) *Service {
	return &Service{Store: store, Objects: objects, Threads: threads, Now: time.Now}
}

// Result counts one run.
type Result struct {
	Practices int `json:"practices"`
	Held      int `json:"held"`    // eligible threads kept for a thread hold
	OnHold    int `json:"onHold"`  // practices skipped for a practice-wide hold
	Deleted   int `json:"deleted"` // threads deleted
	Items     int `json:"items"`   // table items deleted
	Objects   int `json:"objects"` // attachment objects deleted
}

func (r *Result) add(o Result) {
	r.Practices += o.Practices
	r.Held += o.Held
	r.OnHold += o.OnHold
	r.Deleted += o.Deleted
	r.Items += o.Items
	r.Objects += o.Objects
}

// Run applies retention to every practice. A failing practice does not
// stop the others; the first error is returned after all were tried.
func (s *Service) Run(ctx context.Context) (Result, error) {
	ids, err := s.Store.Practices(ctx)
	if err != nil {
		return Result{}, err
	}
	var total Result
	var first error
	for _, pid := range ids {
		r, err := s.RunPractice(ctx, pid)
		total.add(r)
		if err != nil && first == nil {
			first = err
		}
	}
	return total, first
}

// RunPractice applies one practice's retention period.
func (s *Service) RunPractice(ctx context.Context, pid string) (Result, error) {
	res := Result{Practices: 1}
	p, err := s.Store.Practice(ctx, pid)
	if err != nil {
		return res, err
	}
	if p.RetentionDays <= 0 {
		return res, nil // no period set: keep everything
	}
	if p.LegalHold {
		res.OnHold = 1
		return res, nil
	}
	now := s.Now().UTC()
	cutoff := now.AddDate(0, 0, -p.RetentionDays)
	var after map[string]string
	for res.Deleted < MaxPerRun {
		page, err := s.Store.ClosedBefore(ctx, pid, aggregates.UTCDay(cutoff), after, 100)
		if err != nil {
			return res, err
		}
		for _, e := range page.Items {
			if res.Deleted >= MaxPerRun {
				break
			}
			if err := s.consider(ctx, pid, e, cutoff, &res); err != nil {
				return res, err
			}
		}
		if page.Next == nil {
			break
		}
		after = page.Next
	}
	return res, nil
}

// consider checks one index entry against the thread as it is now.
func (s *Service) consider(ctx context.Context, pid string, e carepost.ClosedEntry, cutoff time.Time, res *Result) error {
	t, err := s.Store.Thread(ctx, pid, e.ThreadID)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		// Deleted already, perhaps by a run that stopped half-way: sweep
		// what may be left, then drop the entry.
		n, err := s.purge(ctx, pid, e.ThreadID)
		res.Objects += n.Objects
		res.Items += n.Items
		if err != nil {
			return err
		}
		return s.Store.DeleteClosed(ctx, pid, e)
	}
	if err != nil {
		return err
	}
	switch {
	case t.Status != carepost.StatusClosed, aggregates.UTCDay(t.Updated) != e.Day:
		// Reopened, or closed again later (a newer entry exists): this
		// entry is stale; a future close indexes the thread again.
		return s.Store.DeleteClosed(ctx, pid, e)
	case !t.Updated.Before(cutoff):
		return nil // the period ends later today
	}
	hold, err := s.Store.LegalHold(ctx, pid, t.ID)
	if err != nil {
		return err
	}
	if hold.On {
		res.Held++
		return nil // kept, and looked at again by the next run
	}
	// The META goes first, conditional on the thread being unchanged: from
	// then on no one can read or write the thread.
	if err := s.Store.DeleteThreadMeta(ctx, pid, t.ID, t.Version); err != nil {
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			return nil // it moved (a reply reopened it): not deleted
		}
		return err
	}
	n, err := s.purge(ctx, pid, t.ID)
	res.Objects += n.Objects
	res.Items += n.Items + 1
	if err != nil {
		return err
	}
	res.Deleted++
	actor := carepost.Principal{PracticeID: pid, Subject: Actor}
	if err := s.Threads.RecordAudit(ctx, actor, "thread.delete", t.PatientID, "thread/"+t.ID, "ok"); err != nil {
		return err
	}
	return s.Store.DeleteClosed(ctx, pid, e)
}

// purge deletes a thread's attachments and remaining items.
func (s *Service) purge(ctx context.Context, pid, tid string) (Result, error) {
	var r Result
	n, err := s.Objects.DeletePrefix(ctx, carepost.AttachmentPrefix(pid, tid))
	r.Objects = n
	if err != nil {
		return r, err
	}
	r.Items, err = s.Store.DeleteThreadItems(ctx, pid, tid)
	return r, err
}

// HoldInput sets or lifts a thread's legal hold.
type HoldInput struct {
	On *bool `json:"on"`
}

// HoldView is a thread's hold as the admin sees it.
type HoldView struct {
	ThreadID     string    `json:"threadId"`
	On           bool      `json:"on"`
	By           string    `json:"by,omitempty"`
	At           time.Time `json:"at,omitzero"`
	PracticeHold bool      `json:"practiceHold"` // the whole practice is on hold
}

// SetHold sets or lifts a thread's legal hold (admins).
func (s *Service) SetHold(ctx context.Context, p carepost.Principal, threadID string, in HoldInput) (HoldView, error) {
	t, err := s.adminThread(ctx, p, threadID, "thread.legal_hold")
	if err != nil {
		return HoldView{}, err
	}
	if in.On == nil {
		return HoldView{}, carepost.FieldError(carepost.CodeValidation, "on", "on is required (true sets the hold, false lifts it)")
	}
	h := carepost.LegalHold{On: *in.On, By: p.Subject, At: s.Now().UTC()}
	if err := s.Store.PutLegalHold(ctx, t.PracticeID, t.ID, h); err != nil {
		return HoldView{}, err
	}
	state := "off"
	if h.On {
		state = "on"
	}
	if err := s.Threads.RecordAudit(ctx, p, "thread.legal_hold", t.PatientID, "thread/"+t.ID+"/hold/"+state, "ok"); err != nil {
		return HoldView{}, err
	}
	return s.view(ctx, t, h)
}

// Hold reads a thread's hold (admins).
func (s *Service) Hold(ctx context.Context, p carepost.Principal, threadID string) (HoldView, error) {
	t, err := s.adminThread(ctx, p, threadID, "thread.legal_hold.read")
	if err != nil {
		return HoldView{}, err
	}
	h, err := s.Store.LegalHold(ctx, t.PracticeID, t.ID)
	if err != nil {
		return HoldView{}, err
	}
	return s.view(ctx, t, h)
}

func (s *Service) adminThread(ctx context.Context, p carepost.Principal, threadID, action string) (carepost.ThreadRecord, error) {
	if p.Role != carepost.RoleAdmin || p.PracticeID == "" {
		_ = s.Threads.RecordAudit(ctx, p, action, "", "thread/hold", "denied")
		return carepost.ThreadRecord{}, carepost.Errorf(carepost.CodeForbidden, "legal holds are set by practice admins")
	}
	return s.Threads.VisibleThread(ctx, p, threadID, action)
}

func (s *Service) view(ctx context.Context, t carepost.ThreadRecord, h carepost.LegalHold) (HoldView, error) {
	p, err := s.Store.Practice(ctx, t.PracticeID)
	if err != nil {
		return HoldView{}, err
	}
	return HoldView{ThreadID: t.ID, On: h.On, By: h.By, At: h.At, PracticeHold: p.LegalHold}, nil
}
