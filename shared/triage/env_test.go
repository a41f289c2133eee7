package triage_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/testenv"
)

// env is a whole app on the emulators (practice A from apptest, New York,
// Monday to Friday 08:00–17:00) with a controllable clock and staff
// e-mail addresses unique to this test, so the shared SES emulator's
// mailbox can be read without seeing other tests' mail.
type env struct {
	h     *apptest.Harness
	clock *apptest.Clock
	tag   string
	start time.Time
	email map[string]string // user name -> address
}

func newEnv(t *testing.T, at string) *env {
	t.Helper()
	h := apptest.New(t)
	e := &env{h: h, clock: apptest.NewClock(apptest.NewYork(t, at)), tag: testenv.RandomHex(4), start: time.Now().Add(-2 * time.Second), email: map[string]string{}}
	h.App.Messaging.Now = e.clock.Now
	h.App.Triage.Now = e.clock.Now
	h.App.Triage.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	h.App.Triage.AppURL = "https://carepost.test"
	ctx := context.Background()
	p, version, err := h.App.Store.PracticeVersion(ctx, apptest.PracticeA)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"frontdesk", "nurse", "nurse2", "clinician", "admin"} {
		sub := h.Subject(t, name)
		ref, ok := p.Staff[sub]
		if !ok {
			t.Fatalf("%s is not in the practice's staff", name)
		}
		ref.Email = fmt.Sprintf("%s.%s@clinic.test", name, e.tag)
		p.Staff[sub] = ref
		e.email[name] = ref.Email
	}
	if err := h.App.Store.UpdatePractice(ctx, p, version); err != nil {
		t.Fatal(err)
	}
	return e
}

func nyTime(t testing.TB, s string) time.Time { return apptest.NewYork(t, s) }

// drain runs the triage worker over the triage queue until it is empty,
// as the event source mapping would, and returns how many records it
// handed over.
func (e *env) drain(t *testing.T) int { return e.h.Drain(t, "triage") }

// mails returns what the SES emulator captured for this test's staff.
func (e *env) mails(t *testing.T) []testenv.Mail {
	t.Helper()
	var out []testenv.Mail
	for _, m := range testenv.Mailbox(t, e.start) {
		if slices.ContainsFunc(m.Destination.To, func(a string) bool { return strings.Contains(a, "."+e.tag+"@") }) {
			out = append(out, m)
		}
	}
	return out
}

// waitMails polls the mailbox until n mails arrived (SES is synchronous in
// the emulator, but be tolerant) and returns them.
func (e *env) waitMails(t *testing.T, n int) []testenv.Mail {
	t.Helper()
	var ms []testenv.Mail
	for range 20 {
		if ms = e.mails(t); len(ms) >= n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ms
}

func (e *env) thread(t *testing.T, id string) carepost.ThreadRecord {
	t.Helper()
	th, err := e.h.App.Store.Thread(context.Background(), apptest.PracticeA, id)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// detail reads a thread over HTTP as the user called name.
type detail struct {
	Thread struct {
		ID       string     `json:"id"`
		Owner    string     `json:"owner"`
		Priority string     `json:"priority"`
		Urgent   bool       `json:"urgent"`
		Due      *time.Time `json:"due"`
		Overdue  bool       `json:"overdue"`
	} `json:"thread"`
	Messages []struct {
		ID           string `json:"id"`
		Kind         string `json:"kind"`
		Body         string `json:"body"`
		SenderName   string `json:"senderName"`
		InResponseTo string `json:"inResponseTo"`
	} `json:"messages"`
}

func (e *env) detail(t *testing.T, name, id string) detail {
	t.Helper()
	var d detail
	e.h.Must(t, e.h.TokenFor(t, name), "GET", "/v1/threads/"+id, nil, 200, &d)
	return d
}

func (d detail) system() []string {
	var out []string
	for _, m := range d.Messages {
		if m.Kind == string(carepost.KindSystem) {
			out = append(out, m.Body)
		}
	}
	return out
}

func (e *env) sweep(t *testing.T) {
	t.Helper()
	if _, err := e.h.App.Triage.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// noHealthDetail fails when a mail mentions any of words.
func noHealthDetail(t *testing.T, m testenv.Mail, words ...string) {
	t.Helper()
	all := strings.ToLower(m.Subject + "\n" + m.Body.Text + "\n" + m.Body.HTML + "\n" + m.RawData)
	for _, w := range words {
		if w != "" && strings.Contains(all, strings.ToLower(w)) {
			t.Errorf("e-mail %q contains %q:\n%s", m.Subject, w, all)
		}
	}
}

func recipientsOf(ms []testenv.Mail) [][]string {
	var out [][]string
	for _, m := range ms {
		to := slices.Clone(m.Destination.To)
		slices.Sort(to)
		out = append(out, to)
	}
	return out
}
