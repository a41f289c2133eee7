// Package sqsqueue is the SQS adapter: it publishes domain events (ids only,
// never patient data: no body text and no message attributes) and, for the
// dev stack, polls a queue and hands each batch to a worker exactly as the
// Lambda event source mapping would, honouring partial batch failures.
package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/carepost/carepost/shared/carepost"
)

// API is the subset of *sqs.Client used here.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

var _ API = (*sqs.Client)(nil)

// Publisher implements carepost.Publisher over named queues.
type Publisher struct {
	SQS    API
	Queues map[string]string // queue name (carepost.QueueTriage ...) -> URL
}

var _ carepost.Publisher = (*Publisher)(nil)

// Publish sends e to the named queue.
func (p *Publisher) Publish(ctx context.Context, queue string, e carepost.Event) error {
	url, ok := p.Queues[queue]
	if !ok {
		return fmt.Errorf("sqsqueue: no URL for queue %q", queue)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = p.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(b))})
	return err
}

// Handler is a Lambda SQS handler with partial batch responses.
type Handler func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error)

// Poller feeds a queue to a Handler like an event source mapping with
// ReportBatchItemFailures: successful records are deleted, failed ones stay
// and reappear after the visibility timeout (and move to the DLQ after the
// queue's maxReceiveCount). A handler error fails the whole batch.
type Poller struct {
	SQS       API
	QueueURL  string
	QueueARN  string
	BatchSize int
	Wait      time.Duration // long-poll wait (max 20 s)
	Handle    Handler
	OnError   func(error)
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if _, err := p.PollOnce(ctx); err != nil && ctx.Err() == nil {
			if p.OnError != nil {
				p.OnError(err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// PollOnce receives one batch, runs the handler and deletes what succeeded.
// It returns how many records it handed over.
func (p *Poller) PollOnce(ctx context.Context) (int, error) {
	batch := p.BatchSize
	if batch <= 0 || batch > 10 {
		batch = 10
	}
	wait := int32(p.Wait / time.Second)
	out, err := p.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(p.QueueURL),
		MaxNumberOfMessages: int32(batch),
		WaitTimeSeconds:     wait,
		AttributeNames:      []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		return 0, err
	}
	if len(out.Messages) == 0 {
		return 0, nil
	}
	ev := events.SQSEvent{}
	for _, m := range out.Messages {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:      aws.ToString(m.MessageId),
			ReceiptHandle:  aws.ToString(m.ReceiptHandle),
			Body:           aws.ToString(m.Body),
			Md5OfBody:      aws.ToString(m.MD5OfBody),
			Attributes:     m.Attributes,
			EventSource:    "aws:sqs",
			EventSourceARN: p.QueueARN,
			AWSRegion:      "us-east-1",
		})
	}
	resp, herr := p.Handle(ctx, ev)
	if herr != nil {
		return len(ev.Records), herr // nothing deleted: the whole batch retries
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if !failed[aws.ToString(m.MessageId)] {
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if len(del) > 0 {
		out, err := p.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: del})
		if err != nil {
			return len(ev.Records), err
		}
		if len(out.Failed) > 0 {
			return len(ev.Records), fmt.Errorf("sqsqueue: %d of %d deletes failed (first: %s)", len(out.Failed), len(del), aws.ToString(out.Failed[0].Code))
		}
	}
	return len(ev.Records), nil
}

// ReceiveCount reads a record's ApproximateReceiveCount.
func ReceiveCount(m events.SQSMessage) int {
	n, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	return n
}

// Depth returns the approximate number of visible messages on a queue.
func Depth(ctx context.Context, c API, url string) (int, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	return n, nil
}

// DecodeEvent parses a record body.
func DecodeEvent(m events.SQSMessage) (carepost.Event, error) {
	var e carepost.Event
	dec := json.NewDecoder(stringsReader(m.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("malformed queue event: %w", err)
	}
	if e.PracticeID == "" || e.Type == "" {
		return e, fmt.Errorf("malformed queue event: missing practiceId or type")
	}
	return e, nil
}
