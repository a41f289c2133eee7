package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

// Patient statuses.
const (
	StatusRegistered = "registered" // enrolled, no invitation sent
	StatusInvited    = "invited"    // an activation code is out
	StatusActivating = "activating" // account created, activation not finished
	StatusActive     = "active"
	StatusDisabled   = "disabled"
)

// Roles that enroll patients, and roles that may look them up.
var (
	enrollRoles = []carepost.Role{carepost.RoleAdmin, carepost.RoleFrontDesk}
	readRoles   = []carepost.Role{carepost.RoleAdmin, carepost.RoleFrontDesk, carepost.RoleNurse, carepost.RoleClinician}
)

var emailLike = regexp.MustCompile(`^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$`)

// ValidateContact checks a patient's contact details. Messages name the
// field, never echo the value. prefix is prepended to field names.
func ValidateContact(c carepost.Contact, now time.Time) error {
	if err := validName("firstName", c.FirstName); err != nil {
		return err
	}
	if err := validName("lastName", c.LastName); err != nil {
		return err
	}
	bd, err := time.Parse(time.DateOnly, c.BirthDate)
	if err != nil || bd.Format(time.DateOnly) != c.BirthDate {
		return carepost.FieldError(carepost.CodeValidation, "birthDate", "birthDate must be a date YYYY-MM-DD")
	}
	if bd.After(now) || bd.Year() < now.Year()-130 {
		return carepost.FieldError(carepost.CodeValidation, "birthDate", "birthDate is not a plausible date of birth")
	}
	if len(c.Email) > 254 || !emailLike.MatchString(c.Email) {
		return carepost.FieldError(carepost.CodeValidation, "email", "email must be a valid e-mail address")
	}
	if c.Phone != "" && !phoneLike.MatchString(c.Phone) {
		return carepost.FieldError(carepost.CodeValidation, "phone", "phone has 2 to 30 digits, spaces, dots, dashes or parentheses, optionally a leading +")
	}
	return nil
}

func cleanContact(c carepost.Contact) carepost.Contact {
	return carepost.Contact{
		FirstName: strings.Join(strings.Fields(c.FirstName), " "),
		LastName:  strings.Join(strings.Fields(c.LastName), " "),
		BirthDate: strings.TrimSpace(c.BirthDate),
		Email:     strings.TrimSpace(c.Email),
		Phone:     strings.TrimSpace(c.Phone),
	}
}

// ---- duplicate detection ----------------------------------------------------

const dedupSecret = "dedup"

func secretBinding(practiceID, name string) carepost.Binding {
	return carepost.Binding{PracticeID: practiceID, Kind: "practice.secret", MessageID: name, Schema: schema}
}

// dedupKeyFor returns the practice's duplicate-detection key, making it on
// first use: 32 random bytes, stored sealed.
func (s *Service) dedupKeyFor(ctx context.Context, practiceID string) ([]byte, error) {
	s.mu.Lock()
	k, ok := s.secrets[practiceID]
	s.mu.Unlock()
	if ok {
		return k, nil
	}
	for range 3 {
		sealed, found, err := s.Store.PracticeSecret(ctx, practiceID, dedupSecret)
		if err != nil {
			return nil, err
		}
		if found {
			k, err = s.Sealer.Open(ctx, secretBinding(practiceID, dedupSecret), sealed)
			if err != nil {
				return nil, err
			}
			break
		}
		fresh := make([]byte, 32)
		_, _ = rand.Read(fresh)
		sealed, err = s.Sealer.Seal(ctx, secretBinding(practiceID, dedupSecret), fresh)
		if err != nil {
			return nil, err
		}
		err = s.Store.PutPracticeSecret(ctx, practiceID, dedupSecret, sealed)
		if err == nil {
			k = fresh
			break
		}
		if carepost.ErrorCode(err) != carepost.CodeConflict {
			return nil, err
		}
	}
	if k == nil {
		return nil, carepost.Errorf(carepost.CodeUnavailable, "the duplicate-detection key could not be made; retry")
	}
	s.mu.Lock()
	if s.secrets == nil {
		s.secrets = map[string][]byte{}
	}
	s.secrets[practiceID] = k
	s.mu.Unlock()
	return k, nil
}

