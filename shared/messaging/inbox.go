package messaging

import (
	"context"
	"strconv"
	"strings"

	"github.com/carepost/carepost/shared/carepost"
)

// InboxQuery selects an inbox: a pool, or the caller's own ("mine").
type InboxQuery struct {
	Pool     string
	Mine     bool
	Closed   bool
	Status   carepost.Status
	Category carepost.Category
	Priority carepost.Priority
	Cursor   string
	Limit    int
}

// Inbox lists a pool's or the caller's threads, by priority then due time.
func (s *Service) Inbox(ctx context.Context, p carepost.Principal, q InboxQuery) (Page[ThreadView], error) {
	if err := s.requireStaff(ctx, p, "inbox.list", "endpoint/inbox.list"); err != nil {
		return Page[ThreadView]{}, err
	}
	var owner carepost.Owner
	switch {
	case q.Mine:
		owner = carepost.UserOwner(p.Subject)
	case q.Pool != "":
		practice, err := s.Store.Practice(ctx, p.PracticeID)
		if err != nil {
			return Page[ThreadView]{}, err
		}
		if !practice.HasPool(q.Pool) {
			return Page[ThreadView]{}, carepost.NotFound("pool")
		}
		owner = carepost.PoolOwner(q.Pool)
	default:
		return Page[ThreadView]{}, carepost.FieldError(carepost.CodeValidation, "pool", "name a pool, or ask for mine=true")
	}
	if q.Status != "" && !q.Status.Valid() {
		return Page[ThreadView]{}, carepost.FieldError(carepost.CodeValidation, "status", "unknown status")
	}
	if q.Category != "" && !q.Category.Valid() {
		return Page[ThreadView]{}, carepost.FieldError(carepost.CodeValidation, "category", "unknown category")
	}
	if q.Status == carepost.StatusClosed {
		q.Closed = true
	}
	limit := clampLimit(q.Limit)
	// Every filter is part of the scope, so a cursor only continues its own
	// listing: another listing's key may fall outside this query (a 500).
	// The priority goes in as a number: Priority.String calls 0 (any)
	// "routine" too.
	scope := "inbox/" + string(owner) + "/" + string(q.Status) + "/" + string(q.Category) + "/" + strconv.Itoa(int(q.Priority)) + "/" + strconv.FormatBool(q.Closed)
	after, err := s.openCursor(ctx, p, scope, q.Cursor)
	if err != nil {
		return Page[ThreadView]{}, err
	}
	out := Page[ThreadView]{Items: []ThreadView{}}
	now := s.now()
	for {
		page, err := s.Store.Inbox(ctx, p.PracticeID, owner, carepost.InboxFilter{Closed: q.Closed, Status: q.Status, Category: q.Category, Priority: q.Priority}, after, limit-len(out.Items))
		if err != nil {
			return out, err
		}
		for _, t := range page.Items {
			if !canSee(p, t, now) {
				continue
			}
			subj, err := s.openSubject(ctx, t)
			if err != nil {
				return out, err
			}
			out.Items = append(out.Items, viewOf(t, subj))
		}
		after = page.Next
		if after == nil || len(out.Items) >= limit {
			break
		}
	}
	if out.Cursor, err = s.sealCursor(ctx, p, scope, after); err != nil {
		return out, err
	}
	return out, s.audit(ctx, p, "inbox.list", "", strings.ReplaceAll("inbox/"+string(owner), " ", "_"), "ok")
}

// change applies fn to a visible thread with an optimistic lock: two staff
// acting at once cannot both win; the loser gets CodeConflict (409).
func (s *Service) change(ctx context.Context, r Request, threadID, action string, fn func(practice carepost.Practice, t *carepost.ThreadRecord) error) (ThreadRef, error) {
	p := r.Principal
	if err := s.requireStaff(ctx, p, action, "thread/"+safeID(threadID)); err != nil {
		return ThreadRef{}, err
	}
	t, err := s.visibleThread(ctx, p, threadID, action)
	if err != nil {
		return ThreadRef{}, err
	}
	practice, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return ThreadRef{}, err
	}
	next := t
	if err := fn(practice, &next); err != nil {
		if carepost.ErrorCode(err) == carepost.CodeForbidden {
			if aerr := s.audit(ctx, p, action, t.PatientID, "thread/"+t.ID, "denied"); aerr != nil {
				return ThreadRef{}, aerr
			}
		}
		return ThreadRef{}, err
	}
	next.Updated = s.now()
	if err := s.Store.UpdateThread(ctx, carepost.ThreadChange{PracticeID: t.PracticeID, ThreadID: t.ID, Version: t.Version, Set: next}); err != nil {
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			if aerr := s.audit(ctx, p, action, t.PatientID, "thread/"+t.ID, "error"); aerr != nil {
				return ThreadRef{}, aerr
			}
			return ThreadRef{}, carepost.Errorf(carepost.CodeConflict, "someone else changed this thread first; reload it")
		}
		return ThreadRef{}, err
	}
	next.Version++
	return refOf(next), s.audit(ctx, p, action, t.PatientID, "thread/"+t.ID, "ok")
}

