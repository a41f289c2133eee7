package apptest_test

// Benchmarks on the emulators through the whole stack (HTTP, auth,
// idempotency, audit, DynamoDB Local, the KMS emulator). The ns/op are
// dominated by the emulators and mean little; the figures that matter are
// reported with b.ReportMetric:
//
//	wcu/message            DynamoDB write units per message sent, everything included
//	wcu-<kind>/message     the same split by item kind (message, thread, audit, idempotency)
//	writes/message         DynamoDB write calls per message
//	bytes-overhead/message stored message item size minus its text
//	bytes-other/message    audit and idempotency items stored per message
//	kms-calls/1000-sent    KMS calls per 1,000 messages sent (over b.N)
//	kms-calls/1000-read    KMS calls per 1,000 messages read, reader warm
//	kms-calls/1000-read-cold  the same for a fresh reader (a cold Lambda)
//
// Write units come from DynamoDB Local's ConsumedCapacity, which it
// computes by DynamoDB's rules (a unit per started KB per item written, in
// the table and in each index the item lands in); see apptest.Meter.

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/kmsenvelope"
	"github.com/carepost/carepost/shared/messaging"
)

// text2KB is a routine 2 KB message (no red flags).
var text2KB = func() string {
	const s = "Hello, my blood pressure readings this week were in the usual range and I would like to ask about the refill of my usual tablets. "
	return strings.Repeat(s, 2048/len(s)+1)[:2048]
}()

func BenchmarkSendOnEmulators(b *testing.B) {
	for _, mode := range []string{"reply", "open"} {
		b.Run(mode, func(b *testing.B) {
			var meter apptest.Meter
			h := apptest.NewWith(b, apptest.Options{DynamoDB: meter.Instrument})
			h.Accept(b, "patient")
			tok := h.Token(carepost.RolePatient)
			thread := h.Open(b, "patient", map[string]any{"category": "question", "subject": "tablets", "body": "first"})
			send := func() {
				path, body := "/v1/threads/"+thread.ThreadID+"/messages", map[string]any{"body": text2KB}
				if mode == "open" {
					path, body = "/v1/threads", map[string]any{"category": "question", "subject": "about my tablets", "body": text2KB}
				}
				r, err := h.DoE(tok, "POST", path, body, map[string]string{"Idempotency-Key": secret("k")})
				if err != nil || r.Status != http.StatusCreated {
					b.Fatalf("send: %v %d %s", err, r.Status, r.Body)
				}
			}
			send() // warm: data key, JWKS, audit chain head
			before := h.App.Envelope.Stats()
			sizeBefore := sizes(b, h)
			meter.Reset()
			b.ResetTimer()
			for range b.N {
				send()
			}
			b.StopTimer()
			n := float64(b.N)
			units, writes := meter.Units(), meter.Writes()
			b.ReportMetric(units["total"]/n, "wcu/message")
			total := 0
			for kind, w := range writes {
				total += w
				b.ReportMetric(units[kind]/n, "wcu-"+kind+"/message")
			}
			b.ReportMetric(float64(total)/n, "writes/message")
			after := h.App.Envelope.Stats()
			b.ReportMetric(float64(after.KMSGenerateCalls+after.KMSDecryptCalls-before.KMSGenerateCalls-before.KMSDecryptCalls)*1000/n, "kms-calls/1000-sent")

			// What is stored per message beyond its text: the message item,
			// and everything the table grew by.
			sizeAfter := sizes(b, h)
			b.ReportMetric((sizeAfter["message"]-sizeBefore["message"])/n-float64(len(text2KB)), "bytes-overhead/message")
			b.ReportMetric((sizeAfter["total"]-sizeBefore["total"])/n-float64(len(text2KB)), "bytes-stored-beyond-text/message")
		})
	}
}

// sizes sums the stored item sizes per kind (and "total").
func sizes(b *testing.B, h *apptest.Harness) map[string]float64 {
	out := map[string]float64{}
	for _, it := range h.Items(b) {
		n := float64(apptest.ItemSize(it))
		out[apptest.KindOf(it)] += n
		out["total"] += n
	}
	return out
}

// BenchmarkReadOnEmulators reads a thread of ten 2 KB messages over HTTP
// (the app's own envelope, warm), then with fresh envelopes (cold readers).
func BenchmarkReadOnEmulators(b *testing.B) {
	ctx := context.Background()
	h := apptest.New(b)
	h.Accept(b, "patient")
	tok := h.Token(carepost.RolePatient)
	thread := h.Open(b, "patient", map[string]any{"category": "question", "subject": "tablets", "body": text2KB})
	for range 9 {
		h.Must(b, tok, "POST", "/v1/threads/"+thread.ThreadID+"/messages", map[string]any{"body": text2KB}, http.StatusCreated, nil)
	}
	const perThread = 10
	h.Must(b, tok, "GET", "/v1/threads/"+thread.ThreadID, nil, http.StatusOK, nil) // warm
	before := h.App.Envelope.Stats()
	b.ResetTimer()
	for range b.N {
		r, err := h.DoE(tok, "GET", "/v1/threads/"+thread.ThreadID, nil, nil)
		if err != nil || r.Status != http.StatusOK {
			b.Fatalf("read: %v %d", err, r.Status)
		}
	}
	b.StopTimer()
	after := h.App.Envelope.Stats()
	b.ReportMetric(float64(after.KMSGenerateCalls+after.KMSDecryptCalls-before.KMSGenerateCalls-before.KMSDecryptCalls)*1000/float64(b.N*perThread), "kms-calls/1000-read")

	p, err := h.App.Auth.Verify(ctx, tok)
	if err != nil {
		b.Fatal(err)
	}
	var calls uint64
	const cold = 5
	for range cold {
		env := kmsenvelope.New(h.Stack.Clients.KMS, kmsenvelope.Options{KeyID: h.App.Config.KeyID})
		svc := messaging.New(h.App.Store, env, nil, nil)
		d, err := svc.Get(ctx, p, thread.ThreadID)
		if err != nil || len(d.Messages) != perThread {
			b.Fatalf("cold read: %v, %d messages", err, len(d.Messages))
		}
		st := env.Stats()
		calls += st.KMSGenerateCalls + st.KMSDecryptCalls
	}
	b.ReportMetric(float64(calls)*1000/float64(cold*perThread), "kms-calls/1000-read-cold")
}
