package messaging

import (
	"context"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// Reply adds a message to a thread. Replying to a closed thread reopens it:
// never a dead end.
func (s *Service) Reply(ctx context.Context, r Request, threadID string, in ReplyInput) (PostResult, error) {
	return s.post(ctx, r, threadID, in, "")
}

// RetractInput retracts the caller's own last message and carries the
// correction; the original stays on record, marked retracted.
type RetractInput struct {
	Body string `json:"body"`
}

// Retract stores a correction that retracts messageID.
func (s *Service) Retract(ctx context.Context, r Request, threadID, messageID string, in RetractInput) (PostResult, error) {
	return s.post(ctx, r, threadID, ReplyInput{Body: in.Body}, messageID)
}

func (s *Service) post(ctx context.Context, r Request, threadID string, in ReplyInput, retracts string) (PostResult, error) {
	p := r.Principal
	now := s.now()
	action := "message.create"
	if retracts != "" {
		action = "message.retract"
	}
	if err := validText("body", in.Body, MaxBody, in.Form == nil); err != nil {
		return PostResult{}, err
	}
	t, err := s.visibleThread(ctx, p, threadID, action)
	if err != nil {
		return PostResult{}, err
	}
	if !canWrite(p, t, now) {
		if aerr := s.audit(ctx, p, action, t.PatientID, "thread/"+t.ID, "denied"); aerr != nil {
			return PostResult{}, aerr
		}
		return PostResult{}, carepost.Errorf(carepost.CodeForbidden, "you may read this thread but not write to it")
	}
	fromPatient := p.Role == carepost.RolePatient || p.Role == carepost.RoleProxy
	practice, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return PostResult{}, err
	}
	if practice.Suspended {
		return PostResult{}, carepost.Errorf(carepost.CodeForbidden, "this practice is suspended")
	}
	a, err := s.assess(practice, "", "", in.Body, in.Form, fromPatient)
	if err != nil {
		return PostResult{}, err
	}
	consentVersion := 0
	if fromPatient {
		if consentVersion, err = s.consent(ctx, p, t.PatientID); err != nil {
			return PostResult{}, err
		}
	}
	if retracts != "" {
		// Only the sender's own message may be retracted (403, audited as
		// a denied write), and only while it is the thread's last (409: a
		// later message, such as an answer, may rely on it). A correction
		// is not itself retracted: send another message instead. System
		// notes (the acknowledgement) never become the last message, so
		// they do not stand in the way.
		target, err := s.Store.Message(ctx, t.PracticeID, t.ID, retracts)
		if err != nil {
			return PostResult{}, err
		}
		if target.SenderID != p.Subject || target.Kind == carepost.KindRetraction || target.Kind == carepost.KindSystem {
			if aerr := s.audit(ctx, p, action, t.PatientID, "thread/"+t.ID+"/message/"+target.ID, "denied"); aerr != nil {
				return PostResult{}, aerr
			}
			return PostResult{}, carepost.Errorf(carepost.CodeForbidden, "you can retract only your own last message")
		}
		if t.LastMessageID != retracts {
			return PostResult{}, carepost.Errorf(carepost.CodeConflict, "only the last message of a thread can be retracted")
		}
	}
	mid := s.NewID()
	if r.IdempotencyKey != "" {
		mid = derivedID("message", p.PracticeID, p.Subject, r.IdempotencyKey)
	}
	kind := carepost.KindPatient
	if !fromPatient {
		kind = carepost.KindStaff
	}
	if retracts != "" {
		kind = carepost.KindRetraction
	}
	m := carepost.Message{
		PracticeID: p.PracticeID, ThreadID: t.ID, ID: mid, Kind: kind, SenderID: p.Subject, SenderRole: p.Role, SenderName: staffName(p),
		Sent: now, Body: in.Body, Form: in.Form, Retracts: retracts, InResponseTo: t.LastMessageID, ConsentVersion: consentVersion,
		Urgent: a.urgent.Urgent, Flags: flagStrings(a.urgent),
	}
	if s.Attachments != nil && retracts == "" {
		if m.Attachments, err = s.Attachments.LinkPending(ctx, t, p.Subject, mid); err != nil {
			return PostResult{}, err
		}
	}
	// advance is what this message does to the thread; it is applied to
	// the thread as read, or again to a fresher copy if another change
	// lands between the read and the update (see replayPost).
	advance := func(t carepost.ThreadRecord) carepost.ThreadRecord {
		next := t
		next.Updated = now
		next.MessageCount++
		next.LastMessageID = mid
		next.Priority = t.Priority.Raise(a.priority)
		if a.urgent.Urgent {
			next.Urgent = true
		}
		switch {
		case fromPatient && t.Status == carepost.StatusClosed:
			next.Status = carepost.StatusReopened
			next.Owner = practice.Cover(t.Owner, now)
			next.Triaged = false // the reopened thread goes through triage again
		case fromPatient && t.Status == carepost.StatusWaitingPatient:
			next.Status = carepost.StatusOpen
			next.Triaged = false
		case fromPatient:
			next.Triaged = false
		case !fromPatient:
			// A practice reply, to a closed thread too, leaves the next word
			// with the patient: waiting_patient. A closed thread so comes
			// back to the active inbox, never a dead end. It is not marked
			// "reopened": that status, like "open", means the practice owes
			// an answer, and the overdue sweep would escalate the closed
			// thread's stale due time against the practice that just
			// answered. The patient's reply then makes it "open" again.
			next.Status = carepost.StatusWaitingPatient
			next.Overdue = false
		}
		return next
	}
	next := advance(t)
	rec, err := s.sealMessage(ctx, m)
	if err != nil {
		return PostResult{}, err
	}
	rec.RequestHash = r.RequestHash
	err = s.Store.AppendMessage(ctx, rec, carepost.ThreadChange{PracticeID: t.PracticeID, ThreadID: t.ID, Version: t.Version, Set: next})
	if err != nil {
		if carepost.ErrorCode(err) != carepost.CodeConflict {
			return PostResult{}, err
		}
		return s.replayPost(ctx, r, t, mid, advance, adviceFor(practice, a.urgent), action)
	}
	next.Version++
	if err := s.audit(ctx, p, action, t.PatientID, "thread/"+t.ID+"/message/"+mid, "ok"); err != nil {
		return PostResult{}, err
	}
	if err := s.publishNew(ctx, next, m, fromPatient); err != nil {
		return PostResult{}, err
	}
	return PostResult{Thread: refOf(next), Message: MessageRef{ID: mid, Sent: now}, Urgent: adviceFor(practice, a.urgent)}, nil
}