// DedupKey is HMAC-SHA256 under the practice's secret key of the normalized
// first name, last name, birth date and e-mail. Without the key it cannot be
// recomputed from guessed identities, unlike a plain hash; and it differs
// between practices.
func DedupKey(key []byte, c carepost.Contact) string {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	m := hmac.New(sha256.New, key)
	for _, f := range []string{norm(c.FirstName), norm(c.LastName), strings.TrimSpace(c.BirthDate), norm(c.Email)} {
		m.Write([]byte(f))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// ---- register ---------------------------------------------------------------

// PatientInput registers a patient.
type PatientInput struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	BirthDate string `json:"birthDate"`
	Email     string `json:"email"`
	Phone     string `json:"phone,omitempty"`
	// Invite sends the activation e-mail at once.
	Invite bool `json:"invite,omitempty"`
	// EmailNotifications defaults to true.
	EmailNotifications *bool `json:"emailNotifications,omitempty"`
}

// PatientRef is what a POST about a patient answers: ids and states only
// (responses to POSTs are kept for idempotent retries).
type PatientRef struct {
	ID      string     `json:"id"`
	Status  string     `json:"status"`
	Expires *time.Time `json:"activationExpires,omitempty"`
}

// PatientView is a patient with contact details, for staff.
type PatientView struct {
	ID                 string           `json:"id"`
	Status             string           `json:"status"`
	Created            time.Time        `json:"created"`
	Contact            carepost.Contact `json:"contact"`
	Activated          bool             `json:"activated"`
	EmailNotifications bool             `json:"emailNotifications"`
	CampaignOptOut     bool             `json:"campaignOptOut"`
	EmailProblem       string           `json:"emailProblem,omitempty"`
}

func duplicateError(existing string) error {
	return &carepost.Error{Code: carepost.CodeConflict, Field: "patient",
		Message: "a patient with the same name, birth date and e-mail is already registered",
		Details: map[string]any{"patientId": existing}}
}

// register stores one patient (after validation) and returns it with the
// stored record; a duplicate is a CodeConflict naming the existing patient.
func (s *Service) register(ctx context.Context, practiceID string, c carepost.Contact, notify bool) (carepost.PatientRecord, error) {
	key, err := s.dedupKeyFor(ctx, practiceID)
	if err != nil {
		return carepost.PatientRecord{}, err
	}
	dk := DedupKey(key, c)
	if existing, found, err := s.Store.PatientByDedupKey(ctx, practiceID, dk); err != nil {
		return carepost.PatientRecord{}, err
	} else if found {
		return carepost.PatientRecord{}, duplicateError(existing.ID)
	}
	pat := carepost.Patient{PracticeID: practiceID, ID: "pat-" + s.NewID(), Contact: c, Status: StatusRegistered, Created: s.now(), EmailNotifications: notify}
	rec, err := messaging.SealPatient(ctx, s.Sealer, pat, dk)
	if err != nil {
		return rec, err
	}
	if err := s.Store.PutPatient(ctx, rec); err != nil {
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			if existing, found, ferr := s.Store.PatientByDedupKey(ctx, practiceID, dk); ferr == nil && found {
				return rec, duplicateError(existing.ID)
			}
		}
		return rec, err
	}
	return rec, nil
}

// RegisterPatient enrolls one patient (admins, front desk), and with Invite
// sends the activation e-mail.
func (s *Service) RegisterPatient(ctx context.Context, p carepost.Principal, in PatientInput) (PatientRef, error) {
	if err := s.require(ctx, p, "patient.create", enrollRoles...); err != nil {
		return PatientRef{}, err
	}
	c := cleanContact(carepost.Contact{FirstName: in.FirstName, LastName: in.LastName, BirthDate: in.BirthDate, Email: in.Email, Phone: in.Phone})
	if err := ValidateContact(c, s.now()); err != nil {
		return PatientRef{}, err
	}
	notify := in.EmailNotifications == nil || *in.EmailNotifications
	rec, err := s.register(ctx, p.PracticeID, c, notify)
	if err != nil {
		return PatientRef{}, err
	}
	if err := s.audit(ctx, p, "", "patient.create", rec.ID, "patient/"+rec.ID, "ok"); err != nil {
		return PatientRef{}, err
	}
	ref := PatientRef{ID: rec.ID, Status: rec.Status}
	if in.Invite {
		return s.invite(ctx, p, rec, c.Email)
	}
	return ref, nil
}

