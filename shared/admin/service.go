// Package admin is practice administration and onboarding: practice
// settings, staff accounts, patient enrollment (one at a time, by CSV, and
// activation with a single-use code), proxies, and the operator's practice
// management. It depends on the domain ports and on the auth.Directory port;
// the HTTP routes in routes.go are thin.
//
// Every action is authorized here, in the use case, and audited (fail
// closed: no audit, no action). Something of another practice answers
// "not found" exactly like something missing: every store call takes the
// caller's practice id, never one from the request. Patient contact details
// are sealed (messaging.SealPatient); duplicate detection uses an HMAC keyed
// per practice, never a plain hash of patient data. It never logs, and no
// error, e-mail or audit event it writes carries patient data.
package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
	_ "time/tzdata" // practice time zones load in Lambda images without zoneinfo

	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
)

// Store is the persistence the use cases need (implemented by dynamo.Store).
type Store interface {
	Practice(ctx context.Context, practiceID string) (carepost.Practice, error)
	PracticeVersion(ctx context.Context, practiceID string) (carepost.Practice, string, error)
	UpdatePractice(ctx context.Context, p carepost.Practice, version string) error
	CreatePractice(ctx context.Context, p carepost.Practice) error
	Practices(ctx context.Context) ([]string, error)
	CurrentAgreement(ctx context.Context, practiceID string) (carepost.Agreement, error)
	PutAgreement(ctx context.Context, practiceID, text string, now time.Time) (carepost.Agreement, error)
	Agreements(ctx context.Context, practiceID string) ([]carepost.Agreement, error)
	PracticeSecret(ctx context.Context, practiceID, name string) ([]byte, bool, error)
	PutPracticeSecret(ctx context.Context, practiceID, name string, sealed []byte) error

	PutPatient(ctx context.Context, p carepost.PatientRecord) error
	UpdatePatient(ctx context.Context, p carepost.PatientRecord) error
	SetPatientEmailNotifications(ctx context.Context, practiceID, patientID string, on bool) error
	Patient(ctx context.Context, practiceID, patientID string) (carepost.PatientRecord, error)
	PatientByDedupKey(ctx context.Context, practiceID, dedup string) (carepost.PatientRecord, bool, error)
	ListPatients(ctx context.Context, practiceID string, after map[string]string, limit int) (carepost.Page[carepost.PatientRecord], error)
	CountPatients(ctx context.Context, practiceID string) (int, error)

	PutUser(ctx context.Context, u carepost.UserRecord) error
	User(ctx context.Context, practiceID, subject string) (carepost.UserRecord, error)
	Users(ctx context.Context, practiceID string) ([]carepost.UserRecord, error)
	SaveProxy(ctx context.Context, u carepost.UserRecord, link carepost.ProxyLink, remove bool) error
	ProxyLinks(ctx context.Context, practiceID, patientID string) ([]carepost.ProxyLink, error)

	PutActivation(ctx context.Context, a carepost.Activation) error
	ClaimActivationAttempt(ctx context.Context, practiceID, codeHash string, now time.Time, max int) (carepost.Activation, error)
	UseActivation(ctx context.Context, practiceID, codeHash string) error
	LeaseActivation(ctx context.Context, practiceID, codeHash string, now, until time.Time) error
	ReleaseActivation(ctx context.Context, practiceID, codeHash string, until time.Time) error
}

// Limits and lifetimes.
const (
	ActivationTTL         = 7 * 24 * time.Hour // how long an activation code works
	MaxActivationAttempts = 5                  // wrong birth dates before a code is burned
	activationLease       = time.Minute        // one activation in progress per code
	MaxImportRows         = 1000               // rows per import request (the CLI sends chunks)
	schema                = 1                  // sealed layout version, bound into the AAD
)

// Service implements the administration use cases.
type Service struct {
	Store     Store
	Sealer    carepost.Sealer
	Audit     carepost.AuditLog
	Directory auth.Directory // nil: account operations answer unavailable
	Mailer    carepost.Mailer
	// PublicURL is the base of links in e-mails (activation).
	PublicURL string
	// ProviderSendsInvites is true when the identity provider e-mails
	// invitations itself (Cognito): staff and proxy accounts are created
	// without a temporary password. False (the local directory): the service
	// makes a temporary password and e-mails it through Mailer.
	ProviderSendsInvites bool
	Now                  func() time.Time
	NewID                func() string

	mu      sync.Mutex
	secrets map[string][]byte // practice id -> opened duplicate-detection key
}

// New returns a service with the real clock and random ids.
func New(store Store, sealer carepost.Sealer, audit carepost.AuditLog, dir auth.Directory, mailer carepost.Mailer, publicURL string) *Service {
	return &Service{Store: store, Sealer: sealer, Audit: audit, Directory: dir, Mailer: mailer, PublicURL: publicURL, Now: time.Now, NewID: randomHex}
}

func randomHex() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) directory() (auth.Directory, error) {
	if s.Directory == nil {
		return nil, carepost.Errorf(carepost.CodeUnavailable, "no account directory is configured")
	}
	return s.Directory, nil
}

// audit records an event in the caller's practice (or in practiceID for an
// operator acting on a practice); failures fail the request.
func (s *Service) audit(ctx context.Context, p carepost.Principal, practiceID, action, patientID, object, outcome string) error {
	if s.Audit == nil {
		return nil
	}
	if practiceID == "" {
		practiceID = p.PracticeID
	}
	err := s.Audit.Record(ctx, carepost.AuditEvent{
		PracticeID: practiceID, Actor: p.Subject, ActorRole: p.Role, SourceIP: p.SourceIP,
		Action: action, PatientID: patientID, Object: object, Outcome: outcome, Time: s.now(),
	})
	if err != nil {
		return carepost.Unavailable(err, "the audit log")
	}
	return nil
}

// require answers forbidden unless p has one of roles in a practice (the
// operator role needs no practice). A refusal is audited.
func (s *Service) require(ctx context.Context, p carepost.Principal, action string, roles ...carepost.Role) error {
	for _, r := range roles {
		if p.Role == r && (r == carepost.RoleOperator || p.PracticeID != "") {
			return nil
		}
	}
	if err := s.audit(ctx, p, "", action, "", "endpoint/"+action, "denied"); err != nil {
		return err
	}
	return carepost.Errorf(carepost.CodeForbidden, "your role may not do this")
}

// modifyPractice applies fn to the practice's settings and saves them,
// rereading and reapplying when another writer saved in between.
func (s *Service) modifyPractice(ctx context.Context, practiceID string, fn func(*carepost.Practice) error) (carepost.Practice, error) {
	for range 8 {
		p, version, err := s.Store.PracticeVersion(ctx, practiceID)
		if err != nil {
			return p, err
		}
		if err := fn(&p); err != nil {
			return p, err
		}
		p.ID = practiceID
		p.Updated = s.now()
		err = s.Store.UpdatePractice(ctx, p, version)
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			continue
		}
		return p, err
	}
	return carepost.Practice{}, carepost.Errorf(carepost.CodeConflict, "the practice settings are being changed by someone else; retry")
}

// safeID keeps client-supplied ids out of the audit log unless they look
// like ids.
func safeID(id string) string {
	if len(id) == 0 || len(id) > 64 {
		return "invalid"
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return "invalid"
		}
	}
	return id
}
