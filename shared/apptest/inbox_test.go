package apptest_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
)

type inboxPage struct {
	Items  []threadView `json:"items"`
	Cursor string       `json:"cursor"`
}

var priorityRank = map[string]int{"urgent": 3, "high": 2, "routine": 1}

// inboxOrdered reports whether a before b in the inbox order: priority
// (urgent first), then due time (soonest first, none last).
func inboxOrdered(a, b threadView) bool {
	if ra, rb := priorityRank[a.Priority], priorityRank[b.Priority]; ra != rb {
		return ra > rb
	}
	switch {
	case a.Due == nil:
		return b.Due == nil
	case b.Due == nil:
		return true
	}
	return !a.Due.After(*b.Due)
}

// TestInboxOrderFiltersAndPaging fills the nurses' pool with threads of
// every priority, opened at known times so that triage gives them known due
// times (practice A: New York, 08:00–17:00 on weekdays, questions 8 business
// hours, refills 16), and checks the listing's data: the order, each
// filter's exact result, and that paging with the cursor returns every item
// once, in order, with and without filters.
func TestInboxOrderFiltersAndPaging(t *testing.T) {
	h := apptest.New(t)
	clk := withClock(t, h, "2026-03-03 10:00") // a Tuesday
	h.Accept(t, "patient")
	h.Accept(t, "patient2")
	nurse := h.TokenFor(t, "nurse")

	refill := func(dosesLeft int) map[string]any {
		return map[string]any{"body": "", "form": map[string]any{"type": "prescription_renewal", "fields": map[string]any{
			"medication": "Metformin", "strength": "500 mg", "pharmacy": "Main Street Pharmacy", "supplyDays": 90, "dosesLeft": dosesLeft}}}
	}
	open := func(name string, in map[string]any) string {
		t.Helper()
		id := h.Open(t, name, in).ThreadID
		clk.Advance(5 * time.Minute)
		return id
	}
	rx := open("patient", refill(20))                                                                                          // 10:00 routine, due Wed 17:00
	q1 := open("patient", map[string]any{"category": "question", "subject": "knee", "body": "sore knee"})                      // 10:05 routine, due Wed 09:05
	q2 := open("patient2", map[string]any{"category": "question", "subject": "cough", "body": "a cough"})                      // 10:10 routine, due Wed 09:10
	rxLow := open("patient2", refill(2))                                                                                       // 10:15 high (few doses left), due Thu 08:15
	fever := open("patient", map[string]any{"form": reading(38.8)})                                                            // 10:20 high (alarming), due Wed 09:20
	chest := open("patient2", map[string]any{"category": "question", "subject": "help", "body": "I have crushing chest pain"}) // 10:25 urgent
	if got, want := h.Drain(t, "triage"), 6; got != want {
		t.Fatalf("triage handled %d events, want %d", got, want)
	}
	names := map[string]string{rx: "rx", q1: "q1", q2: "q2", rxLow: "rxLow", fever: "fever", chest: "chest"}
	nameOf := func(items []threadView) []string {
		var out []string
		for _, it := range items {
			if n, ok := names[it.ID]; ok {
				out = append(out, n)
			} else {
				out = append(out, "unknown:"+it.ID)
			}
		}
		return out
	}
	list := func(query string) []threadView {
		t.Helper()
		var p inboxPage
		h.Must(t, nurse, "GET", "/v1/inbox?pool=nurses&"+query, nil, http.StatusOK, &p)
		if p.Cursor != "" {
			t.Fatalf("inbox %s: a cursor on a listing that fits one page", query)
		}
		return p.Items
	}
	// all pages through a listing with the cursor, limit items a page.
	all := func(query string, limit int) []threadView {
		t.Helper()
		var items []threadView
		cursor := ""
		for page := 0; ; page++ {
			if page > 20 {
				t.Fatalf("inbox %s limit %d: paging does not end", query, limit)
			}
			q := query + "&limit=" + strconv.Itoa(limit)
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			var p inboxPage
			h.Must(t, nurse, "GET", "/v1/inbox?pool=nurses&"+q, nil, http.StatusOK, &p)
			if len(p.Items) > limit {
				t.Fatalf("inbox %s: page of %d items, limit %d", q, len(p.Items), limit)
			}
			items = append(items, p.Items...)
			if p.Cursor == "" {
				return items
			}
			cursor = p.Cursor
		}
	}
	check := func(what string, items []threadView, want ...string) {
		t.Helper()
		if got := nameOf(items); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}

	// The order: urgent, then high by due time (the fever report, due
	// sooner, before the refill opened before it), then routine by due time
	// (the questions, due Wednesday morning, before the refill due
	// Wednesday evening although it was opened first).
	everything := list("")
	check("inbox", everything, "chest", "fever", "rxLow", "q1", "q2", "rx")
	for i := 1; i < len(everything); i++ {
		if !inboxOrdered(everything[i-1], everything[i]) {
			t.Errorf("inbox item %d (%s %v) listed before item %d (%s %v)", i-1, everything[i-1].Priority, everything[i-1].Due, i, everything[i].Priority, everything[i].Due)
		}
	}
	byName := map[string]threadView{}
	for _, it := range everything {
		byName[names[it.ID]] = it
	}
	for name, want := range map[string]struct {
		priority string
		due      string
	}{
		"rx": {"routine", "2026-03-04 17:00"}, "q1": {"routine", "2026-03-04 09:05"}, "q2": {"routine", "2026-03-04 09:10"},
		"rxLow": {"high", "2026-03-05 08:15"}, "fever": {"high", "2026-03-04 09:20"}, "chest": {"urgent", ""},
	} {
		it := byName[name]
		if it.Priority != want.priority || it.Owner != "pool:nurses" || it.Status != "open" {
			t.Errorf("%s: priority %s owner %s status %s, want %s pool:nurses open", name, it.Priority, it.Owner, it.Status, want.priority)
		}
		if it.Due == nil {
			t.Errorf("%s: no due time after triage", name)
		} else if want.due != "" && !it.Due.Equal(apptest.NewYork(t, want.due)) {
			t.Errorf("%s: due %s, want %s New York", name, it.Due, want.due)
		}
	}
	if it := byName["chest"]; it.Due != nil && !it.Due.Before(*byName["fever"].Due) {
		t.Errorf("the urgent thread is due %s, not before the high one (%s)", it.Due, byName["fever"].Due)
	}

	// Filters, alone and combined: exactly the matching threads, in order.
	check("priority=urgent", list("priority=urgent"), "chest")
	check("priority=high", list("priority=high"), "fever", "rxLow")
	check("priority=routine", list("priority=routine"), "q1", "q2", "rx")
	check("category=prescription", list("category=prescription"), "rxLow", "rx")
	check("category=question", list("category=question"), "chest", "q1", "q2")
	check("category=measurement", list("category=measurement"), "fever")
	check("category=prescription&priority=high", list("category=prescription&priority=high"), "rxLow")
	check("category=billing", list("category=billing"))
	check("status=open", list("status=open"), "chest", "fever", "rxLow", "q1", "q2", "rx")

	// Statuses move: a nurse's answer waits on the patient, a closed thread
	// leaves the active listing for the closed one, and the patient's reply
	// to it reopens it (triaged again, back in the active listing).
	h.Must(t, nurse, "POST", "/v1/threads/"+q2+"/messages", map[string]any{"body": "How long have you had it?"}, http.StatusCreated, nil)
	h.Must(t, nurse, "POST", "/v1/threads/"+q1+"/close", nil, http.StatusOK, nil)
	check("status=waiting_patient", list("status=waiting_patient"), "q2")
	check("status=open after an answer and a close", list("status=open"), "chest", "fever", "rxLow", "rx")
	check("active after a close", list(""), "chest", "fever", "rxLow", "q2", "rx")
	check("closed=true", list("closed=true"), "q1")
	check("status=closed", list("status=closed"), "q1")
	check("status=reopened before the reply", list("status=reopened"))
	clk.Advance(time.Hour)
	post(t, h, "patient", "/v1/threads/"+q1+"/messages", map[string]any{"body": "still sore"})
	if got, want := h.Drain(t, "triage"), 1; got != want {
		t.Fatalf("triage handled %d events after the reply, want %d", got, want)
	}
	check("status=reopened", list("status=reopened"), "q1")
	check("closed=true after the reply", list("closed=true"))
	active := list("")
	if !slices.Contains(nameOf(active), "q1") {
		t.Errorf("the reopened thread is not in the active listing: %v", nameOf(active))
	}
	for i := 1; i < len(active); i++ {
		if !inboxOrdered(active[i-1], active[i]) {
			t.Errorf("after the changes, inbox item %d (%s %v) listed before item %d (%s %v)", i-1, active[i-1].Priority, active[i-1].Due, i, active[i].Priority, active[i].Due)
		}
	}

	// Paging: every item once, in the order of the one-page listing, for
	// several page sizes, with and without filters (a filter makes the
	// store skip items between the ones it returns).
	for _, query := range []string{"", "category=question", "priority=routine", "status=open", "category=prescription&priority=routine"} {
		whole := nameOf(list(query))
		for _, limit := range []int{1, 2, 4} {
			got := nameOf(all(query, limit))
			if !slices.Equal(got, whole) {
				t.Errorf("inbox %q paged by %d = %v, want %v", query, limit, got, whole)
			}
		}
	}
	if got, want := len(list("")), 6; got != want {
		t.Errorf("active listing has %d threads, want %d", got, want)
	}

	// A claimed thread leaves the pool's listing for the nurse's own.
	h.Must(t, nurse, "POST", "/v1/threads/"+rx+"/claim", nil, http.StatusOK, nil)
	if slices.Contains(nameOf(list("")), "rx") {
		t.Error("a claimed thread is still in the pool's listing")
	}
	var mine inboxPage
	h.Must(t, nurse, "GET", "/v1/inbox?mine=true", nil, http.StatusOK, &mine)
	check("mine=true", mine.Items, "rx")
	var other inboxPage
	h.Must(t, h.TokenFor(t, "nurse2"), "GET", "/v1/inbox?mine=true", nil, http.StatusOK, &other)
	check("another nurse's mine=true", other.Items)
}
