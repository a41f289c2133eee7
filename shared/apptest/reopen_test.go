package apptest_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
)

// TestReplyToClosedThread: a reply to a closed thread never meets a dead
// end. The patient's reply reopens it (status reopened, back in the
// practice's active inbox, triaged again). A practice reply takes it out of
// the closed state as well, as waiting_patient: the next word is the
// patient's (see the comment in messaging's post), so the overdue sweep
// does not escalate the old due time against the practice that just wrote.
func TestReplyToClosedThread(t *testing.T) {
	h := apptest.New(t)
	clk := withClock(t, h, "2026-03-03 10:00")
	h.Accept(t, "patient")
	nurse := h.TokenFor(t, "nurse")
	inbox := func(query string) []string {
		t.Helper()
		var p inboxPage
		h.Must(t, nurse, "GET", "/v1/inbox?pool=nurses&"+query, nil, http.StatusOK, &p)
		var ids []string
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		return ids
	}
	a := h.Open(t, "patient", map[string]any{"category": "question", "subject": "a", "body": "first question"})
	b := h.Open(t, "patient", map[string]any{"category": "question", "subject": "b", "body": "second question"})
	if got := h.Drain(t, "triage"); got != 2 {
		t.Fatalf("triage handled %d events, want 2", got)
	}
	for _, id := range []string{a.ThreadID, b.ThreadID} {
		h.Must(t, nurse, "POST", "/v1/threads/"+id+"/close", nil, http.StatusOK, nil)
		if got := readThread(t, h, "nurse", id).Thread.Status; got != "closed" {
			t.Fatalf("thread %s is %s after close", id, got)
		}
	}
	// Two days later, past both threads' due times.
	clk.Advance(48 * time.Hour)

	// The patient's reply reopens thread a.
	res := post(t, h, "patient", "/v1/threads/"+a.ThreadID+"/messages", map[string]any{"body": "it came back"})
	if res.Thread.Status != "reopened" {
		t.Errorf("the patient's reply answered status %s, want reopened", res.Thread.Status)
	}
	if got := readThread(t, h, "patient", a.ThreadID).Thread; got.Status != "reopened" || got.Owner != "pool:nurses" {
		t.Errorf("after the patient's reply the thread is %s owned by %s, want reopened, pool:nurses", got.Status, got.Owner)
	}
	if got := h.Drain(t, "triage"); got != 1 {
		t.Errorf("the reopened thread went through triage %d times, want 1", got)
	}
	due := readThread(t, h, "nurse", a.ThreadID).Thread.Due
	if due == nil || !due.After(clk.Now()) {
		t.Errorf("the reopened thread is due %v, want a new due time after %s", due, clk.Now())
	}

	// The nurse's reply takes thread b out of the closed state.
	res = post(t, h, "nurse", "/v1/threads/"+b.ThreadID+"/messages", map[string]any{"body": "checking in: how are you?"})
	if res.Thread.Status != "waiting_patient" {
		t.Errorf("the nurse's reply to a closed thread answered status %s, want waiting_patient", res.Thread.Status)
	}
	bt := readThread(t, h, "patient", b.ThreadID).Thread
	if bt.Status != "waiting_patient" || bt.Owner != "pool:nurses" {
		t.Errorf("after the nurse's reply the thread is %s owned by %s, want waiting_patient, pool:nurses", bt.Status, bt.Owner)
	}
	active, closed := inbox(""), inbox("closed=true")
	for _, id := range []string{a.ThreadID, b.ThreadID} {
		if !slices.Contains(active, id) || slices.Contains(closed, id) {
			t.Errorf("thread %s: in the active listing %v, in the closed one %v; want active only", id, slices.Contains(active, id), slices.Contains(closed, id))
		}
	}
	if _, err := h.App.Triage.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	th, err := h.App.Store.Thread(context.Background(), apptest.PracticeA, b.ThreadID)
	if err != nil {
		t.Fatal(err)
	}
	if th.Overdue || th.Escalated != 0 {
		t.Errorf("the sweep escalated the thread the practice just answered: overdue %v, escalated %d", th.Overdue, th.Escalated)
	}

	// The patient's answer makes it the practice's turn again.
	res = post(t, h, "patient", "/v1/threads/"+b.ThreadID+"/messages", map[string]any{"body": "better, thanks"})
	if res.Thread.Status != "open" {
		t.Errorf("the patient's answer left the thread %s, want open", res.Thread.Status)
	}
	if got := readThread(t, h, "nurse", b.ThreadID).Thread.Status; got != string(carepost.StatusOpen) {
		t.Errorf("thread b is %s, want open", got)
	}
}