// replayPost handles a conflict on append. The message mid is stored
// either way: by an earlier attempt with the same Idempotency-Key (a
// retry), or by this call, whose thread update then lost to another change
// (a claim, a reply) made since the thread was read. Unless the thread
// already counts the message, the change is applied again to the thread as
// it is now, so the message is never left uncounted (and untriaged).
func (s *Service) replayPost(ctx context.Context, r Request, t carepost.ThreadRecord, mid string, advance func(carepost.ThreadRecord) carepost.ThreadRecord, advice *UrgentAdvice, action string) (PostResult, error) {
	stored, err := s.Store.Message(ctx, t.PracticeID, t.ID, mid)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return PostResult{}, &carepost.Error{Code: carepost.CodeConflict, Message: "the thread changed while you were writing; retry", Transient: true}
	}
	if err != nil {
		return PostResult{}, err
	}
	// Without a key the id is random: the stored message is this call's.
	if r.IdempotencyKey != "" && stored.RequestHash != r.RequestHash {
		return PostResult{}, carepost.Errorf(carepost.CodeIdempotencyMismatch, "this Idempotency-Key was used with a different request body")
	}
	for range 5 {
		cur, err := s.Store.Thread(ctx, t.PracticeID, t.ID)
		if err != nil {
			return PostResult{}, err
		}
		counted, err := s.counts(ctx, cur, mid)
		if err != nil {
			return PostResult{}, err
		}
		if counted { // a retry: answered as the first attempt was, advice included
			return PostResult{Thread: refOf(cur), Message: MessageRef{ID: stored.ID, Sent: stored.Sent}, Urgent: advice}, nil
		}
		next := advance(cur)
		err = s.Store.UpdateThread(ctx, carepost.ThreadChange{PracticeID: cur.PracticeID, ThreadID: cur.ID, Version: cur.Version, Set: next})
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			continue // moved again: re-read and re-apply
		}
		if err != nil {
			return PostResult{}, err
		}
		next.Version++
		if err := s.audit(ctx, r.Principal, action, cur.PatientID, "thread/"+cur.ID+"/message/"+mid, "ok"); err != nil {
			return PostResult{}, err
		}
		if err := s.publishNew(ctx, next, stored.Message, stored.Kind != carepost.KindStaff); err != nil {
			return PostResult{}, err
		}
		return PostResult{Thread: refOf(next), Message: MessageRef{ID: stored.ID, Sent: stored.Sent}, Urgent: advice}, nil
	}
	return PostResult{}, &carepost.Error{Code: carepost.CodeConflict, Message: "the thread is changing too fast; retry", Transient: true}
}

