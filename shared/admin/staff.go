package admin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
)

// UserContactKind is the Binding kind of an account record's name and
// e-mail.
const UserContactKind = "user.contact"

func userContactBinding(practiceID, subject string, created time.Time) carepost.Binding {
	return carepost.Binding{PracticeID: practiceID, Kind: UserContactKind, MessageID: subject, Time: created, Schema: schema}
}

func (s *Service) sealAccount(ctx context.Context, u *carepost.UserRecord, c carepost.AccountContact) error {
	b, _ := json.Marshal(c)
	sealed, err := s.Sealer.Seal(ctx, userContactBinding(u.PracticeID, u.Subject, u.Created), b)
	if err != nil {
		return err
	}
	u.ContactSealed = sealed
	return nil
}

func (s *Service) openAccount(ctx context.Context, u carepost.UserRecord) (carepost.AccountContact, error) {
	var c carepost.AccountContact
	if len(u.ContactSealed) == 0 {
		return c, nil
	}
	b, err := s.Sealer.Open(ctx, userContactBinding(u.PracticeID, u.Subject, u.Created), u.ContactSealed)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, carepost.Wrap(carepost.CodeInternal, err, "stored account contact is malformed")
	}
	return c, nil
}

// temporaryPassword is 16 characters from an unambiguous alphabet with at
// least one lower-case letter, upper-case letter and digit (Cognito's default
// policy also wants a symbol: one is appended).
func temporaryPassword() string {
	const lower, upper, digits = "abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789"
	all := lower + upper + digits
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	out := []byte{lower[int(b[0])%len(lower)], upper[int(b[1])%len(upper)], digits[int(b[2])%len(digits)]}
	for _, c := range b[3:] {
		out = append(out, all[int(c)%len(all)])
	}
	return string(out) + "!"
}

// createAccount makes an identity-provider account and its record, and
// sends the invitation (the provider does in AWS; locally the temporary
// password goes out through Mailer). kind words the e-mail ("staff",
// "caregiver").
func (s *Service) createAccount(ctx context.Context, u auth.User, kind string) (carepost.UserRecord, error) {
	dir, err := s.directory()
	if err != nil {
		return carepost.UserRecord{}, err
	}
	temp := ""
	if !s.ProviderSendsInvites {
		temp = temporaryPassword()
	}
	created, err := dir.CreateUser(ctx, u, temp)
	if err != nil {
		return carepost.UserRecord{}, err
	}
	now := s.now()
	rec := carepost.UserRecord{PracticeID: u.PracticeID, Subject: created.Subject, Role: u.Role, PatientID: u.PatientID, Grants: u.Grants, Created: now, Updated: now}
	if err := s.sealAccount(ctx, &rec, carepost.AccountContact{Name: u.Name, Email: u.Email}); err != nil {
		return rec, err
	}
	if err := s.Store.PutUser(ctx, rec); err != nil {
		return rec, err
	}
	rec.Version = 1
	if temp != "" {
		if err := s.send(ctx, inviteMail(u.Email, kind, u.Role, temp, s.PublicURL)); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

// StaffInput invites a staff member.
type StaffInput struct {
	Name  string        `json:"name"`
	Email string        `json:"email"`
	Role  carepost.Role `json:"role"`
}

// StaffMember is a staff account as the admin sees it.
type StaffMember struct {
	Subject  string        `json:"subject"`
	Name     string        `json:"name"`
	Email    string        `json:"email,omitempty"`
	Role     carepost.Role `json:"role"`
	Disabled bool          `json:"disabled"`
}

// StaffRef is what a POST about staff answers: ids and states only.
type StaffRef struct {
	Subject    string        `json:"subject"`
	Role       carepost.Role `json:"role"`
	Disabled   bool          `json:"disabled"`
	Reassigned []string      `json:"reassigned,omitempty"` // settings that pointed at a disabled member
}

func validName(field, s string) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(s)); n == 0 || n > 100 || !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\t<>") {
		return carepost.FieldError(carepost.CodeValidation, field, "%s needs 1 to 100 characters without line breaks or < >", field)
	}
	return nil
}

