package messaging

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/forms"
	"github.com/carepost/carepost/shared/urgent"
)

// OpenInput opens a thread: a category with a subject and free text, or a
// typed request (Form) whose schema decides the category.
type OpenInput struct {
	PatientID    string                `json:"patientId,omitempty"` // proxies and staff name the patient
	Category     carepost.Category     `json:"category,omitempty"`
	Subject      string                `json:"subject,omitempty"`
	Body         string                `json:"body"`
	Form         *carepost.FormPayload `json:"form,omitempty"`
	Confidential bool                  `json:"confidential,omitempty"`
}

// ReplyInput adds a message to a thread.
type ReplyInput struct {
	Body string                `json:"body"`
	Form *carepost.FormPayload `json:"form,omitempty"`
}

func validText(field, s string, limit int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return carepost.FieldError(carepost.CodeValidation, field, "%s is required", field)
	}
	if !utf8.ValidString(s) {
		return carepost.FieldError(carepost.CodeInvalid, field, "%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > limit {
		return carepost.FieldError(carepost.CodeValidation, field, "%s is longer than %d characters", field, limit)
	}
	return nil
}

// assessment is what the rules say about a new patient message.
type assessment struct {
	category carepost.Category
	priority carepost.Priority
	urgent   urgent.Result
	summary  string
}

func (s *Service) assess(p carepost.Practice, cat carepost.Category, subject, body string, form *carepost.FormPayload, fromPatient bool) (assessment, error) {
	a := assessment{category: cat, priority: carepost.PriorityRoutine}
	var readings []urgent.Reading
	if form != nil {
		r, err := forms.Validate(*form)
		if err != nil {
			return a, err
		}
		if a.category == "" {
			a.category = r.Category
		} else if a.category != r.Category {
			return a, carepost.FieldError(carepost.CodeValidation, "category", "category does not match the form type")
		}
		a.priority = a.priority.Raise(r.Priority)
		a.summary = r.Summary
		for _, rd := range r.Readings {
			readings = append(readings, urgent.Reading{Kind: rd.Kind, Value: rd.Value, Value2: rd.Value2, Unit: rd.Unit})
		}
	}
	if fromPatient {
		c, err := s.checker(p)
		if err != nil {
			return a, err
		}
		a.urgent = c.Check(subject, body, readings)
		if a.urgent.Urgent {
			a.priority = a.priority.Raise(carepost.PriorityUrgent)
		}
	}
	return a, nil
}

func adviceFor(p carepost.Practice, r urgent.Result) *UrgentAdvice {
	if !r.Urgent {
		return nil
	}
	flags := make([]string, len(r.Flags))
	for i, f := range r.Flags {
		flags[i] = string(f)
	}
	call := []string{"911"}
	msg := "Secure messages are not for emergencies. If this is an emergency, call 911 now or go to the nearest emergency department."
	if r.Advice == urgent.Advice("crisis_line") {
		line := p.CrisisLine
		if line == "" {
			line = "988"
		}
		call = []string{line, "911"}
		msg = "You are not alone. Call or text " + line + " (Suicide & Crisis Lifeline) now, or call 911 if you are in danger."
	}
	if p.OnCallPhone != "" {
		call = append(call, p.OnCallPhone)
		msg += " You can reach the practice's on-call clinician at " + p.OnCallPhone + "."
	}
	msg += " We have flagged your message as urgent and alerted the on-call team."
	return &UrgentAdvice{Advice: string(r.Advice), Message: msg, Call: call, Flags: flags}
}

// consent checks the patient or proxy accepted the current agreement and
// returns its version.
func (s *Service) consent(ctx context.Context, p carepost.Principal, patientID string) (int, error) {
	a, err := s.Store.CurrentAgreement(ctx, p.PracticeID)
	if err != nil {
		if carepost.ErrorCode(err) == carepost.CodeNotFound {
			return 0, carepost.Errorf(carepost.CodeForbidden, "the practice has not published a messaging agreement yet")
		}
		return 0, err
	}
	c, ok, err := s.Store.Consent(ctx, p.PracticeID, patientID, p.Subject)
	if err != nil {
		return 0, err
	}
	if !ok || c.Version != a.Version {
		return 0, &carepost.Error{Code: carepost.CodeConsentRequired, Message: "accept the practice's current messaging agreement before sending messages",
			Details: map[string]any{"agreement": a}}
	}
	return a.Version, nil
}

