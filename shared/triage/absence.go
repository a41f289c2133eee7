package triage

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carepost/carepost/shared/carepost"
)

// Limits on absences.
const (
	MaxAbsence     = 180 * 24 * time.Hour // longest absence
	MaxAbsenceLead = 365 * 24 * time.Hour // how far ahead one may be set
	MaxAwayNote    = 280                  // characters of the away note
)

// AbsenceInput is what a clinician sends to POST /v1/me/absence.
type AbsenceInput struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
	Cover string    `json:"cover"`          // "pool:<name>" or "user:<subject>"
	Note  string    `json:"note,omitempty"` // shown to patients: no patient data
}

// AbsenceView is a staff member's absence as the API shows it.
type AbsenceView struct {
	carepost.Absence
	Active bool `json:"active"`
}

// mayBeAway lists the roles that own threads and so may set an absence.
func mayBeAway(r carepost.Role) bool {
	return r == carepost.RoleClinician || r == carepost.RoleNurse || r == carepost.RoleFrontDesk
}

// SetAbsence records the caller's absence with its cover. Messages routed
// to the caller between From and Until go to the cover, and the patient
// gets an away note; when the absence ends the caller gets a digest.
func (s *Service) SetAbsence(ctx context.Context, p carepost.Principal, in AbsenceInput) (AbsenceView, error) {
	if !mayBeAway(p.Role) || p.PracticeID == "" {
		return AbsenceView{}, carepost.Errorf(carepost.CodeForbidden, "only clinicians, nurses and front-desk staff set absences")
	}
	now := s.now()
	switch {
	case in.From.IsZero():
		return AbsenceView{}, carepost.FieldError(carepost.CodeValidation, "from", "from is required (RFC 3339)")
	case in.Until.IsZero():
		return AbsenceView{}, carepost.FieldError(carepost.CodeValidation, "until", "until is required (RFC 3339)")
	case !in.Until.After(in.From):
		return AbsenceView{}, carepost.FieldError(carepost.CodeValidation, "until", "until must be after from")
	case !in.Until.After(now):
		return AbsenceView{}, carepost.FieldError(carepost.CodeValidation, "until", "until must be in the future")
	case in.Until.Sub(in.From) > MaxAbsence:
		return AbsenceView{}, carepost.FieldError(carepost.CodeValidation, "until", "an absence lasts at most 180 days")
	case in.From.Sub(now) > MaxAbsenceLead:
		return AbsenceView{}, carepost.FieldError(carepost.CodeValidation, "from", "an absence starts within a year")
	case !utf8.ValidString(in.Note) || utf8.RuneCountInString(in.Note) > MaxAwayNote:
		return AbsenceView{}, carepost.FieldError(carepost.CodeValidation, "note", "note is at most 280 characters of text")
	}
	var view AbsenceView
	err := s.editPractice(ctx, p.PracticeID, func(pr *carepost.Practice) error {
		cover, err := validCover(*pr, p.Subject, in.Cover)
		if err != nil {
			return err
		}
		a := carepost.Absence{From: in.From.UTC(), Until: in.Until.UTC(), Cover: cover, Note: strings.TrimSpace(in.Note)}
		if old, ok := pr.Absences[p.Subject]; ok && !old.From.After(now) && !a.From.After(now) {
			// Changing an absence already under way keeps its start, so
			// the return digest covers all of it.
			a.From = old.From
		}
		if pr.Absences == nil {
			pr.Absences = map[string]carepost.Absence{}
		}
		pr.Absences[p.Subject] = a
		view = AbsenceView{Absence: a, Active: !a.From.After(now)}
		return nil
	})
	if err != nil {
		return AbsenceView{}, err
	}
	return view, s.Messaging.RecordAudit(ctx, p, "absence.set", "", "staff/"+p.Subject+"/absence", "ok")
}

// validCover checks a cover: an existing pool, or another active staff
// member who can own threads.
func validCover(p carepost.Practice, self, cover string) (carepost.Owner, error) {
	o := carepost.Owner(cover)
	if pool, ok := o.Pool(); ok {
		if !p.HasPool(pool) {
			return "", carepost.FieldError(carepost.CodeValidation, "cover", "no such pool")
		}
		return o, nil
	}
	if sub, ok := o.User(); ok {
		if sub == self {
			return "", carepost.FieldError(carepost.CodeValidation, "cover", "you cannot cover for yourself")
		}
		if ref, ok := p.Staff[sub]; ok && !ref.Disabled && mayBeAway(ref.Role) {
			return o, nil
		}
		return "", carepost.FieldError(carepost.CodeValidation, "cover", "no such staff member")
	}
	return "", carepost.FieldError(carepost.CodeValidation, "cover", `cover must be "pool:<name>" or "user:<id>"`)
}

