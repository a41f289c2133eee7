package admin

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

// Proxies. A grant lives in three places: the proxy's account record (what
// the API checks on every request: it replaces the grants in the proxy's
// token, so a revocation or a narrowing takes effect at once), the
// directory (custom:grants, what new tokens carry) and the patient's proxy
// link (so the patient's proxies can be listed).
//
// Coming of age: a grant given while the patient was a minor is narrowed
// by the daily "proxyage" job once the patient reaches the practice's
// ProxyAdultAge: read-only, administrative categories only (appointments,
// billing, forms). The job opens the sealed birth date; it is not evaluated
// at token check, which would need a decryption on every proxy request and
// would keep the birth date's consequence (an "adult on" date) somewhere in
// the clear. The now-adult patient can revoke the remaining access, or the
// practice can grant again (a grant to an adult is never narrowed).

// adultCategories are what a narrowed grant still covers.
var adultCategories = []string{string(carepost.CategoryAppointment), string(carepost.CategoryBilling), string(carepost.CategoryForms)}

// ProxyInput grants a proxy access to a patient: an existing proxy account
// (Subject) or a new one (Email and Name; the invitation is e-mailed).
type ProxyInput struct {
	Subject string              `json:"subject,omitempty"`
	Email   string              `json:"email,omitempty"`
	Name    string              `json:"name,omitempty"`
	Scope   carepost.ProxyScope `json:"scope"`
	Expires time.Time           `json:"expires,omitzero"`
}

// ProxyRef is what a POST about a proxy answers.
type ProxyRef struct {
	Subject   string              `json:"subject"`
	PatientID string              `json:"patientId"`
	Scope     carepost.ProxyScope `json:"scope"`
	Expires   *time.Time          `json:"expires,omitempty"`
}

// ProxyView is a proxy as staff and the patient see it.
type ProxyView struct {
	Subject  string              `json:"subject"`
	Name     string              `json:"name"`
	Email    string              `json:"email,omitempty"`
	Scope    carepost.ProxyScope `json:"scope"`
	Expires  *time.Time          `json:"expires,omitempty"`
	Granted  time.Time           `json:"granted"`
	Narrowed bool                `json:"narrowed"`
	Disabled bool                `json:"disabled"`
}

// AgeOn is a person's age in whole years on the given day (Feb 29
// birthdays count from Mar 1 in common years).
func AgeOn(birthDate string, day time.Time) (int, bool) {
	b, err := time.Parse(time.DateOnly, birthDate)
	if err != nil {
		return 0, false
	}
	y, m, d := day.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	age := y - b.Year()
	if b.AddDate(age, 0, 0).After(today) {
		age--
	}
	return age, true
}

func (s *Service) isAdult(practice carepost.Practice, birthDate string) bool {
	loc, err := time.LoadLocation(practice.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	adult := practice.ProxyAdultAge
	if adult == 0 {
		adult = 18
	}
	age, ok := AgeOn(birthDate, s.now().In(loc))
	return ok && age >= adult
}

func validScope(sc carepost.ProxyScope) error {
	if !sc.Read {
		return carepost.FieldError(carepost.CodeValidation, "scope.read", "a proxy must at least read")
	}
	for i, c := range sc.Categories {
		if !slices.Contains(carepost.PatientCategories, carepost.Category(c)) {
			return carepost.FieldError(carepost.CodeValidation, "scope.categories["+itoa(i)+"]", "not a category patients open threads in")
		}
	}
	return nil
}

// proxyRecord loads the account record of a proxy of p's practice, or not
// found.
func (s *Service) proxyRecord(ctx context.Context, practiceID, sub string) (carepost.UserRecord, error) {
	u, err := s.Store.User(ctx, practiceID, sub)
	if err == nil && u.Role != carepost.RoleProxy {
		return u, carepost.NotFound("proxy")
	}
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return u, carepost.NotFound("proxy")
	}
	return u, err
}

