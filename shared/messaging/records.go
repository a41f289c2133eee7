package messaging

import (
	"context"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// AttachmentLinker links the files a sender uploaded to a thread, and that
// no message carries yet, to the next message they write there (package
// attachments implements it). It must be idempotent for one message id: a
// retried write with the same id links the same files.
type AttachmentLinker interface {
	LinkPending(ctx context.Context, t carepost.ThreadRecord, senderID, messageID string) ([]string, error)
}

// Transcript is a thread with its subject, messages and read receipts
// opened, for exports (FHIR). It is patient data.
type Transcript struct {
	Thread   carepost.ThreadRecord
	Subject  string
	Messages []carepost.Message
	Reads    []carepost.ReadReceipt
}

// ExportThread returns the transcript of a thread the principal may see,
// audited under action (e.g. "thread.export"); anything else is not found,
// exactly like a missing thread. Unlike Get it starts no e-visit window.
func (s *Service) ExportThread(ctx context.Context, p carepost.Principal, threadID, action string) (Transcript, error) {
	t, err := s.visibleThread(ctx, p, threadID, action)
	if err != nil {
		return Transcript{}, err
	}
	tr, err := s.OpenTranscript(ctx, t)
	if err != nil {
		return Transcript{}, err
	}
	return tr, s.audit(ctx, p, action, t.PatientID, "thread/"+t.ID, "ok")
}

// OpenTranscript opens a thread record the caller has already authorized
// (and audits itself). An integrity failure is an error, never skipped.
func (s *Service) OpenTranscript(ctx context.Context, t carepost.ThreadRecord) (Transcript, error) {
	subject, err := s.openSubject(ctx, t)
	if err != nil {
		return Transcript{}, err
	}
	recs, err := s.Store.Messages(ctx, t.PracticeID, t.ID)
	if err != nil {
		return Transcript{}, err
	}
	tr := Transcript{Thread: t, Subject: subject, Messages: make([]carepost.Message, 0, len(recs))}
	for _, rec := range recs {
		m, err := s.openMessage(ctx, rec)
		if err != nil {
			return Transcript{}, err
		}
		tr.Messages = append(tr.Messages, m)
	}
	if tr.Reads, err = s.Store.ReadReceipts(ctx, t.PracticeID, t.ID); err != nil {
		return Transcript{}, err
	}
	return tr, nil
}

// CanSee reports whether p may see thread t (the one visibility rule), for
// use cases that list threads outside this package.
func CanSee(p carepost.Principal, t carepost.ThreadRecord, now time.Time) bool {
	return canSee(p, t, now)
}

// CanWrite reports whether p may add to thread t (t visible to p).
func CanWrite(p carepost.Principal, t carepost.ThreadRecord, now time.Time) bool {
	return canWrite(p, t, now)
}
