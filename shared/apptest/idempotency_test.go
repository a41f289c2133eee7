package apptest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

func key() map[string]string { return map[string]string{"Idempotency-Key": "k-" + secret("idem")} }

func TestIdempotentRetry(t *testing.T) {
	h := apptest.New(t)
	h.Accept(t, "patient")
	thread := h.Open(t, "patient", map[string]any{"category": "question", "subject": "s", "body": "first"})
	cases := []struct {
		name, path string
		body       map[string]any
		creates    string // item kind the first call creates
	}{
		{"open a thread", "/v1/threads", map[string]any{"category": "question", "subject": secret("s"), "body": secret("b")}, "thread"},
		{"reply", "/v1/threads/" + thread.ThreadID + "/messages", map[string]any{"body": secret("b")}, "message"},
	}
	tok := h.Token(carepost.RolePatient)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := key()
			before := h.Counts(t)
			first := h.Request(t, tok, "POST", tc.path, tc.body, hdr)
			if first.Status != http.StatusCreated || first.Header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("first call: %d replayed=%q %s", first.Status, first.Header.Get("Idempotent-Replayed"), first.Body)
			}
			afterFirst := h.Counts(t)
			if got, want := afterFirst[tc.creates], before[tc.creates]+1; got != want {
				t.Fatalf("first call: %d %s items, want %d", got, tc.creates, want)
			}

			retry := h.Request(t, tok, "POST", tc.path, tc.body, hdr)
			if got, want := retry.Status, first.Status; got != want {
				t.Errorf("retry status %d, want %d", got, want)
			}
			if got := retry.Header.Get("Idempotent-Replayed"); got != "true" {
				t.Errorf("retry: Idempotent-Replayed %q, want true", got)
			}
			if !bytes.Equal(retry.Body, first.Body) {
				t.Errorf("retry body %s, want the stored %s", retry.Body, first.Body)
			}
			afterRetry := h.Counts(t)
			for _, kind := range []string{"thread", "message", "idempotency"} {
				if got, want := afterRetry[kind], afterFirst[kind]; got != want {
					t.Errorf("retry created %s items: %d, want %d", kind, got, want)
				}
			}

			// Same key, different body.
			other := map[string]any{}
			for k, v := range tc.body {
				other[k] = v
			}
			other["body"] = secret("different")
			mis := h.Request(t, tok, "POST", tc.path, other, hdr)
			if mis.Status != http.StatusUnprocessableEntity {
				t.Fatalf("same key, other body: %d %s, want 422", mis.Status, mis.Body)
			}
			if code, _, _ := apptest.ErrorOf(t, mis.Body); code != "idempotency_mismatch" {
				t.Errorf("same key, other body: code %q, want idempotency_mismatch", code)
			}
			afterMismatch := h.Counts(t)
			for _, kind := range []string{"thread", "message"} {
				if got, want := afterMismatch[kind], afterFirst[kind]; got != want {
					t.Errorf("mismatched retry created %s items: %d, want %d", kind, got, want)
				}
			}
		})
	}
}

// TestConcurrentRequestsOneKey sends ten requests with one key at once:
// exactly one creates, the others answer with its stored response.
func TestConcurrentRequestsOneKey(t *testing.T) {
	h := apptest.New(t)
	h.Accept(t, "patient")
	thread := h.Open(t, "patient", map[string]any{"category": "question", "subject": "s", "body": "first"})
	tok := h.Token(carepost.RolePatient)
	for _, tc := range []struct {
		name, path string
		body       map[string]any
		id         string // JSON path of the created id
	}{
		{"reply", "/v1/threads/" + thread.ThreadID + "/messages", map[string]any{"body": secret("b")}, "message.id"},
		{"open a thread", "/v1/threads", map[string]any{"category": "question", "subject": secret("s"), "body": secret("b")}, "thread.id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := key()
			before := h.Counts(t)
			const n = 10
			res := make([]apptest.Response, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					res[i], errs[i] = h.DoE(tok, "POST", tc.path, tc.body, hdr)
				}()
			}
			close(start)
			wg.Wait()
			fresh, ids := 0, map[string]bool{}
			for i, r := range res {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if r.Status != http.StatusCreated {
					t.Errorf("request %d: %d %s, want 201", i, r.Status, r.Body)
					continue
				}
				if r.Header.Get("Idempotent-Replayed") != "true" {
					fresh++
				}
				ids[apptest.Get(t, r.Body, tc.id)] = true
			}
			if fresh != 1 || len(ids) != 1 {
				t.Errorf("%d responses were not replays and %d distinct ids; want 1 and 1", fresh, len(ids))
			}
			after := h.Counts(t)
			if got, want := after["message"], before["message"]+1; got != want {
				t.Errorf("%d message items after %d concurrent requests, want %d", got, n, want)
			}
			wantThreads := before["thread"]
			if tc.path == "/v1/threads" {
				wantThreads++
			}
			if got := after["thread"]; got != wantThreads {
				t.Errorf("%d thread items, want %d", got, wantThreads)
			}
		})
	}
}

