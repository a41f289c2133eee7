package triage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/carepost/carepost/shared/businesshours"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/resources"
)

// SweepReport counts what one sweep did.
type SweepReport struct {
	Practices       int `json:"practices"`
	Flagged         int `json:"flagged"`         // threads newly flagged overdue
	Escalations     int `json:"escalations"`     // overdue escalation e-mails
	PageEscalations int `json:"pageEscalations"` // unacknowledged pages escalated
	PagesCleared    int `json:"pagesCleared"`    // pages dropped because the thread was answered
	Republished     int `json:"republished"`     // lost triage events sent again
	Digests         int `json:"digests"`         // return digests sent
	// OverdueUrgent counts urgent pages past their acknowledgement
	// deadline when the sweep found them (the OverdueUrgentMessages metric).
	OverdueUrgent int `json:"overdueUrgent"`
}

// Run is the scheduled entry point (EventBridge Scheduler in AWS, a ticker
// in the dev stack).
func (s *Service) Run(ctx context.Context) error {
	r, err := s.Sweep(ctx)
	s.emitMetric(r)
	s.log().Info("sweep", "practices", r.Practices, "flagged", r.Flagged, "escalations", r.Escalations,
		"pageEscalations", r.PageEscalations, "pagesCleared", r.PagesCleared, "republished", r.Republished, "digests", r.Digests)
	return err
}

// Sweep goes over every practice once: threads past their due time are
// flagged overdue and escalated step by step (the owner's pool lead, then
// the escalation chain, then the admins, one step per EscalateEvery of
// business time); unacknowledged pages escalate along the chain every page
// deadline; threads never triaged are sent to triage again; absences that
// ended get their return digest. A failure on one thread does not stop the
// others; the errors are returned together. Running it twice sends nothing
// twice: every e-mail is claimed with a marker first.
func (s *Service) Sweep(ctx context.Context) (SweepReport, error) {
	var r SweepReport
	ids, err := s.Store.Practices(ctx)
	if err != nil {
		return r, err
	}
	var errs []error
	for _, pid := range ids {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if err := s.sweepPractice(ctx, pid, &r); err != nil {
			errs = append(errs, fmt.Errorf("practice %s: %w", pid, err))
		}
	}
	return r, errors.Join(errs...)
}

func (s *Service) sweepPractice(ctx context.Context, pid string, r *SweepReport) error {
	p, err := s.Store.Practice(ctx, pid)
	if err != nil {
		return err
	}
	if p.Suspended {
		return nil
	}
	r.Practices++
	now := s.now()
	cal := businesshours.ForPractice(p)
	threads, err := s.Store.ThreadsDue(ctx, pid, now)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range threads {
		if !t.Triaged {
			errs = append(errs, s.republish(ctx, t, now, r))
			continue
		}
		if !t.PageDue.IsZero() && !t.PageDue.After(now) {
			if awaitingPractice(t) {
				r.OverdueUrgent++
			}
			errs = append(errs, s.escalatePage(ctx, p, t, now, r))
			continue
		}
		if !t.Due.IsZero() && !t.Due.After(now) {
			errs = append(errs, s.escalateOverdue(ctx, p, cal, t, now, r))
		}
	}
	for sub, a := range p.Absences {
		if !a.Until.After(now) {
			errs = append(errs, s.digest(ctx, p, cal, sub, a, now, r))
		}
	}
	return errors.Join(errs...)
}

// awaitingPractice reports whether the practice owes the patient an answer.
func awaitingPractice(t carepost.ThreadRecord) bool {
	return t.Status == carepost.StatusOpen || t.Status == carepost.StatusReopened
}

// claimAndSend sends m once per (thread, step, id): the marker is taken
// first and released when sending fails, so a later sweep tries again.
func (s *Service) claimAndSend(ctx context.Context, t carepost.ThreadRecord, step, id string, m carepost.Mail) (sent bool, err error) {
	claimed, err := s.Store.MarkDone(ctx, t.PracticeID, t.ID, step, id, markerTTL)
	if err != nil || !claimed {
		return false, err
	}
	if len(m.To) == 0 {
		return false, nil
	}
	if _, err := s.Mailer.Send(ctx, m); err != nil {
		if uerr := s.Store.UnmarkDone(context.WithoutCancel(ctx), t.PracticeID, t.ID, step, id); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return false, err
	}
	return true, nil
}