// visiblePatient loads a patient of p's practice or answers not found
// (audited), exactly like a missing one.
func (s *Service) visiblePatient(ctx context.Context, p carepost.Principal, action, patientID string) (carepost.PatientRecord, error) {
	rec, err := s.Store.Patient(ctx, p.PracticeID, patientID)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		if aerr := s.audit(ctx, p, "", action, "", "patient/"+safeID(patientID), "not_found"); aerr != nil {
			return rec, aerr
		}
	}
	return rec, err
}

func viewOf(pat carepost.Patient) PatientView {
	return PatientView{ID: pat.ID, Status: pat.Status, Created: pat.Created, Contact: pat.Contact, Activated: pat.Subject != "" && pat.Status == StatusActive,
		EmailNotifications: pat.EmailNotifications, CampaignOptOut: pat.CampaignOptOut, EmailProblem: pat.EmailProblem}
}

// GetPatient returns one patient with contact details (staff).
func (s *Service) GetPatient(ctx context.Context, p carepost.Principal, patientID string) (PatientView, error) {
	if err := s.require(ctx, p, "patient.read", readRoles...); err != nil {
		return PatientView{}, err
	}
	rec, err := s.visiblePatient(ctx, p, "patient.read", patientID)
	if err != nil {
		return PatientView{}, err
	}
	pat, err := messaging.OpenPatient(ctx, s.Sealer, rec)
	if err != nil {
		return PatientView{}, err
	}
	if err := s.audit(ctx, p, "", "patient.read", rec.ID, "patient/"+rec.ID, "ok"); err != nil {
		return PatientView{}, err
	}
	return viewOf(pat), nil
}

// PatientPage is one page of patients.
type PatientPage struct {
	Items  []PatientView `json:"items"`
	Cursor string        `json:"cursor,omitempty"`
}

// ListPatients lists the practice's patients with contact details (staff);
// every patient shown is audited as read.
func (s *Service) ListPatients(ctx context.Context, p carepost.Principal, cursor string, limit int) (PatientPage, error) {
	if err := s.require(ctx, p, "patient.list", readRoles...); err != nil {
		return PatientPage{}, err
	}
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	after, err := s.openCursor(ctx, p, "patients", cursor)
	if err != nil {
		return PatientPage{}, err
	}
	page, err := s.Store.ListPatients(ctx, p.PracticeID, after, limit)
	if err != nil {
		return PatientPage{}, err
	}
	out := PatientPage{Items: []PatientView{}}
	for _, rec := range page.Items {
		pat, err := messaging.OpenPatient(ctx, s.Sealer, rec)
		if err != nil {
			return PatientPage{}, err
		}
		if err := s.audit(ctx, p, "", "patient.list", rec.ID, "patient/"+rec.ID, "ok"); err != nil {
			return PatientPage{}, err
		}
		out.Items = append(out.Items, viewOf(pat))
	}
	if out.Cursor, err = s.sealCursor(ctx, p, "patients", page.Next); err != nil {
		return PatientPage{}, err
	}
	return out, nil
}

// Cursors are sealed and bound to the caller exactly as in package messaging.
func (s *Service) sealCursor(ctx context.Context, p carepost.Principal, scope string, next map[string]string) (string, error) {
	return messaging.SealCursor(ctx, s.Sealer, p, scope, next)
}

func (s *Service) openCursor(ctx context.Context, p carepost.Principal, scope, cursor string) (map[string]string, error) {
	return messaging.OpenCursor(ctx, s.Sealer, p, scope, cursor)
}

// ---- activation -------------------------------------------------------------

// codeAlphabet has no 0/O, 1/I/L: codes are typed from an e-mail.
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// newCode returns 16 characters (about 79 bits) as XXXX-XXXX-XXXX-XXXX.
func newCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	var out []byte
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return string(out)
}

// normalizeCode makes typing forgiving: case, spaces and dashes do not
// matter.
func normalizeCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if r == '-' || r == ' ' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// codeHash is what is stored of a code. A code has about 79 random bits, so
// a plain SHA-256 cannot be reversed by guessing; the practice id is mixed
// in so one code cannot be tried against another practice.
func codeHash(practiceID, code string) string {
	h := sha256.Sum256([]byte("carepost/activation\x00" + practiceID + "\x00" + normalizeCode(code)))
	return hex.EncodeToString(h[:])
}

