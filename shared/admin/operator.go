package admin

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
)

// DefaultAgreement is a new practice's first messaging agreement; the
// practice's admin replaces it.
const DefaultAgreement = `Secure messaging agreement
- Messages are for non-urgent questions. We aim to answer within one business day.
- Never use messaging for emergencies: call 911, or 988 for the Suicide & Crisis Lifeline.
- Your messages are read by our care team and become part of your medical record.
- Messages are encrypted; e-mail notifications never contain health information.`

// DefaultPractice is the starting configuration of a new practice: weekday
// hours 08:00-17:00, a front desk and a nurse pool, clinical categories to
// the nurses and administrative ones to the front desk.
func DefaultPractice(id, name, tz string) carepost.Practice {
	var hours []carepost.OpeningHours
	for d := time.Monday; d <= time.Friday; d++ {
		hours = append(hours, carepost.OpeningHours{Day: d, Open: "08:00", Close: "17:00"})
	}
	nurses, desk := carepost.PoolOwner("nurses"), carepost.PoolOwner("frontdesk")
	return carepost.Practice{
		ID: id, Name: name, TimeZone: tz, Hours: hours, Holidays: []string{},
		Turnaround: map[carepost.Category]int{carepost.CategoryQuestion: 8, carepost.CategoryPrescription: 16, carepost.CategoryAppointment: 8, carepost.CategoryBilling: 24,
			carepost.CategoryForms: 24, carepost.CategoryReferral: 16, carepost.CategoryTestResult: 8, carepost.CategoryMeasurement: 8},
		Pools: []carepost.Pool{{Name: "frontdesk", Members: []string{}}, {Name: "nurses", Members: []string{}}},
		Routing: map[carepost.Category]carepost.Owner{
			carepost.CategoryQuestion: nurses, carepost.CategoryPrescription: nurses, carepost.CategoryMeasurement: nurses, carepost.CategoryTestResult: nurses,
			carepost.CategoryAppointment: desk, carepost.CategoryForms: desk, carepost.CategoryReferral: desk, carepost.CategoryBilling: desk,
		},
		OnCallPool: "nurses", CrisisLine: "988", EscalationChain: []carepost.Owner{},
		PageAckMinutes: 15, NotificationWindowMinutes: 30, RetentionDays: 3650, ProxyAdultAge: 18,
		UrgentTerms: []string{}, Staff: map[string]carepost.StaffRef{},
	}
}

// NewPracticeInput is the operator's request for a practice.
type NewPracticeInput struct {
	ID       string `json:"id,omitempty"` // lower-case slug; generated when empty
	Name     string `json:"name"`
	TimeZone string `json:"timeZone"`
	Admin    struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"admin"`
}

// PracticeRef is what the operator's POSTs answer.
type PracticeRef struct {
	ID           string `json:"id"`
	AdminSubject string `json:"adminSubject,omitempty"`
	Suspended    bool   `json:"suspended"`
}

// PracticeSummary is a practice in the operator's listing: no patient data.
type PracticeSummary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	TimeZone  string    `json:"timeZone"`
	Suspended bool      `json:"suspended"`
	Staff     int       `json:"staff"`
	Patients  int       `json:"patients"`
	Updated   time.Time `json:"updated"`
}

var practiceID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,39}$`)

