// Package notify sends the e-mails that say only that something is waiting:
// "you have a new secure message from <practice>" to patients and their
// proxies, "new work in the <pool> inbox" to staff who asked for it, and
// records what SES reports back (bounces, complaints, deliveries).
//
// It must never put patient data in an e-mail (see templates.go), a log line,
// a queue event or an error. Every notification is sent at most once per
// message and recipient (a marker written before sending; a redelivered
// event finds it), at most once per thread and recipient per the practice's
// notification window (a conditional write with a TTL), and never to an
// address that bounced or complained, or to a patient who turned e-mail off.
package notify

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/linkkeys"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/sqsqueue"
)

// Event types on the notify queue.
const (
	EventToPatient = "message.to_patient" // the practice wrote to a patient (messaging publishes it)
	EventNewWork   = "work.new"           // a thread landed in a pool (triage publishes it)
)

// Suppression reasons.
const (
	ReasonUnsubscribed = "unsubscribed" // campaigns only
	ReasonBounced      = "bounced"
	ReasonComplained   = "complained"
)

// Store is what the notifier reads and writes (implemented by dynamo.Store).
type Store interface {
	Practice(ctx context.Context, practiceID string) (carepost.Practice, error)
	Thread(ctx context.Context, practiceID, threadID string) (carepost.ThreadRecord, error)
	Message(ctx context.Context, practiceID, threadID, messageID string) (carepost.MessageRecord, error)
	Patient(ctx context.Context, practiceID, patientID string) (carepost.PatientRecord, error)
	MarkDone(ctx context.Context, practiceID, threadID, step, messageID string, ttl time.Duration) (bool, error)
	UnmarkDone(ctx context.Context, practiceID, threadID, step, messageID string) error
	ClaimNotifyWindow(ctx context.Context, practiceID, threadID, recipient string, now time.Time, window time.Duration) (bool, error)
	ReleaseNotifyWindow(ctx context.Context, practiceID, threadID, recipient string) error
	ClaimPoolWindow(ctx context.Context, practiceID, pool, subject string, now time.Time, window time.Duration) (bool, error)
	Suppression(ctx context.Context, practiceID, addrHash string) ([]string, error)
}

// Proxies lists a patient's proxies (implemented by dynamo.Store).
type Proxies interface {
	ProxyLinks(ctx context.Context, practiceID, patientID string) ([]carepost.ProxyLink, error)
}

// AccountEmail returns the e-mail of an enabled account of the practice; ok
// is false for a disabled, missing or foreign account.
type AccountEmail func(ctx context.Context, practiceID, subject string) (email string, ok bool, err error)

// Notifier handles the notify queue.
type Notifier struct {
	Store     Store
	Proxies   Proxies      // nil: patients only
	Emails    AccountEmail // nil: no proxy or staff e-mails
	Sealer    carepost.Sealer
	Keys      *linkkeys.Keys
	Mailer    carepost.Mailer
	PublicURL string
	Log       *slog.Logger
	Now       func() time.Time
}

// doneTTL keeps per-message markers past any redelivery (SQS keeps
// messages four days).
const doneTTL = 7 * 24 * time.Hour

func (n *Notifier) now() time.Time { return n.Now().UTC() }

// AppLink is where every e-mail sends people: the sign-in page.
func AppLink(publicURL string) string { return strings.TrimRight(publicURL, "/") + "/app" }

