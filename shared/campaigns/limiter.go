package campaigns

import (
	"context"
	"sync"
	"time"
)

// Limiter is a token bucket shared by every sender in a process: Wait hands
// out at most Rate tokens a second on average, with bursts of at most Burst.
// In AWS the campaign sender has reserved concurrency 1, so one process, and
// this one bucket, holds the whole account's campaign rate.
//
// Waiters reserve their token when they call Wait (so they are served in
// order and the rate holds under any number of goroutines); a waiter whose
// context ends gives its token back. Backoff, called after SES throttled a
// send, puts the bucket in debt by an exponentially growing pause (1 s, 2 s,
// ... 30 s) so every later send waits it out; Success ends the back-off.
type Limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	tokens  float64
	last    time.Time
	backoff time.Duration
	now     func() time.Time
}

// Back-off bounds after throttling.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// NewLimiter returns a bucket of rate tokens per second that starts with a
// full burst. A burst of 0 picks a fifth of a second's worth (at least 1).
func NewLimiter(rate float64, burst int) *Limiter {
	if rate <= 0 {
		rate = 1
	}
	b := float64(burst)
	if burst <= 0 {
		b = max(1, rate/5)
	}
	return &Limiter{rate: rate, burst: b, tokens: b, now: time.Now}
}

// Rate returns the configured rate.
func (l *Limiter) Rate() float64 { return l.rate }

// Wait blocks until the caller may send one e-mail, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.now()
	l.refill(now)
	l.tokens--
	var wait time.Duration
	if l.tokens < 0 {
		wait = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		l.tokens++ // give the reservation back
		l.mu.Unlock()
		return ctx.Err()
	}
}

func (l *Limiter) refill(now time.Time) {
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
}

// Backoff is called when SES throttled a send.
func (l *Limiter) Backoff() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refill(l.now())
	l.backoff = min(maxBackoff, max(minBackoff, 2*l.backoff))
	l.tokens = min(l.tokens, 0) - l.backoff.Seconds()*l.rate
}

// Success ends a back-off.
func (l *Limiter) Success() {
	l.mu.Lock()
	l.backoff = 0
	l.mu.Unlock()
}
