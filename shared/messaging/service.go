// Package messaging is the messaging core's use cases: open a thread, reply,
// retract and correct, read, list, work the inbox (claim, assign, forward,
// close, reopen), consent. It depends only on the domain ports (Store,
// Sealer, AuditLog, Publisher) and on the pure rule packages (forms, urgent).
//
// Authorization lives here, in the data access itself: every read goes
// through visibleThread, which answers "not found" for anything the principal
// may not see, exactly like something missing. Every read, write and denied
// access writes an audit event; if the audit log cannot be written the
// request fails (fail closed).
//
// It never logs, and never puts patient data in errors, queue events or
// audit events.
package messaging

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/urgent"
)

// Limits on input (also in the OpenAPI document).
const (
	MaxSubject   = 120
	MaxBody      = 10000
	DefaultLimit = 25
	MaxLimit     = 100
	schema       = 1 // version of the sealed record layout, bound into the AAD
)

// Service implements the messaging use cases.
type Service struct {
	Store     carepost.Store
	Sealer    carepost.Sealer
	Audit     carepost.AuditLog
	Publisher carepost.Publisher
	Now       func() time.Time
	NewID     func() string
	// Attachments, when set, links a sender's uploaded files to the next
	// message they write in the thread (see records.go).
	Attachments AttachmentLinker
	// Patients is the practice's patient registry: staff open threads only
	// toward patients registered in their practice. New takes it from the
	// store when the store is one (package dynamo's is); without it staff
	// cannot open threads (fail closed).
	Patients PatientRegistry

	mu       sync.Mutex
	checkers map[string]checkerEntry // practice id -> compiled urgent rules
}

type checkerEntry struct {
	terms string
	c     *urgent.Checker
}

// New returns a service with the real clock and random ids.
func New(store carepost.Store, sealer carepost.Sealer, audit carepost.AuditLog, pub carepost.Publisher) *Service {
	s := &Service{Store: store, Sealer: sealer, Audit: audit, Publisher: pub, Now: time.Now, NewID: RandomID}
	if reg, ok := store.(PatientRegistry); ok {
		s.Patients = reg
	}
	return s
}

// RandomID returns a 128-bit random id in hex.
func RandomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// derivedID makes the id of something created under an Idempotency-Key, so
// a retry after a crash targets the same item and cannot duplicate it.
func derivedID(kind, practiceID, subject, key string) string {
	h := sha256.Sum256([]byte(kind + "\x00" + practiceID + "\x00" + subject + "\x00" + key))
	return hex.EncodeToString(h[:16])
}

// Request carries what the transport knows about one call.
type Request struct {
	Principal      carepost.Principal
	IdempotencyKey string // "" when the client sent none
	RequestHash    string // sha256 of method, path and body
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) checker(p carepost.Practice) (*urgent.Checker, error) {
	terms := ""
	for _, t := range p.UrgentTerms {
		terms += t + "\x00"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.checkers[p.ID]; ok && e.terms == terms {
		return e.c, nil
	}
	c, err := urgent.New(p.UrgentTerms)
	if err != nil {
		// A bad practice term (saved before a rule change: settings refuse
		// them) must not switch the safety check off, nor the practice's
		// other terms: keep the built-in rules and every term that is
		// valid on its own.
		var good []string
		for _, t := range p.UrgentTerms {
			if _, terr := urgent.New([]string{t}); terr == nil {
				good = append(good, t)
			}
		}
		if c, err = urgent.New(good); err != nil {
			if c, err = urgent.New(nil); err != nil {
				return nil, err
			}
		}
	}
	if s.checkers == nil {
		s.checkers = map[string]checkerEntry{}
	}
	s.checkers[p.ID] = checkerEntry{terms: terms, c: c}
	return c, nil
}

// audit records an event; failures fail the request.
func (s *Service) audit(ctx context.Context, p carepost.Principal, action, patientID, object, outcome string) error {
	if s.Audit == nil {
		return nil
	}
	err := s.Audit.Record(ctx, carepost.AuditEvent{
		PracticeID: p.PracticeID, Actor: p.Subject, ActorRole: p.Role, SourceIP: p.SourceIP,
		Action: action, PatientID: patientID, Object: object, Outcome: outcome, Time: s.now(),
	})
	if err != nil {
		return carepost.Unavailable(err, "the audit log")
	}
	return nil
}