// update writes fn's change to the freshest thread; a thread that moved is
// re-read and, if fn still applies (returns true), changed again.
func (s *Service) update(ctx context.Context, t carepost.ThreadRecord, fn func(t *carepost.ThreadRecord) bool) error {
	for attempt := 0; ; attempt++ {
		next := t
		if !fn(&next) {
			return nil
		}
		err := s.Store.UpdateThread(ctx, carepost.ThreadChange{PracticeID: t.PracticeID, ThreadID: t.ID, Version: t.Version, Set: next})
		if carepost.ErrorCode(err) != carepost.CodeConflict || attempt == 3 {
			return err
		}
		if t, err = s.Store.Thread(ctx, t.PracticeID, t.ID); err != nil {
			return err
		}
	}
}

// escalatePage takes the next escalation step of an unacknowledged page.
func (s *Service) escalatePage(ctx context.Context, p carepost.Practice, t carepost.ThreadRecord, now time.Time, r *SweepReport) error {
	pageDue := t.PageDue
	if !awaitingPractice(t) {
		// Someone answered or closed the thread: the page is moot.
		r.PagesCleared++
		return s.update(ctx, t, func(n *carepost.ThreadRecord) bool {
			if !n.PageDue.Equal(pageDue) {
				return false
			}
			n.PageDue = time.Time{}
			return true
		})
	}
	level := t.PageLevel + 1
	steps := chainSteps(p)
	var owners []carepost.Owner
	switch {
	case level <= len(steps):
		owners = steps[level-1]
	default:
		// Everyone in line was paged: stop paging, keep the thread
		// flagged at the top of the inbox.
		return s.update(ctx, t, func(n *carepost.ThreadRecord) bool {
			if !n.PageDue.Equal(pageDue) {
				return false
			}
			n.PageDue, n.Overdue = time.Time{}, true
			return true
		})
	}
	ack := pageAck(p)
	id := fmt.Sprintf("L%d-%s", level, pageDue.UTC().Format("20060102T150405.000000000Z"))
	m := pageEscalationMail(recipients(p, now, owners...), s.threadLink(t.ID), level, ack, p.ID)
	sent, err := s.claimAndSend(ctx, t, "page-escalation", id, m)
	if err != nil {
		return err
	}
	if sent {
		r.PageEscalations++
	}
	return s.update(ctx, t, func(n *carepost.ThreadRecord) bool {
		if !n.PageDue.Equal(pageDue) || n.PageLevel != level-1 {
			return false // acknowledged or escalated meanwhile
		}
		n.PageLevel, n.PageDue = level, now.Add(ack)
		return true
	})
}

// escalateOverdue flags a thread past its due time and takes the next
// escalation step when its time has come.
func (s *Service) escalateOverdue(ctx context.Context, p carepost.Practice, cal *businesshours.Calendar, t carepost.ThreadRecord, now time.Time, r *SweepReport) error {
	if !awaitingPractice(t) {
		return nil // answered: waiting for the patient
	}
	due := t.Due
	if !t.PageDue.IsZero() {
		// A page is pending: its own escalation runs; only flag.
		if t.Overdue {
			return nil
		}
		r.Flagged++
		return s.update(ctx, t, func(n *carepost.ThreadRecord) bool {
			if !n.Due.Equal(due) || n.Overdue {
				return false
			}
			n.Overdue = true
			return true
		})
	}
	step := t.Escalated
	var owners []carepost.Owner
	if steps := chainSteps(p); step == 0 {
		owners = []carepost.Owner{leadOf(p, t.Owner)}
	} else if step <= len(steps) {
		owners = steps[step-1]
	} // else everyone in line was told

	if owners == nil || now.Before(cal.Add(due, time.Duration(step)*EscalateEvery)) {
		if t.Overdue {
			return nil
		}
		r.Flagged++
		return s.update(ctx, t, func(n *carepost.ThreadRecord) bool {
			if !n.Due.Equal(due) || n.Overdue {
				return false
			}
			n.Overdue = true
			return true
		})
	}
	if !t.Overdue {
		r.Flagged++
	}
	id := fmt.Sprintf("S%d-%s", step, due.UTC().Format("20060102T150405.000000000Z"))
	sent, err := s.claimAndSend(ctx, t, "overdue", id, overdueMail(recipients(p, now, owners...), s.threadLink(t.ID), step, p.ID))
	if err != nil {
		return err
	}
	if sent {
		r.Escalations++
	}
	if err := s.update(ctx, t, func(n *carepost.ThreadRecord) bool {
		if !n.Due.Equal(due) || n.Escalated != step {
			return false
		}
		n.Overdue, n.Escalated = true, step+1
		return true
	}); err != nil {
		return err
	}
	if step > 0 {
		return nil
	}
	// The patient is never left waiting in silence: at the first step
	// they are told, in the thread, that the answer is late, who was asked
	// and how to get help now. Once per due time (the note's id derives
	// from it); it changes nothing else on the thread.
	note := noteFor(p, "delay", derivedID("delay", t.PracticeID, t.ID, id), delayText(p, leadOf(p, t.Owner)), "")
	return s.postNote(ctx, t.PracticeID, t.ID, note)
}