// Open opens a thread with its first message.
func (s *Service) Open(ctx context.Context, r Request, in OpenInput) (PostResult, error) {
	p := r.Principal
	now := s.now()
	fromPatient := p.Role == carepost.RolePatient || p.Role == carepost.RoleProxy
	switch {
	case fromPatient:
		if in.PatientID == "" && p.Role == carepost.RolePatient {
			in.PatientID = p.PatientID
		}
	case p.Role == carepost.RoleNurse || p.Role == carepost.RoleClinician || p.Role == carepost.RoleFrontDesk:
		if in.PatientID == "" {
			return PostResult{}, carepost.FieldError(carepost.CodeValidation, "patientId", "patientId is required")
		}
	default:
		if err := s.audit(ctx, p, "thread.create", "", "endpoint/thread.create", "denied"); err != nil {
			return PostResult{}, err
		}
		return PostResult{}, carepost.Errorf(carepost.CodeForbidden, "this role cannot open threads")
	}
	if in.Category != "" && !in.Category.Valid() {
		return PostResult{}, carepost.FieldError(carepost.CodeValidation, "category", "unknown category")
	}
	if in.Form == nil && in.Category == "" {
		return PostResult{}, carepost.FieldError(carepost.CodeValidation, "category", "category is required (or send a typed request in form)")
	}
	if in.Category != "" {
		allowed := carepost.PatientCategories
		if !fromPatient {
			allowed = carepost.StaffCategories
		}
		if !slices.Contains(allowed, in.Category) {
			return PostResult{}, carepost.FieldError(carepost.CodeValidation, "category", "this role cannot open threads of that category")
		}
	}
	if err := validText("subject", in.Subject, MaxSubject, in.Form == nil); err != nil {
		return PostResult{}, err
	}
	if err := validText("body", in.Body, MaxBody, in.Form == nil); err != nil {
		return PostResult{}, err
	}
	practice, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return PostResult{}, err
	}
	if practice.Suspended {
		return PostResult{}, carepost.Errorf(carepost.CodeForbidden, "this practice is suspended")
	}
	a, err := s.assess(practice, in.Category, in.Subject, in.Body, in.Form, fromPatient)
	if err != nil {
		return PostResult{}, err
	}
	if fromPatient && !actsFor(p, in.PatientID, a.category, true, now) {
		if aerr := s.audit(ctx, p, "thread.create", "", "patient/"+safeID(in.PatientID), "denied"); aerr != nil {
			return PostResult{}, aerr
		}
		if actsFor(p, in.PatientID, a.category, false, now) {
			// The patient is visible to this proxy (a read grant): say why,
			// as a reply to one of its threads does.
			return PostResult{}, carepost.Errorf(carepost.CodeForbidden, "your grant for this patient does not allow writing")
		}
		return PostResult{}, carepost.NotFound("patient")
	}
	if !fromPatient {
		// Staff name the patient by id: it must be a patient registered in
		// their practice, or the thread would go to nobody (or, with
		// another practice's id, to a stranger).
		if err := s.registeredPatient(ctx, p, in.PatientID, "thread.create"); err != nil {
			return PostResult{}, err
		}
	}
	consentVersion := 0
	if fromPatient {
		if consentVersion, err = s.consent(ctx, p, in.PatientID); err != nil {
			return PostResult{}, err
		}
	}
	subject := in.Subject
	if strings.TrimSpace(subject) == "" {
		subject = a.summary
	}
	tid, mid := s.NewID(), s.NewID()
	if r.IdempotencyKey != "" {
		tid = derivedID("thread", p.PracticeID, p.Subject, r.IdempotencyKey)
		mid = derivedID("message", p.PracticeID, p.Subject, r.IdempotencyKey)
	}
	kind := carepost.KindPatient
	status := carepost.StatusOpen
	owner := practice.Route(a.category, now)
	if !fromPatient {
		kind = carepost.KindStaff
		status = carepost.StatusWaitingPatient
		owner = carepost.UserOwner(p.Subject)
	}
	t := carepost.ThreadRecord{
		Thread: carepost.Thread{
			PracticeID: p.PracticeID, ID: tid, PatientID: in.PatientID, Category: a.category, Status: status,
			Owner: owner, Priority: a.priority, Urgent: a.urgent.Urgent, Confidential: in.Confidential && p.Role == carepost.RolePatient,
			OpenedBy: p.Subject, OpenedByRole: p.Role, Created: now, Updated: now, MessageCount: 1,
		},
		LastMessageID: mid,
		Triaged:       !fromPatient,
	}
	m := carepost.Message{
		PracticeID: p.PracticeID, ThreadID: tid, ID: mid, Kind: kind, SenderID: p.Subject, SenderRole: p.Role, SenderName: staffName(p),
		Sent: now, Body: in.Body, Form: in.Form, ConsentVersion: consentVersion, Urgent: a.urgent.Urgent, Flags: flagStrings(a.urgent),
	}
	if t.SubjectSealed, err = s.Sealer.Seal(ctx, subjectBinding(t), []byte(subject)); err != nil {
		return PostResult{}, err
	}
	rec, err := s.sealMessage(ctx, m)
	if err != nil {
		return PostResult{}, err
	}
	rec.RequestHash = r.RequestHash
	if err := s.Store.CreateThread(ctx, t, rec); err != nil {
		if carepost.ErrorCode(err) != carepost.CodeConflict || r.IdempotencyKey == "" {
			return PostResult{}, err
		}
		// A retry of a creation that (at least partly) happened: answer
		// from what is stored, completing the thread if it is missing.
		return s.replayOpen(ctx, r, t, subject, practice)
	}
	if err := s.audit(ctx, p, "thread.create", t.PatientID, "thread/"+tid+"/message/"+mid, "ok"); err != nil {
		return PostResult{}, err
	}
	if err := s.publishNew(ctx, t, m, fromPatient); err != nil {
		return PostResult{}, err
	}
	return PostResult{Thread: refOf(t), Message: MessageRef{ID: mid, Sent: now}, Urgent: adviceFor(practice, a.urgent)}, nil
}

