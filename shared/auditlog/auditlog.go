// Package auditlog is the tamper-evident audit log of CarePost: one event for
// every read, write, export and denied access to patient data (who, with what
// role, from where, which action on which object ids, when, with what
// outcome), stored in the single DynamoDB table and hash-chained per practice
// so that a changed, deleted or reordered event is detected by Verify.
//
// It must never store content. Events carry object ids ("thread/<tid>"), never
// message text, subjects, form payloads or contact details; Record rejects an
// Action or Object that contains whitespace or is longer than 200 bytes, which
// keeps free text out by construction. Error messages never echo field
// values, so no patient data reaches a log through this package.
//
// # Storage
//
// Each practice has one chain, in one partition (see docs/data-model.md):
//
//	pk     PRAC#{pid}#AUDIT
//	sk     SEQ#{seq:012d}                       seq = 1, 2, 3, ... without gaps
//	gsi1pk PRAC#{pid}#PATAUDIT#{patid}          only when the event names a patient
//	gsi1sk {time 20060102T150405.000000000Z}#{seq:012d}
//
// Appending takes one PutItem and no head item or transaction: the writer
// reads the newest event with a strongly consistent Query (Limit 1, newest
// first), then puts seq+1 on condition attribute_not_exists(pk). Two writers
// racing for the same seq cannot both win, so the chain never forks. The
// loser learns the winner's event from the failed put itself
// (ReturnValuesOnConditionCheckFailure ALL_OLD) and retries on top of it;
// every fourth loss it backs off with jitter and re-reads instead. Inside one
// process appends to a practice are serialised and the last (seq, hash) is
// cached, so the read is skipped while this process is the only writer. When
// a put on the cached head fails, another process writes to the chain too:
// the log reads first (a read unit is cheaper than a lost put) until a read
// shows that this process wrote last again.
//
// Cost: an event is 330–590 bytes, one write unit in the table, plus one in
// gsi1 (ALL projection) when it names a patient; a lost race costs one more
// unit. Append is at-least-once: if a put times out after DynamoDB stored it,
// the retry appends the event again under the next seq.
//
// # Chain
//
// Hash(n) = SHA-256 over a canonical encoding of event n that includes
// Hash(n-1) as Prev (the first event's Prev is 64 zeros). The encoding is a
// fixed domain tag followed by every field as an 8-byte big-endian length and
// its bytes, in a fixed order: practice, seq (8-byte big-endian), time (UTC
// Unix nanoseconds, 8-byte big-endian), actor, role, source IP, action,
// patient, object, outcome, prev. Length prefixes make the encoding
// unambiguous ("ab"+"c" and "a"+"bc" hash differently).
//
// The chain proves integrity relative to its newest event. Someone with write
// access to the table can still drop the newest events, or rewrite a whole
// tail with fresh hashes; to catch that, compare VerifyReport.Head with a copy
// of the head kept outside the table (for example one written periodically to
// an object-locked bucket or a log).
package auditlog

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/carepost/carepost/shared/carepost"
)

// Outcome is how the audited access ended.
type Outcome string

// The outcomes an event may carry.
const (
	OutcomeOK       Outcome = "ok"
	OutcomeDenied   Outcome = "denied"
	OutcomeNotFound Outcome = "not_found"
	OutcomeError    Outcome = "error"
)

// Valid reports whether o is one of the known outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeOK, OutcomeDenied, OutcomeNotFound, OutcomeError:
		return true
	}
	return false
}

// Event is one audit record. Seq, Prev and Hash are assigned by Record (any
// values passed in are ignored), and so is Time when it is zero.
type Event struct {
	PracticeID string
	Seq        int64
	Time       time.Time
	Actor      string // the principal's subject
	ActorRole  string
	SourceIP   string
	Action     string // "thread.read", "thread.create", "message.create", "thread.export", "audit.read", "consent.accept", "login", ...
	PatientID  string // whose data was accessed, "" when none
	Object     string // object ids only: "thread/<tid>", "thread/<tid>/message/<mid>"
	Outcome    Outcome
	Prev       string // hex SHA-256 of the previous event, Genesis for seq 1
	Hash       string // hex SHA-256 of this event
}