// CreatePractice creates a practice with default settings, a default
// agreement and its first admin (operators).
func (s *Service) CreatePractice(ctx context.Context, p carepost.Principal, in NewPracticeInput) (PracticeRef, error) {
	if err := s.require(ctx, p, "practice.create", carepost.RoleOperator); err != nil {
		return PracticeRef{}, err
	}
	if in.ID == "" {
		in.ID = "prac-" + s.NewID()[:12]
	}
	if !practiceID.MatchString(in.ID) || in.ID == "operator" {
		return PracticeRef{}, carepost.FieldError(carepost.CodeValidation, "id", "a practice id is 3 to 40 lower-case letters, digits or dashes")
	}
	pr := DefaultPractice(in.ID, strings.TrimSpace(in.Name), in.TimeZone)
	pr.Updated = s.now()
	if err := Validate(pr); err != nil {
		return PracticeRef{}, err
	}
	if err := validName("admin.name", in.Admin.Name); err != nil {
		return PracticeRef{}, err
	}
	if !emailLike.MatchString(strings.TrimSpace(in.Admin.Email)) {
		return PracticeRef{}, carepost.FieldError(carepost.CodeValidation, "admin.email", "admin.email must be a valid e-mail address")
	}
	if err := s.Store.CreatePractice(ctx, pr); err != nil {
		return PracticeRef{}, err
	}
	if _, err := s.Store.PutAgreement(ctx, pr.ID, DefaultAgreement, s.now()); err != nil {
		return PracticeRef{}, err
	}
	if _, err := s.dedupKeyFor(ctx, pr.ID); err != nil {
		return PracticeRef{}, err
	}
	name := strings.TrimSpace(in.Admin.Name)
	rec, err := s.createAccount(ctx, auth.User{Email: strings.TrimSpace(in.Admin.Email), Name: name, Role: carepost.RoleAdmin, PracticeID: pr.ID}, "staff")
	if err != nil {
		return PracticeRef{}, err
	}
	if _, err := s.modifyPractice(ctx, pr.ID, func(x *carepost.Practice) error {
		if x.Staff == nil {
			x.Staff = map[string]carepost.StaffRef{}
		}
		x.Staff[rec.Subject] = carepost.StaffRef{Name: name, Role: carepost.RoleAdmin, Email: strings.TrimSpace(in.Admin.Email)}
		return nil
	}); err != nil {
		return PracticeRef{}, err
	}
	if err := s.audit(ctx, p, pr.ID, "practice.create", "", "practice/"+pr.ID, "ok"); err != nil {
		return PracticeRef{}, err
	}
	return PracticeRef{ID: pr.ID, AdminSubject: rec.Subject}, nil
}

// ListPractices lists every practice (operators).
func (s *Service) ListPractices(ctx context.Context, p carepost.Principal) ([]PracticeSummary, error) {
	if err := s.require(ctx, p, "practice.list", carepost.RoleOperator); err != nil {
		return nil, err
	}
	ids, err := s.Store.Practices(ctx)
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	out := []PracticeSummary{}
	for _, id := range ids {
		pr, err := s.Store.Practice(ctx, id)
		if carepost.ErrorCode(err) == carepost.CodeNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		n, err := s.Store.CountPatients(ctx, id)
		if err != nil {
			return nil, err
		}
		staff := 0
		for _, ref := range pr.Staff {
			if !ref.Disabled {
				staff++
			}
		}
		out = append(out, PracticeSummary{ID: id, Name: pr.Name, TimeZone: pr.TimeZone, Suspended: pr.Suspended, Staff: staff, Patients: n, Updated: pr.Updated})
	}
	if err := s.audit(ctx, p, "", "practice.list", "", "practices", "ok"); err != nil {
		return nil, err
	}
	return out, nil
}

// SuspendPractice suspends (or resumes) a practice (operators): while
// suspended, messaging refuses new messages and activation is refused.
func (s *Service) SuspendPractice(ctx context.Context, p carepost.Principal, id string, suspended bool) (PracticeRef, error) {
	if err := s.require(ctx, p, "practice.suspend", carepost.RoleOperator); err != nil {
		return PracticeRef{}, err
	}
	if !practiceID.MatchString(id) {
		return PracticeRef{}, carepost.NotFound("practice")
	}
	if _, err := s.modifyPractice(ctx, id, func(pr *carepost.Practice) error {
		pr.Suspended = suspended
		return nil
	}); err != nil {
		return PracticeRef{}, err
	}
	action := "practice.suspend"
	if !suspended {
		action = "practice.resume"
	}
	if err := s.audit(ctx, p, id, action, "", "practice/"+id, "ok"); err != nil {
		return PracticeRef{}, err
	}
	return PracticeRef{ID: id, Suspended: suspended}, nil
}