// crashStore writes a new message and then "crashes" before the thread
// write, as a process killed between the two writes would.
type crashStore struct{ carepost.Store }

var errCrash = errors.New("simulated crash between the message and the thread write")

func (c crashStore) AppendMessage(ctx context.Context, m carepost.MessageRecord, change carepost.ThreadChange) error {
	change.Version += 1000 // the thread update cannot apply
	if err := c.Store.AppendMessage(ctx, m, change); carepost.ErrorCode(err) != carepost.CodeConflict {
		return fmt.Errorf("the simulated crash did not happen: %v", err)
	}
	return carepost.Unavailable(errCrash, "the database")
}

func (c crashStore) CreateThread(ctx context.Context, t carepost.ThreadRecord, m carepost.MessageRecord) error {
	// An update of a thread that does not exist fails after the message put.
	return c.AppendMessage(ctx, m, carepost.ThreadChange{PracticeID: t.PracticeID, ThreadID: t.ID, Set: t})
}

// consentedPatient is a harness whose demo patient accepted the agreement,
// with the patient's token and principal (for calling the service directly).
func consentedPatient(t *testing.T) (*apptest.Harness, string, carepost.Principal) {
	t.Helper()
	h := apptest.New(t)
	h.Accept(t, "patient")
	tok := h.Token(carepost.RolePatient)
	p, err := h.App.Auth.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return h, tok, p
}

// requestHash is what the HTTP layer hashes for an Idempotency-Key.
func requestHash(method, path string, body []byte) string {
	sum := sha256.Sum256([]byte(method + " " + path + "\n" + string(body)))
	return hex.EncodeToString(sum[:])
}

