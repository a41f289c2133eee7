package triage_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
)

// Issue 4's acceptance, end to end over HTTP on the emulators: a patient's
// "I have crushing chest pain" gets the emergency answer at once, the
// thread is urgent, the triage worker pages the on-call pool without any
// health detail, an unacknowledged page escalates on schedule and stops
// when acknowledged; a refill request lands in the nurse pool with a due
// time in business hours and an acknowledgement in the thread.
func TestAcceptance(t *testing.T) {
	e := newEnv(t, "2026-03-03 10:00") // a Tuesday, in opening hours
	h := e.h
	h.Accept(t, "patient")

	// 1. The red-flag message: emergency advice in the POST response.
	subject, body := "Since this morning", "I have crushing chest pain"
	var res struct {
		Thread struct {
			ID       string `json:"id"`
			Urgent   bool   `json:"urgent"`
			Priority string `json:"priority"`
		} `json:"thread"`
		Urgent *struct {
			Advice  string   `json:"advice"`
			Message string   `json:"message"`
			Call    []string `json:"call"`
		} `json:"urgent"`
	}
	h.Must(t, h.TokenFor(t, "patient"), "POST", "/v1/threads", map[string]any{"category": "question", "subject": subject, "body": body}, 201, &res)
	if res.Urgent == nil {
		t.Fatal("no emergency advice in the POST response")
	}
	if !slices.Contains(res.Urgent.Call, "911") || !strings.Contains(res.Urgent.Message, "911") {
		t.Errorf("advice = %+v, want 911", res.Urgent)
	}
	if got, want := res.Thread.Urgent, true; got != want {
		t.Errorf("thread urgent = %v, want %v", got, want)
	}
	if got, want := res.Thread.Priority, "urgent"; got != want {
		t.Errorf("thread priority = %s, want %s", got, want)
	}
	tid := res.Thread.ID

	// 2. Triage on the queued event pages the on-call pool (nurse and
	// clinician in the demo settings), with no health detail.
	if got, want := e.drain(t), 1; got != want {
		t.Fatalf("triage handled %d events, want %d", got, want)
	}
	mails := e.waitMails(t, 1)
	if got, want := len(mails), 1; got != want {
		t.Fatalf("%d e-mails after triage, want %d (the page)", got, want)
	}
	page := mails[0]
	if got, want := recipientsOf(mails)[0], []string{e.email["clinician"], e.email["nurse"]}; !slices.Equal(got, want) {
		t.Errorf("page went to %v, want the on-call pool %v", got, want)
	}
	if !strings.Contains(page.Body.Text, "acknowledgement within 15 minutes") || !strings.Contains(page.Body.Text, "https://carepost.test/app/threads/"+tid) {
		t.Errorf("page text = %q, want the deadline and the thread link", page.Body.Text)
	}
	// Every content word of the message and subject, the category, the
	// patient: none may appear in any e-mail.
	words := []string{body, subject, "crushing", "chest", "pain", "morning", "question", apptest.PatientA1, "Test patient", "symptom", "cardiac"}
	noHealthDetail(t, page, words...)

	th := e.thread(t, tid)
	now := e.clock.Now()
	if !th.Triaged || !th.PageDue.Equal(now.Add(15*time.Minute)) || th.PageLevel != 0 {
		t.Errorf("after triage: triaged=%v pageDue=%s pageLevel=%d, want true %s 0", th.Triaged, th.PageDue, th.PageLevel, now.Add(15*time.Minute))
	}
	d := e.detail(t, "patient", tid)
	if sys := d.system(); len(sys) != 1 || !strings.Contains(sys[0], "alerted our on-call team") || !strings.Contains(sys[0], "911") {
		t.Errorf("system messages = %q, want one urgent acknowledgement", sys)
	}

	// 3. Nobody acknowledges: past the deadline the sweep escalates along
	// the chain (clinician, then admin), once per step.
	e.clock.Advance(16 * time.Minute)
	e.sweep(t)
	e.sweep(t) // a second run sends nothing twice
	mails = e.waitMails(t, 2)
	if got, want := len(mails), 2; got != want {
		t.Fatalf("%d e-mails after the first escalation, want %d", got, want)
	}
	esc := mails[1]
	if got, want := esc.Destination.To, []string{e.email["clinician"]}; !slices.Equal(got, want) {
		t.Errorf("first escalation went to %v, want %v", got, want)
	}
	if !strings.Contains(esc.Subject, "not acknowledged") {
		t.Errorf("escalation subject = %q", esc.Subject)
	}
	noHealthDetail(t, esc, words...)
	th = e.thread(t, tid)
	if got, want := th.PageLevel, 1; got != want {
		t.Errorf("page level = %d, want %d", got, want)
	}
	e.clock.Advance(16 * time.Minute)
	e.sweep(t)
	mails = e.waitMails(t, 3)
	if got := len(mails); got < 3 || !slices.Equal(mails[2].Destination.To, []string{e.email["admin"]}) {
		t.Fatalf("second escalation: %d mails, last to %v; want 3, the admin", got, recipientsOf(mails))
	}

	// 4. The on-call nurse acknowledges: the page stops escalating.
	var ack struct {
		Acknowledged bool `json:"acknowledged"`
	}
	h.Must(t, h.TokenFor(t, "nurse"), "POST", "/v1/threads/"+tid+"/acknowledge", nil, 200, &ack)
	if !ack.Acknowledged {
		t.Error("acknowledge answered acknowledged=false for a pending page")
	}
	if th := e.thread(t, tid); !th.PageDue.IsZero() {
		t.Errorf("page due after acknowledgement = %s, want none", th.PageDue)
	}
	before := len(e.mails(t))
	e.clock.Advance(16 * time.Minute)
	e.sweep(t)
	for _, m := range e.mails(t)[before:] {
		if strings.Contains(m.Subject, "not acknowledged") {
			t.Errorf("page escalated after acknowledgement: %q to %v", m.Subject, m.Destination.To)
		}
		noHealthDetail(t, m, words...)
	}

	// 5. A refill request (typed form) lands in the nurse pool, due in
	// business hours, with the acknowledgement in the thread.
	e.clock.Set(nyTime(t, "2026-03-03 10:00"))
	refill := h.Open(t, "patient", map[string]any{"body": "", "form": map[string]any{"type": "prescription_renewal", "fields": map[string]any{
		"medication": "Metformin", "strength": "500 mg", "pharmacy": "Main Street Pharmacy", "supplyDays": 90, "dosesLeft": 20,
	}}})
	if got, want := e.drain(t), 1; got != want {
		t.Fatalf("triage handled %d events, want %d", got, want)
	}
	rt := e.thread(t, refill.ThreadID)
	if got, want := rt.Owner, carepost.PoolOwner("nurses"); got != want {
		t.Errorf("refill owner = %s, want %s", got, want)
	}
	// 16 business hours from Tuesday 10:00 with 9-hour days: Wednesday 17:00.
	if got, want := rt.Due, nyTime(t, "2026-03-04 17:00"); !got.Equal(want) {
		t.Errorf("refill due = %s, want %s", got, want)
	}
	rd := e.detail(t, "patient", refill.ThreadID)
	if sys := rd.system(); len(sys) != 1 || !strings.Contains(sys[0], "Expect an answer by Wed, Mar 4 at 5:00 PM EST") || !strings.Contains(sys[0], "not for emergencies") {
		t.Errorf("refill acknowledgement = %q", sys)
	}
	var inbox struct {
		Items []struct {
			ID  string     `json:"id"`
			Due *time.Time `json:"due"`
		} `json:"items"`
	}
	h.Must(t, h.TokenFor(t, "nurse"), "GET", "/v1/inbox?pool=nurses", nil, 200, &inbox)
	found := false
	for _, it := range inbox.Items {
		if it.ID == refill.ThreadID {
			found = it.Due != nil && it.Due.Equal(rt.Due)
		}
	}
	if !found {
		t.Errorf("refill thread not in the nurses' inbox with its due time: %+v", inbox.Items)
	}
}
