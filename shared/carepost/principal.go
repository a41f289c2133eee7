package carepost

import (
	"slices"
	"time"
)

// Role is what a principal is allowed to do. Roles come from Cognito groups
// (cognito:groups) in AWS and from the local issuer in the dev stack.
type Role string

const (
	RolePatient   Role = "patient"
	RoleProxy     Role = "proxy"
	RoleFrontDesk Role = "frontdesk"
	RoleNurse     Role = "nurse"
	RoleClinician Role = "clinician"
	RoleAdmin     Role = "admin"
	RoleScheduler Role = "scheduler"
	RoleOperator  Role = "operator"
)

// Roles lists every role, in a stable order (used by the access-matrix tests).
var Roles = []Role{RolePatient, RoleProxy, RoleFrontDesk, RoleNurse, RoleClinician, RoleAdmin, RoleScheduler, RoleOperator}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// IsStaff reports whether r works the practice inbox.
func (r Role) IsStaff() bool {
	switch r {
	case RoleFrontDesk, RoleNurse, RoleClinician, RoleAdmin:
		return true
	}
	return false
}

// IsClinical reports whether r may read and answer clinical threads.
func (r Role) IsClinical() bool { return r == RoleNurse || r == RoleClinician }

// ProxyScope is what a practice granted a proxy for one patient.
type ProxyScope struct {
	Read       bool     `json:"read"`
	Write      bool     `json:"write"`
	Categories []string `json:"categories,omitempty"` // empty: every category
}

// AllowsCategory reports whether the scope covers threads of category c.
func (s ProxyScope) AllowsCategory(c Category) bool {
	return len(s.Categories) == 0 || slices.Contains(s.Categories, string(c))
}

// Grant lets a proxy act for one patient until Expires (zero: no expiry).
type Grant struct {
	PatientID string     `json:"patientId"`
	Scope     ProxyScope `json:"scope"`
	Expires   time.Time  `json:"expires,omitzero"`
}

// Principal is the authenticated caller of a request. Every domain operation
// takes one; there is no anonymous access to patient data.
type Principal struct {
	Subject    string  // stable user id (Cognito sub)
	Role       Role    //
	PracticeID string  // the practice the principal belongs to ("" for operators)
	PatientID  string  // for patients: themselves
	Grants     []Grant // for proxies: whom they act for
	SourceIP   string  // for the audit log
	Name       string  // display name (staff signature); never a patient's name in logs
}

// GrantFor returns the proxy's live grant for patientID.
func (p Principal) GrantFor(patientID string, now time.Time) (Grant, bool) {
	for _, g := range p.Grants {
		if g.PatientID == patientID && (g.Expires.IsZero() || now.Before(g.Expires)) {
			return g, true
		}
	}
	return Grant{}, false
}

// ActsForPatient reports whether the principal is the patient or a proxy with
// a live grant for the patient.
func (p Principal) ActsForPatient(patientID string, now time.Time) bool {
	switch p.Role {
	case RolePatient:
		return p.PatientID != "" && p.PatientID == patientID
	case RoleProxy:
		_, ok := p.GrantFor(patientID, now)
		return ok
	}
	return false
}
