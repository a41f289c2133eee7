package triage_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/sqsqueue"
	"github.com/carepost/carepost/shared/triage"
)

func (e *env) sweepReport(t *testing.T) triage.SweepReport {
	t.Helper()
	r, err := e.h.App.Triage.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Overdue threads escalate one step per business hour: the pool's lead,
// then the escalation chain (clinician, admin); every step once, however
// often the sweep runs; an answer stops it.
func TestOverdueEscalation(t *testing.T) {
	e := newEnv(t, "2026-03-03 10:00")
	e.h.Accept(t, "patient")
	o := e.h.Open(t, "patient", map[string]any{"category": "question", "subject": "Diet", "body": "Is it fine to eat grapefruit with my pills?"})
	e.drain(t)
	// 8 business hours from Tuesday 10:00: Wednesday 09:00.
	if got, want := e.thread(t, o.ThreadID).Due, nyTime(t, "2026-03-04 09:00"); !got.Equal(want) {
		t.Fatalf("due = %s, want %s", got, want)
	}
	steps := []struct {
		at          string
		flagged     int
		escalations int
		to          []string
	}{
		{"2026-03-04 08:59", 0, 0, nil},                            // not yet due
		{"2026-03-04 09:01", 1, 1, []string{e.email["nurse"]}},     // the nurses' lead
		{"2026-03-04 09:30", 0, 0, nil},                            // next step not yet
		{"2026-03-04 10:01", 0, 1, []string{e.email["clinician"]}}, // chain 1
		{"2026-03-04 11:01", 0, 1, []string{e.email["admin"]}},     // chain 2 (the admin: no separate admin step)
		{"2026-03-04 12:01", 0, 0, nil},                            // everyone was told
	}
	for _, s := range steps {
		e.clock.Set(nyTime(t, s.at))
		before := len(e.mails(t))
		r := e.sweepReport(t)
		again := e.sweepReport(t) // idempotent
		if r.Flagged != s.flagged || r.Escalations != s.escalations || again.Escalations != 0 || again.Flagged != 0 {
			t.Errorf("%s: flagged %d escalations %d (then %d, %d), want %d %d (then 0 0)", s.at, r.Flagged, r.Escalations, again.Flagged, again.Escalations, s.flagged, s.escalations)
		}
		ms := e.waitMails(t, before+len(s.to))[before:]
		var got []string
		for _, m := range ms {
			got = append(got, m.Destination.To...)
			noHealthDetail(t, m, "grapefruit", "pills", "diet", "question", apptest.PatientA1)
		}
		if !slices.Equal(got, s.to) {
			t.Errorf("%s: mail to %v, want %v", s.at, got, s.to)
		}
	}
	th := e.thread(t, o.ThreadID)
	if !th.Overdue || th.Escalated != 3 {
		t.Errorf("overdue=%v escalated=%d, want true 3", th.Overdue, th.Escalated)
	}
	// The patient was told once, in the thread, that the answer is late
	// and how to get help now; the thread still waits for the practice.
	var d struct {
		Thread   struct{ Status string }
		Messages []struct{ Kind, Body string }
	}
	e.h.Must(t, e.h.Token(carepost.RolePatient), "GET", "/v1/threads/"+o.ThreadID, nil, 200, &d)
	delay := 0
	for _, m := range d.Messages {
		if strings.Contains(m.Body, "taking longer than we said") {
			delay++
			if m.Kind != "system" || !strings.Contains(m.Body, "911") {
				t.Errorf("delay note %q (%s), want a system note with the emergency line", m.Body, m.Kind)
			}
		}
	}
	if delay != 1 || d.Thread.Status != "open" {
		t.Errorf("%d delay notes and status %q, want 1 and open", delay, d.Thread.Status)
	}
	// A nurse answers: no longer overdue, nothing more is sent.
	e.h.Must(t, e.h.TokenFor(t, "nurse"), "POST", "/v1/threads/"+o.ThreadID+"/messages", map[string]any{"body": "Please avoid grapefruit."}, 201, nil)
	e.clock.Set(nyTime(t, "2026-03-05 12:00"))
	if r := e.sweepReport(t); r.Escalations != 0 || r.Flagged != 0 {
		t.Errorf("after the answer: %+v, want nothing", r)
	}
	if th := e.thread(t, o.ThreadID); th.Overdue {
		t.Error("answered thread still overdue")
	}
}

// A thread whose triage event was lost is sent to triage again, once.
func TestSweepRepublishesLostTriageEvents(t *testing.T) {
	e := newEnv(t, "2026-03-03 10:00")
	e.h.Accept(t, "patient")
	o := e.h.Open(t, "patient", map[string]any{"category": "question", "subject": "Q", "body": "When should I take my vitamins?"})
	e.purge(t) // the event is lost
	if r := e.sweepReport(t); r.Republished != 0 {
		t.Errorf("republished %d right away, want 0 (the event may be in flight)", r.Republished)
	}
	e.clock.Advance(triage.RepublishAfter + time.Minute)
	if r := e.sweepReport(t); r.Republished != 1 {
		t.Errorf("republished %d, want 1", r.Republished)
	}
	if r := e.sweepReport(t); r.Republished != 0 {
		t.Errorf("second sweep republished %d, want 0", r.Republished)
	}
	if got, want := e.drain(t), 1; got != want {
		t.Fatalf("triage handled %d events, want %d", got, want)
	}
	th := e.thread(t, o.ThreadID)
	if !th.Triaged || th.Due.IsZero() {
		t.Errorf("after the republished event: triaged=%v due=%s", th.Triaged, th.Due)
	}
	if depth, _ := sqsqueue.Depth(context.Background(), e.h.Stack.Clients.SQS, e.h.Stack.Outputs.TriageQueueURL); depth != 0 {
		t.Errorf("queue depth = %d, want 0", depth)
	}
}

// A clinician away: new messages for them go to the cover with an away note
// naming the cover and the return date; on return they get a digest of
// counts, without health detail, once.
func TestAbsenceCoverageAndDigest(t *testing.T) {
	e := newEnv(t, "2026-03-03 10:00")
	h := e.h
	h.Accept(t, "patient")
	clin := h.TokenFor(t, "clinician")
	now := e.clock.Now()

	// Validation and who may set one.
	bad := []struct {
		name  string
		token string
		in    map[string]any
		want  int
	}{
		{"a patient", h.TokenFor(t, "patient"), map[string]any{"from": now, "until": now.Add(time.Hour), "cover": "pool:nurses"}, 403},
		{"an admin", h.TokenFor(t, "admin"), map[string]any{"from": now, "until": now.Add(time.Hour), "cover": "pool:nurses"}, 403},
		{"until before from", clin, map[string]any{"from": now, "until": now.Add(-time.Hour), "cover": "pool:nurses"}, 422},
		{"in the past", clin, map[string]any{"from": now.Add(-3 * time.Hour), "until": now.Add(-time.Hour), "cover": "pool:nurses"}, 422},
		{"no such pool", clin, map[string]any{"from": now, "until": now.Add(time.Hour), "cover": "pool:nope"}, 422},
		{"covering for oneself", clin, map[string]any{"from": now, "until": now.Add(time.Hour), "cover": "user:" + h.Subject(t, "clinician")}, 422},
		{"unknown field", clin, map[string]any{"from": now, "until": now.Add(time.Hour), "cover": "pool:nurses", "extra": 1}, 400},
	}
	for _, b := range bad {
		if st, body := h.Do(t, b.token, "POST", "/v1/me/absence", b.in, nil); st != b.want {
			t.Errorf("%s: status %d (%s), want %d", b.name, st, body, b.want)
		}
	}

	until := nyTime(t, "2026-03-06 08:00")
	var view struct {
		Cover  string    `json:"cover"`
		Until  time.Time `json:"until"`
		Active bool      `json:"active"`
	}
	h.Must(t, clin, "POST", "/v1/me/absence", map[string]any{"from": now.Add(-time.Hour), "until": until, "cover": "pool:nurses", "note": "I am at a conference."}, 200, &view)
	if !view.Active || view.Cover != "pool:nurses" || !view.Until.Equal(until) {
		t.Errorf("absence = %+v", view)
	}

	// Test results route to the clinician: now to the nurses.
	words := []string{"potassium", "lab", "result", "test_result", apptest.PatientA1}
	a := h.Open(t, "patient", map[string]any{"category": "test_result", "subject": "My lab result", "body": "What does my potassium level mean?"})
	b := h.Open(t, "patient", map[string]any{"category": "test_result", "subject": "Another lab result", "body": "And the potassium trend?"})
	if got, want := e.drain(t), 2; got != want {
		t.Fatalf("triage handled %d, want %d", got, want)
	}
	for _, o := range []apptest.Opened{a, b} {
		if got, want := e.thread(t, o.ThreadID).Owner, carepost.PoolOwner("nurses"); got != want {
			t.Errorf("owner = %s, want %s", got, want)
		}
		sys := e.detail(t, "patient", o.ThreadID).system()
		if len(sys) != 2 {
			t.Fatalf("system messages = %q, want the acknowledgement and the away note", sys)
		}
		awayNote := sys[0] + sys[1]
		for _, want := range []string{"Test clinician is out of the office and back on Friday, March 6", "our nurses team", "I am at a conference."} {
			if !strings.Contains(awayNote, want) {
				t.Errorf("away note %q lacks %q", awayNote, want)
			}
		}
	}
	// A nurse answers one of them.
	h.Must(t, h.TokenFor(t, "nurse"), "POST", "/v1/threads/"+a.ThreadID+"/messages", map[string]any{"body": "It is in the normal range."}, 201, nil)

	// The clinician is back early: DELETE ends the absence now.
	e.clock.Advance(time.Hour)
	if st, body := h.Do(t, clin, "DELETE", "/v1/me/absence", nil, nil); st != 204 {
		t.Fatalf("DELETE absence: %d %s", st, body)
	}
	if st, _ := h.Do(t, clin, "GET", "/v1/me/absence", nil, nil); st != 404 {
		t.Errorf("GET absence after the end: %d, want 404", st)
	}
	e.clock.Advance(time.Minute)
	before := len(e.mails(t))
	if r := e.sweepReport(t); r.Digests != 1 {
		t.Errorf("digests = %d, want 1", r.Digests)
	}
	if r := e.sweepReport(t); r.Digests != 0 {
		t.Errorf("second sweep sent %d digests, want 0", r.Digests)
	}
	ms := e.waitMails(t, before+1)[before:]
	if len(ms) != 1 {
		t.Fatalf("%d digest mails, want 1", len(ms))
	}
	d := ms[0]
	if !slices.Equal(d.Destination.To, []string{e.email["clinician"]}) {
		t.Errorf("digest to %v, want the clinician", d.Destination.To)
	}
	for _, want := range []string{"2 patient message threads", "the nurses pool", "1 of them have been answered", "1 are still waiting"} {
		if !strings.Contains(d.Body.Text, want) {
			t.Errorf("digest %q lacks %q", d.Body.Text, want)
		}
	}
	noHealthDetail(t, d, words...)
	p, err := h.App.Store.Practice(context.Background(), apptest.PracticeA)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Absences[h.Subject(t, "clinician")]; ok {
		t.Error("the ended absence is still in the settings")
	}

	// Back: test results go to the clinician again, without an away note.
	c := h.Open(t, "patient", map[string]any{"category": "test_result", "subject": "Third", "body": "One more question on potassium."})
	e.drain(t)
	if got, want := e.thread(t, c.ThreadID).Owner, carepost.UserOwner(h.Subject(t, "clinician")); got != want {
		t.Errorf("owner after return = %s, want %s", got, want)
	}
	if got := len(e.detail(t, "patient", c.ThreadID).system()); got != 1 {
		t.Errorf("%d system messages after return, want 1 (no away note)", got)
	}
}

// Who may acknowledge a page: the on-call pool and the escalation chain;
// others cannot; the thread stays invisible to whom it always was.
func TestAcknowledgeAccess(t *testing.T) {
	e := newEnv(t, "2026-03-03 10:00")
	h := e.h
	h.Accept(t, "patient")
	o := h.Open(t, "patient", map[string]any{"category": "question", "subject": "Help", "body": "I have crushing chest pain"})
	e.drain(t)
	path := "/v1/threads/" + o.ThreadID + "/acknowledge"
	for _, c := range []struct {
		name string
		want int
	}{
		{"patient", 404}, {"proxy", 404}, {"frontdesk", 404}, {"b/nurse", 404}, {"nurse2", 403}, {"scheduler", 404},
	} {
		if st, body := h.Do(t, h.TokenFor(t, c.name), "POST", path, nil, nil); st != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, st, body, c.want)
		}
	}
	if th := e.thread(t, o.ThreadID); th.PageDue.IsZero() {
		t.Fatal("a refused acknowledgement cleared the page")
	}
	var ack struct {
		Acknowledged bool `json:"acknowledged"`
	}
	h.Must(t, h.TokenFor(t, "clinician"), "POST", path, map[string]any{}, 200, &ack)
	if !ack.Acknowledged {
		t.Error("first acknowledgement: acknowledged=false")
	}
	h.Must(t, h.TokenFor(t, "nurse"), "POST", path, nil, 200, &ack)
	if ack.Acknowledged {
		t.Error("second acknowledgement: acknowledged=true, want false (nothing pending)")
	}
	e.clock.Advance(time.Hour)
	if r := e.sweepReport(t); r.PageEscalations != 0 {
		t.Errorf("page escalations after acknowledgement = %d, want 0", r.PageEscalations)
	}
}
