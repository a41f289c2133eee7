package messaging

import (
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// ThreadView is a thread as a client sees it (subject decrypted).
type ThreadView struct {
	ID           string            `json:"id"`
	PatientID    string            `json:"patientId"`
	Category     carepost.Category `json:"category"`
	Subject      string            `json:"subject"`
	Status       carepost.Status   `json:"status"`
	Owner        carepost.Owner    `json:"owner"`
	Priority     string            `json:"priority"`
	Urgent       bool              `json:"urgent"`
	Confidential bool              `json:"confidential"`
	Created      time.Time         `json:"created"`
	Updated      time.Time         `json:"updated"`
	Due          *time.Time        `json:"due,omitempty"`
	Overdue      bool              `json:"overdue"`
	LinkedFrom   string            `json:"linkedFrom,omitempty"`
	MessageCount int               `json:"messageCount"`
}

// MessageView is a message as a client sees it (body and form decrypted).
type MessageView struct {
	ID             string                `json:"id"`
	Kind           carepost.MessageKind  `json:"kind"`
	SenderID       string                `json:"senderId"`
	SenderRole     carepost.Role         `json:"senderRole"`
	SenderName     string                `json:"senderName,omitempty"`
	Sent           time.Time             `json:"sent"`
	Body           string                `json:"body"`
	Form           *carepost.FormPayload `json:"form,omitempty"`
	Retracts       string                `json:"retracts,omitempty"`
	RetractedBy    string                `json:"retractedBy,omitempty"`
	ConsentVersion int                   `json:"consentVersion,omitempty"`
	Urgent         bool                  `json:"urgent,omitempty"`
	Flags          []string              `json:"flags,omitempty"`
	Attachments    []string              `json:"attachments,omitempty"`
}

// ThreadDetail is one thread with its messages and who read it.
type ThreadDetail struct {
	Thread   ThreadView             `json:"thread"`
	Messages []MessageView          `json:"messages"`
	Reads    []carepost.ReadReceipt `json:"reads"`
}

// ThreadRef is what a POST answers: ids and states, never patient data, so
// it can be stored for idempotent retries.
type ThreadRef struct {
	ID       string            `json:"id"`
	Status   carepost.Status   `json:"status"`
	Category carepost.Category `json:"category"`
	Owner    carepost.Owner    `json:"owner"`
	Priority string            `json:"priority"`
	Urgent   bool              `json:"urgent"`
	Version  int64             `json:"version"`
}

// MessageRef identifies a stored message.
type MessageRef struct {
	ID   string    `json:"id"`
	Sent time.Time `json:"sent"`
}

// UrgentAdvice is the immediate answer to a red-flag message.
type UrgentAdvice struct {
	Advice  string   `json:"advice"` // "emergency" or "crisis_line"
	Message string   `json:"message"`
	Call    []string `json:"call"`
	Flags   []string `json:"flags"`
}

// PostResult answers message-creating calls.
type PostResult struct {
	Thread  ThreadRef     `json:"thread"`
	Message MessageRef    `json:"message"`
	Urgent  *UrgentAdvice `json:"urgent,omitempty"`
}

func refOf(t carepost.ThreadRecord) ThreadRef {
	return ThreadRef{ID: t.ID, Status: t.Status, Category: t.Category, Owner: t.Owner, Priority: t.Priority.String(), Urgent: t.Urgent, Version: t.Version}
}

func viewOf(t carepost.ThreadRecord, subject string) ThreadView {
	v := ThreadView{
		ID: t.ID, PatientID: t.PatientID, Category: t.Category, Subject: subject, Status: t.Status, Owner: t.Owner,
		Priority: t.Priority.String(), Urgent: t.Urgent, Confidential: t.Confidential, Created: t.Created, Updated: t.Updated,
		Overdue: t.Overdue, LinkedFrom: t.LinkedFrom, MessageCount: t.MessageCount,
	}
	if !t.Due.IsZero() {
		d := t.Due
		v.Due = &d
	}
	return v
}

// Page is a listing page with an opaque cursor.
type Page[T any] struct {
	Items  []T    `json:"items"`
	Cursor string `json:"cursor,omitempty"`
}
