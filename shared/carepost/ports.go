package carepost

import (
	"context"
	"time"
)

// Binding is what a sealed value is bound to: a ciphertext only opens under
// exactly the binding it was sealed with (see package kmsenvelope).
type Binding struct {
	PracticeID string
	Kind       string // "thread.subject", "message.body", "message.form", "patient.contact" ...
	ThreadID   string
	MessageID  string
	SenderID   string
	Time       time.Time
	Schema     int
}

// Sealer encrypts and authenticates patient data (implemented by kmsenvelope).
type Sealer interface {
	Seal(ctx context.Context, b Binding, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, b Binding, sealed []byte) ([]byte, error)
}

// ThreadRecord is a thread as stored: the subject is sealed.
type ThreadRecord struct {
	Thread
	SubjectSealed []byte
	LastMessageID string
	Triaged       bool      // the triage worker has handled the first message
	FirstReviewed time.Time // first time a clinician read it (e-visit window)
	PageDue       time.Time // urgent page acknowledgement deadline (zero: none pending)
	PageLevel     int       // escalation steps taken for the page
	Escalated     int       // overdue escalation steps taken
}

// MessageRecord is a message as stored: body and form are sealed.
type MessageRecord struct {
	Message
	BodySealed  []byte
	FormSealed  []byte
	RequestHash string // sha256 of the creating request, for idempotent retries
}

// ReadReceipt says who read a thread up to which message, and when.
type ReadReceipt struct {
	Subject   string    `json:"subject"`
	Role      Role      `json:"role"`
	MessageID string    `json:"messageId"`
	At        time.Time `json:"at"`
}

// InboxFilter narrows an inbox listing.
type InboxFilter struct {
	Closed   bool     // list closed threads instead of active ones
	Status   Status   // "" any
	Category Category // "" any
	Priority Priority // 0 any
}

// Page is one page of a listing; Next is the store's raw continuation (the
// API seals it into an opaque cursor).
type Page[T any] struct {
	Items []T
	Next  map[string]string
}

// ThreadChange is a conditional update of a thread: it applies only while the
// stored version equals Version, and bumps it.
type ThreadChange struct {
	PracticeID string
	ThreadID   string
	Version    int64
	Set        ThreadRecord // the full new state (keys and version are ignored)
}

// Store is the persistence port of the messaging core (implemented by
// package dynamo). Every method takes the practice id and never returns
// another practice's data. Missing items answer *Error with CodeNotFound.
type Store interface {
	Practice(ctx context.Context, practiceID string) (Practice, error)
	PutPractice(ctx context.Context, p Practice) error
	CurrentAgreement(ctx context.Context, practiceID string) (Agreement, error)
	PutAgreement(ctx context.Context, practiceID, text string, now time.Time) (Agreement, error)
	Consent(ctx context.Context, practiceID, patientID, subject string) (Consent, bool, error)
	PutConsent(ctx context.Context, practiceID string, c Consent) error

	// CreateThread stores the first message then the thread. Both writes are
	// conditional on absence, so a retry with the same ids completes a
	// half-done creation and never duplicates; it answers CodeConflict when
	// the message exists already.
	CreateThread(ctx context.Context, t ThreadRecord, m MessageRecord) error
	// CompleteCreate writes the thread of a creation whose message is stored
	// but whose thread write did not happen (a crash between the two); it is
	// a no-op when the thread exists.
	CompleteCreate(ctx context.Context, t ThreadRecord) error
	// AppendMessage stores m and then applies the thread change; CodeConflict
	// when the message exists already (a retry), or the version moved.
	AppendMessage(ctx context.Context, m MessageRecord, change ThreadChange) error
	UpdateThread(ctx context.Context, change ThreadChange) error
	Thread(ctx context.Context, practiceID, threadID string) (ThreadRecord, error)
	Message(ctx context.Context, practiceID, threadID, messageID string) (MessageRecord, error)
	Messages(ctx context.Context, practiceID, threadID string) ([]MessageRecord, error)
	PatientThreads(ctx context.Context, practiceID, patientID string, after map[string]string, limit int) (Page[ThreadRecord], error)
	Inbox(ctx context.Context, practiceID string, owner Owner, f InboxFilter, after map[string]string, limit int) (Page[ThreadRecord], error)
	PutReadReceipt(ctx context.Context, practiceID, threadID string, r ReadReceipt) error
	ReadReceipts(ctx context.Context, practiceID, threadID string) ([]ReadReceipt, error)
	// MarkDone records that step (e.g. "triage", "notify") handled messageID;
	// it answers false when it was already done (a redelivery).
	MarkDone(ctx context.Context, practiceID, threadID, step, messageID string, ttl time.Duration) (bool, error)
	// ThreadsDue lists active threads of a practice whose due time or page
	// deadline passed before `before` (for the overdue sweep).
	ThreadsDue(ctx context.Context, practiceID string, before time.Time) ([]ThreadRecord, error)
	Practices(ctx context.Context) ([]string, error)
}

// Idempotency is the port for Idempotency-Key records of POST requests.
type Idempotency interface {
	// Begin claims key for a request whose body hashes to hash. It returns the
	// stored response of a completed earlier request with the same key, or
	// CodeIdempotencyMismatch when the body differs, or CodeConflict while
	// another request with the key is still running.
	Begin(ctx context.Context, practiceID, subject, key, hash string, now time.Time) (*StoredResponse, error)
	Complete(ctx context.Context, practiceID, subject, key string, r StoredResponse) error
	Abandon(ctx context.Context, practiceID, subject, key string) error
}

// StoredResponse is a response kept for idempotent retries; it never holds
// patient data (responses to POSTs carry ids and states only).
type StoredResponse struct {
	Status int
	Body   []byte
}

// AuditEvent is one entry of the audit log: who did what to which object,
// when, from where, with what outcome; never content.
type AuditEvent struct {
	PracticeID string
	Actor      string
	ActorRole  Role
	SourceIP   string
	Action     string
	PatientID  string
	Object     string
	Outcome    string // "ok", "denied", "not_found", "error"
	Time       time.Time
}

// AuditLog records audit events (implemented by package auditlog).
type AuditLog interface {
	Record(ctx context.Context, e AuditEvent) error
}

// Event is a queue message between functions. It carries ids only: no
// patient data ever goes into a queue body or attribute.
type Event struct {
	Type       string    `json:"type"` // "message.created", "thread.reply" ...
	PracticeID string    `json:"practiceId"`
	ThreadID   string    `json:"threadId,omitempty"`
	MessageID  string    `json:"messageId,omitempty"`
	At         time.Time `json:"at"`
}

// Publisher sends events to the worker queues (implemented by sqsqueue).
type Publisher interface {
	Publish(ctx context.Context, queue string, e Event) error
}

// Queue names used with Publisher.
const (
	QueueTriage   = "triage"
	QueueNotify   = "notify"
	QueueCampaign = "campaign"
)

// Mail is one e-mail. It must never hold patient data beyond the
// recipient's own address: no names of conditions, medications, results or
// message text (see package notify's templates and their tests).
type Mail struct {
	To      []string
	Subject string
	Text    string
	HTML    string
	Headers map[string]string // e.g. List-Unsubscribe
	Tags    map[string]string // SES message tags (ids only)
}

// Mailer sends e-mail (implemented by sesmail).
type Mailer interface {
	Send(ctx context.Context, m Mail) (messageID string, err error)
}
