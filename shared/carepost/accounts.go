package carepost

import "time"

// UserRecord is the practice's own record of an account held by the
// identity provider: what the API checks on every request (a disabled
// account, a changed role, a proxy's current grants), so that a change takes
// effect at once rather than when the bearer token expires. ContactSealed
// holds the account's name and e-mail (Binding Kind "user.contact").
type UserRecord struct {
	PracticeID    string    `json:"practiceId"`
	Subject       string    `json:"subject"`
	Role          Role      `json:"role"`
	Disabled      bool      `json:"disabled"`
	PatientID     string    `json:"patientId,omitempty"` // patients
	Grants        []Grant   `json:"grants,omitempty"`    // proxies: authoritative over the token's
	ContactSealed []byte    `json:"-"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
	Version       int64     `json:"version"` // optimistic-lock counter
}

// AccountContact is the sealed part of a UserRecord.
type AccountContact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// ProxyLink is the patient-side record of a proxy grant, so a patient's
// proxies can be listed.
type ProxyLink struct {
	PatientID    string     `json:"patientId"`
	Subject      string     `json:"subject"`
	Scope        ProxyScope `json:"scope"`
	Expires      time.Time  `json:"expires,omitzero"`
	Granted      time.Time  `json:"granted"`
	GrantedBy    string     `json:"grantedBy"`
	MinorAtGrant bool       `json:"minorAtGrant"` // narrowed when the patient comes of age
	Narrowed     bool       `json:"narrowed"`
}

// Activation is a patient's single-use, expiring activation code. Only a
// hash of the code is stored.
type Activation struct {
	PracticeID string    `json:"practiceId"`
	PatientID  string    `json:"patientId"`
	CodeHash   string    `json:"codeHash"`
	Expires    time.Time `json:"expires"`
	Attempts   int       `json:"attempts"`
	Used       bool      `json:"used"`
	Created    time.Time `json:"created"`
}
