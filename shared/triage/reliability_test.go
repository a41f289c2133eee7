package triage_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/dynamo"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/sqsqueue"
	"github.com/carepost/carepost/shared/triage"
)

func eventRecord(t *testing.T, id string, e carepost.Event) events.SQSMessage {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: id, Body: string(b), Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

func fromPatient(o apptest.Opened) carepost.Event {
	return carepost.Event{Type: triage.EventFromPatient, PracticeID: apptest.PracticeA, ThreadID: o.ThreadID, MessageID: o.MessageID, At: time.Now()}
}

// purge empties the triage queue without handling it (the tests feed the
// handler their own batches).
func (e *env) purge(t *testing.T) {
	t.Helper()
	c := e.h.Stack.Clients.SQS
	url := e.h.Stack.Outputs.TriageQueueURL
	for range 10 {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return
		}
		for _, m := range out.Messages {
			if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// One poison record among good ones: only it is reported failed; the good
// ones are triaged.
func TestPartialBatchFailure(t *testing.T) {
	e := newEnv(t, "2026-03-03 10:00")
	e.h.Accept(t, "patient")
	a := e.h.Open(t, "patient", map[string]any{"category": "question", "subject": "Rash", "body": "A rash on my arm since Sunday."})
	b := e.h.Open(t, "patient", map[string]any{"category": "billing", "subject": "Statement", "body": "Why was I charged twice?"})
	e.purge(t)
	batch := events.SQSEvent{Records: []events.SQSMessage{
		eventRecord(t, "rec-a", fromPatient(a)),
		{MessageId: "rec-poison", Body: "not json: a poison message"},
		eventRecord(t, "rec-b", fromPatient(b)),
		eventRecord(t, "rec-other", carepost.Event{Type: "message.to_patient", PracticeID: apptest.PracticeA, ThreadID: a.ThreadID, MessageID: a.MessageID}),
	}}
	resp, err := e.h.App.Triage.Handle(context.Background(), batch)
	if err != nil {
		t.Fatalf("Handle failed the whole batch: %v", err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if got, want := failed, []string{"rec-poison"}; !slices.Equal(got, want) {
		t.Errorf("batch item failures = %v, want %v", got, want)
	}
	for _, o := range []apptest.Opened{a, b} {
		th := e.thread(t, o.ThreadID)
		if !th.Triaged || th.Due.IsZero() {
			t.Errorf("thread %s: triaged=%v due=%s, want triaged with a due time", o.ThreadID, th.Triaged, th.Due)
		}
		if got := len(e.detail(t, "patient", o.ThreadID).system()); got != 1 {
			t.Errorf("thread %s has %d system messages, want 1", o.ThreadID, got)
		}
	}
	// The notifier hears of the new work in each pool.
	if n, err := sqsqueue.Depth(context.Background(), e.h.Stack.Clients.SQS, e.h.Stack.Outputs.NotifyQueueURL); err != nil || n != 2 {
		t.Errorf("notify queue depth = %d (%v), want 2 work.new events", n, err)
	}
	// A record for a message that does not exist fails too (and would
	// reach the DLQ), without touching the others.
	resp, _ = e.h.App.Triage.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		eventRecord(t, "rec-missing", carepost.Event{Type: triage.EventFromPatient, PracticeID: apptest.PracticeA, ThreadID: a.ThreadID, MessageID: "nope"}),
		eventRecord(t, "rec-a-again", fromPatient(a)),
	}})
	if got, want := len(resp.BatchItemFailures), 1; got != want || resp.BatchItemFailures[0].ItemIdentifier != "rec-missing" {
		t.Errorf("failures = %+v, want only rec-missing", resp.BatchItemFailures)
	}
}

// A redelivered event (at-least-once delivery) posts no second
// acknowledgement and sends no second page.
func TestRedeliveryPostsNoSecondAckOrPage(t *testing.T) {
	e := newEnv(t, "2026-03-07 23:00") // a Saturday night
	e.h.Accept(t, "patient")
	o := e.h.Open(t, "patient", map[string]any{"category": "question", "subject": "Help", "body": "I have crushing chest pain"})
	if got, want := e.drain(t), 1; got != want {
		t.Fatalf("triage handled %d events, want %d", got, want)
	}
	first := e.thread(t, o.ThreadID)
	for i := range 3 {
		e.clock.Advance(time.Minute)
		resp, err := e.h.App.Triage.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{eventRecord(t, "again", fromPatient(o))}})
		if err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("redelivery %d: %v %+v", i, err, resp.BatchItemFailures)
		}
	}
	d := e.detail(t, "patient", o.ThreadID)
	if got, want := len(d.system()), 1; got != want {
		t.Errorf("%d system messages after redeliveries, want %d", got, want)
	}
	time.Sleep(300 * time.Millisecond)
	if got, want := len(e.mails(t)), 1; got != want {
		t.Errorf("%d pages after redeliveries, want %d", got, want)
	}
	th := e.thread(t, o.ThreadID)
	if !th.PageDue.Equal(first.PageDue) || !th.Due.Equal(first.Due) || th.Owner != first.Owner {
		t.Errorf("redelivery changed the decision: pageDue %s -> %s, due %s -> %s", first.PageDue, th.PageDue, first.Due, th.Due)
	}
}

