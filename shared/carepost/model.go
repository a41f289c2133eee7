package carepost

import (
	"slices"
	"time"
)

// Category is what a thread is about. It drives routing, turnaround targets
// and e-visit billing (scheduling, billing and result questions are not
// billable).
type Category string

const (
	CategoryQuestion       Category = "question"       // free clinical question
	CategoryPrescription   Category = "prescription"   // renewal request
	CategoryAppointment    Category = "appointment"    // appointment request
	CategoryReferral       Category = "referral"       // referral request
	CategoryForms          Category = "forms"          // forms / administrative help
	CategoryBilling        Category = "billing"        // billing question
	CategoryTestResult     Category = "test_result"    // question about a result
	CategoryMeasurement    Category = "measurement"    // home measurement report
	CategoryResult         Category = "result"         // clinician-initiated: a result
	CategoryFollowUp       Category = "follow_up"      // clinician-initiated follow-up
	CategoryEducation      Category = "education"      // clinician-initiated education
	CategoryAdministrative Category = "administrative" // practice-initiated admin notice
)

// PatientCategories are the categories a patient or proxy may open.
var PatientCategories = []Category{CategoryQuestion, CategoryPrescription, CategoryAppointment, CategoryReferral, CategoryForms, CategoryBilling, CategoryTestResult, CategoryMeasurement}

// StaffCategories are the categories staff may open toward a patient.
var StaffCategories = []Category{CategoryResult, CategoryFollowUp, CategoryEducation, CategoryAdministrative, CategoryQuestion}

// Valid reports whether c is a known category.
func (c Category) Valid() bool {
	return slices.Contains(PatientCategories, c) || slices.Contains(StaffCategories, c)
}

// Status is the life-cycle state of a thread.
type Status string

const (
	StatusOpen           Status = "open"
	StatusWaitingPatient Status = "waiting_patient"
	StatusClosed         Status = "closed"
	StatusReopened       Status = "reopened"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusOpen, StatusWaitingPatient, StatusClosed, StatusReopened:
		return true
	}
	return false
}

// Priority orders the inbox; higher is more pressing. Rules may raise a
// priority, never lower it (see Raise).
type Priority int

const (
	PriorityRoutine Priority = 1
	PriorityHigh    Priority = 2
	PriorityUrgent  Priority = 3
)

// Raise returns the higher of p and q.
func (p Priority) Raise(q Priority) Priority { return max(p, q) }

func (p Priority) String() string {
	switch p {
	case PriorityUrgent:
		return "urgent"
	case PriorityHigh:
		return "high"
	}
	return "routine"
}

// ParsePriority parses "routine", "high" or "urgent".
func ParsePriority(s string) (Priority, bool) {
	switch s {
	case "routine":
		return PriorityRoutine, true
	case "high":
		return PriorityHigh, true
	case "urgent":
		return PriorityUrgent, true
	}
	return 0, false
}

// Owner is who works a thread: a pool ("pool:nurses") or a person
// ("user:<sub>").
type Owner string

// PoolOwner and UserOwner build owners.
func PoolOwner(pool string) Owner { return Owner("pool:" + pool) }
func UserOwner(sub string) Owner  { return Owner("user:" + sub) }

// Pool returns the pool name, if the owner is a pool.
func (o Owner) Pool() (string, bool) {
	if len(o) > 5 && o[:5] == "pool:" {
		return string(o[5:]), true
	}
	return "", false
}

// User returns the user subject, if the owner is a person.
func (o Owner) User() (string, bool) {
	if len(o) > 5 && o[:5] == "user:" {
		return string(o[5:]), true
	}
	return "", false
}

// Thread is one conversation with one topic between a patient and the
// practice. Subject is patient data: it is stored encrypted.
type Thread struct {
	PracticeID   string    `json:"practiceId"`
	ID           string    `json:"id"`
	PatientID    string    `json:"patientId"`
	Category     Category  `json:"category"`
	Subject      string    `json:"subject"`
	Status       Status    `json:"status"`
	Owner        Owner     `json:"owner"`
	Priority     Priority  `json:"-"`
	Urgent       bool      `json:"urgent"`
	Confidential bool      `json:"confidential"`
	OpenedBy     string    `json:"openedBy"`
	OpenedByRole Role      `json:"openedByRole"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	Due          time.Time `json:"due,omitzero"`
	Overdue      bool      `json:"overdue"`
	LinkedFrom   string    `json:"linkedFrom,omitempty"` // a closed thread this one continues
	MessageCount int       `json:"messageCount"`
	Version      int64     `json:"version"` // optimistic-lock counter
}

// MessageKind tells patient messages, staff replies and system notes apart.
type MessageKind string

const (
	KindPatient    MessageKind = "patient"
	KindStaff      MessageKind = "staff"
	KindSystem     MessageKind = "system"     // automatic acknowledgement, away note
	KindRetraction MessageKind = "retraction" // retracts an earlier message; carries the correction
)

// Message is immutable once stored. A correction is a new message whose
// Retracts names the earlier one.
type Message struct {
	PracticeID     string         `json:"practiceId"`
	ThreadID       string         `json:"threadId"`
	ID             string         `json:"id"`
	Kind           MessageKind    `json:"kind"`
	SenderID       string         `json:"senderId"`
	SenderRole     Role           `json:"senderRole"`
	SenderName     string         `json:"senderName,omitempty"`
	Sent           time.Time      `json:"sent"`
	Body           string         `json:"body"`
	Form           *FormPayload   `json:"form,omitempty"`
	Retracts       string         `json:"retracts,omitempty"`
	InResponseTo   string         `json:"inResponseTo,omitempty"`
	ConsentVersion int            `json:"consentVersion,omitempty"`
	Urgent         bool           `json:"urgent,omitempty"`
	Flags          []string       `json:"flags,omitempty"` // red-flag rule codes, never text
	Attachments    []string       `json:"attachments,omitempty"`
	Meta           map[string]any `json:"-"`
}

// FormPayload is a typed request: Type names the schema, Fields its values.
type FormPayload struct {
	Type   string         `json:"type"`
	Fields map[string]any `json:"fields"`
}