// invite makes a new activation code for the patient (retiring any earlier
// one) and e-mails it.
func (s *Service) invite(ctx context.Context, p carepost.Principal, rec carepost.PatientRecord, email string) (PatientRef, error) {
	code := newCode()
	now := s.now()
	a := carepost.Activation{PracticeID: rec.PracticeID, PatientID: rec.ID, CodeHash: codeHash(rec.PracticeID, code), Expires: now.Add(ActivationTTL), Created: now}
	if err := s.Store.PutActivation(ctx, a); err != nil {
		return PatientRef{}, err
	}
	if rec.Status == StatusRegistered {
		rec.Status = StatusInvited
		if err := s.Store.UpdatePatient(ctx, rec); err != nil {
			return PatientRef{}, err
		}
	}
	if err := s.send(ctx, activationMail(email, s.PublicURL, rec.PracticeID, code, a.Expires)); err != nil {
		return PatientRef{}, err
	}
	if err := s.audit(ctx, p, "", "patient.invite", rec.ID, "patient/"+rec.ID+"/activation", "ok"); err != nil {
		return PatientRef{}, err
	}
	return PatientRef{ID: rec.ID, Status: rec.Status, Expires: &a.Expires}, nil
}

// InvitePatient sends (or sends again) the activation e-mail (admins, front
// desk). The code is never returned by the API: only the patient's mailbox
// sees it.
func (s *Service) InvitePatient(ctx context.Context, p carepost.Principal, patientID string) (PatientRef, error) {
	if err := s.require(ctx, p, "patient.invite", enrollRoles...); err != nil {
		return PatientRef{}, err
	}
	rec, err := s.visiblePatient(ctx, p, "patient.invite", patientID)
	if err != nil {
		return PatientRef{}, err
	}
	if rec.Status == StatusActive || rec.Status == StatusDisabled {
		return PatientRef{}, carepost.Errorf(carepost.CodeConflict, "the patient's account is %s; no invitation is needed", rec.Status)
	}
	pat, err := messaging.OpenPatient(ctx, s.Sealer, rec)
	if err != nil {
		return PatientRef{}, err
	}
	return s.invite(ctx, p, rec, pat.Contact.Email)
}

// ActivateInput is the public activation request.
type ActivateInput struct {
	PracticeID string `json:"practiceId"`
	Code       string `json:"code"`
	BirthDate  string `json:"birthDate"`
	Password   string `json:"password"`
}

// Activated answers a successful activation.
type Activated struct {
	PatientID string `json:"patientId"`
	Status    string `json:"status"`
}

func badActivation() error {
	return carepost.FieldError(carepost.CodeValidation, "code", "the activation code or the date of birth does not match, or the code was used or has expired")
}