// Handle is the SQS handler (partial batch failures): a record fails when
// its e-mail could not be sent for a reason that may pass (it comes back
// after the visibility timeout), or when it is malformed (it ends in the
// dead-letter queue for an operator to look at).
func (n *Notifier) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, rec := range ev.Records {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := n.handleRecord(ctx, rec)
			if err != nil {
				n.Log.Warn("notification failed", "queueMessage", rec.MessageId, "code", carepost.ErrorCode(err), "cause", err.Error())
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return resp, nil
}

func (n *Notifier) handleRecord(ctx context.Context, rec events.SQSMessage) error {
	e, err := sqsqueue.DecodeEvent(rec)
	if err != nil {
		return carepost.Wrap(carepost.CodeInvalid, err, "malformed notify event")
	}
	return n.HandleEvent(ctx, e)
}

// HandleEvent handles one event.
func (n *Notifier) HandleEvent(ctx context.Context, e carepost.Event) error {
	switch e.Type {
	case EventToPatient:
		return n.toPatient(ctx, e)
	case EventNewWork:
		return n.toPool(ctx, e)
	}
	n.Log.Warn("unknown notify event type; dropped", "type", e.Type)
	return nil
}

// recipient is one address to notify; Key names it in markers and windows
// (never the address).
type recipient struct {
	Key       string
	Email     string
	PatientID string
	Subject   string
}

func (n *Notifier) toPatient(ctx context.Context, e carepost.Event) error {
	t, err := n.Store.Thread(ctx, e.PracticeID, e.ThreadID)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		n.Log.Warn("notify: thread not found; dropped", "practice", e.PracticeID, "thread", e.ThreadID)
		return nil
	}
	if err != nil {
		return err
	}
	m, err := n.Store.Message(ctx, e.PracticeID, e.ThreadID, e.MessageID)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		n.Log.Warn("notify: message not found; dropped", "practice", e.PracticeID, "thread", e.ThreadID, "message", e.MessageID)
		return nil
	}
	if err != nil {
		return err
	}
	// Automatic acknowledgements and away notes answer the patient's own
	// message, which they just sent: no e-mail for those.
	if m.Kind != carepost.KindStaff && m.Kind != carepost.KindRetraction {
		return nil
	}
	practice, err := n.Store.Practice(ctx, e.PracticeID)
	if err != nil {
		return err
	}
	rcpts, err := n.patientRecipients(ctx, practice, t)
	if err != nil {
		return err
	}
	window := time.Duration(practice.NotificationWindowMinutes) * time.Minute
	subject, text := MessageWaiting.Render(map[string]string{"practiceName": practice.Name, "link": AppLink(n.PublicURL)})
	var firstErr error
	for _, r := range rcpts {
		mail := carepost.Mail{To: []string{r.Email}, Subject: subject, Text: text, Tags: tags("notify", practice.ID, r)}
		if err := n.deliver(ctx, practice.ID, t.ID, m.ID, r, window, mail); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

func tags(kind, pid string, r recipient) map[string]string {
	t := map[string]string{"kind": kind, "practice": pid}
	if r.PatientID != "" {
		t["patient"] = r.PatientID
	}
	return t
}

// patientRecipients are the patient (when they want e-mail and their
// address works) and the proxies who may read the thread.
func (n *Notifier) patientRecipients(ctx context.Context, practice carepost.Practice, t carepost.ThreadRecord) ([]recipient, error) {
	var out []recipient
	rec, err := n.Store.Patient(ctx, practice.ID, t.PatientID)
	switch {
	case carepost.ErrorCode(err) == carepost.CodeNotFound:
		n.Log.Info("notify: patient has no profile; no e-mail", "practice", practice.ID, "thread", t.ID)
	case err != nil:
		return nil, err
	case rec.Status != "disabled" && rec.EmailNotifications && rec.EmailProblem == "":
		p, err := messaging.OpenPatient(ctx, n.Sealer, rec)
		if err != nil {
			return nil, err
		}
		if p.Contact.Email != "" {
			ok, err := n.deliverable(ctx, practice.ID, p.Contact.Email)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, recipient{Key: "patient", Email: p.Contact.Email, PatientID: t.PatientID})
			}
		}
	}
	if n.Proxies == nil || n.Emails == nil || t.Confidential {
		return out, nil
	}
	links, err := n.Proxies.ProxyLinks(ctx, practice.ID, t.PatientID)
	if err != nil {
		return nil, err
	}
	now := n.now()
	for _, l := range links {
		if !l.Scope.Read || !l.Scope.AllowsCategory(t.Category) || (!l.Expires.IsZero() && !now.Before(l.Expires)) {
			continue
		}
		email, ok, err := n.Emails(ctx, practice.ID, l.Subject)
		if err != nil {
			return nil, err
		}
		if !ok || email == "" {
			continue
		}
		if ok, err := n.deliverable(ctx, practice.ID, email); err != nil {
			return nil, err
		} else if ok {
			out = append(out, recipient{Key: "proxy-" + l.Subject, Email: email, Subject: l.Subject})
		}
	}
	return out, nil
}

