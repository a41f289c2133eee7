// Package fhir exports threads as FHIR R4: a Bundle (type collection) of
// Communication resources, one per message, with the Patient, the
// Practitioners, any RelatedPerson (proxy) and the practice's Organization
// they reference, so a practice can file a conversation in its EHR.
//
// The export is patient data. It is built in memory for one authorized
// request, audited as "thread.export", and never stored or logged.
package fhir

// The subset of FHIR R4 the export uses. Field order follows the
// specification; empty fields are omitted (FHIR forbids empty values).

// Bundle is a FHIR Bundle.
type Bundle struct {
	ResourceType string        `json:"resourceType"` // "Bundle"
	ID           string        `json:"id,omitempty"`
	Meta         *Meta         `json:"meta,omitempty"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp,omitempty"`
	Total        *int          `json:"total,omitempty"`
	Entry        []BundleEntry `json:"entry,omitempty"`
}

// Meta is resource metadata.
type Meta struct {
	LastUpdated string `json:"lastUpdated,omitempty"`
}

// BundleEntry is one entry.
type BundleEntry struct {
	FullURL  string `json:"fullUrl,omitempty"`
	Resource any    `json:"resource"`
}

// Reference points to another resource.
type Reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

// Coding is a code from a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a concept with codings and text.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Identifier is a business identifier.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Attachment is content by reference or inline.
type Attachment struct {
	ContentType string `json:"contentType,omitempty"`
	Data        string `json:"data,omitempty"` // base64
	URL         string `json:"url,omitempty"`
	Size        int64  `json:"size,omitempty"`
	Title       string `json:"title,omitempty"`
	Creation    string `json:"creation,omitempty"`
}

// Payload is one part of a Communication's content.
type Payload struct {
	ContentString     string      `json:"contentString,omitempty"`
	ContentAttachment *Attachment `json:"contentAttachment,omitempty"`
}

// Annotation is a note.
type Annotation struct {
	Text string `json:"text"`
	Time string `json:"time,omitempty"`
}

// Communication is one message.
type Communication struct {
	ResourceType string            `json:"resourceType"` // "Communication"
	ID           string            `json:"id"`
	Identifier   []Identifier      `json:"identifier,omitempty"`
	PartOf       []Reference       `json:"partOf,omitempty"`
	InResponseTo []Reference       `json:"inResponseTo,omitempty"`
	Status       string            `json:"status"`
	Category     []CodeableConcept `json:"category,omitempty"`
	Priority     string            `json:"priority,omitempty"`
	Subject      *Reference        `json:"subject,omitempty"`
	Topic        *CodeableConcept  `json:"topic,omitempty"`
	Sent         string            `json:"sent,omitempty"`
	Received     string            `json:"received,omitempty"`
	Recipient    []Reference       `json:"recipient,omitempty"`
	Sender       *Reference        `json:"sender,omitempty"`
	Payload      []Payload         `json:"payload,omitempty"`
	Note         []Annotation      `json:"note,omitempty"`
}

// HumanName is a person's name.
type HumanName struct {
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
}

// ContactPoint is a phone number or e-mail address.
type ContactPoint struct {
	System string `json:"system,omitempty"` // "phone", "email"
	Value  string `json:"value,omitempty"`
}

// Patient is the patient the thread is about.
type Patient struct {
	ResourceType string         `json:"resourceType"` // "Patient"
	ID           string         `json:"id"`
	Identifier   []Identifier   `json:"identifier,omitempty"`
	Active       *bool          `json:"active,omitempty"`
	Name         []HumanName    `json:"name,omitempty"`
	Telecom      []ContactPoint `json:"telecom,omitempty"`
	BirthDate    string         `json:"birthDate,omitempty"`
}

// Practitioner is a staff member.
type Practitioner struct {
	ResourceType string       `json:"resourceType"` // "Practitioner"
	ID           string       `json:"id"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Name         []HumanName  `json:"name,omitempty"`
}

// RelatedPerson is a proxy (parent, caregiver) who wrote for the patient.
type RelatedPerson struct {
	ResourceType string       `json:"resourceType"` // "RelatedPerson"
	ID           string       `json:"id"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Patient      Reference    `json:"patient"`
}

// Organization is the practice.
type Organization struct {
	ResourceType string       `json:"resourceType"` // "Organization"
	ID           string       `json:"id"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Name         string       `json:"name,omitempty"`
}
