package messaging

import (
	"context"

	"github.com/carepost/carepost/shared/carepost"
)

// SystemNote is an automatic message a worker posts into a thread: the
// triage acknowledgement, an away note. Its id is derived from the event
// that caused it, so a redelivered event targets the same message and can
// never post it twice.
type SystemNote struct {
	ID           string
	Body         string
	SenderName   string // shown as the sender (the practice's name)
	Actor        string // who wrote it, for the audit log ("system:triage")
	InResponseTo string // the patient message it answers
}

// PostSystemMessage stores note in thread t, sealed like any message (Kind
// system), and writes next as the thread's new state in the same
// version-conditional update (on t.Version), counting the message.
//
// posted is false, with no error, when a message with the note's id exists
// already: a redelivery or a retry after a crash between the two writes;
// the caller checks the thread and finishes what is missing. CodeConflict
// means the thread moved since t was read: read it again and retry.
func (s *Service) PostSystemMessage(ctx context.Context, t carepost.ThreadRecord, note SystemNote, next carepost.ThreadRecord) (posted bool, err error) {
	if note.ID == "" || note.Body == "" {
		return false, carepost.Errorf(carepost.CodeInternal, "a system note needs an id and a body")
	}
	now := s.now()
	m := carepost.Message{
		PracticeID: t.PracticeID, ThreadID: t.ID, ID: note.ID, Kind: carepost.KindSystem,
		SenderID: "system", SenderName: note.SenderName, Sent: now, Body: note.Body, InResponseTo: note.InResponseTo,
	}
	rec, err := s.sealMessage(ctx, m)
	if err != nil {
		return false, err
	}
	next.MessageCount = t.MessageCount + 1
	next.Updated = now
	err = s.Store.AppendMessage(ctx, rec, carepost.ThreadChange{PracticeID: t.PracticeID, ThreadID: t.ID, Version: t.Version, Set: next})
	if carepost.ErrorCode(err) == carepost.CodeConflict {
		if _, merr := s.Store.Message(ctx, t.PracticeID, t.ID, note.ID); merr == nil {
			return false, nil
		} else if carepost.ErrorCode(merr) != carepost.CodeNotFound {
			return false, merr
		}
		return false, err
	}
	if err != nil {
		return false, err
	}
	actor := carepost.Principal{PracticeID: t.PracticeID, Subject: note.Actor}
	return true, s.audit(ctx, actor, "message.system", t.PatientID, "thread/"+t.ID+"/message/"+note.ID, "ok")
}

// VisibleThread loads a thread the principal may see, or answers not found
// exactly like a missing thread (and audits the denied look). It lets use
// cases outside this package (acknowledging a page) share the one
// visibility rule.
func (s *Service) VisibleThread(ctx context.Context, p carepost.Principal, threadID, action string) (carepost.ThreadRecord, error) {
	return s.visibleThread(ctx, p, threadID, action)
}

// RecordAudit records an event for use cases outside this package; a failure
// fails the request (the audit log fails closed).
func (s *Service) RecordAudit(ctx context.Context, p carepost.Principal, action, patientID, object, outcome string) error {
	return s.audit(ctx, p, action, patientID, object, outcome)
}
