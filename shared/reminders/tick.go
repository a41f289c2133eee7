package reminders

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/notify"
)

// Offsets returns the practice's reminder offsets in hours, largest first.
func Offsets(p carepost.Practice) []int {
	var out []int
	for _, o := range p.ReminderOffsetsHours {
		if o > 0 && o <= 24*30 && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		out = slices.Clone(DefaultOffsets)
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// due returns the offset to remind for now (the smallest whose time has
// come and that was not sent) and the earlier ones it supersedes (a visit
// booked two days ahead gets the 24-hour reminder only, not a late 72-hour
// one as well).
func due(a carepost.Appointment, offsets []int, now time.Time) (int, []int, bool) {
	left := a.Time.Sub(now)
	if left <= 0 {
		return 0, nil, false
	}
	var come []int
	for _, o := range offsets {
		if time.Duration(o)*time.Hour >= left {
			come = append(come, o)
		}
	}
	if len(come) == 0 {
		return 0, nil, false
	}
	pick := come[len(come)-1] // smallest whose time has come
	if slices.Contains(a.Reminded, pick) {
		return 0, nil, false
	}
	var also []int
	for _, o := range come[:len(come)-1] {
		if !slices.Contains(a.Reminded, o) {
			also = append(also, o)
		}
	}
	return pick, also, true
}

// Tick is the reminders' scheduled job: every appointment whose reminder
// time has come gets one e-mail. The appointment is marked before the
// e-mail goes (a crash loses one reminder, never sends two).
func (s *Service) Tick(ctx context.Context) error {
	pids, err := s.Store.Practices(ctx)
	if err != nil {
		return err
	}
	var firstErr error
	for _, pid := range pids {
		if err := s.tickPractice(ctx, pid); err != nil {
			s.Log.Warn("reminders tick", "practice", pid, "code", carepost.ErrorCode(err), "cause", err.Error())
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

func (s *Service) tickPractice(ctx context.Context, pid string) error {
	practice, err := s.Store.Practice(ctx, pid)
	if err != nil {
		return err
	}
	if practice.Suspended {
		return nil
	}
	offsets := Offsets(practice)
	now := s.now()
	until := now.Add(time.Duration(offsets[0]) * time.Hour)
	var after map[string]string
	for {
		page, err := s.Store.AppointmentsBetween(ctx, pid, now, until, after, 500)
		if err != nil {
			return err
		}
		for _, rec := range page.Items {
			if rec.State == carepost.AppointmentCancelled {
				continue
			}
			off, also, ok := due(rec.Appointment, offsets, now)
			if !ok {
				continue
			}
			if err := s.remind(ctx, practice, rec, off, also); err != nil {
				return err
			}
		}
		if page.Next == nil {
			return nil
		}
		after = page.Next
	}
}

func (s *Service) remind(ctx context.Context, practice carepost.Practice, rec carepost.AppointmentRecord, off int, also []int) error {
	marked, err := s.Store.MarkReminded(ctx, practice.ID, rec.ID, off, also)
	if err != nil || !marked {
		return err
	}
	email, ok, err := s.patientEmail(ctx, practice.ID, rec.PatientID)
	if err != nil || !ok {
		return err
	}
	mail, err := s.ReminderMail(ctx, practice, rec.Appointment, email)
	if err != nil {
		return err
	}
	if _, err := s.Mailer.Send(ctx, mail); err != nil {
		// Marked already: this reminder is not retried (at most once).
		s.Log.Warn("reminder not sent", "practice", practice.ID, "appointment", rec.ID, "code", carepost.ErrorCode(err))
	}
	return nil
}

// When formats an appointment time for an e-mail or a page: day, date and
// time in the practice's zone.
func When(t time.Time, tz string) string {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Monday, January 2, 2006 at 3:04 PM (MST)")
}

// ReminderMail renders the reminder for a (to the patient's own address).
func (s *Service) ReminderMail(ctx context.Context, practice carepost.Practice, a carepost.Appointment, email string) (carepost.Mail, error) {
	base := strings.TrimRight(s.PublicURL, "/") + "/v1/public/appointments/"
	confirm, err := s.Keys.Sign(ctx, practice.ID, PurposeConfirm, []string{a.ID}, a.Time)
	if err != nil {
		return carepost.Mail{}, err
	}
	cancel, err := s.Keys.Sign(ctx, practice.ID, PurposeCancel, []string{a.ID}, a.Time)
	if err != nil {
		return carepost.Mail{}, err
	}
	unsub := ""
	if s.UnsubscribeURL != nil {
		if unsub, err = s.UnsubscribeURL(ctx, practice.ID, []string{"patient", a.PatientID}); err != nil {
			return carepost.Mail{}, err
		}
	}
	subject, text := notify.AppointmentReminder.Render(map[string]string{
		"practiceName": practice.Name, "when": When(a.Time, practice.TimeZone),
		"confirmUrl": base + confirm, "cancelUrl": base + cancel, "link": notify.AppLink(s.PublicURL), "unsubscribeUrl": unsub,
	})
	m := carepost.Mail{To: []string{email}, Subject: subject, Text: text,
		Tags: map[string]string{"kind": "reminder", "practice": practice.ID, "patient": a.PatientID}}
	if unsub != "" {
		m.Headers = map[string]string{"List-Unsubscribe": "<" + unsub + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
	}
	return m, nil
}

// LinkPage is what the page behind a confirm or cancel link shows.
type LinkPage struct {
	PracticeName string                    `json:"practiceName"`
	When         string                    `json:"when"`
	Action       string                    `json:"action"` // "confirm" or "cancel"
	State        carepost.AppointmentState `json:"state"`
}

func (s *Service) verify(ctx context.Context, token string) (carepost.Practice, carepost.AppointmentRecord, string, error) {
	action, purpose := "confirm", PurposeConfirm
	pid, fields, err := s.Keys.Verify(ctx, token, purpose)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		action, purpose = "cancel", PurposeCancel
		pid, fields, err = s.Keys.Verify(ctx, token, purpose)
	}
	if err != nil {
		return carepost.Practice{}, carepost.AppointmentRecord{}, "", err
	}
	if len(fields) != 1 {
		return carepost.Practice{}, carepost.AppointmentRecord{}, "", carepost.NotFound("link")
	}
	practice, err := s.Store.Practice(ctx, pid)
	if err != nil {
		return practice, carepost.AppointmentRecord{}, "", err
	}
	rec, err := s.Store.Appointment(ctx, pid, fields[0])
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return practice, rec, "", carepost.NotFound("link")
	}
	return practice, rec, action, err
}

// LinkInfo checks a confirm or cancel token for the page it opens (GET:
// mail scanners that fetch links change nothing).
func (s *Service) LinkInfo(ctx context.Context, token string) (LinkPage, error) {
	practice, rec, action, err := s.verify(ctx, token)
	if err != nil {
		return LinkPage{}, err
	}
	return LinkPage{PracticeName: practice.Name, When: When(rec.Time, practice.TimeZone), Action: action, State: rec.State}, nil
}

// Act confirms or cancels through a link (POST). A cancel frees the slot
// and tells the front desk. Repeating the same action is harmless.
func (s *Service) Act(ctx context.Context, token, sourceIP string) (LinkPage, error) {
	practice, rec, action, err := s.verify(ctx, token)
	if err != nil {
		return LinkPage{}, err
	}
	now := s.now()
	page := LinkPage{PracticeName: practice.Name, When: When(rec.Time, practice.TimeZone), Action: action}
	switch action {
	case "confirm":
		if rec.State == carepost.AppointmentConfirmed {
			page.State = rec.State
			return page, nil
		}
		err = s.Store.ChangeAppointmentState(ctx, practice.ID, rec.ID, []carepost.AppointmentState{carepost.AppointmentBooked}, carepost.AppointmentConfirmed, "", now)
		page.State = carepost.AppointmentConfirmed
	case "cancel":
		if rec.State == carepost.AppointmentCancelled {
			page.State = rec.State
			return page, nil
		}
		err = s.Store.ChangeAppointmentState(ctx, practice.ID, rec.ID, []carepost.AppointmentState{carepost.AppointmentBooked, carepost.AppointmentConfirmed}, carepost.AppointmentCancelled, "patient-link", now)
		page.State = carepost.AppointmentCancelled
	}
	if carepost.ErrorCode(err) == carepost.CodeConflict {
		return LinkPage{}, carepost.Errorf(carepost.CodeConflict, "this appointment was cancelled; call the practice to book again")
	}
	if err != nil {
		return LinkPage{}, err
	}
	if s.Audit != nil {
		if err := s.Audit.Record(ctx, carepost.AuditEvent{PracticeID: practice.ID, Actor: "appointment-link", ActorRole: carepost.RolePatient, SourceIP: sourceIP,
			Action: "appointment." + action, PatientID: rec.PatientID, Object: "appointment/" + rec.ID, Outcome: "ok", Time: now}); err != nil {
			return LinkPage{}, carepost.Unavailable(err, "the audit log")
		}
	}
	if action == "cancel" && s.Notifier != nil {
		pool := "frontdesk"
		if o, ok := practice.Routing[carepost.CategoryAppointment]; ok {
			if p, ok := o.Pool(); ok {
				pool = p
			}
		}
		err := s.Notifier.MailPool(context.WithoutCancel(ctx), practice, pool, notify.AppointmentCancelled,
			map[string]string{"when": When(rec.Time, practice.TimeZone), "link": notify.AppLink(s.PublicURL)}, nil)
		if err != nil {
			// The cancel stands; the appointments list shows it too.
			s.Log.Warn("front desk not told of a cancel", "practice", practice.ID, "appointment", rec.ID, "code", carepost.ErrorCode(err))
		}
	}
	return page, nil
}
