package quickreplies

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carepost/carepost/shared/businesshours"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

// Limits on templates.
const (
	MaxTitle     = 80
	MaxText      = 4000
	MaxPersonal  = 100 // personal templates per staff member
	MaxPractice  = 200 // practice-wide templates
	renderAction = "quickreply.render"
)

// Store is what the service needs of the database (package dynamo).
type Store interface {
	PutQuickReply(ctx context.Context, q carepost.QuickReply, create bool) error
	QuickReply(ctx context.Context, pid, scope, owner, id string) (carepost.QuickReply, error)
	DeleteQuickReply(ctx context.Context, pid, scope, owner, id string) error
	QuickReplies(ctx context.Context, pid, owner string) ([]carepost.QuickReply, error)
	Practice(ctx context.Context, pid string) (carepost.Practice, error)
	Patient(ctx context.Context, pid, patid string) (carepost.PatientRecord, error)
}

// Threads is the messaging core: the one visibility rule and the audit log.
type Threads interface {
	VisibleThread(ctx context.Context, p carepost.Principal, threadID, action string) (carepost.ThreadRecord, error)
	RecordAudit(ctx context.Context, p carepost.Principal, action, patientID, object, outcome string) error
}

// Service implements templates and rendering.
type Service struct {
	Store   Store
	Threads Threads
	Sealer  carepost.Sealer
	Now     func() time.Time
	NewID   func() string
}

// New returns a service with the real clock and random ids.
func New(store Store, threads Threads, sealer carepost.Sealer) *Service {
	return &Service{Store: store, Threads: threads, Sealer: sealer, Now: time.Now, NewID: messaging.RandomID}
}

