// Package triage is what happens to a patient message after it is stored:
// the SQS-fed triage worker (routing, priority, due time in business hours,
// the automatic acknowledgement, away notes, on-call pages), the scheduled
// sweep (overdue threads, unacknowledged pages, lost triage events, return
// digests) and the staff use cases around them (acknowledge a page, set an
// absence).
//
// Every step is idempotent on the domain message id, so a redelivered queue
// message or a second sweep never posts a second acknowledgement or sends a
// second e-mail for the same step:
//
//   - thread changes are conditional on the thread's version;
//   - system notes have ids derived from the message that caused them, and
//     message writes are conditional on absence;
//   - each e-mail is claimed with a marker (Store.MarkDone) before it is
//     sent and released (UnmarkDone) when sending fails, so a retry sends it.
//
// E-mails carry no health detail: no subject, text, category, patient name
// or anything else from the thread, only a link into the app (their tests
// check this). Logs carry ids and error codes only.
package triage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

// Store is what triage needs of the persistence adapter (package dynamo).
type Store interface {
	carepost.Store
	UnmarkDone(ctx context.Context, practiceID, threadID, step, messageID string) error
	AddCovered(ctx context.Context, practiceID, clinician string, from time.Time, threadID string) error
	Covered(ctx context.Context, practiceID, clinician string, from time.Time) ([]string, error)
	MarkDigest(ctx context.Context, practiceID, clinician string, from time.Time) (bool, error)
	UnmarkDigest(ctx context.Context, practiceID, clinician string, from time.Time) error
	PracticeVersion(ctx context.Context, practiceID string) (carepost.Practice, string, error)
	UpdatePractice(ctx context.Context, p carepost.Practice, version string) error
}

// Tunables. They are constants rather than settings until a practice asks.
const (
	// DefaultTurnaroundHours applies to a category without a target.
	DefaultTurnaroundHours = 8
	// DefaultPageAckMinutes applies when a practice has no page deadline.
	DefaultPageAckMinutes = 15
	// EscalateEvery is the business time between overdue escalation steps.
	EscalateEvery = time.Hour
	// RepublishAfter is how long a thread may stay untriaged before the
	// sweep assumes its queue event was lost and sends it again.
	RepublishAfter = 2 * time.Minute
	// markerTTL keeps idempotency markers well past any redelivery.
	markerTTL = 30 * 24 * time.Hour
)

// Service runs triage, the sweep and the page and absence use cases.
type Service struct {
	Store     Store
	Messaging *messaging.Service // sealing and visibility of threads
	Mailer    carepost.Mailer
	Publisher carepost.Publisher
	// AppURL is the base of links in e-mails (config PublicURL).
	AppURL string
	Now    func() time.Time
	Log    *slog.Logger
	// Metrics, when set, receives one line per sweep in CloudWatch
	// embedded metric format (Lambda's stdout), with MetricTable as the
	// Table dimension.
	Metrics     io.Writer
	MetricTable string
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// derivedID makes the id of a note caused by message mid, so a retry writes
// the same item.
func derivedID(kind, practiceID, threadID, mid string) string {
	h := sha256.Sum256([]byte("triage\x00" + kind + "\x00" + practiceID + "\x00" + threadID + "\x00" + mid))
	return hex.EncodeToString(h[:16])
}

// threadLink is the staff app's address of a thread: ids only.
func (s *Service) threadLink(threadID string) string {
	return strings.TrimRight(s.AppURL, "/") + "/app/threads/" + threadID
}

func (s *Service) inboxLink() string {
	return strings.TrimRight(s.AppURL, "/") + "/app/inbox"
}
