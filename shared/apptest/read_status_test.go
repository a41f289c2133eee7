package apptest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
)

// TestReadStatusBothWays: the patient marking a thread read leaves a
// receipt (who, which message, when) that the practice sees, and a nurse
// marking it read leaves one the patient sees. A receipt only moves
// forward, and names only a message of that thread.
func TestReadStatusBothWays(t *testing.T) {
	h := apptest.New(t)
	clk := withClock(t, h, "2026-03-03 10:00")
	h.Accept(t, "patient")
	patientSub, nurseSub := h.Subject(t, "patient"), h.Subject(t, "nurse")
	op := h.Open(t, "patient", map[string]any{"category": "question", "subject": "knee", "body": "my knee hurts"})

	if d := readThread(t, h, "nurse", op.ThreadID); len(d.Reads) != 0 {
		t.Fatalf("a new thread has read receipts: %+v", d.Reads)
	}

	// The nurse answers; the patient reads the answer (no message named:
	// the thread's last message).
	clk.Advance(10 * time.Minute)
	answer := post(t, h, "nurse", "/v1/threads/"+op.ThreadID+"/messages", map[string]any{"body": "rest it for a week"})
	clk.Advance(20 * time.Minute)
	patientReadAt := clk.Now()
	var rr readReceipt
	h.Must(t, h.TokenFor(t, "patient"), "POST", "/v1/threads/"+op.ThreadID+"/read", nil, http.StatusOK, &rr)
	want := readReceipt{Subject: patientSub, Role: "patient", MessageID: answer.Message.ID, At: patientReadAt}
	if !receiptEqual(rr, want) {
		t.Errorf("patient's mark-read answered %+v, want %+v", rr, want)
	}
	staffView := readThread(t, h, "nurse", op.ThreadID)
	if got, ok := staffView.receipt(patientSub); !ok || !receiptEqual(got, want) {
		t.Errorf("the practice sees the patient's receipt as %+v (found %v), want %+v", got, ok, want)
	}
	if _, ok := staffView.receipt(nurseSub); ok {
		t.Error("reading a thread (GET) left a receipt for the nurse; only marking read should")
	}

	// The patient writes again; the nurse marks that message read.
	clk.Advance(time.Hour)
	followUp := post(t, h, "patient", "/v1/threads/"+op.ThreadID+"/messages", map[string]any{"body": "it is swollen now"})
	clk.Advance(5 * time.Minute)
	nurseReadAt := clk.Now()
	h.Must(t, h.TokenFor(t, "nurse"), "POST", "/v1/threads/"+op.ThreadID+"/read", map[string]any{"messageId": followUp.Message.ID}, http.StatusOK, &rr)
	wantNurse := readReceipt{Subject: nurseSub, Role: "nurse", MessageID: followUp.Message.ID, At: nurseReadAt}
	if !receiptEqual(rr, wantNurse) {
		t.Errorf("nurse's mark-read answered %+v, want %+v", rr, wantNurse)
	}
	patientView := readThread(t, h, "patient", op.ThreadID)
	if got, ok := patientView.receipt(nurseSub); !ok || !receiptEqual(got, wantNurse) {
		t.Errorf("the patient sees the nurse's receipt as %+v (found %v), want %+v", got, ok, wantNurse)
	}
	if got, ok := patientView.receipt(patientSub); !ok || !receiptEqual(got, want) {
		t.Errorf("the patient's own receipt moved: %+v (found %v), want %+v", got, ok, want)
	}
	if got := len(patientView.Reads); got != 2 {
		t.Errorf("%d receipts, want 2 (one per reader): %+v", got, patientView.Reads)
	}

	// A stale page marking an older message read does not move the
	// receipt back.
	clk.Advance(time.Minute)
	h.Must(t, h.TokenFor(t, "nurse"), "POST", "/v1/threads/"+op.ThreadID+"/read", map[string]any{"messageId": op.MessageID}, http.StatusOK, &rr)
	if !receiptEqual(rr, wantNurse) {
		t.Errorf("marking an older message read answered %+v, want the later receipt %+v", rr, wantNurse)
	}
	if got, _ := readThread(t, h, "patient", op.ThreadID).receipt(nurseSub); !receiptEqual(got, wantNurse) {
		t.Errorf("marking an older message read moved the receipt back to %+v", got)
	}

	// Only a message of this thread can be marked read.
	other := h.Open(t, "patient", map[string]any{"category": "question", "subject": "other", "body": "another question"})
	for _, mid := range []string{other.MessageID, strings.Repeat("0", 32)} {
		st, b := h.Do(t, h.TokenFor(t, "nurse"), "POST", "/v1/threads/"+op.ThreadID+"/read", map[string]any{"messageId": mid}, nil)
		if code, _, _ := apptest.ErrorOf(t, b); st != http.StatusNotFound || code != "not_found" {
			t.Errorf("marking message %s read: %d %s, want 404 not_found", mid, st, b)
		}
	}
	if got, _ := readThread(t, h, "patient", op.ThreadID).receipt(nurseSub); !receiptEqual(got, wantNurse) {
		t.Errorf("refused mark-reads changed the receipt to %+v", got)
	}
}

func receiptEqual(a, b readReceipt) bool {
	return a.Subject == b.Subject && a.Role == b.Role && a.MessageID == b.MessageID && a.At.Equal(b.At)
}