// Input creates or changes a template.
type Input struct {
	Scope string `json:"scope,omitempty"` // "practice" (admins) or "personal" (default)
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Rendered is a template filled for one thread: the text the staff member
// sends (or edits first), and the placeholders that had no value.
type Rendered struct {
	TemplateID string   `json:"templateId"`
	Text       string   `json:"text"`
	Missing    []string `json:"missing"`
}

func requireStaff(p carepost.Principal) error {
	if !p.Role.IsStaff() || p.PracticeID == "" {
		return carepost.Errorf(carepost.CodeForbidden, "quick replies are for practice staff")
	}
	return nil
}

// mayWrite checks who may change templates of a scope: admins the practice's,
// each staff member their own.
func mayWrite(p carepost.Principal, scope string) error {
	if err := requireStaff(p); err != nil {
		return err
	}
	if scope == carepost.ScopePractice && p.Role != carepost.RoleAdmin {
		return carepost.Errorf(carepost.CodeForbidden, "only practice admins change practice-wide quick replies")
	}
	return nil
}

func validate(in Input) error {
	if strings.TrimSpace(in.Title) == "" {
		return carepost.FieldError(carepost.CodeValidation, "title", "title is required")
	}
	if strings.TrimSpace(in.Text) == "" {
		return carepost.FieldError(carepost.CodeValidation, "text", "text is required")
	}
	for field, v := range map[string]string{"title": in.Title, "text": in.Text} {
		if !utf8.ValidString(v) {
			return carepost.FieldError(carepost.CodeInvalid, field, "%s is not valid UTF-8", field)
		}
	}
	if utf8.RuneCountInString(in.Title) > MaxTitle {
		return carepost.FieldError(carepost.CodeValidation, "title", "title is longer than %d characters", MaxTitle)
	}
	if utf8.RuneCountInString(in.Text) > MaxText {
		return carepost.FieldError(carepost.CodeValidation, "text", "text is longer than %d characters", MaxText)
	}
	_, err := parse(in.Text)
	return err
}

func scopeOf(s string) (string, error) {
	switch s {
	case "", carepost.ScopePersonal:
		return carepost.ScopePersonal, nil
	case carepost.ScopePractice:
		return carepost.ScopePractice, nil
	}
	return "", carepost.FieldError(carepost.CodeValidation, "scope", `scope must be "practice" or "personal"`)
}

func ownerOf(p carepost.Principal, scope string) string {
	if scope == carepost.ScopePersonal {
		return p.Subject
	}
	return ""
}

// Create saves a new template.
func (s *Service) Create(ctx context.Context, r messaging.Request, in Input) (carepost.QuickReply, error) {
	p := r.Principal
	scope, err := scopeOf(in.Scope)
	if err != nil {
		return carepost.QuickReply{}, err
	}
	if err := mayWrite(p, scope); err != nil {
		return carepost.QuickReply{}, err
	}
	if err := validate(in); err != nil {
		return carepost.QuickReply{}, err
	}
	existing, err := s.Store.QuickReplies(ctx, p.PracticeID, ownerOf(p, scope))
	if err != nil {
		return carepost.QuickReply{}, err
	}
	count := 0
	for _, q := range existing {
		if q.Scope == scope {
			count++
		}
	}
	if limit := map[string]int{carepost.ScopePersonal: MaxPersonal, carepost.ScopePractice: MaxPractice}[scope]; count >= limit {
		return carepost.QuickReply{}, carepost.Errorf(carepost.CodeValidation, "at most %d %s quick replies", limit, scope)
	}
	now := s.Now().UTC()
	id := s.NewID()
	if r.IdempotencyKey != "" {
		id = derivedID(p, r.IdempotencyKey)
	}
	q := carepost.QuickReply{PracticeID: p.PracticeID, ID: id, Scope: scope, Owner: ownerOf(p, scope), Title: strings.TrimSpace(in.Title),
		Text: in.Text, UpdatedBy: p.Subject, Created: now, Updated: now}
	if err := s.Store.PutQuickReply(ctx, q, true); err != nil {
		return carepost.QuickReply{}, err
	}
	return q, s.Threads.RecordAudit(ctx, p, "quickreply.create", "", "quickreply/"+scope+"/"+id, "ok")
}

// Update replaces a template's title and text.
func (s *Service) Update(ctx context.Context, p carepost.Principal, scope, id string, in Input) (carepost.QuickReply, error) {
	if in.Scope != "" && in.Scope != scope {
		return carepost.QuickReply{}, carepost.FieldError(carepost.CodeValidation, "scope", "a quick reply cannot change scope")
	}
	if _, err := scopeOf(scope); err != nil || scope == "" {
		return carepost.QuickReply{}, carepost.NotFound("quick reply")
	}
	if err := mayWrite(p, scope); err != nil {
		return carepost.QuickReply{}, err
	}
	if err := validate(in); err != nil {
		return carepost.QuickReply{}, err
	}
	q, err := s.Store.QuickReply(ctx, p.PracticeID, scope, ownerOf(p, scope), id)
	if err != nil {
		return carepost.QuickReply{}, err
	}
	q.Title, q.Text, q.UpdatedBy, q.Updated = strings.TrimSpace(in.Title), in.Text, p.Subject, s.Now().UTC()
	if err := s.Store.PutQuickReply(ctx, q, false); err != nil {
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			return carepost.QuickReply{}, carepost.NotFound("quick reply")
		}
		return carepost.QuickReply{}, err
	}
	return q, s.Threads.RecordAudit(ctx, p, "quickreply.update", "", "quickreply/"+scope+"/"+q.ID, "ok")
}

// Delete removes a template.
func (s *Service) Delete(ctx context.Context, p carepost.Principal, scope, id string) error {
	if _, err := scopeOf(scope); err != nil || scope == "" {
		return carepost.NotFound("quick reply")
	}
	if err := mayWrite(p, scope); err != nil {
		return err
	}
	if err := s.Store.DeleteQuickReply(ctx, p.PracticeID, scope, ownerOf(p, scope), id); err != nil {
		return err
	}
	return s.Threads.RecordAudit(ctx, p, "quickreply.delete", "", "quickreply/"+scope+"/"+safeID(id), "ok")
}

