package triage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/carepost/carepost/shared/businesshours"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/sqsqueue"
)

// Queue event types: triage consumes EventFromPatient and tells the
// notifier (package notify) about new work in a pool with EventNewWork.
const (
	EventFromPatient = "message.from_patient"
	EventNewWork     = "work.new"
)

// Handle is the triage Lambda handler: each record is one carepost.Event.
// Records that fail are reported in BatchItemFailures, so only they come
// back (and reach the dead-letter queue after the queue's maxReceiveCount);
// the others are deleted. It never fails the whole batch.
func (s *Service) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		if err := s.handleRecord(ctx, rec); err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

func (s *Service) handleRecord(ctx context.Context, rec events.SQSMessage) error {
	e, err := sqsqueue.DecodeEvent(rec)
	if err != nil {
		// A poison record: it goes to the DLQ after the redrive count.
		s.log().Error("triage: malformed event", "sqsMessageId", rec.MessageId, "receiveCount", sqsqueue.ReceiveCount(rec))
		return err
	}
	if err := s.Triage(ctx, e); err != nil {
		s.log().Error("triage failed", "practiceId", e.PracticeID, "threadId", e.ThreadID, "messageId", e.MessageID,
			"code", string(carepost.ErrorCode(err)), "receiveCount", sqsqueue.ReceiveCount(rec))
		return err
	}
	return nil
}

// Triage handles one event. Events of other types are ignored. It is
// idempotent: running it again for the same message changes nothing, posts
// no second note and sends no second page.
func (s *Service) Triage(ctx context.Context, e carepost.Event) error {
	if e.Type != EventFromPatient {
		return nil
	}
	if e.ThreadID == "" || e.MessageID == "" {
		return carepost.Errorf(carepost.CodeInvalid, "a triage event needs a thread and a message id")
	}
	pid, tid, mid := e.PracticeID, e.ThreadID, e.MessageID
	m, err := s.Store.Message(ctx, pid, tid, mid)
	if err != nil {
		return err
	}
	if m.Kind != carepost.KindPatient && m.Kind != carepost.KindRetraction {
		return carepost.Errorf(carepost.CodeInvalid, "triage handles patient messages only")
	}
	practice, err := s.Store.Practice(ctx, pid)
	if err != nil {
		return err
	}
	cal := businesshours.ForPractice(practice)
	now := s.now()

	// 1. Decide, write the decision and the acknowledgement together.
	var pl plan
	var t carepost.ThreadRecord
	var owner carepost.Owner
	for attempt := 0; ; attempt++ {
		if attempt == 5 {
			return carepost.Errorf(carepost.CodeConflict, "thread kept changing during triage")
		}
		if t, err = s.Store.Thread(ctx, pid, tid); err != nil {
			return err
		}
		pl = decide(practice, cal, t, m, now)
		next := t
		if !t.Triaged {
			pl.apply(&next)
		}
		due := next.Due
		note := noteFor(practice, "ack", derivedID("ack", pid, tid, mid), ackText(practice, cal, m.Urgent, due), mid)
		owner = next.Owner
		posted, err := s.Messaging.PostSystemMessage(ctx, t, note, next)
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			continue
		}
		if err != nil {
			return err
		}
		if !posted && !t.Triaged {
			// The acknowledgement exists (an earlier attempt) but the
			// thread does not carry the decision: write it alone.
			next.Updated = now
			err := s.Store.UpdateThread(ctx, carepost.ThreadChange{PracticeID: pid, ThreadID: tid, Version: t.Version, Set: next})
			if carepost.ErrorCode(err) == carepost.CodeConflict {
				continue
			}
			if err != nil {
				return err
			}
		}
		break
	}

	// 2. The away note, when the message went to a cover.
	if pl.Away != nil {
		note := noteFor(practice, "away", derivedID("away", pid, tid, mid), awayText(practice, cal, *pl.Away), mid)
		if err := s.postNote(ctx, pid, tid, note); err != nil {
			return err
		}
		if err := s.Store.AddCovered(ctx, pid, pl.Away.Clinician, pl.Away.Absence.From, tid); err != nil {
			return err
		}
	}

	// 3. The on-call page, once per urgent message.
	if pl.Page {
		if err := s.page(ctx, practice, pid, tid, mid, now); err != nil {
			return err
		}
	}

	// 4. Staff who asked for it hear of new work in their pool (the
	// notifier sends at most one e-mail per message and recipient).
	if _, isPool := owner.Pool(); isPool && s.Publisher != nil {
		if err := s.Publisher.Publish(ctx, carepost.QueueNotify, carepost.Event{Type: EventNewWork, PracticeID: pid, ThreadID: tid, MessageID: mid, At: now}); err != nil {
			return carepost.Unavailable(err, "the notify queue")
		}
	}

	// 5. Done. The marker records completion; every step above is
	// idempotent on its own, so a crash before this line only repeats
	// no-ops.
	_, err = s.Store.MarkDone(ctx, pid, tid, "triage", mid, markerTTL)
	return err
}