// TestRetryCompletesAfterCrash: a request dies after storing the message
// but before updating (or creating) the thread; the client's retry with the
// same key finishes the job instead of duplicating or losing the message.
func TestRetryCompletesAfterCrash(t *testing.T) {
	h, tok, p := consentedPatient(t)
	crashing := messaging.New(crashStore{h.App.Store}, h.App.Envelope, nil, nil)

	t.Run("reply", func(t *testing.T) {
		thread := h.Open(t, "patient", map[string]any{"category": "question", "subject": "s", "body": "first"})
		path := "/v1/threads/" + thread.ThreadID + "/messages"
		text := secret("reply")
		body := []byte(`{"body":"` + text + `"}`)
		hdr := key()
		req := messaging.Request{Principal: p, IdempotencyKey: hdr["Idempotency-Key"], RequestHash: requestHash("POST", path, body)}
		_, err := crashing.Reply(context.Background(), req, thread.ThreadID, messaging.ReplyInput{Body: text})
		if !errors.Is(err, errCrash) {
			t.Fatalf("crashing reply: %v", err)
		}
		before := threadItem(t, h, thread.ThreadID)
		if got := apptest.N(before, "messageCount"); got != 1 {
			t.Fatalf("after the crash the thread counts %d messages, want 1 (not updated)", got)
		}
		counts := h.Counts(t)

		r := h.Request(t, tok, "POST", path, body, hdr)
		if r.Status != http.StatusCreated {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
		mid := apptest.Get(t, r.Body, "message.id")
		after := threadItem(t, h, thread.ThreadID)
		if got, want := apptest.N(after, "messageCount"), int64(2); got != want {
			t.Errorf("messageCount %d after the retry, want %d", got, want)
		}
		if got := apptest.S(after, "lastMessageId"); got != mid {
			t.Errorf("lastMessageId %q, want the crashed message %q", got, mid)
		}
		if got, want := h.Counts(t)["message"], counts["message"]; got != want {
			t.Errorf("the retry wrote a second message: %d message items, want %d", got, want)
		}
		var d messaging.ThreadDetail
		h.Must(t, tok, "GET", "/v1/threads/"+thread.ThreadID, nil, http.StatusOK, &d)
		if len(d.Messages) != 2 || d.Messages[1].Body != text {
			t.Errorf("thread after the retry has %d messages; want the original and the reply", len(d.Messages))
		}
	})

	t.Run("open", func(t *testing.T) {
		subject, text := secret("subject"), secret("body")
		body := []byte(`{"category":"question","subject":"` + subject + `","body":"` + text + `"}`)
		hdr := key()
		req := messaging.Request{Principal: p, IdempotencyKey: hdr["Idempotency-Key"], RequestHash: requestHash("POST", "/v1/threads", body)}
		_, err := crashing.Open(context.Background(), req, messaging.OpenInput{Category: "question", Subject: subject, Body: text})
		if !errors.Is(err, errCrash) {
			t.Fatalf("crashing open: %v", err)
		}
		counts := h.Counts(t)
		r := h.Request(t, tok, "POST", "/v1/threads", body, hdr)
		if r.Status != http.StatusCreated {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
		after := h.Counts(t)
		if got, want := after["thread"], counts["thread"]+1; got != want {
			t.Errorf("%d thread items after the retry, want %d (the missing thread written)", got, want)
		}
		if got, want := after["message"], counts["message"]; got != want {
			t.Errorf("%d message items after the retry, want %d (no second message)", got, want)
		}
		var d messaging.ThreadDetail
		h.Must(t, tok, "GET", "/v1/threads/"+apptest.Get(t, r.Body, "thread.id"), nil, http.StatusOK, &d)
		if d.Thread.Subject != subject || len(d.Messages) != 1 || d.Messages[0].Body != text {
			t.Errorf("completed thread: subject ok %v, %d messages; want the crashed creation", d.Thread.Subject == subject, len(d.Messages))
		}
	})
}

// TestClaimRace: ten nurses claim one pool thread at once; exactly one wins.
func TestClaimRace(t *testing.T) {
	h := apptest.New(t)
	h.Accept(t, "patient")
	thread := h.Open(t, "patient", map[string]any{"category": "question", "subject": "s", "body": "who takes this?"})
	const n = 10
	toks := make([]string, n)
	subs := make([]string, n)
	for i := range n {
		name := fmt.Sprintf("race-nurse-%d", i)
		u := h.AddUser(t, name, apptestUser(carepost.RoleNurse))
		toks[i], subs[i] = h.TokenFor(t, name), u.Subject
	}
	res := make([]apptest.Response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res[i], errs[i] = h.DoE(toks[i], "POST", "/v1/threads/"+thread.ThreadID+"/claim", nil, nil)
		}()
	}
	close(start)
	wg.Wait()
	won, lost, winner := 0, 0, -1
	for i, r := range res {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch r.Status {
		case http.StatusOK:
			won++
			winner = i
		case http.StatusConflict:
			lost++
			if code, _, _ := apptest.ErrorOf(t, r.Body); code != "conflict" {
				t.Errorf("loser %d: code %q, want conflict", i, code)
			}
		default:
			t.Errorf("claim %d: %d %s", i, r.Status, r.Body)
		}
	}
	if won != 1 || lost != n-1 {
		t.Fatalf("%d claims won and %d lost; want 1 and %d", won, lost, n-1)
	}
	if got, want := apptest.S(threadItem(t, h, thread.ThreadID), "owner"), "user:"+subs[winner]; got != want {
		t.Errorf("owner %q, want the winner %q", got, want)
	}
}

func apptestUser(r carepost.Role) auth.User { return auth.User{Role: r, PracticeID: apptest.PracticeA} }

// racingStore lets another writer change the thread (a nurse's claim) after
// the reply read it and before the reply's thread update, once.
type racingStore struct {
	carepost.Store
	race func()
}

func (s *racingStore) AppendMessage(ctx context.Context, m carepost.MessageRecord, change carepost.ThreadChange) error {
	if s.race != nil {
		s.race()
		s.race = nil
	}
	return s.Store.AppendMessage(ctx, m, change)
}

// TestReplyRacingAnotherChange: a patient's reply and a nurse's claim land
// at the same moment. The reply must still count on the thread (message
// count, last message, status, triage flag) and keep the claim, with or
// without an Idempotency-Key; it must not answer idempotency_mismatch to a
// request that sent no key, nor leave an uncounted message behind.
func TestReplyRacingAnotherChange(t *testing.T) {
	h := apptest.New(t)
	h.Accept(t, "patient")
	ctx := context.Background()
	patient, err := h.App.Auth.Verify(ctx, h.Token(carepost.RolePatient))
	if err != nil {
		t.Fatal(err)
	}
	nurse, err := h.App.Auth.Verify(ctx, h.Token(carepost.RoleNurse))
	if err != nil {
		t.Fatal(err)
	}
	for _, withKey := range []bool{false, true} {
		t.Run(fmt.Sprintf("key=%v", withKey), func(t *testing.T) {
			thread := h.Open(t, "patient", map[string]any{"category": "question", "subject": "s", "body": "first"})
			// The nurse answers, so the thread waits for the patient.
			h.Must(t, h.Token(carepost.RoleNurse), "POST", "/v1/threads/"+thread.ThreadID+"/messages", map[string]any{"body": "how are you?"}, http.StatusCreated, nil)
			// Triage has seen the thread; the patient's answer must undo that.
			tr, err := h.App.Store.Thread(ctx, apptest.PracticeA, thread.ThreadID)
			if err != nil {
				t.Fatal(err)
			}
			next := tr
			next.Triaged = true
			if err := h.App.Store.UpdateThread(ctx, carepost.ThreadChange{PracticeID: apptest.PracticeA, ThreadID: tr.ID, Version: tr.Version, Set: next}); err != nil {
				t.Fatal(err)
			}
			st := &racingStore{Store: h.App.Store}
			st.race = func() {
				if _, err := h.App.Messaging.Claim(ctx, messaging.Request{Principal: nurse}, thread.ThreadID); err != nil {
					t.Errorf("racing claim: %v", err)
				}
			}
			svc := messaging.New(st, h.App.Envelope, nil, nil)
			req := messaging.Request{Principal: patient, RequestHash: "h-" + secret("x")}
			if withKey {
				req.IdempotencyKey = secret("k")
			}
			res, err := svc.Reply(ctx, req, thread.ThreadID, messaging.ReplyInput{Body: "better, thanks"})
			if err != nil {
				t.Fatalf("reply racing a claim: %v", err)
			}
			it := threadItem(t, h, thread.ThreadID)
			if got, want := apptest.N(it, "messageCount"), int64(3); got != want {
				t.Errorf("messageCount %d, want %d", got, want)
			}
			if got := apptest.S(it, "lastMessageId"); got != res.Message.ID {
				t.Errorf("lastMessageId %q, want the reply %q", got, res.Message.ID)
			}
			if got, want := apptest.S(it, "status"), "open"; got != want {
				t.Errorf("status %q, want %q (the patient answered)", got, want)
			}
			if got, want := apptest.S(it, "owner"), "user:"+nurse.Subject; got != want {
				t.Errorf("owner %q, want the claim %q kept", got, want)
			}
			if v, ok := it["triaged"].(*types.AttributeValueMemberBOOL); !ok || v.Value {
				t.Errorf("the thread is still marked triaged: the patient's new message would skip triage")
			}
		})
	}
}

// TestRetryRepeatsTheUrgentAdvice: a retry whose first attempt stored the
// message but not the answer (the process died in between) is answered
// from the stored message, and the patient is told exactly what the first
// attempt would have told them: 911 for self-harm with an overdose, not
// only the crisis line; and a retried urgent reply still carries advice.
func TestRetryRepeatsTheUrgentAdvice(t *testing.T) {
	h, tok, p := consentedPatient(t)
	text := "I want to kill myself and I took all my sleeping pills"
	advice := func(t *testing.T, body []byte) string {
		t.Helper()
		return apptest.Get(t, body, "urgent.advice")
	}

	t.Run("open", func(t *testing.T) {
		body := []byte(`{"category":"question","subject":"tonight","body":"` + text + `"}`)
		hdr := key()
		req := messaging.Request{Principal: p, IdempotencyKey: hdr["Idempotency-Key"], RequestHash: requestHash("POST", "/v1/threads", body)}
		first, err := h.App.Messaging.Open(context.Background(), req, messaging.OpenInput{Category: "question", Subject: "tonight", Body: text})
		if err != nil {
			t.Fatal(err)
		}
		if first.Urgent == nil || first.Urgent.Advice != "emergency" {
			t.Fatalf("first attempt advice = %+v, want emergency", first.Urgent)
		}
		r := h.Request(t, tok, "POST", "/v1/threads", body, hdr)
		if r.Status != http.StatusCreated {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
		if got := advice(t, r.Body); got != "emergency" {
			t.Errorf("retry advice = %q, want emergency (%s)", got, r.Body)
		}
	})

	t.Run("reply", func(t *testing.T) {
		thread := h.Open(t, "patient", map[string]any{"category": "question", "subject": "s", "body": "a question about my refill"})
		path := "/v1/threads/" + thread.ThreadID + "/messages"
		body := []byte(`{"body":"` + text + `"}`)
		hdr := key()
		req := messaging.Request{Principal: p, IdempotencyKey: hdr["Idempotency-Key"], RequestHash: requestHash("POST", path, body)}
		first, err := h.App.Messaging.Reply(context.Background(), req, thread.ThreadID, messaging.ReplyInput{Body: text})
		if err != nil {
			t.Fatal(err)
		}
		if first.Urgent == nil {
			t.Fatal("first attempt carries no urgent advice")
		}
		r := h.Request(t, tok, "POST", path, body, hdr)
		if r.Status != http.StatusCreated {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
		if got := advice(t, r.Body); got != first.Urgent.Advice {
			t.Errorf("retry advice = %q, want %q as the first attempt (%s)", got, first.Urgent.Advice, r.Body)
		}
	})
}