func setGrant(grants []carepost.Grant, g carepost.Grant) []carepost.Grant {
	out := slices.DeleteFunc(slices.Clone(grants), func(x carepost.Grant) bool { return x.PatientID == g.PatientID })
	return append(out, g)
}

func withoutGrant(grants []carepost.Grant, patientID string) []carepost.Grant {
	return slices.DeleteFunc(slices.Clone(grants), func(x carepost.Grant) bool { return x.PatientID == patientID })
}

// saveGrants writes the account record and link first (that is what takes
// effect at once), then the directory.
func (s *Service) saveGrants(ctx context.Context, u carepost.UserRecord, link carepost.ProxyLink, remove bool) error {
	u.Updated = s.now()
	if err := s.Store.SaveProxy(ctx, u, link, remove); err != nil {
		return err
	}
	dir, err := s.directory()
	if err != nil {
		return err
	}
	return dir.SetGrants(ctx, u.PracticeID, u.Subject, u.Grants)
}

// GrantProxy gives a proxy access to a patient (admins, front desk).
func (s *Service) GrantProxy(ctx context.Context, p carepost.Principal, patientID string, in ProxyInput) (ProxyRef, error) {
	if err := s.require(ctx, p, "proxy.grant", enrollRoles...); err != nil {
		return ProxyRef{}, err
	}
	if err := validScope(in.Scope); err != nil {
		return ProxyRef{}, err
	}
	now := s.now()
	if !in.Expires.IsZero() && (!in.Expires.After(now) || in.Expires.After(now.AddDate(20, 0, 0))) {
		return ProxyRef{}, carepost.FieldError(carepost.CodeValidation, "expires", "expires must be in the future and within 20 years")
	}
	rec, err := s.visiblePatient(ctx, p, "proxy.grant", patientID)
	if err != nil {
		return ProxyRef{}, err
	}
	pat, err := messaging.OpenPatient(ctx, s.Sealer, rec)
	if err != nil {
		return ProxyRef{}, err
	}
	practice, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return ProxyRef{}, err
	}
	g := carepost.Grant{PatientID: rec.ID, Scope: in.Scope, Expires: in.Expires.UTC()}
	var u carepost.UserRecord
	switch {
	case in.Subject != "" && in.Email == "":
		if u, err = s.proxyRecord(ctx, p.PracticeID, in.Subject); err != nil {
			return ProxyRef{}, err
		}
		if u.Disabled {
			return ProxyRef{}, carepost.Errorf(carepost.CodeConflict, "the proxy's account is disabled")
		}
		u.Grants = setGrant(u.Grants, g)
	case in.Subject == "" && in.Email != "":
		if err := validName("name", in.Name); err != nil {
			return ProxyRef{}, err
		}
		if u, err = s.createAccount(ctx, auth.User{Email: strings.TrimSpace(in.Email), Name: strings.TrimSpace(in.Name), Role: carepost.RoleProxy,
			PracticeID: p.PracticeID, Grants: []carepost.Grant{g}}, "caregiver"); err != nil {
			return ProxyRef{}, err
		}
	default:
		return ProxyRef{}, carepost.FieldError(carepost.CodeValidation, "subject", "name an existing proxy (subject) or a new one (email and name)")
	}
	link := carepost.ProxyLink{PatientID: rec.ID, Subject: u.Subject, Scope: g.Scope, Expires: g.Expires, Granted: now, GrantedBy: p.Subject,
		MinorAtGrant: !s.isAdult(practice, pat.Contact.BirthDate)}
	if err := s.saveGrants(ctx, u, link, false); err != nil {
		return ProxyRef{}, err
	}
	if err := s.audit(ctx, p, "", "proxy.grant", rec.ID, "patient/"+rec.ID+"/proxy/"+u.Subject, "ok"); err != nil {
		return ProxyRef{}, err
	}
	ref := ProxyRef{Subject: u.Subject, PatientID: rec.ID, Scope: g.Scope}
	if !g.Expires.IsZero() {
		ref.Expires = &g.Expires
	}
	return ref, nil
}