// counts reports whether thread t already counts message mid: it is the
// last message, or a later message answers it (every message records the
// thread's last message when it was written, in InResponseTo).
func (s *Service) counts(ctx context.Context, t carepost.ThreadRecord, mid string) (bool, error) {
	if t.LastMessageID == mid {
		return true, nil
	}
	msgs, err := s.Store.Messages(ctx, t.PracticeID, t.ID)
	if err != nil {
		return false, err
	}
	for _, m := range msgs {
		if m.InResponseTo == mid {
			return true, nil
		}
	}
	return false, nil
}

// Get returns a thread with its decrypted messages and read receipts.
func (s *Service) Get(ctx context.Context, p carepost.Principal, threadID string) (ThreadDetail, error) {
	t, err := s.visibleThread(ctx, p, threadID, "thread.read")
	if err != nil {
		return ThreadDetail{}, err
	}
	subject, err := s.openSubject(ctx, t)
	if err != nil {
		return ThreadDetail{}, err
	}
	recs, err := s.Store.Messages(ctx, t.PracticeID, t.ID)
	if err != nil {
		return ThreadDetail{}, err
	}
	d := ThreadDetail{Thread: viewOf(t, subject), Messages: make([]MessageView, 0, len(recs))}
	retractedBy := map[string]string{}
	for _, rec := range recs {
		if rec.Retracts != "" {
			retractedBy[rec.Retracts] = rec.ID
		}
	}
	for _, rec := range recs {
		m, err := s.openMessage(ctx, rec)
		if err != nil {
			return ThreadDetail{}, err // integrity failures are errors, never skipped
		}
		d.Messages = append(d.Messages, MessageView{
			ID: m.ID, Kind: m.Kind, SenderID: m.SenderID, SenderRole: m.SenderRole, SenderName: m.SenderName, Sent: m.Sent,
			Body: m.Body, Form: m.Form, Retracts: m.Retracts, RetractedBy: retractedBy[m.ID], ConsentVersion: m.ConsentVersion,
			Urgent: m.Urgent, Flags: m.Flags, Attachments: m.Attachments,
		})
	}
	if d.Reads, err = s.Store.ReadReceipts(ctx, t.PracticeID, t.ID); err != nil {
		return ThreadDetail{}, err
	}
	if d.Reads == nil {
		d.Reads = []carepost.ReadReceipt{}
	}
	if err := s.audit(ctx, p, "thread.read", t.PatientID, "thread/"+t.ID, "ok"); err != nil {
		return ThreadDetail{}, err
	}
	if p.Role == carepost.RoleClinician && t.FirstReviewed.IsZero() {
		// Starts the e-visit window; losing this race is harmless.
		next := t
		next.FirstReviewed = s.now()
		_ = s.Store.UpdateThread(ctx, carepost.ThreadChange{PracticeID: t.PracticeID, ThreadID: t.ID, Version: t.Version, Set: next})
	}
	return d, nil
}

