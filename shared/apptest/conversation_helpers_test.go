package apptest_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/auditlog"
)

// Helpers of the behaviour tests (inbox, read status, retraction,
// reopening, consent, denied access): a settable clock and decoders of the answers the tests look into.

// withClock makes the messaging service and triage read the time from a
// clock set to at (New York wall time, "2006-01-02 15:04").
func withClock(t *testing.T, h *apptest.Harness, at string) *apptest.Clock {
	t.Helper()
	c := apptest.NewClock(apptest.NewYork(t, at))
	h.App.Messaging.Now = c.Now
	h.App.Triage.Now = c.Now
	h.App.Triage.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return c
}

// threadView is a thread as listed or read.
type threadView struct {
	ID           string     `json:"id"`
	PatientID    string     `json:"patientId"`
	Category     string     `json:"category"`
	Subject      string     `json:"subject"`
	Status       string     `json:"status"`
	Owner        string     `json:"owner"`
	Priority     string     `json:"priority"`
	Urgent       bool       `json:"urgent"`
	Due          *time.Time `json:"due"`
	MessageCount int        `json:"messageCount"`
}

type messageView struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	SenderID       string    `json:"senderId"`
	SenderRole     string    `json:"senderRole"`
	Sent           time.Time `json:"sent"`
	Body           string    `json:"body"`
	Retracts       string    `json:"retracts"`
	RetractedBy    string    `json:"retractedBy"`
	ConsentVersion int       `json:"consentVersion"`
}

type readReceipt struct {
	Subject   string    `json:"subject"`
	Role      string    `json:"role"`
	MessageID string    `json:"messageId"`
	At        time.Time `json:"at"`
}

type threadDetail struct {
	Thread   threadView    `json:"thread"`
	Messages []messageView `json:"messages"`
	Reads    []readReceipt `json:"reads"`
}

// readThread reads a thread over HTTP as the user called name.
func readThread(t *testing.T, h *apptest.Harness, name, id string) threadDetail {
	t.Helper()
	var d threadDetail
	h.Must(t, h.TokenFor(t, name), "GET", "/v1/threads/"+id, nil, http.StatusOK, &d)
	return d
}

func (d threadDetail) message(id string) (messageView, bool) {
	for _, m := range d.Messages {
		if m.ID == id {
			return m, true
		}
	}
	return messageView{}, false
}

func (d threadDetail) receipt(subject string) (readReceipt, bool) {
	for _, r := range d.Reads {
		if r.Subject == subject {
			return r, true
		}
	}
	return readReceipt{}, false
}

// postResult is what message-creating calls answer.
type postResult struct {
	Thread struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Owner  string `json:"owner"`
	} `json:"thread"`
	Message struct {
		ID   string    `json:"id"`
		Sent time.Time `json:"sent"`
	} `json:"message"`
}

// post sends a message-creating request and decodes the answer.
func post(t *testing.T, h *apptest.Harness, name, path string, body any) postResult {
	t.Helper()
	var res postResult
	h.Must(t, h.TokenFor(t, name), "POST", path, body, http.StatusCreated, &res)
	return res
}

// auditEvents returns every event of a practice's audit chain.
func auditEvents(t *testing.T, h *apptest.Harness, practiceID string) []auditlog.Event {
	t.Helper()
	var all []auditlog.Event
	for from := int64(1); ; {
		page, err := h.App.AuditLog.List(context.Background(), practiceID, from, auditlog.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < auditlog.MaxLimit {
			return all
		}
		from = page[len(page)-1].Seq + 1
	}
}

// findAudit returns the events by actor with that action and outcome.
func findAudit(events []auditlog.Event, actor, action, outcome string) []auditlog.Event {
	var out []auditlog.Event
	for _, e := range events {
		if e.Actor == actor && e.Action == action && string(e.Outcome) == outcome {
			out = append(out, e)
		}
	}
	return out
}
