package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/carepost/carepost/shared/carepost"
)

// Message types on the campaign queue. Bodies carry ids only.
const (
	MsgSend   = "campaign.send"   // send one recipient's e-mail
	MsgFanout = "campaign.fanout" // put a campaign's waiting recipients on the queue
)

// Message is the body of a campaign queue message.
type Message struct {
	Type        string `json:"type"`
	PracticeID  string `json:"practiceId"`
	CampaignID  string `json:"campaignId"`
	RecipientID string `json:"recipientId,omitempty"`
}

// SQSAPI is the part of the SQS client the queue uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Queue puts work on the campaign queue: SendMessageBatch calls of ten
// messages (the SQS maximum), Parallel calls at a time.
type Queue struct {
	SQS      SQSAPI
	URL      string
	Parallel int // concurrent SendMessageBatch calls (default 8)
}

// EnqueueFanout asks the sender to fan a campaign out.
func (q *Queue) EnqueueFanout(ctx context.Context, pid, cid string) error {
	b, _ := json.Marshal(Message{Type: MsgFanout, PracticeID: pid, CampaignID: cid})
	_, err := q.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(b))})
	if err != nil {
		return carepost.Unavailable(err, "the campaign queue")
	}
	return nil
}

// EnqueueSends puts one send message per recipient on the queue. Entries
// SQS refuses in a batch are retried (three times, with a short pause); what
// still fails is an error, so the caller's fan-out runs again later (a
// recipient on the queue twice is harmless: the sender claims it once).
func (q *Queue) EnqueueSends(ctx context.Context, pid, cid string, rids []string) error {
	par := q.Parallel
	if par <= 0 {
		par = 8
	}
	batches := make(chan []string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if err := q.sendBatch(ctx, pid, cid, b); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < len(rids); i += 10 {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		batches <- rids[i:min(i+10, len(rids))]
	}
	close(batches)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

func (q *Queue) sendBatch(ctx context.Context, pid, cid string, rids []string) error {
	entries := make([]types.SendMessageBatchRequestEntry, len(rids))
	for i, rid := range rids {
		b, _ := json.Marshal(Message{Type: MsgSend, PracticeID: pid, CampaignID: cid, RecipientID: rid})
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(b))}
	}
	for attempt := 0; ; attempt++ {
		out, err := q.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
		if err == nil && len(out.Failed) == 0 {
			return nil
		}
		if attempt >= 3 {
			if err == nil {
				err = fmt.Errorf("%d of %d entries refused", len(out.Failed), len(entries))
			}
			return carepost.Unavailable(err, "the campaign queue")
		}
		if err == nil {
			failed := map[string]bool{}
			for _, f := range out.Failed {
				failed[aws.ToString(f.Id)] = true
			}
			var again []types.SendMessageBatchRequestEntry
			for _, e := range entries {
				if failed[aws.ToString(e.Id)] {
					again = append(again, e)
				}
			}
			entries = again
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
		}
	}
}