// Genesis is the Prev of the first event of every chain.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Limits on event fields.
const (
	// MaxFieldLen bounds every string field in bytes. 200 is room for any
	// id path this product builds ("thread/<ulid>/message/<ulid>" is 66);
	// real events stay below DynamoDB's 1 KB write unit (TestItemSize),
	// and one with every field at the limit would take two.
	MaxFieldLen = 200
	// MaxAppendAttempts bounds the conditional puts of one Record. Each lost
	// race means another writer appended, so the chain is making progress;
	// a writer with a queue of events tends to keep winning, so under
	// overload (TestConcurrentRecords: 20 writers in 4 processes appending
	// back to back) losers needed up to 41 attempts, and with a bound of 20
	// up to 9 of 200 Records gave up. At a practice's real pace one
	// attempt is the norm (Stats.MostAttempts tells).
	MaxAppendAttempts = 64
)

// DB is the subset of *dynamodb.Client the log uses.
type DB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Log appends to and reads the audit chains in one table. It is safe for
// concurrent use; build one per process and share it.
type Log struct {
	db    DB
	table string
	now   func() time.Time

	mu     sync.Mutex
	chains map[string]*chainHead // by practice id

	appends, headReads, conflicts, mostAttempts atomic.Int64
}

// chainHead serialises this process's appends to one practice's chain and
// remembers the last event this process wrote or read.
type chainHead struct {
	turn    chan struct{} // capacity 1: holding a value means appending
	known   bool          // seq and hash are the newest event as far as we know
	seq     int64
	hash    string
	trusted bool  // append on the remembered head without reading first
	lastOwn int64 // seq of the last event this process appended
}

// New returns a log writing to table through db.
func New(db DB, table string) *Log {
	return &Log{db: db, table: table, now: time.Now, chains: map[string]*chainHead{}}
}

func (l *Log) head(practiceID string) *chainHead {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.chains[practiceID]
	if h == nil {
		h = &chainHead{turn: make(chan struct{}, 1), trusted: true}
		l.chains[practiceID] = h
	}
	return h
}

// validate checks an event before it is hashed and stored. Messages name the
// field, never its value.
func validate(e *Event) error {
	if err := checkID("practice_id", e.PracticeID, true); err != nil {
		return err
	}
	if err := checkID("patient_id", e.PatientID, false); err != nil {
		return err
	}
	for _, f := range []struct {
		name, value string
		required    bool
	}{
		{"action", e.Action, true},
		{"object", e.Object, false},
	} {
		if f.required && f.value == "" {
			return carepost.FieldError(carepost.CodeInvalid, f.name, "audit event %s is required", f.name)
		}
		if len(f.value) > MaxFieldLen {
			return carepost.FieldError(carepost.CodeInvalid, f.name, "audit event %s is longer than %d bytes", f.name, MaxFieldLen)
		}
		if strings.IndexFunc(f.value, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 || !utf8.ValidString(f.value) {
			return carepost.FieldError(carepost.CodeInvalid, f.name, "audit event %s must be ids only: no whitespace or control characters", f.name)
		}
	}
	for _, f := range []struct{ name, value string }{
		{"actor", e.Actor}, {"actor_role", e.ActorRole}, {"source_ip", e.SourceIP},
	} {
		if len(f.value) > MaxFieldLen {
			return carepost.FieldError(carepost.CodeInvalid, f.name, "audit event %s is longer than %d bytes", f.name, MaxFieldLen)
		}
		if strings.IndexFunc(f.value, unicode.IsControl) >= 0 || !utf8.ValidString(f.value) {
			return carepost.FieldError(carepost.CodeInvalid, f.name, "audit event %s must not contain control characters", f.name)
		}
	}
	if !e.Outcome.Valid() {
		return carepost.FieldError(carepost.CodeInvalid, "outcome", "audit event outcome must be ok, denied, not_found or error")
	}
	if y := e.Time.Year(); y < 1970 || y > 2261 {
		return carepost.FieldError(carepost.CodeInvalid, "time", "audit event time is out of range")
	}
	return nil
}

// checkID accepts a key component: printable, no '#' (the key separator), no
// whitespace, at most MaxFieldLen bytes.
func checkID(name, v string, required bool) error {
	if v == "" {
		if required {
			return carepost.FieldError(carepost.CodeInvalid, name, "audit event %s is required", name)
		}
		return nil
	}
	if len(v) > MaxFieldLen || !utf8.ValidString(v) ||
		strings.IndexFunc(v, func(r rune) bool { return r == '#' || unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return carepost.FieldError(carepost.CodeInvalid, name, "audit event %s is not a valid id", name)
	}
	return nil
}
