package carepost

import (
	"time"
)

// Practice is one practice's configuration. It holds no patient data.
type Practice struct {
	ID                        string              `json:"id"`
	Name                      string              `json:"name"`
	TimeZone                  string              `json:"timeZone"`        // IANA, e.g. "America/New_York"
	Hours                     []OpeningHours      `json:"hours"`           // business hours for turnaround targets
	Holidays                  []string            `json:"holidays"`        // YYYY-MM-DD, practice closed
	Turnaround                map[Category]int    `json:"turnaroundHours"` // business hours to answer, per category
	Pools                     []Pool              `json:"pools"`
	Routing                   map[Category]Owner  `json:"routing"` // category -> pool or clinician
	OnCallPhone               string              `json:"onCallPhone"`
	OnCallPool                string              `json:"onCallPool"`
	CrisisLine                string              `json:"crisisLine"`      // e.g. "988"
	EscalationChain           []Owner             `json:"escalationChain"` // who is told when a page or a thread is overdue
	PageAckMinutes            int                 `json:"pageAckMinutes"`  // acknowledgement deadline for urgent pages
	NotificationWindowMinutes int                 `json:"notificationWindowMinutes"`
	RetentionDays             int                 `json:"retentionDays"`
	LegalHold                 bool                `json:"legalHold"`
	UrgentTerms               []string            `json:"urgentTerms"`   // extra red-flag phrases
	ProxyAdultAge             int                 `json:"proxyAdultAge"` // a minor's proxies narrow at this age
	Suspended                 bool                `json:"suspended"`
	Absences                  map[string]Absence  `json:"absences,omitempty"` // by clinician subject
	Staff                     map[string]StaffRef `json:"staff,omitempty"`    // subject -> display data
	// NotifyPools lists pools whose members get a "new work is waiting"
	// e-mail (no health data) when a thread lands in the pool.
	NotifyPools []string `json:"notifyPools,omitempty"`
	// ReminderOffsetsHours are how long before an appointment reminders go
	// out (default 72 and 24 hours).
	ReminderOffsetsHours []int     `json:"reminderOffsetsHours,omitempty"`
	Updated              time.Time `json:"updated"`
}

// OpeningHours is one weekday's opening interval in the practice time zone.
type OpeningHours struct {
	Day   time.Weekday `json:"day"`
	Open  string       `json:"open"`  // "08:00"
	Close string       `json:"close"` // "17:00"
}

// Pool is a shared queue of work (front desk, nurses, billing ...).
type Pool struct {
	Name    string   `json:"name"`
	Members []string `json:"members"` // subjects
	Lead    string   `json:"lead,omitempty"`
}

// Absence is a clinician's out-of-office period with a cover.
type Absence struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
	Cover Owner     `json:"cover"`
	Note  string    `json:"note,omitempty"` // away note shown to patients (no PHI)
}

// StaffRef is what other people may see of a staff member.
type StaffRef struct {
	Name      string `json:"name"`
	Role      Role   `json:"role"`
	Signature string `json:"signature,omitempty"`
	Disabled  bool   `json:"disabled,omitempty"`
	// Email is the work address pages and escalations go to (staff
	// addresses are not patient data; e-mails to it never carry any).
	Email string `json:"email,omitempty"`
}

// HasPool reports whether the practice has a pool of that name.
func (p Practice) HasPool(name string) bool {
	for _, pl := range p.Pools {
		if pl.Name == name {
			return true
		}
	}
	return false
}

// Route returns the owner new threads of category c go to, following the
// routing rules and, for an absent clinician, their cover.
func (p Practice) Route(c Category, now time.Time) Owner {
	o, ok := p.Routing[c]
	if !ok {
		o = PoolOwner("frontdesk")
	}
	return p.Cover(o, now)
}

// Cover returns who covers for owner at time now (owner itself when present).
func (p Practice) Cover(o Owner, now time.Time) Owner {
	sub, ok := o.User()
	if !ok {
		return o
	}
	if a, ok := p.Absences[sub]; ok && !now.Before(a.From) && now.Before(a.Until) && a.Cover != "" {
		return a.Cover
	}
	return o
}

// Agreement is one version of the practice's messaging agreement.
type Agreement struct {
	Version int       `json:"version"`
	Text    string    `json:"text"`
	Created time.Time `json:"created"`
}

// Consent records that a patient or proxy accepted an agreement version.
type Consent struct {
	PatientID string    `json:"patientId"`
	Subject   string    `json:"subject"`
	Version   int       `json:"version"`
	Accepted  time.Time `json:"accepted"`
}