// InviteStaff creates a staff account with a role (admins). MFA for staff
// is enforced by the user pool (infrastructure), not here.
func (s *Service) InviteStaff(ctx context.Context, p carepost.Principal, in StaffInput) (StaffRef, error) {
	if err := s.require(ctx, p, "staff.invite", carepost.RoleAdmin); err != nil {
		return StaffRef{}, err
	}
	if err := validName("name", in.Name); err != nil {
		return StaffRef{}, err
	}
	if !auth.IsStaffRole(in.Role) {
		return StaffRef{}, carepost.FieldError(carepost.CodeValidation, "role", "role must be frontdesk, nurse, clinician, admin or scheduler")
	}
	in.Email = strings.TrimSpace(in.Email)
	rec, err := s.createAccount(ctx, auth.User{Email: in.Email, Name: strings.TrimSpace(in.Name), Role: in.Role, PracticeID: p.PracticeID}, "staff")
	if err != nil {
		return StaffRef{}, err
	}
	if _, err := s.modifyPractice(ctx, p.PracticeID, func(pr *carepost.Practice) error {
		if pr.Staff == nil {
			pr.Staff = map[string]carepost.StaffRef{}
		}
		pr.Staff[rec.Subject] = carepost.StaffRef{Name: strings.TrimSpace(in.Name), Role: in.Role, Email: in.Email}
		return nil
	}); err != nil {
		return StaffRef{}, err
	}
	if err := s.audit(ctx, p, "", "staff.invite", "", "user/"+rec.Subject, "ok"); err != nil {
		return StaffRef{}, err
	}
	return StaffRef{Subject: rec.Subject, Role: in.Role}, nil
}

// ListStaff lists the practice's staff (admins).
func (s *Service) ListStaff(ctx context.Context, p carepost.Principal) ([]StaffMember, error) {
	if err := s.require(ctx, p, "staff.list", carepost.RoleAdmin); err != nil {
		return nil, err
	}
	pr, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return nil, err
	}
	recs, err := s.Store.Users(ctx, p.PracticeID)
	if err != nil {
		return nil, err
	}
	byID := map[string]carepost.UserRecord{}
	for _, r := range recs {
		byID[r.Subject] = r
	}
	out := []StaffMember{}
	for sub, ref := range pr.Staff {
		m := StaffMember{Subject: sub, Name: ref.Name, Email: ref.Email, Role: ref.Role, Disabled: ref.Disabled}
		if r, ok := byID[sub]; ok {
			c, err := s.openAccount(ctx, r)
			if err != nil {
				return nil, err
			}
			if c.Email != "" {
				m.Email = c.Email
			}
			m.Disabled = m.Disabled || r.Disabled
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b StaffMember) int { return strings.Compare(a.Name+a.Subject, b.Name+b.Subject) })
	if err := s.audit(ctx, p, "", "staff.list", "", "practice/"+p.PracticeID+"/staff", "ok"); err != nil {
		return nil, err
	}
	return out, nil
}

// staffRecord returns the account record of a staff member of p's practice,
// or not found (patients, proxies and other practices' users included).
func (s *Service) staffRecord(ctx context.Context, p carepost.Principal, action, sub string) (carepost.UserRecord, error) {
	u, err := s.Store.User(ctx, p.PracticeID, sub)
	if err == nil && !auth.IsStaffRole(u.Role) {
		err = carepost.NotFound("staff member")
	}
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		if aerr := s.audit(ctx, p, "", action, "", "user/"+safeID(sub), "not_found"); aerr != nil {
			return u, aerr
		}
		return u, carepost.NotFound("staff member")
	}
	return u, err
}

