package sqsqueue_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/sqsqueue"
	"github.com/carepost/carepost/shared/testenv"
)

func TestDecodeSampleBatch(t *testing.T) {
	raw, err := os.ReadFile("../../events/sqs-triage-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if got, want := len(ev.Records), 2; got != want {
		t.Fatalf("records = %d, want %d", got, want)
	}
	e, err := sqsqueue.DecodeEvent(ev.Records[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Type, "message.from_patient"; got != want {
		t.Errorf("type = %q, want %q", got, want)
	}
	if _, err := sqsqueue.DecodeEvent(ev.Records[1]); err == nil {
		t.Error("poison record decoded without error")
	}
	if got, want := sqsqueue.ReceiveCount(ev.Records[1]), 3; got != want {
		t.Errorf("receive count = %d, want %d", got, want)
	}
}

// The poller hands batches to the handler like an event source mapping:
// succeeded records are deleted, reported failures come back later, and a
// record that keeps failing ends in the DLQ after maxReceiveCount.
func TestPollerPartialBatchFailureAndDLQ(t *testing.T) {
	st := testenv.NewStack(t)
	ctx := context.Background()
	c := st.Clients.SQS
	// A short visibility timeout so failed records come back quickly.
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(st.Outputs.TriageQueueURL), Attributes: map[string]string{"VisibilityTimeout": "1"}}); err != nil {
		t.Fatal(err)
	}
	pub := &sqsqueue.Publisher{SQS: c, Queues: map[string]string{carepost.QueueTriage: st.Outputs.TriageQueueURL}}
	for _, id := range []string{"good-1", "poison", "good-2"} {
		if err := pub.Publish(ctx, carepost.QueueTriage, carepost.Event{Type: "message.from_patient", PracticeID: "p1", ThreadID: "t1", MessageID: id, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	handled := map[string]int{}
	// No long poll: the SQS emulator returns a message twice when its visibility
	// timeout ends during one long poll (a gap of local-aws-sqs 2.0.2).
	p := &sqsqueue.Poller{SQS: c, QueueURL: st.Outputs.TriageQueueURL, BatchSize: 10, Wait: 0,
		Handle: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			var resp events.SQSEventResponse
			for _, r := range ev.Records {
				e, err := sqsqueue.DecodeEvent(r)
				if err != nil {
					t.Errorf("decode: %v", err)
					continue
				}
				handled[e.MessageID]++
				if e.MessageID == "poison" {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
				}
			}
			return resp, nil
		}}
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := p.PollOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if handled["poison"] >= 5 {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if handled["good-1"] != 1 || handled["good-2"] != 1 {
		t.Errorf("good records handled %d and %d times, want once each", handled["good-1"], handled["good-2"])
	}
	if got, want := handled["poison"], st.Resources.Triage.MaxReceiveCount; got != want {
		t.Errorf("poison handled %d times, want %d (maxReceiveCount)", got, want)
	}
	// After maxReceiveCount the next receive moves it to the DLQ.
	time.Sleep(1500 * time.Millisecond)
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	dlq := st.Outputs.DLQURLs[st.Resources.Triage.Name]
	var n int
	for range 20 {
		if n, _ = sqsqueue.Depth(ctx, c, dlq); n > 0 {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if n != 1 {
		t.Errorf("DLQ depth = %d, want 1", n)
	}
}