// List returns the practice's templates and the caller's personal ones.
func (s *Service) List(ctx context.Context, p carepost.Principal) ([]carepost.QuickReply, error) {
	if err := requireStaff(p); err != nil {
		return nil, err
	}
	qs, err := s.Store.QuickReplies(ctx, p.PracticeID, p.Subject)
	if qs == nil {
		qs = []carepost.QuickReply{}
	}
	return qs, err
}

// Render fills template id (the caller's personal one of that id, else the
// practice's) for thread threadID. The thread must be visible to the caller
// (else not found, exactly like a missing thread); the patient placeholders
// come from that thread's patient and no one else. The result is not stored.
func (s *Service) Render(ctx context.Context, p carepost.Principal, threadID, id string) (Rendered, error) {
	if err := requireStaff(p); err != nil {
		return Rendered{}, err
	}
	t, err := s.Threads.VisibleThread(ctx, p, threadID, renderAction)
	if err != nil {
		return Rendered{}, err
	}
	q, err := s.Store.QuickReply(ctx, p.PracticeID, carepost.ScopePersonal, p.Subject, id)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		q, err = s.Store.QuickReply(ctx, p.PracticeID, carepost.ScopePractice, "", id)
	}
	if err != nil {
		return Rendered{}, err
	}
	segs, err := parse(q.Text)
	if err != nil {
		return Rendered{}, err // saved before a placeholder was withdrawn
	}
	practice, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return Rendered{}, err
	}
	values, err := s.values(ctx, p, practice, t)
	if err != nil {
		return Rendered{}, err
	}
	text, missing := render(segs, values)
	if missing == nil {
		missing = []string{}
	}
	if err := s.Threads.RecordAudit(ctx, p, renderAction, t.PatientID, "thread/"+t.ID+"/quickreply/"+q.ID, "ok"); err != nil {
		return Rendered{}, err
	}
	return Rendered{TemplateID: q.ID, Text: text, Missing: missing}, nil
}

// values gathers what the placeholders stand for. The patient is the
// thread's patient, read by the thread's own patient id.
func (s *Service) values(ctx context.Context, p carepost.Principal, practice carepost.Practice, t carepost.ThreadRecord) (map[string]string, error) {
	v := map[string]string{"practiceName": practice.Name, "practicePhone": practice.OnCallPhone}
	name := p.Name
	sig := ""
	if ref, ok := practice.Staff[p.Subject]; ok {
		if ref.Name != "" {
			name = ref.Name
		}
		sig = ref.Signature
	}
	if sig == "" {
		sig = name
	}
	v["clinicianName"], v["clinicianSignature"] = name, sig
	cal := businesshours.ForPractice(practice)
	now := s.Now().In(cal.Location())
	v["today"] = now.Format("Monday, January 2, 2006")
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, cal.Location())
	if next := cal.Add(tomorrow, time.Minute); next.Sub(tomorrow) < 60*24*time.Hour {
		v["nextAvailableDate"] = next.In(cal.Location()).Format("Monday, January 2, 2006")
	}
	rec, err := s.Store.Patient(ctx, t.PracticeID, t.PatientID)
	switch {
	case carepost.ErrorCode(err) == carepost.CodeNotFound:
		// No profile on file: the patient placeholders stay empty.
	case err != nil:
		return nil, err
	default:
		if rec.PracticeID != t.PracticeID || rec.ID != t.PatientID {
			return nil, carepost.Errorf(carepost.CodeInternal, "patient record does not match the thread")
		}
		pat, err := messaging.OpenPatient(ctx, s.Sealer, rec)
		if err != nil {
			return nil, err
		}
		v["patientFirstName"], v["patientLastName"] = pat.Contact.FirstName, pat.Contact.LastName
	}
	return v, nil
}
