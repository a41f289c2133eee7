package apptest_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
)

// conversation is two threads of one patient, the first with a nurse's
// reply and a measurement form, made fresh for each tamper case.
type conversation struct {
	t1, t2          string // thread ids
	m1, m2, m3      string // m1, m2 in t1 (patient, nurse); m3 opens t2
	plaintexts      []string
	formThread      string // a thread opened with a measurement form
	formMsg, formM2 string // its form message, and a reply without form
}

func converse(t *testing.T, h *apptest.Harness) conversation {
	t.Helper()
	var c conversation
	s1, b1, r1, s2, b2 := secret("subject"), secret("body"), secret("reply"), secret("subject"), secret("body")
	o1 := h.Open(t, "patient", map[string]any{"category": "question", "subject": s1, "body": b1})
	var rep struct{ Message struct{ ID string } }
	h.Must(t, h.Token(carepost.RoleNurse), "POST", "/v1/threads/"+o1.ThreadID+"/messages", map[string]any{"body": r1}, http.StatusCreated, &rep)
	o2 := h.Open(t, "patient", map[string]any{"category": "question", "subject": s2, "body": b2})
	of := h.Open(t, "patient", map[string]any{"form": map[string]any{"type": "measurement_report", "fields": map[string]any{
		"readings": []any{map[string]any{"type": "weight", "value": 71.5, "unit": "kg", "takenAt": "2026-01-02T08:00:00Z"}}}}})
	var rep2 struct{ Message struct{ ID string } }
	h.Must(t, h.Token(carepost.RoleNurse), "POST", "/v1/threads/"+of.ThreadID+"/messages", map[string]any{"body": secret("reply")}, http.StatusCreated, &rep2)
	c = conversation{t1: o1.ThreadID, t2: o2.ThreadID, m1: o1.MessageID, m2: rep.Message.ID, m3: o2.MessageID,
		plaintexts: []string{s1, b1, r1, s2, b2, "71.5"}, formThread: of.ThreadID, formMsg: of.MessageID, formM2: rep2.Message.ID}
	return c
}

func msgItem(t *testing.T, h *apptest.Harness, tid, mid string) apptest.Item {
	t.Helper()
	it := h.GetItem(t, apptest.ThreadPK(apptest.PracticeA, tid), apptest.MessageSK(mid))
	if it == nil {
		t.Fatalf("message %s not stored", mid)
	}
	return it
}

func threadItem(t *testing.T, h *apptest.Harness, tid string) apptest.Item {
	t.Helper()
	it := h.GetItem(t, apptest.ThreadPK(apptest.PracticeA, tid), "META")
	if it == nil {
		t.Fatalf("thread %s not stored", tid)
	}
	return it
}

func shiftTime(t *testing.T, v types.AttributeValue, d time.Duration) types.AttributeValue {
	t.Helper()
	const layout = "20060102T150405.000000000Z"
	tm, err := time.Parse(layout, v.(*types.AttributeValueMemberS).Value)
	if err != nil {
		t.Fatal(err)
	}
	return &types.AttributeValueMemberS{Value: tm.Add(d).UTC().Format(layout)}
}