// Absence returns the caller's absence (not found when there is none).
func (s *Service) Absence(ctx context.Context, p carepost.Principal) (AbsenceView, error) {
	if !p.Role.IsStaff() || p.PracticeID == "" {
		return AbsenceView{}, carepost.Errorf(carepost.CodeForbidden, "this needs a practice staff role")
	}
	pr, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return AbsenceView{}, err
	}
	a, ok := pr.Absences[p.Subject]
	now := s.now()
	if !ok || !a.Until.After(now) {
		return AbsenceView{}, carepost.NotFound("absence")
	}
	return AbsenceView{Absence: a, Active: !a.From.After(now)}, nil
}

// EndAbsence ends the caller's absence: one that has not begun is removed;
// one under way ends now, and the sweep sends the return digest.
func (s *Service) EndAbsence(ctx context.Context, p carepost.Principal) error {
	if !mayBeAway(p.Role) || p.PracticeID == "" {
		return carepost.Errorf(carepost.CodeForbidden, "only clinicians, nurses and front-desk staff set absences")
	}
	now := s.now()
	err := s.editPractice(ctx, p.PracticeID, func(pr *carepost.Practice) error {
		a, ok := pr.Absences[p.Subject]
		if !ok || !a.Until.After(now) {
			return nil // nothing to end (ending twice is fine)
		}
		if a.From.After(now) {
			delete(pr.Absences, p.Subject)
			return nil
		}
		a.Until = now
		pr.Absences[p.Subject] = a
		return nil
	})
	if err != nil {
		return err
	}
	return s.Messaging.RecordAudit(ctx, p, "absence.end", "", "staff/"+p.Subject+"/absence", "ok")
}

// editPractice applies fn to the practice settings with optimistic
// locking (another admin's save in between is re-read, not overwritten).
func (s *Service) editPractice(ctx context.Context, pid string, fn func(p *carepost.Practice) error) error {
	for range 5 {
		p, version, err := s.Store.PracticeVersion(ctx, pid)
		if err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return err
		}
		p.Updated = s.now()
		err = s.Store.UpdatePractice(ctx, p, version)
		if carepost.ErrorCode(err) != carepost.CodeConflict {
			return err
		}
	}
	return carepost.Errorf(carepost.CodeConflict, "the practice settings are being changed; retry")
}

// AckResult answers POST /v1/threads/{id}/acknowledge.
type AckResult struct {
	ThreadID     string    `json:"threadId"`
	Acknowledged bool      `json:"acknowledged"` // a page was pending and is now acknowledged
	At           time.Time `json:"at"`
}

// mayAcknowledge: the on-call pool's members and everyone the escalation
// chain pages.
func mayAcknowledge(p carepost.Practice, sub string, now time.Time) bool {
	owners := slices.Concat(onCallOwners(p), p.EscalationChain, adminOwners(p))
	for _, o := range owners {
		if u, ok := o.User(); ok && u == sub {
			return true
		}
		if pool, ok := o.Pool(); ok {
			for _, pl := range p.Pools {
				if pl.Name == pool && slices.Contains(pl.Members, sub) {
					return true
				}
			}
		}
		if c, ok := p.Cover(o, now).User(); ok && c == sub {
			return true
		}
	}
	return false
}

// Acknowledge stops the escalation of an urgent thread's page: someone on
// call has seen it.
func (s *Service) Acknowledge(ctx context.Context, p carepost.Principal, threadID string) (AckResult, error) {
	if !p.Role.IsStaff() || p.PracticeID == "" {
		return AckResult{}, carepost.NotFound("thread")
	}
	t, err := s.Messaging.VisibleThread(ctx, p, threadID, "page.acknowledge")
	if err != nil {
		return AckResult{}, err
	}
	pr, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return AckResult{}, err
	}
	now := s.now()
	if !mayAcknowledge(pr, p.Subject, now) {
		_ = s.Messaging.RecordAudit(ctx, p, "page.acknowledge", t.PatientID, "thread/"+t.ID, "denied")
		return AckResult{}, carepost.Errorf(carepost.CodeForbidden, "only the on-call pool and the escalation chain acknowledge pages")
	}
	res := AckResult{ThreadID: t.ID, At: now}
	err = s.update(ctx, t, func(n *carepost.ThreadRecord) bool {
		if n.PageDue.IsZero() {
			return false
		}
		n.PageDue = time.Time{}
		n.Updated = now
		res.Acknowledged = true
		return true
	})
	if err != nil {
		return AckResult{}, err
	}
	return res, s.Messaging.RecordAudit(ctx, p, "page.acknowledge", t.PatientID, "thread/"+t.ID, "ok")
}