func (s *Service) proxyViews(ctx context.Context, practiceID, patientID string) ([]ProxyView, error) {
	links, err := s.Store.ProxyLinks(ctx, practiceID, patientID)
	if err != nil {
		return nil, err
	}
	out := []ProxyView{}
	for _, l := range links {
		v := ProxyView{Subject: l.Subject, Scope: l.Scope, Granted: l.Granted, Narrowed: l.Narrowed}
		if !l.Expires.IsZero() {
			e := l.Expires
			v.Expires = &e
		}
		if u, err := s.Store.User(ctx, practiceID, l.Subject); err == nil {
			c, err := s.openAccount(ctx, u)
			if err != nil {
				return nil, err
			}
			v.Name, v.Email, v.Disabled = c.Name, c.Email, u.Disabled
		} else if carepost.ErrorCode(err) != carepost.CodeNotFound {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ListProxies lists a patient's proxies (admins, front desk).
func (s *Service) ListProxies(ctx context.Context, p carepost.Principal, patientID string) ([]ProxyView, error) {
	if err := s.require(ctx, p, "proxy.list", enrollRoles...); err != nil {
		return nil, err
	}
	rec, err := s.visiblePatient(ctx, p, "proxy.list", patientID)
	if err != nil {
		return nil, err
	}
	out, err := s.proxyViews(ctx, p.PracticeID, rec.ID)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, p, "", "proxy.list", rec.ID, "patient/"+rec.ID+"/proxies", "ok"); err != nil {
		return nil, err
	}
	return out, nil
}

// revoke removes the proxy's grant for the patient.
func (s *Service) revoke(ctx context.Context, p carepost.Principal, patientID, sub string) error {
	u, err := s.proxyRecord(ctx, p.PracticeID, sub)
	if err == nil && !slices.ContainsFunc(u.Grants, func(g carepost.Grant) bool { return g.PatientID == patientID }) {
		err = carepost.NotFound("proxy")
	}
	if err != nil {
		if carepost.ErrorCode(err) == carepost.CodeNotFound {
			if aerr := s.audit(ctx, p, "", "proxy.revoke", patientID, "patient/"+patientID+"/proxy/"+safeID(sub), "not_found"); aerr != nil {
				return aerr
			}
		}
		return err
	}
	u.Grants = withoutGrant(u.Grants, patientID)
	if err := s.saveGrants(ctx, u, carepost.ProxyLink{PatientID: patientID, Subject: sub}, true); err != nil {
		return err
	}
	return s.audit(ctx, p, "", "proxy.revoke", patientID, "patient/"+patientID+"/proxy/"+sub, "ok")
}

// RevokeProxy ends a proxy's access to a patient (admins, front desk).
func (s *Service) RevokeProxy(ctx context.Context, p carepost.Principal, patientID, sub string) error {
	if err := s.require(ctx, p, "proxy.revoke", enrollRoles...); err != nil {
		return err
	}
	rec, err := s.visiblePatient(ctx, p, "proxy.revoke", patientID)
	if err != nil {
		return err
	}
	return s.revoke(ctx, p, rec.ID, sub)
}

// adultPatient checks that p is a patient who has come of age; minors
// manage proxies through the practice.
func (s *Service) adultPatient(ctx context.Context, p carepost.Principal, action string) (carepost.PatientRecord, error) {
	rec, err := s.ownPatient(ctx, p, action)
	if err != nil {
		return rec, err
	}
	pat, err := messaging.OpenPatient(ctx, s.Sealer, rec)
	if err != nil {
		return rec, err
	}
	practice, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return rec, err
	}
	if !s.isAdult(practice, pat.Contact.BirthDate) {
		if err := s.audit(ctx, p, "", action, rec.ID, "patient/"+rec.ID+"/proxies", "denied"); err != nil {
			return rec, err
		}
		return rec, carepost.Errorf(carepost.CodeForbidden, "ask your practice to change who can act for you")
	}
	return rec, nil
}

// MyProxies lists the calling adult patient's proxies.
func (s *Service) MyProxies(ctx context.Context, p carepost.Principal) ([]ProxyView, error) {
	rec, err := s.adultPatient(ctx, p, "proxy.list")
	if err != nil {
		return nil, err
	}
	out, err := s.proxyViews(ctx, p.PracticeID, rec.ID)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, p, "", "proxy.list", rec.ID, "patient/"+rec.ID+"/proxies", "ok"); err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeMyProxy lets an adult patient end a proxy's access.
func (s *Service) RevokeMyProxy(ctx context.Context, p carepost.Principal, sub string) error {
	rec, err := s.adultPatient(ctx, p, "proxy.revoke")
	if err != nil {
		return err
	}
	return s.revoke(ctx, p, rec.ID, sub)
}

// narrowScope is what a grant keeps once the patient comes of age; ok is
// false when nothing is left.
func narrowScope(sc carepost.ProxyScope) (carepost.ProxyScope, bool) {
	cats := adultCategories
	if len(sc.Categories) > 0 {
		cats = nil
		for _, c := range sc.Categories {
			if slices.Contains(adultCategories, c) {
				cats = append(cats, c)
			}
		}
	}
	if len(cats) == 0 {
		return carepost.ProxyScope{}, false
	}
	return carepost.ProxyScope{Read: true, Write: false, Categories: slices.Clone(cats)}, true
}

// NarrowProxies is the daily job: grants given while a patient was a minor
// are narrowed once the patient reaches the practice's ProxyAdultAge. It
// returns how many grants it narrowed.
func (s *Service) NarrowProxies(ctx context.Context) (int, error) {
	ids, err := s.Store.Practices(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, pid := range ids {
		n, err := s.narrowPractice(ctx, pid)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (s *Service) narrowPractice(ctx context.Context, pid string) (int, error) {
	practice, err := s.Store.Practice(ctx, pid)
	if err != nil {
		return 0, err
	}
	users, err := s.Store.Users(ctx, pid)
	if err != nil {
		return 0, err
	}
	system := carepost.Principal{Subject: "system:proxy-age", PracticeID: pid}
	adult := map[string]bool{} // patient id -> has come of age (cached per run)
	n := 0
	for _, u := range users {
		if u.Role != carepost.RoleProxy {
			continue
		}
		for _, g := range u.Grants {
			links, err := s.Store.ProxyLinks(ctx, pid, g.PatientID)
			if err != nil {
				return n, err
			}
			i := slices.IndexFunc(links, func(l carepost.ProxyLink) bool { return l.Subject == u.Subject })
			if i < 0 || !links[i].MinorAtGrant || links[i].Narrowed {
				continue
			}
			isAdult, ok := adult[g.PatientID]
			if !ok {
				rec, err := s.Store.Patient(ctx, pid, g.PatientID)
				if carepost.ErrorCode(err) == carepost.CodeNotFound {
					continue
				}
				if err != nil {
					return n, err
				}
				pat, err := messaging.OpenPatient(ctx, s.Sealer, rec)
				if err != nil {
					return n, err
				}
				isAdult = s.isAdult(practice, pat.Contact.BirthDate)
				adult[g.PatientID] = isAdult
			}
			if !isAdult {
				continue
			}
			link := links[i]
			scope, keep := narrowScope(g.Scope)
			if keep {
				g.Scope = scope
				u.Grants = setGrant(u.Grants, g)
				link.Scope, link.Narrowed = scope, true
			} else {
				u.Grants = withoutGrant(u.Grants, g.PatientID)
			}
			if err := s.saveGrants(ctx, u, link, !keep); err != nil {
				return n, err
			}
			u.Version++
			if err := s.audit(ctx, system, pid, "proxy.narrow", g.PatientID, "patient/"+g.PatientID+"/proxy/"+u.Subject, "ok"); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
