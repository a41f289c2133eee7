package campaigns_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/campaigns"
	"github.com/carepost/carepost/shared/carepost"
)

// BenchmarkFanOut100k is the time from "start" to a 100,000-recipient
// campaign being on the queue, the way it runs in production: FanOut reads
// the pending recipients from DynamoDB Local a page of 1,000 at a time and
// puts them on the SQS emulator in SendMessageBatch calls of ten (the
// production Queue, 8 in flight). The recipients are written before the
// timer starts; the queue depth is checked after.
func BenchmarkFanOut100k(b *testing.B) {
	const n = 100_000
	h := apptest.New(b)
	a := h.App
	ctx := context.Background()
	svc := serviceFor(a)
	who := carepost.Principal{Subject: h.Subject(b, "scheduler"), Role: carepost.RoleScheduler, PracticeID: apptest.PracticeA}
	for i := range b.N {
		b.StopTimer()
		list := csvOf(1, fmt.Sprintf("fan%d.test", i))
		res, err := svc.Create(ctx, who, campaigns.CreateInput{Name: "Fan-out", Template: carepost.CampaignTemplate{Subject: "Hi", Text: "x"}, Audience: campaigns.Audience{CSV: &list}})
		if err != nil {
			b.Fatal(err)
		}
		cid := res.Campaign.ID
		sealed := []byte("sealed contact stand-in: the fan-out never opens it")
		work := make(chan int)
		var wg sync.WaitGroup
		var putErr error
		var mu sync.Mutex
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range work {
					r := carepost.Recipient{PracticeID: apptest.PracticeA, CampaignID: cid, ID: fmt.Sprintf("%032x", j), Line: j + 2, State: carepost.RecipientPending, ContactSealed: sealed}
					if err := a.Store.PutRecipient(ctx, r); err != nil {
						mu.Lock()
						putErr = err
						mu.Unlock()
					}
				}
			}()
		}
		started := time.Now()
		for j := range n - 1 {
			work <- j
		}
		close(work)
		wg.Wait()
		if putErr != nil {
			b.Fatal(putErr)
		}
		b.Logf("wrote %d recipients in %.0f s (setup, not timed)", n-1, time.Since(started).Seconds())
		if err := a.Store.SetCampaignCounts(ctx, apptest.PracticeA, cid, carepost.CampaignCounts{Total: n}); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Store.ChangeCampaign(ctx, apptest.PracticeA, cid, carepost.CampaignChange{From: []carepost.CampaignState{carepost.CampaignDraft},
			To: carepost.CampaignRunning, Started: time.Now(), Now: time.Now()}); err != nil {
			b.Fatal(err)
		}
		depth0 := queueDepth(b, a.Clients.SQS, a.Config.CampaignQueueURL)

		b.StartTimer()
		start := time.Now()
		queued, err := svc.FanOut(ctx, apptest.PracticeA, cid)
		took := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if queued != n {
			b.Fatalf("fan-out queued %d, want %d", queued, n)
		}
		if depth := queueDepth(b, a.Clients.SQS, a.Config.CampaignQueueURL) - depth0; depth < n {
			b.Errorf("queue grew by %d messages, want %d", depth, n)
		}
		b.ReportMetric(took.Seconds(), "s/100k")
		b.ReportMetric(float64(n)/took.Seconds(), "recipients/s")
		// Empty the queue for the next round (and the next benchmark).
		if _, err := a.Clients.SQS.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(a.Config.CampaignQueueURL)}); err != nil {
			b.Fatal(err)
		}
	}
}

func queueDepth(b *testing.B, c *sqs.Client, url string) int {
	b.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		b.Fatal(err)
	}
	n, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	return n
}
