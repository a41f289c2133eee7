package campaigns_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/campaigns"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/testenv"
)

// BenchmarkSendRate50 sends a 500-recipient campaign through the app's
// campaign worker, with the SES rate set to 50/s, to the SES emulator, and
// reports the rate achieved from the 20th e-mail to the last. It fails
// when the rate is off by more than 10%.
func BenchmarkSendRate50(b *testing.B) {
	const n = 500
	h := apptest.New(b) // CAREPOST_SES_RATE 50
	a := h.App
	if a.Config.SESRate != 50 {
		b.Fatalf("harness SES rate = %v, want 50", a.Config.SESRate)
	}
	ctx := context.Background()
	sched := h.Token(carepost.RoleScheduler)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		domain := fmt.Sprintf("rate%d%s.test", i, testenv.RandomHex(3))
		list := csvOf(n, domain)
		var res campaigns.ImportResult
		h.Must(b, sched, "POST", "/v1/campaigns", map[string]any{"name": "rate", "template": map[string]string{"subject": "Hi", "text": "Hi {{firstName}}"},
			"audience": map[string]any{"csv": list}}, http.StatusCreated, &res)
		cid := res.Campaign.ID
		sendCtx, stop := context.WithCancel(ctx)
		wg := runSenders(sendCtx, a, 5)
		b.StartTimer()
		h.Must(b, sched, "POST", "/v1/campaigns/"+cid+"/schedule", nil, http.StatusOK, nil)
		var t0, t1 time.Time
		var sent0 int
		for {
			c := campaign(b, a, apptest.PracticeA, cid).Counts
			now := time.Now()
			// The rate is measured after the limiter's initial burst (a
			// fifth of a second's worth) is spent.
			if t0.IsZero() && c.Sent >= 20 {
				t0, sent0 = now, c.Sent
			}
			if c.Sent == n {
				t1 = now
				break
			}
			if c.Failed > 0 || (!t0.IsZero() && now.Sub(t0) > 2*time.Minute) {
				b.Fatalf("campaign stuck: %+v", c)
			}
			time.Sleep(20 * time.Millisecond)
		}
		b.StopTimer()
		stop()
		wg.Wait()
		rate := float64(n-sent0) / t1.Sub(t0).Seconds()
		dev := 100 * (rate - 50) / 50
		b.ReportMetric(rate, "sends/s")
		b.ReportMetric(dev, "rate-deviation-%")
		if math.Abs(dev) > 10 {
			b.Errorf("achieved %.1f e-mails/s with the rate set to 50/s (%.1f%% off; allowed ±10%%)", rate, dev)
		}
		if got := len(mailsTo(b, t0.Add(-2*time.Second), domain)); got != n {
			b.Errorf("mailbox has %d e-mails for the campaign, want %d", got, n)
		}
		b.StartTimer()
	}
}

// BenchmarkQueue100k is the time to put 100,000 recipients on the campaign
// queue of the SQS emulator: 10,000 SendMessageBatch calls of ten, sixteen
// in flight.
func BenchmarkQueue100k(b *testing.B) {
	const n = 100_000
	st := testenv.NewStack(b)
	q := &campaigns.Queue{SQS: st.Clients.SQS, URL: st.Outputs.CampaignQueueURL, Parallel: 16}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%032x", i)
	}
	ctx := context.Background()
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		start := time.Now()
		if err := q.EnqueueSends(ctx, "bench-practice", "bench-campaign", ids); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/100k")
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "recipients/s")
}