// crashStore stores a message and then "crashes" before the thread update,
// as a Lambda timeout between the two writes would.
type crashStore struct {
	*dynamo.Store
}

var errCrash = errors.New("simulated crash")

func (c crashStore) AppendMessage(ctx context.Context, m carepost.MessageRecord, change carepost.ThreadChange) error {
	if err := c.Store.AppendMessage(ctx, m, carepost.ThreadChange{PracticeID: change.PracticeID, ThreadID: change.ThreadID, Version: -1}); carepost.ErrorCode(err) != carepost.CodeConflict {
		return err
	}
	return errCrash
}

type failingMailer struct{}

func (failingMailer) Send(context.Context, carepost.Mail) (string, error) {
	return "", carepost.Unavailable(errors.New("throttled"), "the mail service")
}

// A crash between the acknowledgement's write and the thread's update, or a
// failed page, loses nothing: the redelivery finishes the work once.
func TestCrashRecovery(t *testing.T) {
	e := newEnv(t, "2026-03-03 10:00")
	e.h.Accept(t, "patient")
	o := e.h.Open(t, "patient", map[string]any{"category": "question", "subject": "Help", "body": "I have crushing chest pain"})
	e.purge(t)
	ctx := context.Background()
	good := e.h.App.Triage
	crashing := *good
	cs := crashStore{good.Store.(*dynamo.Store)}
	crashing.Store = cs
	crashing.Messaging = messaging.New(cs, e.h.App.Envelope, nil, nil)
	crashing.Messaging.Now = e.clock.Now

	if err := crashing.Triage(ctx, fromPatient(o)); !errors.Is(err, errCrash) {
		t.Fatalf("crashing triage = %v, want the simulated crash", err)
	}
	if th := e.thread(t, o.ThreadID); th.Triaged {
		t.Fatal("thread triaged although the update crashed")
	}
	if got := len(e.detail(t, "patient", o.ThreadID).system()); got != 1 {
		t.Fatalf("%d system messages after the crash, want the 1 written before it", got)
	}

	// The page fails to send: the claim is released.
	noMail := *good
	noMail.Mailer = failingMailer{}
	if err := noMail.Triage(ctx, fromPatient(o)); carepost.ErrorCode(err) != carepost.CodeUnavailable {
		t.Fatalf("triage with mail down = %v, want unavailable", err)
	}
	th := e.thread(t, o.ThreadID)
	if !th.Triaged || th.PageDue.IsZero() {
		t.Errorf("after the retry: triaged=%v pageDue=%s, want triaged with a page deadline", th.Triaged, th.PageDue)
	}

	// The next delivery pages, once; the one after does nothing.
	for range 2 {
		if err := good.Triage(ctx, fromPatient(o)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if got, want := len(e.mails(t)), 1; got != want {
		t.Errorf("%d pages, want %d", got, want)
	}
	if got, want := len(e.detail(t, "patient", o.ThreadID).system()), 1; got != want {
		t.Errorf("%d system messages, want %d", got, want)
	}
}

// A record that always fails is received maxReceiveCount (5) times and then
// moves to the dead-letter queue, while the good record beside it is
// handled once.
func TestDeadLetterAfterMaxReceives(t *testing.T) {
	e := newEnv(t, "2026-03-03 10:00")
	e.h.Accept(t, "patient")
	o := e.h.Open(t, "patient", map[string]any{"category": "question", "subject": "Rash", "body": "A rash on my arm."})
	ctx := context.Background()
	c := e.h.Stack.Clients.SQS
	url := e.h.Stack.Outputs.TriageQueueURL
	// A short visibility timeout so failed records come back quickly.
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"VisibilityTimeout": "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"type":"message.from_patient","practiceId":"clinic-a","threadId":"t","messageId":"m","extra":1}`)}); err != nil {
		t.Fatal(err)
	}
	w, _ := e.h.App.Worker("triage")
	received := map[string]int{} // by kind
	p := &sqsqueue.Poller{SQS: c, QueueURL: url, BatchSize: 10, Wait: 0, Handle: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		for _, r := range ev.Records {
			if strings.Contains(r.Body, `"extra"`) {
				received["poison"]++
			} else {
				received["good"]++
			}
		}
		return w.Handle(ctx, ev)
	}}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && received["poison"] < 5 {
		if _, err := p.PollOnce(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if got, want := received["poison"], e.h.Stack.Resources.Triage.MaxReceiveCount; got != want {
		t.Errorf("poison received %d times, want %d (maxReceiveCount)", got, want)
	}
	// The next receive after the fifth moves it to the DLQ.
	time.Sleep(1500 * time.Millisecond)
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	dlq := e.h.Stack.Outputs.DLQURLs[e.h.Stack.Resources.Triage.Name]
	var n int
	for range 20 {
		if n, _ = sqsqueue.Depth(ctx, c, dlq); n > 0 {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if got, want := n, 1; got != want {
		t.Errorf("DLQ depth = %d, want %d", got, want)
	}
	if got, want := received["good"], 1; got != want {
		t.Errorf("good record handled %d times, want %d", got, want)
	}
	if th := e.thread(t, o.ThreadID); !th.Triaged {
		t.Error("the good record's thread was not triaged")
	}
	if depth, _ := sqsqueue.Depth(ctx, c, url); depth != 0 {
		t.Errorf("main queue depth = %d, want 0", depth)
	}
}

// Due times on the real stack: the practice's zone, hours and holidays.
func TestDueTimesInBusinessHours(t *testing.T) {
	e := newEnv(t, "2026-03-03 10:00")
	e.h.Accept(t, "patient")
	tests := []struct {
		name, sent string
		in         map[string]any
		want       string // New York time
	}{
		{"question Friday 16:30 over the weekend and the DST switch", "2026-03-06 16:30", map[string]any{"category": "question", "subject": "Q", "body": "A question about my diet."}, "2026-03-09 15:30"},
		{"question on Christmas Eve, the holiday and the weekend", "2026-12-24 16:00", map[string]any{"category": "question", "subject": "Q", "body": "A question about my diet."}, "2026-12-28 15:00"},
		{"appointment request at night", "2026-03-03 22:00", map[string]any{"category": "appointment", "subject": "Visit", "body": "Could I book a check-up?"}, "2026-03-04 16:00"},
		{"billing on Saturday (24 h)", "2026-03-07 12:00", map[string]any{"category": "billing", "subject": "Bill", "body": "A question about my statement."}, "2026-03-11 14:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Set(nyTime(t, tt.sent))
			o := e.h.Open(t, "patient", tt.in)
			if got := e.drain(t); got != 1 {
				t.Fatalf("triage handled %d events, want 1", got)
			}
			if got, want := e.thread(t, o.ThreadID).Due, nyTime(t, tt.want); !got.Equal(want) {
				loc, _ := time.LoadLocation("America/New_York")
				t.Errorf("due = %s, want %s", got.In(loc), want.In(loc))
			}
		})
	}
}