func (s *Service) replayOpen(ctx context.Context, r Request, t carepost.ThreadRecord, subject string, practice carepost.Practice) (PostResult, error) {
	stored, err := s.Store.Message(ctx, t.PracticeID, t.ID, t.LastMessageID)
	if err != nil {
		return PostResult{}, err
	}
	if stored.RequestHash != r.RequestHash {
		return PostResult{}, carepost.Errorf(carepost.CodeIdempotencyMismatch, "this Idempotency-Key was used with a different request body")
	}
	existing, err := s.Store.Thread(ctx, t.PracticeID, t.ID)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		// Crash between the two writes: finish the creation with the
		// stored message's time so the thread matches it.
		t.Created, t.Updated = stored.Sent, stored.Sent
		if t.SubjectSealed, err = s.Sealer.Seal(ctx, subjectBinding(t), []byte(subject)); err != nil {
			return PostResult{}, err
		}
		if err := s.Store.CompleteCreate(ctx, t); err != nil {
			return PostResult{}, err
		}
		existing = t
		if err := s.publishNew(ctx, t, stored.Message, stored.Kind == carepost.KindPatient); err != nil {
			return PostResult{}, err
		}
	} else if err != nil {
		return PostResult{}, err
	}
	return PostResult{Thread: refOf(existing), Message: MessageRef{ID: stored.ID, Sent: stored.Sent}, Urgent: storedAdvice(practice, stored)}, nil
}

// storedAdvice is the urgent advice a stored message was answered with, for
// a retry of the request that stored it: the patient is told the same thing
// again, never less.
func storedAdvice(practice carepost.Practice, m carepost.MessageRecord) *UrgentAdvice {
	if !m.Urgent {
		return nil
	}
	res := urgent.ResultOf(m.Flags)
	if !res.Urgent { // urgent with no flag code: a rule raised it
		res = urgent.Result{Urgent: true, Advice: urgent.AdviceEmergency}
	}
	return adviceFor(practice, res)
}

func flagStrings(r urgent.Result) []string {
	var out []string
	for _, f := range r.Flags {
		out = append(out, string(f))
	}
	return out
}

func staffName(p carepost.Principal) string {
	if p.Role.IsStaff() {
		return p.Name
	}
	return ""
}

// publishNew hands a new message to the right worker: patient messages to
// triage, practice messages to the notifier. Events carry ids only.
func (s *Service) publishNew(ctx context.Context, t carepost.ThreadRecord, m carepost.Message, fromPatient bool) error {
	if s.Publisher == nil {
		return nil
	}
	e := carepost.Event{PracticeID: t.PracticeID, ThreadID: t.ID, MessageID: m.ID, At: m.Sent}
	queue := carepost.QueueNotify
	e.Type = "message.to_patient"
	if fromPatient {
		queue, e.Type = carepost.QueueTriage, "message.from_patient"
	}
	if err := s.Publisher.Publish(ctx, queue, e); err != nil {
		// The message is stored; a retry with the same Idempotency-Key
		// re-publishes, and the sweep picks up untriaged threads.
		return carepost.Unavailable(err, "the work queue")
	}
	return nil
}