// SetStaffRole moves a staff member to another staff role (admins). The
// old tokens stop working at once (the API compares the role on every
// request); the member signs in again.
func (s *Service) SetStaffRole(ctx context.Context, p carepost.Principal, sub string, role carepost.Role) (StaffRef, error) {
	if err := s.require(ctx, p, "staff.role", carepost.RoleAdmin); err != nil {
		return StaffRef{}, err
	}
	if !auth.IsStaffRole(role) {
		return StaffRef{}, carepost.FieldError(carepost.CodeValidation, "role", "role must be frontdesk, nurse, clinician, admin or scheduler")
	}
	u, err := s.staffRecord(ctx, p, "staff.role", sub)
	if err != nil {
		return StaffRef{}, err
	}
	if sub == p.Subject && role != carepost.RoleAdmin {
		return StaffRef{}, carepost.Errorf(carepost.CodeConflict, "you cannot remove your own admin role; ask another admin")
	}
	if u.Disabled {
		return StaffRef{}, carepost.Errorf(carepost.CodeConflict, "the account is disabled")
	}
	dir, err := s.directory()
	if err != nil {
		return StaffRef{}, err
	}
	if err := dir.SetRole(ctx, p.PracticeID, sub, role); err != nil {
		return StaffRef{}, err
	}
	u.Role, u.Updated = role, s.now()
	if err := s.Store.PutUser(ctx, u); err != nil {
		return StaffRef{}, err
	}
	if _, err := s.modifyPractice(ctx, p.PracticeID, func(pr *carepost.Practice) error {
		ref := pr.Staff[sub]
		ref.Role = role
		if pr.Staff == nil {
			pr.Staff = map[string]carepost.StaffRef{}
		}
		pr.Staff[sub] = ref
		return nil
	}); err != nil {
		return StaffRef{}, err
	}
	if err := s.audit(ctx, p, "", "staff.role", "", "user/"+sub, "ok"); err != nil {
		return StaffRef{}, err
	}
	return StaffRef{Subject: sub, Role: role}, nil
}

// DisableStaff ends a staff member's access at once (admins): the account
// is disabled in the directory, the record is marked (the API refuses the
// member's tokens on the next request), and the member leaves every pool.
// Routing rules that named the member go to the on-call pool (or the front
// desk) so no new thread lands in an inbox nobody reads. History stays.
func (s *Service) DisableStaff(ctx context.Context, p carepost.Principal, sub string) (StaffRef, error) {
	if err := s.require(ctx, p, "staff.disable", carepost.RoleAdmin); err != nil {
		return StaffRef{}, err
	}
	u, err := s.staffRecord(ctx, p, "staff.disable", sub)
	if err != nil {
		return StaffRef{}, err
	}
	if sub == p.Subject {
		return StaffRef{}, carepost.Errorf(carepost.CodeConflict, "you cannot disable your own account; ask another admin")
	}
	// The record first: it is what ends access immediately.
	u.Disabled, u.Updated = true, s.now()
	if err := s.Store.PutUser(ctx, u); err != nil {
		return StaffRef{}, err
	}
	dir, err := s.directory()
	if err != nil {
		return StaffRef{}, err
	}
	if err := dir.DisableUser(ctx, p.PracticeID, sub); err != nil && carepost.ErrorCode(err) != carepost.CodeNotFound {
		return StaffRef{}, err
	}
	var reassigned []string
	if _, err := s.modifyPractice(ctx, p.PracticeID, func(pr *carepost.Practice) error {
		reassigned = removeStaff(pr, sub)
		return nil
	}); err != nil {
		return StaffRef{}, err
	}
	if err := s.audit(ctx, p, "", "staff.disable", "", "user/"+sub, "ok"); err != nil {
		return StaffRef{}, err
	}
	return StaffRef{Subject: sub, Role: u.Role, Disabled: true, Reassigned: reassigned}, nil
}

// removeStaff takes a disabled member out of the settings and reports the
// settings it changed.
func removeStaff(pr *carepost.Practice, sub string) []string {
	var changed []string
	if ref, ok := pr.Staff[sub]; ok {
		ref.Disabled = true
		pr.Staff[sub] = ref
	}
	for i := range pr.Pools {
		pl := &pr.Pools[i]
		if slices.Contains(pl.Members, sub) {
			pl.Members = slices.DeleteFunc(pl.Members, func(m string) bool { return m == sub })
			changed = append(changed, "pools."+pl.Name)
		}
		if pl.Lead == sub {
			pl.Lead = ""
		}
	}
	me := carepost.UserOwner(sub)
	fallback := carepost.PoolOwner("frontdesk")
	if pr.OnCallPool != "" {
		fallback = carepost.PoolOwner(pr.OnCallPool)
	}
	cats := make([]string, 0, len(pr.Routing))
	for c := range pr.Routing {
		cats = append(cats, string(c))
	}
	slices.Sort(cats)
	for _, c := range cats {
		if pr.Routing[carepost.Category(c)] == me {
			pr.Routing[carepost.Category(c)] = fallback
			changed = append(changed, "routing."+c)
		}
	}
	if slices.Contains(pr.EscalationChain, me) {
		pr.EscalationChain = slices.DeleteFunc(pr.EscalationChain, func(o carepost.Owner) bool { return o == me })
		changed = append(changed, "escalationChain")
	}
	return changed
}