// TestTamperedItemsAreErrors changes stored items behind the API's back, the
// way someone with write access to the table (or a restore gone wrong)
// could, and checks that reading the thread answers 500 internal: never the
// plaintext, and never a thread with the bad message silently left out.
func TestTamperedItemsAreErrors(t *testing.T) {
	h := apptest.New(t)
	h.Accept(t, "patient")
	cases := []struct {
		name   string
		read   func(c conversation) string // the thread to read afterwards
		tamper func(t *testing.T, c conversation)
		list   bool // the patient's thread list must fail too
	}{
		{"body copied from a message of the same thread", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := msgItem(t, h, c.t1, c.m2)
			it["body"] = msgItem(t, h, c.t1, c.m1)["body"]
			h.PutItem(t, it)
		}, false},
		{"body copied from a message of another thread", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := msgItem(t, h, c.t1, c.m1)
			it["body"] = msgItem(t, h, c.t2, c.m3)["body"]
			h.PutItem(t, it)
		}, false},
		{"form copied onto a message without one", func(c conversation) string { return c.formThread }, func(t *testing.T, c conversation) {
			it := msgItem(t, h, c.formThread, c.formM2)
			it["form"] = msgItem(t, h, c.formThread, c.formMsg)["form"]
			h.PutItem(t, it)
		}, false},
		{"body pasted into the form attribute", func(c conversation) string { return c.formThread }, func(t *testing.T, c conversation) {
			it := msgItem(t, h, c.formThread, c.formMsg)
			it["form"] = it["body"]
			h.PutItem(t, it)
		}, false},
		{"sender changed", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := msgItem(t, h, c.t1, c.m2)
			it["senderId"] = &types.AttributeValueMemberS{Value: h.Subject(t, "clinician")}
			h.PutItem(t, it)
		}, false},
		{"sent time moved by one nanosecond", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := msgItem(t, h, c.t1, c.m1)
			it["sent"] = shiftTime(t, it["sent"], time.Nanosecond)
			h.PutItem(t, it)
		}, false},
		{"message id attribute changed", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := msgItem(t, h, c.t1, c.m1)
			it["id"] = &types.AttributeValueMemberS{Value: c.m2}
			h.PutItem(t, it)
		}, false},
		{"sealed body removed", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := msgItem(t, h, c.t1, c.m2)
			delete(it, "body")
			h.PutItem(t, it)
		}, false},
		{"one byte of the ciphertext flipped", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := msgItem(t, h, c.t1, c.m1)
			b := bytes.Clone(it["body"].(*types.AttributeValueMemberB).Value)
			b[len(b)-20] ^= 1
			it["body"] = &types.AttributeValueMemberB{Value: b}
			h.PutItem(t, it)
		}, false},
		{"whole message item copied into another thread", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := msgItem(t, h, c.t2, c.m3)
			it["pk"] = &types.AttributeValueMemberS{Value: apptest.ThreadPK(apptest.PracticeA, c.t1)}
			h.PutItem(t, it)
		}, false},
		{"whole message item duplicated under another key", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := msgItem(t, h, c.t1, c.m1)
			it["sk"] = &types.AttributeValueMemberS{Value: apptest.MessageSK(strings.Repeat("ab", 16))}
			h.PutItem(t, it)
		}, false},
		{"subject copied from another thread", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := threadItem(t, h, c.t1)
			it["subject"] = threadItem(t, h, c.t2)["subject"]
			h.PutItem(t, it)
		}, true},
		{"thread opener changed", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := threadItem(t, h, c.t1)
			it["openedBy"] = &types.AttributeValueMemberS{Value: h.Subject(t, "patient2")}
			h.PutItem(t, it)
		}, true},
		{"thread creation time moved by one second", func(c conversation) string { return c.t1 }, func(t *testing.T, c conversation) {
			it := threadItem(t, h, c.t1)
			it["created"] = shiftTime(t, it["created"], time.Second)
			h.PutItem(t, it)
		}, true},
		{"thread item copied under another thread id", func(c conversation) string { return strings.Repeat("cd", 16) }, func(t *testing.T, c conversation) {
			it := threadItem(t, h, c.t2)
			it["pk"] = &types.AttributeValueMemberS{Value: apptest.ThreadPK(apptest.PracticeA, strings.Repeat("cd", 16))}
			h.PutItem(t, it)
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := converse(t, h)
			for _, who := range []carepost.Role{carepost.RolePatient, carepost.RoleNurse} {
				st, _ := h.Do(t, h.Token(who), "GET", "/v1/threads/"+tc.read(c), nil, nil)
				if tc.read(c) == c.t1 && st != http.StatusOK {
					t.Fatalf("before tampering, %s reads the thread: %d", who, st)
				}
			}
			tc.tamper(t, c)
			for _, who := range []carepost.Role{carepost.RolePatient, carepost.RoleNurse} {
				st, b := h.Do(t, h.Token(who), "GET", "/v1/threads/"+tc.read(c), nil, nil)
				checkIntegrityFailure(t, string(who)+" GET thread", st, b, c)
			}
			if tc.list {
				st, b := h.Do(t, h.Token(carepost.RolePatient), "GET", "/v1/threads", nil, nil)
				checkIntegrityFailure(t, "patient GET /v1/threads", st, b, c)
			}
		})
	}
}

func checkIntegrityFailure(t *testing.T, what string, st int, b []byte, c conversation) {
	t.Helper()
	if st != http.StatusInternalServerError {
		t.Errorf("%s after tampering: status %d, want 500; body %s", what, st, b)
		return
	}
	if code, _, _ := apptest.ErrorOf(t, b); code != "internal" {
		t.Errorf("%s after tampering: code %q, want internal", what, code)
	}
	for _, p := range c.plaintexts {
		if bytes.Contains(b, []byte(p)) {
			t.Errorf("%s after tampering: the error body holds a plaintext", what)
		}
	}
}