// Activate is the patient's first sign-up: the code from the e-mail and the
// date of birth prove who they are; they choose a password and get an
// account with the patient role. Each code allows MaxActivationAttempts
// tries and works once. sourceIP is for the audit log.
func (s *Service) Activate(ctx context.Context, in ActivateInput, sourceIP string) (Activated, error) {
	if safeID(in.PracticeID) != in.PracticeID {
		return Activated{}, badActivation()
	}
	if len(in.Password) < auth.MinPasswordLen || len(in.Password) > 256 {
		return Activated{}, carepost.FieldError(carepost.CodeValidation, "password", "a password needs %d to 256 characters", auth.MinPasswordLen)
	}
	code := normalizeCode(in.Code)
	if len(code) != 16 || strings.Trim(code, codeAlphabet) != "" {
		return Activated{}, badActivation()
	}
	practice, err := s.Store.Practice(ctx, in.PracticeID)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return Activated{}, badActivation()
	} else if err != nil {
		return Activated{}, err
	}
	anon := carepost.Principal{Subject: "anonymous", PracticeID: practice.ID, SourceIP: sourceIP}
	hash := codeHash(practice.ID, code)
	act, err := s.Store.ClaimActivationAttempt(ctx, practice.ID, hash, s.now(), MaxActivationAttempts)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		if aerr := s.audit(ctx, anon, "", "patient.activate", "", "activation", "denied"); aerr != nil {
			return Activated{}, aerr
		}
		return Activated{}, badActivation()
	} else if err != nil {
		return Activated{}, err
	}
	rec, err := s.Store.Patient(ctx, practice.ID, act.PatientID)
	if err != nil {
		return Activated{}, err
	}
	pat, err := messaging.OpenPatient(ctx, s.Sealer, rec)
	if err != nil {
		return Activated{}, err
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(in.BirthDate)), []byte(pat.Contact.BirthDate)) != 1 {
		if aerr := s.audit(ctx, anon, "", "patient.activate", rec.ID, "patient/"+rec.ID+"/activation", "denied"); aerr != nil {
			return Activated{}, aerr
		}
		return Activated{}, badActivation()
	}
	if practice.Suspended {
		return Activated{}, carepost.Errorf(carepost.CodeForbidden, "this practice is suspended")
	}
	if rec.Status == StatusActive || rec.Status == StatusDisabled {
		return Activated{}, badActivation()
	}
	dir, err := s.directory()
	if err != nil {
		return Activated{}, err
	}
	setter, ok := dir.(auth.PasswordSetter)
	if !ok {
		return Activated{}, carepost.Errorf(carepost.CodeUnavailable, "the account directory cannot set passwords")
	}
	// One activation per code at a time: a second request with the same
	// code (a double click, two devices) waits for this one's outcome
	// instead of creating a second account or overwriting the password.
	until := s.now().Add(activationLease)
	if err := s.Store.LeaseActivation(ctx, practice.ID, hash, s.now(), until); err != nil {
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			return Activated{}, &carepost.Error{Code: carepost.CodeConflict, Transient: true, Message: "this code is being used right now; wait a minute and try again if you cannot sign in"}
		}
		return Activated{}, err
	}
	used := false
	defer func() {
		if !used {
			_ = s.Store.ReleaseActivation(context.WithoutCancel(ctx), practice.ID, hash, until)
		}
	}()
	// The patient is re-read under the lease: an activation that finished
	// meanwhile has created the account.
	if rec, err = s.Store.Patient(ctx, practice.ID, act.PatientID); err != nil {
		return Activated{}, err
	}
	if rec.Status == StatusActive || rec.Status == StatusDisabled {
		return Activated{}, badActivation()
	}
	if rec.Subject == "" {
		u, err := dir.CreateUser(ctx, auth.User{Email: pat.Contact.Email, Name: pat.Contact.FirstName + " " + pat.Contact.LastName,
			Role: carepost.RolePatient, PracticeID: practice.ID, PatientID: rec.ID}, temporaryPassword())
		if err != nil {
			return Activated{}, err
		}
		rec.Subject, rec.Status = u.Subject, StatusActivating
		if err := s.Store.UpdatePatient(ctx, rec); err != nil {
			return Activated{}, err
		}
	}
	if err := setter.SetPassword(ctx, practice.ID, rec.Subject, in.Password); err != nil {
		return Activated{}, err
	}
	if err := s.Store.UseActivation(ctx, practice.ID, hash); err != nil {
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			return Activated{}, badActivation()
		}
		return Activated{}, err
	}
	used = true
	now := s.now()
	if _, err := s.Store.User(ctx, practice.ID, rec.Subject); carepost.ErrorCode(err) == carepost.CodeNotFound {
		ur := carepost.UserRecord{PracticeID: practice.ID, Subject: rec.Subject, Role: carepost.RolePatient, PatientID: rec.ID, Created: now, Updated: now}
		if err := s.sealAccount(ctx, &ur, carepost.AccountContact{Name: pat.Contact.FirstName + " " + pat.Contact.LastName, Email: pat.Contact.Email}); err != nil {
			return Activated{}, err
		}
		if err := s.Store.PutUser(ctx, ur); err != nil && carepost.ErrorCode(err) != carepost.CodeConflict {
			return Activated{}, err
		}
	} else if err != nil {
		return Activated{}, err
	}
	rec.Status = StatusActive
	if err := s.Store.UpdatePatient(ctx, rec); err != nil {
		return Activated{}, err
	}
	who := carepost.Principal{Subject: rec.Subject, Role: carepost.RolePatient, PracticeID: practice.ID, PatientID: rec.ID, SourceIP: sourceIP}
	if err := s.audit(ctx, who, "", "patient.activate", rec.ID, "patient/"+rec.ID+"/activation", "ok"); err != nil {
		return Activated{}, err
	}
	return Activated{PatientID: rec.ID, Status: StatusActive}, nil
}