func noteFor(p carepost.Practice, kind, id, body, inResponseTo string) messaging.SystemNote {
	return messaging.SystemNote{ID: id, Body: body, SenderName: p.Name, Actor: "system:triage:" + kind, InResponseTo: inResponseTo}
}

// postNote posts a system note that changes nothing else on the thread.
func (s *Service) postNote(ctx context.Context, pid, tid string, note messaging.SystemNote) error {
	for range 5 {
		t, err := s.Store.Thread(ctx, pid, tid)
		if err != nil {
			return err
		}
		_, err = s.Messaging.PostSystemMessage(ctx, t, note, t)
		if carepost.ErrorCode(err) != carepost.CodeConflict {
			return err
		}
	}
	return carepost.Errorf(carepost.CodeConflict, "thread kept changing while posting a note")
}

// page e-mails the on-call pool once for message mid and makes sure the
// thread carries a page deadline (so an unacknowledged page escalates).
func (s *Service) page(ctx context.Context, practice carepost.Practice, pid, tid, mid string, now time.Time) (err error) {
	claimed, err := s.Store.MarkDone(ctx, pid, tid, "page", mid, markerTTL)
	if err != nil || !claimed {
		return err // !claimed: the page went out on an earlier delivery
	}
	defer func() {
		if err != nil {
			// Release the claim so the redelivery pages again.
			if uerr := s.Store.UnmarkDone(context.WithoutCancel(ctx), pid, tid, "page", mid); uerr != nil {
				err = errors.Join(err, uerr)
			}
		}
	}()
	ack := pageAck(practice)
	// The decision normally set the deadline; when another message's
	// triage took the thread's decision, set it here.
	for attempt := 0; ; attempt++ {
		t, err := s.Store.Thread(ctx, pid, tid)
		if err != nil {
			return err
		}
		if !t.PageDue.IsZero() {
			break
		}
		next := t
		next.PageDue, next.PageLevel = now.Add(ack), 0
		err = s.Store.UpdateThread(ctx, carepost.ThreadChange{PracticeID: pid, ThreadID: tid, Version: t.Version, Set: next})
		if err == nil {
			break
		}
		if carepost.ErrorCode(err) != carepost.CodeConflict || attempt == 4 {
			return err
		}
	}
	to := recipients(practice, now, onCallOwners(practice)...)
	if len(to) == 0 {
		// Nobody to page: the page deadline passes and the sweep
		// escalates along the chain. Say so to operators (ids only).
		s.log().Warn("triage: on-call pool has no reachable member", "practiceId", pid, "threadId", tid)
		return nil
	}
	if _, err := s.Mailer.Send(ctx, pageMail(to, s.threadLink(tid), ack, pid)); err != nil {
		return fmt.Errorf("page: %w", err)
	}
	return nil
}
