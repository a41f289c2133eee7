package apptest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/sqsqueue"
)

// Clock is a settable time for the services' Now (messaging, triage).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// NewYork is the UTC instant of a New York wall time "2006-01-02 15:04"
// (practice A's time zone).
func NewYork(t testing.TB, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// Drain runs the named worker over its queue until the queue is empty, as
// the event source mapping would, and returns how many records it handed
// over.
func (h *Harness) Drain(t testing.TB, worker string) int {
	t.Helper()
	w, ok := h.App.Worker(worker)
	if !ok {
		t.Fatalf("no %s worker wired", worker)
	}
	p := &sqsqueue.Poller{SQS: h.Stack.Clients.SQS, QueueURL: w.QueueURL, BatchSize: w.BatchSize, Handle: w.Handle}
	total, empty := 0, 0
	for empty < 2 {
		n, err := p.PollOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			empty++
			time.Sleep(100 * time.Millisecond)
			continue
		}
		total += n
	}
	return total
}