// Claim takes a thread from a pool for the caller.
func (s *Service) Claim(ctx context.Context, r Request, threadID string) (ThreadRef, error) {
	return s.change(ctx, r, threadID, "thread.claim", func(_ carepost.Practice, t *carepost.ThreadRecord) error {
		if r.Principal.Role == carepost.RoleAdmin {
			return carepost.Errorf(carepost.CodeForbidden, "admins do not work the inbox")
		}
		if t.Status == carepost.StatusClosed {
			return carepost.Errorf(carepost.CodeConflict, "the thread is closed")
		}
		if sub, ok := t.Owner.User(); ok {
			if sub == r.Principal.Subject {
				return nil
			}
			return carepost.Errorf(carepost.CodeConflict, "the thread is already claimed")
		}
		t.Owner = carepost.UserOwner(r.Principal.Subject)
		return nil
	})
}

// AssignInput names the new owner: "pool:<name>" or "user:<subject>".
type AssignInput struct {
	To string `json:"to"`
}

func validOwner(practice carepost.Practice, to string) (carepost.Owner, error) {
	o := carepost.Owner(to)
	if pool, ok := o.Pool(); ok {
		if !practice.HasPool(pool) {
			return "", carepost.FieldError(carepost.CodeValidation, "to", "no such pool")
		}
		return o, nil
	}
	if sub, ok := o.User(); ok {
		if ref, ok := practice.Staff[sub]; ok && !ref.Disabled && ref.Role.IsStaff() {
			return o, nil
		}
		return "", carepost.FieldError(carepost.CodeValidation, "to", "no such staff member")
	}
	return "", carepost.FieldError(carepost.CodeValidation, "to", `to must be "pool:<name>" or "user:<id>"`)
}

// Assign gives a thread to a pool or person (following their cover).
func (s *Service) Assign(ctx context.Context, r Request, threadID string, in AssignInput) (ThreadRef, error) {
	return s.change(ctx, r, threadID, "thread.assign", func(practice carepost.Practice, t *carepost.ThreadRecord) error {
		o, err := validOwner(practice, in.To)
		if err != nil {
			return err
		}
		t.Owner = practice.Cover(o, s.now())
		return nil
	})
}

// Forward sends a thread to a clinician (or a pool) for their answer.
func (s *Service) Forward(ctx context.Context, r Request, threadID string, in AssignInput) (ThreadRef, error) {
	return s.change(ctx, r, threadID, "thread.forward", func(practice carepost.Practice, t *carepost.ThreadRecord) error {
		o, err := validOwner(practice, in.To)
		if err != nil {
			return err
		}
		if sub, ok := o.User(); ok && practice.Staff[sub].Role != carepost.RoleClinician && practice.Staff[sub].Role != carepost.RoleNurse {
			return carepost.FieldError(carepost.CodeValidation, "to", "forward to a clinician, a nurse or a pool")
		}
		t.Owner = practice.Cover(o, s.now())
		if t.Status == carepost.StatusClosed {
			t.Status = carepost.StatusReopened
		}
		return nil
	})
}

// Close closes a thread.
func (s *Service) Close(ctx context.Context, r Request, threadID string) (ThreadRef, error) {
	return s.change(ctx, r, threadID, "thread.close", func(_ carepost.Practice, t *carepost.ThreadRecord) error {
		if t.Status == carepost.StatusClosed {
			return nil
		}
		t.Status = carepost.StatusClosed
		t.Overdue = false
		t.PageDue = carepost.ThreadRecord{}.PageDue
		return nil
	})
}

// Reopen reopens a closed thread.
func (s *Service) Reopen(ctx context.Context, r Request, threadID string) (ThreadRef, error) {
	return s.change(ctx, r, threadID, "thread.reopen", func(_ carepost.Practice, t *carepost.ThreadRecord) error {
		if t.Status != carepost.StatusClosed {
			return carepost.Errorf(carepost.CodeConflict, "the thread is not closed")
		}
		t.Status = carepost.StatusReopened
		return nil
	})
}
