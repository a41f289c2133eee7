package apptest_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
)

// TestRetractAndCorrect: a patient retracts their own last message with a
// correction. The original stays, byte for byte, and is marked retracted;
// the correction is a new message. Retracting someone else's message is
// 403 (and audited as denied), a message that is no longer the last 409, a
// message that does not exist 404; refusals write nothing.
func TestRetractAndCorrect(t *testing.T) {
	h := apptest.New(t)
	h.Accept(t, "patient")
	h.Accept(t, "proxy")
	op := h.Open(t, "patient", map[string]any{"category": "question", "subject": "knee", "body": "my left knee hurts"})
	// Triage posts its acknowledgement: a system note after the patient's
	// message, which must not stand in the way of the correction.
	if got := h.Drain(t, "triage"); got != 1 {
		t.Fatalf("triage handled %d events, want 1", got)
	}
	pk := apptest.ThreadPK(apptest.PracticeA, op.ThreadID)
	original := h.GetItem(t, pk, apptest.MessageSK(op.MessageID))
	if original == nil {
		t.Fatal("the first message is not stored")
	}
	before := readThread(t, h, "patient", op.ThreadID)

	fix := post(t, h, "patient", "/v1/threads/"+op.ThreadID+"/messages/"+op.MessageID+"/retract", map[string]any{"body": "sorry: my right knee"})
	if fix.Message.ID == "" || fix.Message.ID == op.MessageID {
		t.Fatalf("the correction's id is %q; want a new message", fix.Message.ID)
	}
	if got := h.GetItem(t, pk, apptest.MessageSK(op.MessageID)); !reflect.DeepEqual(got, original) {
		t.Errorf("the retracted message's stored item changed:\nbefore %v\nafter  %v", original, got)
	}
	for _, name := range []string{"patient", "nurse"} {
		d := readThread(t, h, name, op.ThreadID)
		if got, want := len(d.Messages), len(before.Messages)+1; got != want {
			t.Errorf("%s sees %d messages, want %d", name, got, want)
		}
		orig, ok := d.message(op.MessageID)
		if !ok || orig.Body != "my left knee hurts" || orig.Kind != "patient" || orig.RetractedBy != fix.Message.ID || orig.Retracts != "" {
			t.Errorf("%s sees the original as %+v (found %v); want its text, kind patient, retractedBy %s", name, orig, ok, fix.Message.ID)
		}
		corr, ok := d.message(fix.Message.ID)
		if !ok || corr.Body != "sorry: my right knee" || corr.Kind != "retraction" || corr.Retracts != op.MessageID ||
			corr.SenderID != h.Subject(t, "patient") || corr.ConsentVersion != 1 || corr.RetractedBy != "" {
			t.Errorf("%s sees the correction as %+v (found %v); want kind retraction retracting %s, sent by the patient, consent 1", name, corr, ok, op.MessageID)
		}
		if d.Thread.MessageCount != before.Thread.MessageCount+1 {
			t.Errorf("%s: thread counts %d messages, want %d", name, d.Thread.MessageCount, before.Thread.MessageCount+1)
		}
	}

	// Refusals.
	answer := post(t, h, "nurse", "/v1/threads/"+op.ThreadID+"/messages", map[string]any{"body": "rest it"})
	mine := post(t, h, "patient", "/v1/threads/"+op.ThreadID+"/messages", map[string]any{"body": "thank you"})
	post(t, h, "patient", "/v1/threads/"+op.ThreadID+"/messages", map[string]any{"body": "one more thing"})
	last := post(t, h, "nurse", "/v1/threads/"+op.ThreadID+"/messages", map[string]any{"body": "go ahead"})
	retract := func(mid string) string { return "/v1/threads/" + op.ThreadID + "/messages/" + mid + "/retract" }
	for _, tc := range []struct {
		name, user, mid string
		status          int
		code            string
	}{
		{"the nurse's last message, by the patient", "patient", last.Message.ID, 403, "forbidden"},
		{"the nurse's earlier message, by the patient", "patient", answer.Message.ID, 403, "forbidden"},
		{"the patient's message, by the nurse", "nurse", mine.Message.ID, 403, "forbidden"},
		{"the patient's message, by the proxy", "proxy", mine.Message.ID, 403, "forbidden"},
		{"the patient's own message that is not the last", "patient", mine.Message.ID, 409, "conflict"},
		{"the correction itself", "patient", fix.Message.ID, 403, "forbidden"},
		{"the message already retracted", "patient", op.MessageID, 409, "conflict"},
		{"a message that does not exist", "patient", strings.Repeat("0", 32), 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			counts := h.Counts(t)
			meta := h.GetItem(t, pk, "META")
			st, b := h.Do(t, h.TokenFor(t, tc.user), "POST", retract(tc.mid), map[string]any{"body": "a correction"}, nil)
			if code, _, _ := apptest.ErrorOf(t, b); st != tc.status || code != tc.code {
				t.Errorf("status %d code %s, want %d %s: %s", st, code, tc.status, tc.code, b)
			}
			after := h.Counts(t)
			for _, kind := range []string{"message", "thread", "read"} {
				if after[kind] != counts[kind] {
					t.Errorf("the refusal wrote %s items: %d, was %d", kind, after[kind], counts[kind])
				}
			}
			if got := h.GetItem(t, pk, "META"); !reflect.DeepEqual(got, meta) {
				t.Error("the refusal changed the thread")
			}
		})
	}
	events := auditEvents(t, h, apptest.PracticeA)
	denied := findAudit(events, h.Subject(t, "patient"), "message.retract", "denied")
	var objects []string
	for _, e := range denied {
		objects = append(objects, e.Object)
	}
	for _, mid := range []string{last.Message.ID, answer.Message.ID, fix.Message.ID} {
		if obj := "thread/" + op.ThreadID + "/message/" + mid; !slices.Contains(objects, obj) {
			t.Errorf("no denied message.retract audit event for %s (have %v)", obj, objects)
		}
	}
}