// republish sends a thread that was never triaged (its queue event was
// lost, e.g. the send failed after the message was stored) to triage
// again, once per patient message.
func (s *Service) republish(ctx context.Context, t carepost.ThreadRecord, now time.Time, r *SweepReport) error {
	if t.Updated.After(now.Add(-RepublishAfter)) {
		return nil // probably still on its way through the queue
	}
	msgs, err := s.Store.Messages(ctx, t.PracticeID, t.ID)
	if err != nil {
		return err
	}
	var last *carepost.MessageRecord
	for i := range msgs {
		if k := msgs[i].Kind; k == carepost.KindPatient || k == carepost.KindRetraction {
			last = &msgs[i]
		}
	}
	if last == nil {
		return nil
	}
	claimed, err := s.Store.MarkDone(ctx, t.PracticeID, t.ID, "republish", last.ID, markerTTL)
	if err != nil || !claimed {
		return err
	}
	e := carepost.Event{Type: EventFromPatient, PracticeID: t.PracticeID, ThreadID: t.ID, MessageID: last.ID, At: last.Sent}
	if err := s.Publisher.Publish(ctx, carepost.QueueTriage, e); err != nil {
		if uerr := s.Store.UnmarkDone(context.WithoutCancel(ctx), t.PracticeID, t.ID, "republish", last.ID); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return err
	}
	r.Republished++
	return nil
}

// digest sends a returning clinician the counts of what their cover
// handled, then removes the ended absence from the settings.
func (s *Service) digest(ctx context.Context, p carepost.Practice, cal *businesshours.Calendar, sub string, a carepost.Absence, now time.Time, r *SweepReport) error {
	claimed, err := s.Store.MarkDigest(ctx, p.ID, sub, a.From)
	if err != nil {
		return err
	}
	if claimed {
		if err := s.sendDigest(ctx, p, cal, sub, a, r); err != nil {
			if uerr := s.Store.UnmarkDigest(context.WithoutCancel(ctx), p.ID, sub, a.From); uerr != nil {
				err = errors.Join(err, uerr)
			}
			return err
		}
	}
	for range 5 {
		cur, version, err := s.Store.PracticeVersion(ctx, p.ID)
		if err != nil {
			return err
		}
		ca, ok := cur.Absences[sub]
		if !ok || !ca.From.Equal(a.From) || ca.Until.After(now) {
			return nil // changed meanwhile: a new absence is not ours to remove
		}
		delete(cur.Absences, sub)
		cur.Updated = now
		err = s.Store.UpdatePractice(ctx, cur, version)
		if carepost.ErrorCode(err) != carepost.CodeConflict {
			return err
		}
	}
	return carepost.Errorf(carepost.CodeConflict, "practice settings kept changing")
}

func (s *Service) sendDigest(ctx context.Context, p carepost.Practice, cal *businesshours.Calendar, sub string, a carepost.Absence, r *SweepReport) error {
	ref, ok := p.Staff[sub]
	if !ok || ref.Email == "" || ref.Disabled {
		return nil
	}
	ids, err := s.Store.Covered(ctx, p.ID, sub, a.From)
	if err != nil {
		return err
	}
	var c digestCounts
	for _, id := range ids {
		t, err := s.Store.Thread(ctx, p.ID, id)
		if carepost.ErrorCode(err) == carepost.CodeNotFound {
			continue
		}
		if err != nil {
			return err
		}
		c.Covered++
		if awaitingPractice(t) {
			c.Open++
		} else {
			c.Answered++
		}
	}
	m := digestMail([]string{ref.Email}, s.inboxLink(), localDate(cal, a.From), localDate(cal, a.Until), coverLabel(p, a.Cover), c, p.ID)
	if _, err := s.Mailer.Send(ctx, m); err != nil {
		return err
	}
	r.Digests++
	return nil
}

// emitMetric writes the OverdueUrgentMessages metric in CloudWatch embedded
// metric format (0 included: a gap means the sweep is not running).
func (s *Service) emitMetric(r SweepReport) {
	if s.Metrics == nil {
		return
	}
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": s.now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  resources.MetricNamespace,
				"Dimensions": [][]string{{resources.MetricDimensionTable}},
				"Metrics":    []any{map[string]string{"Name": resources.MetricOverdueUrgent, "Unit": "Count"}},
			}},
		},
		resources.MetricDimensionTable: s.MetricTable,
		resources.MetricOverdueUrgent:  r.OverdueUrgent,
	}
	b, _ := json.Marshal(line)
	_, _ = s.Metrics.Write(append(b, '\n'))
}