// MarkRead records that the caller read the thread up to messageID (the
// last message when empty). Read status flows both ways: patients see when
// staff read, staff see when the patient read.
func (s *Service) MarkRead(ctx context.Context, r Request, threadID, messageID string) (carepost.ReadReceipt, error) {
	p := r.Principal
	t, err := s.visibleThread(ctx, p, threadID, "thread.mark_read")
	if err != nil {
		return carepost.ReadReceipt{}, err
	}
	if messageID == "" {
		messageID = t.LastMessageID
	}
	target, err := s.Store.Message(ctx, t.PracticeID, t.ID, messageID)
	if err != nil {
		return carepost.ReadReceipt{}, err
	}
	// A receipt only moves forward: marking an older message read (a
	// second device showing a stale page) must not make the caller's later
	// reads look unread to the other side.
	if prev, ok, err := s.ownReceipt(ctx, t, p.Subject); err != nil {
		return carepost.ReadReceipt{}, err
	} else if ok && prev.MessageID != messageID {
		read, err := s.Store.Message(ctx, t.PracticeID, t.ID, prev.MessageID)
		if err != nil && carepost.ErrorCode(err) != carepost.CodeNotFound {
			return carepost.ReadReceipt{}, err
		}
		if err == nil && read.Sent.After(target.Sent) {
			return prev, s.audit(ctx, p, "thread.mark_read", t.PatientID, "thread/"+t.ID, "ok")
		}
	}
	rr := carepost.ReadReceipt{Subject: p.Subject, Role: p.Role, MessageID: messageID, At: s.now()}
	if err := s.Store.PutReadReceipt(ctx, t.PracticeID, t.ID, rr); err != nil {
		return rr, err
	}
	return rr, s.audit(ctx, p, "thread.mark_read", t.PatientID, "thread/"+t.ID, "ok")
}

// ownReceipt is subject's read receipt on t, if any.
func (s *Service) ownReceipt(ctx context.Context, t carepost.ThreadRecord, subject string) (carepost.ReadReceipt, bool, error) {
	rs, err := s.Store.ReadReceipts(ctx, t.PracticeID, t.ID)
	if err != nil {
		return carepost.ReadReceipt{}, false, err
	}
	for _, r := range rs {
		if r.Subject == subject {
			return r, true, nil
		}
	}
	return carepost.ReadReceipt{}, false, nil
}

// ListPatient lists the threads of the calling patient, or of the patient a
// proxy acts for (patientID), newest activity first.
func (s *Service) ListPatient(ctx context.Context, p carepost.Principal, patientID, cursor string, limit int) (Page[ThreadView], error) {
	now := s.now()
	if patientID == "" && p.Role == carepost.RolePatient {
		patientID = p.PatientID
	}
	allowed := false
	switch {
	case p.Role == carepost.RolePatient || p.Role == carepost.RoleProxy:
		allowed = actsFor(p, patientID, "", false, now) || (p.Role == carepost.RoleProxy && hasReadGrant(p, patientID, now))
	case p.Role == carepost.RoleNurse || p.Role == carepost.RoleClinician || p.Role == carepost.RoleAdmin || p.Role == carepost.RoleFrontDesk:
		allowed = patientID != ""
	}
	if !allowed {
		if aerr := s.audit(ctx, p, "thread.list", "", "patient/"+safeID(patientID), "denied"); aerr != nil {
			return Page[ThreadView]{}, aerr
		}
		return Page[ThreadView]{}, carepost.NotFound("patient")
	}
	limit = clampLimit(limit)
	scope := "patient/" + patientID
	after, err := s.openCursor(ctx, p, scope, cursor)
	if err != nil {
		return Page[ThreadView]{}, err
	}
	out := Page[ThreadView]{Items: []ThreadView{}}
	for {
		page, err := s.Store.PatientThreads(ctx, p.PracticeID, patientID, after, limit-len(out.Items))
		if err != nil {
			return out, err
		}
		for _, t := range page.Items {
			if !canSee(p, t, now) {
				continue // e.g. confidential threads for a proxy
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
	return out, s.audit(ctx, p, "thread.list", patientID, "patient/"+patientID, "ok")
}

func hasReadGrant(p carepost.Principal, patientID string, now time.Time) bool {
	g, ok := p.GrantFor(patientID, now)
	return ok && g.Scope.Read
}

func clampLimit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}
