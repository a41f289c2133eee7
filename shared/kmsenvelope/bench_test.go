package kmsenvelope

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkSealOpen2KB is one 2 KB message sealed and opened with cached
// keys: the in-process cost of encryption on the send and read paths.
func BenchmarkSealOpen2KB(b *testing.B) {
	ctx := context.Background()
	e := newTestEnvelope(newWrappingKMS(), Options{MaxMessages: 1 << 30, MaxAge: time.Hour})
	bind := testBinding("prac-1")
	plain := make([]byte, 2048)
	sealed, err := e.Seal(ctx, bind, plain) // warm the caches
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := e.Seal(ctx, bind, plain)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Open(ctx, bind, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(sealed)-len(plain)), "overhead-bytes")
}

func BenchmarkSeal2KB(b *testing.B) {
	ctx := context.Background()
	e := newTestEnvelope(newWrappingKMS(), Options{MaxMessages: 1 << 30, MaxAge: time.Hour})
	bind := testBinding("prac-1")
	plain := make([]byte, 2048)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Seal(ctx, bind, plain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen2KB(b *testing.B) {
	ctx := context.Background()
	e := newTestEnvelope(newWrappingKMS(), Options{MaxMessages: 1 << 30, MaxAge: time.Hour})
	bind := testBinding("prac-1")
	plain := make([]byte, 2048)
	s, err := e.Seal(ctx, bind, plain)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Open(ctx, bind, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKMSCalls reports KMS calls per 1,000 messages in steady state
// with the default limits (MaxAge 5 min, MaxMessages 1000), for one
// long-lived writer and one long-lived reader (another instance: it does
// not share the writer's cache) and one practice receiving messages at a
// steady rate on a simulated clock. Each iteration is 1,000 messages, each
// sealed, then opened by the reader.
func BenchmarkKMSCalls(b *testing.B) {
	for _, rate := range []struct {
		name  string
		every time.Duration
	}{
		{"10-per-s", 100 * time.Millisecond},
		{"1-per-s", time.Second},
		{"1-per-min", time.Minute},
	} {
		b.Run(rate.name, func(b *testing.B) {
			ctx := context.Background()
			clk := newClock()
			w := newWrappingKMS()
			writer := newTestEnvelope(w, Options{Now: clk.Now})
			reader := newTestEnvelope(w, Options{Now: clk.Now})
			const batch = 1000
			plain := make([]byte, 2048)
			var overhead int
			round := func() {
				for i := range batch {
					bind := testBinding("prac-1")
					bind.MessageID = fmt.Sprint(i)
					bind.Time = clk.Now()
					s, err := writer.Seal(ctx, bind, plain)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := reader.Open(ctx, bind, s); err != nil {
						b.Fatal(err)
					}
					overhead = len(s) - len(plain)
					clk.Advance(rate.every)
				}
			}
			round() // warm up: the first key of each cache
			g0, d0 := writer.Stats().KMSGenerateCalls, reader.Stats().KMSDecryptCalls
			rounds := 0
			for b.Loop() {
				round()
				rounds++
			}
			g, d := writer.Stats().KMSGenerateCalls-g0, reader.Stats().KMSDecryptCalls-d0
			b.ReportMetric(float64(g)/float64(rounds), "kms-calls/1000-seals")
			b.ReportMetric(float64(d)/float64(rounds), "kms-calls/1000-opens")
			b.ReportMetric(float64(overhead), "overhead-bytes")
		})
	}
}