// deliverable reports whether an address has not bounced or complained
// (an unsubscribe from campaigns does not stop clinical notices).
func (n *Notifier) deliverable(ctx context.Context, pid, email string) (bool, error) {
	h, err := n.Keys.AddressHash(ctx, pid, email)
	if err != nil {
		return false, err
	}
	reasons, err := n.Store.Suppression(ctx, pid, h)
	if err != nil {
		return false, err
	}
	return !slices.Contains(reasons, ReasonBounced) && !slices.Contains(reasons, ReasonComplained), nil
}

// deliver sends one notice at most once per (message, recipient) and at
// most once per (thread, recipient) per window. The marker is written
// before the e-mail: if the process dies between the two, that one notice
// is lost, never doubled. If sending fails, marker and window are released
// so the redelivered event tries again.
func (n *Notifier) deliver(ctx context.Context, pid, tid, mid string, r recipient, window time.Duration, mail carepost.Mail) error {
	step := "notify-" + r.Key
	first, err := n.Store.MarkDone(ctx, pid, tid, step, mid, doneTTL)
	if err != nil || !first {
		return err
	}
	if window > 0 {
		ok, err := n.Store.ClaimNotifyWindow(ctx, pid, tid, r.Key, n.now(), window)
		if err != nil {
			_ = n.Store.UnmarkDone(context.WithoutCancel(ctx), pid, tid, step, mid)
			return err
		}
		if !ok {
			return nil // a notice for this thread went out recently: one is enough
		}
	}
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := n.Mailer.Send(sendCtx, mail); err != nil {
		if window > 0 {
			_ = n.Store.ReleaseNotifyWindow(sendCtx, pid, tid, r.Key)
		}
		_ = n.Store.UnmarkDone(sendCtx, pid, tid, step, mid)
		if !carepost.IsTransient(err) {
			// A rejected address will not work on retry either.
			n.Log.Warn("notify: e-mail rejected; not retried", "practice", pid, "thread", tid, "code", carepost.ErrorCode(err))
			return nil
		}
		return err
	}
	return nil
}

func (n *Notifier) toPool(ctx context.Context, e carepost.Event) error {
	t, err := n.Store.Thread(ctx, e.PracticeID, e.ThreadID)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	pool, ok := t.Owner.Pool()
	if !ok {
		return nil
	}
	practice, err := n.Store.Practice(ctx, e.PracticeID)
	if err != nil {
		return err
	}
	if !slices.Contains(practice.NotifyPools, pool) {
		return nil
	}
	marker := e.MessageID
	if marker == "" {
		marker = "thread"
	}
	return n.MailPool(ctx, practice, pool, WorkWaiting, map[string]string{"pool": pool, "practiceName": practice.Name, "link": AppLink(n.PublicURL)},
		func(sub string) (bool, error) {
			first, err := n.Store.MarkDone(ctx, practice.ID, t.ID, "notify-staff-"+sub, marker, doneTTL)
			if err != nil || !first {
				return false, err
			}
			window := time.Duration(practice.NotificationWindowMinutes) * time.Minute
			if window <= 0 {
				return true, nil
			}
			return n.Store.ClaimPoolWindow(ctx, practice.ID, pool, sub, n.now(), window)
		})
}

// MailPool e-mails tmpl to every enabled member of pool; claim (optional)
// decides per member whether to send (markers, windows).
func (n *Notifier) MailPool(ctx context.Context, practice carepost.Practice, pool string, tmpl Template, vars map[string]string, claim func(sub string) (bool, error)) error {
	if n.Emails == nil {
		n.Log.Warn("notify: no account directory; staff e-mail skipped", "practice", practice.ID, "pool", pool)
		return nil
	}
	var members []string
	for _, p := range practice.Pools {
		if p.Name == pool {
			members = p.Members
		}
	}
	subject, text := tmpl.Render(vars)
	var firstErr error
	for _, sub := range members {
		email, ok, err := n.Emails(ctx, practice.ID, sub)
		if err != nil {
			firstErr = err
			continue
		}
		if !ok || email == "" {
			continue
		}
		if claim != nil {
			go1, err := claim(sub)
			if err != nil {
				firstErr = err
				continue
			}
			if !go1 {
				continue
			}
		}
		if _, err := n.Mailer.Send(ctx, carepost.Mail{To: []string{email}, Subject: subject, Text: text, Tags: map[string]string{"kind": strings.ReplaceAll(tmpl.Name, ".", "-"), "practice": practice.ID}}); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}
