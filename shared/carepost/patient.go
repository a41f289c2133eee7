package carepost

import "time"

// Patient is a practice's patient. Name, date of birth and contact details
// are patient data: the store keeps them sealed (Binding Kind
// "patient.contact"); only ids and preferences are stored in the clear.
type Patient struct {
	PracticeID string    `json:"practiceId"`
	ID         string    `json:"id"`
	Subject    string    `json:"subject,omitempty"` // identity-provider subject once activated
	Contact    Contact   `json:"contact"`
	Status     string    `json:"status"` // "invited", "active", "disabled"
	Created    time.Time `json:"created"`
	// Notification preferences.
	EmailNotifications bool   `json:"emailNotifications"`     // "a new message is waiting" e-mails
	CampaignOptOut     bool   `json:"campaignOptOut"`         // one-click unsubscribe from campaigns
	EmailProblem       string `json:"emailProblem,omitempty"` // "bounced", "complained": the address needs attention
}

// Contact is the sealed part of a patient record.
type Contact struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	BirthDate string `json:"birthDate"` // YYYY-MM-DD
	Email     string `json:"email"`
	Phone     string `json:"phone,omitempty"`
}

// PatientRecord is a patient as stored: the contact sealed.
type PatientRecord struct {
	Patient
	ContactSealed []byte
	DedupKey      string // keyed hash of name + birth date + e-mail (never reversible)
}
