package campaigns_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/campaigns"
	"github.com/carepost/carepost/shared/carepost"
)

// fakeMailer answers each send with what fail says for that address.
type fakeMailer struct {
	mu    sync.Mutex
	fail  func(to string, attempt int) error
	tries map[string]int
	sent  map[string]int
	mails []carepost.Mail
}

var _ carepost.Mailer = (*fakeMailer)(nil)

func (f *fakeMailer) Send(ctx context.Context, m carepost.Mail) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	to := m.To[0]
	f.tries[to]++
	if f.fail != nil {
		if err := f.fail(to, f.tries[to]); err != nil {
			return "", err
		}
	}
	f.sent[to]++
	f.mails = append(f.mails, m)
	return fmt.Sprintf("mail-%d", len(f.mails)), nil
}

func throttled() error {
	return carepost.Unavailable(&smithy.GenericAPIError{Code: "TooManyRequestsException", Message: "slow down"}, "the mail service")
}

func noAnswer() error {
	return carepost.Unavailable(context.DeadlineExceeded, "the mail service")
}

func sendEvent(pid, cid string, rids []string, receiveCount int) events.SQSEvent {
	var ev events.SQSEvent
	for i, rid := range rids {
		b, _ := json.Marshal(campaigns.Message{Type: campaigns.MsgSend, PracticeID: pid, CampaignID: cid, RecipientID: rid})
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: string(b),
			Attributes: map[string]string{"ApproximateReceiveCount": fmt.Sprint(receiveCount)}})
	}
	return ev
}

func TestSenderFailures(t *testing.T) {
	h := apptest.New(t)
	a := h.App
	ctx := context.Background()
	svc := serviceFor(a)
	sched := h.User(t, "scheduler")
	who := carepost.Principal{Subject: sched.Subject, Role: carepost.RoleScheduler, PracticeID: apptest.PracticeA}
	domain := "s" + strings.ToLower(fmt.Sprint(time.Now().UnixNano()%100000)) + ".test"
	list := csvOf(6, domain)
	res, err := svc.Create(ctx, who, campaigns.CreateInput{Name: "Failures", Template: carepost.CampaignTemplate{Subject: "Hi", Text: "Hi {{firstName}}"}, Audience: campaigns.Audience{CSV: &list}})
	if err != nil {
		t.Fatal(err)
	}
	cid := res.Campaign.ID
	if _, err := svc.Schedule(ctx, who, cid, campaigns.ScheduleInput{}); err != nil {
		t.Fatal(err)
	}
	page, err := a.Store.Recipients(ctx, apptest.PracticeA, cid, "", true, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	var rids []string
	for _, r := range page.Items {
		rids = append(rids, r.ID)
	}
	addr := func(i int) string { return fmt.Sprintf("r%05d@%s", i, domain) }
	mailer := &fakeMailer{tries: map[string]int{}, sent: map[string]int{}, fail: func(to string, attempt int) error {
		switch to {
		case addr(0): // throttled twice, then fine
			if attempt <= 2 {
				return throttled()
			}
		case addr(1): // SES never answers: it may have sent
			return noAnswer()
		case addr(2): // rejected for good
			return carepost.Wrap(carepost.CodeValidation, &smithy.GenericAPIError{Code: "MessageRejected"}, "rejected")
		case addr(3): // throttled every time
			return throttled()
		}
		return nil
	}}
	sender := &campaigns.Sender{Service: svc, Mailer: mailer, Limiter: campaigns.NewLimiter(1000, 0), MaxAttempts: 3}
	// The queue delivers every message three times (receive counts 1..3),
	// and everything twice more after that (duplicates).
	failedOnce := map[string]bool{}
	for attempt := 1; attempt <= 5; attempt++ {
		resp, err := sender.Handle(ctx, sendEvent(apptest.PracticeA, cid, rids, min(attempt, 3)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range resp.BatchItemFailures {
			failedOnce[f.ItemIdentifier] = true
		}
	}
	for i, want := range map[int]int{0: 1, 1: 0, 2: 0, 3: 0, 4: 1, 5: 1} {
		if got := mailer.sent[addr(i)]; got != want {
			t.Errorf("%s: sent %d, want %d", addr(i), got, want)
		}
	}
	for i, want := range map[int]int{0: 3, 1: 1, 2: 1, 3: 3, 4: 1, 5: 1} {
		if got := mailer.tries[addr(i)]; got != want {
			t.Errorf("%s: tried %d times, want %d", addr(i), got, want)
		}
	}
	if len(failedOnce) == 0 {
		t.Error("throttled records were never reported as batch item failures")
	}
	// The fate of each recipient, by address.
	fate := map[string]string{}
	for _, rid := range rids {
		r, _ := a.Store.Recipient(ctx, apptest.PracticeA, cid, rid)
		b, err := a.Envelope.Open(ctx, campaigns.RecipientBinding(apptest.PracticeA, cid, rid), r.ContactSealed)
		if err != nil {
			t.Fatal(err)
		}
		var rc carepost.RecipientContact
		_ = json.Unmarshal(b, &rc)
		fate[rc.Email] = string(r.State) + "/" + r.Reason
	}
	for i, want := range map[int]string{0: "sent/", 1: "failed/unknown", 2: "failed/rejected", 3: "failed/unavailable", 4: "sent/"} {
		if got := fate[addr(i)]; got != want {
			t.Errorf("%s: %s, want %s", addr(i), got, want)
		}
	}
	c, err := svc.Recount(ctx, apptest.PracticeA, cid)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := [3]int{c.Sent, c.Failed, c.Sending}, [3]int{3, 3, 0}; got != want {
		t.Errorf("sent/failed/sending = %v, want %v", got, want)
	}
	live := campaign(t, a, apptest.PracticeA, cid).Counts
	if live != c {
		t.Errorf("live counters %+v differ from the recount %+v", live, c)
	}
	// Every mail carries one-click unsubscribe headers and ids-only tags.
	for _, m := range mailer.mails {
		if !strings.HasPrefix(m.Headers["List-Unsubscribe"], "<http") || m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
			t.Errorf("headers = %v", m.Headers)
		}
		for k, v := range m.Tags {
			if strings.Contains(v, "@") || strings.Contains(v, "Name") {
				t.Errorf("tag %s=%q carries contact data", k, v)
			}
		}
	}
}

func TestStaleClaimsAreSettledNeverResent(t *testing.T) {
	h := apptest.New(t)
	a := h.App
	ctx := context.Background()
	svc := serviceFor(a)
	cid, rids := startedCampaign(t, h, svc, 2, "stale.test")
	// A sender claimed the first recipient an hour ago and died.
	dead := rids[0]
	if err := a.Store.ChangeRecipient(ctx, apptest.PracticeA, cid, dead, carepost.RecipientChange{From: carepost.RecipientPending, To: carepost.RecipientSending, Claimed: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_ = a.Store.AddCampaignCounts(ctx, apptest.PracticeA, cid, carepost.CampaignCounts{Sending: 1})
	mailer := &fakeMailer{tries: map[string]int{}, sent: map[string]int{}}
	sender := &campaigns.Sender{Service: svc, Mailer: mailer, Limiter: campaigns.NewLimiter(1000, 0)}
	if _, err := sender.Handle(ctx, sendEvent(apptest.PracticeA, cid, rids, 1)); err != nil {
		t.Fatal(err)
	}
	if got, want := len(mailer.mails), 1; got != want {
		t.Fatalf("mails = %d, want %d (the claimed one is never resent)", got, want)
	}
	if err := svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	r, _ := a.Store.Recipient(ctx, apptest.PracticeA, cid, dead)
	if r.State != carepost.RecipientFailed || r.Reason != "unknown" {
		t.Errorf("stale claim = %s/%s, want failed/unknown", r.State, r.Reason)
	}
	if err := svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	c := campaign(t, a, apptest.PracticeA, cid)
	if c.State != carepost.CampaignCompleted || c.Counts.Sent != 1 || c.Counts.Failed != 1 || c.Counts.Sending != 0 {
		t.Errorf("campaign = %s %+v, want completed with 1 sent and 1 failed", c.State, c.Counts)
	}
}

func TestPausedAndQuietCampaignsHoldTheirRecipients(t *testing.T) {
	h := apptest.New(t)
	a := h.App
	ctx := context.Background()
	svc := serviceFor(a)
	who := carepost.Principal{Subject: h.Subject(t, "scheduler"), Role: carepost.RoleScheduler, PracticeID: apptest.PracticeA}
	list := csvOf(3, "pause.test")
	mk := func() string {
		res, err := svc.Create(ctx, who, campaigns.CreateInput{Name: "P", Template: carepost.CampaignTemplate{Subject: "Hi", Text: "x"}, Audience: campaigns.Audience{CSV: &list}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Campaign.ID
	}
	mailer := &fakeMailer{tries: map[string]int{}, sent: map[string]int{}}
	sender := &campaigns.Sender{Service: svc, Mailer: mailer, Limiter: campaigns.NewLimiter(1000, 0)}
	ids := func(cid string) []string {
		page, _ := a.Store.Recipients(ctx, apptest.PracticeA, cid, "", true, nil, 10)
		var out []string
		for _, r := range page.Items {
			out = append(out, r.ID)
		}
		return out
	}

	// Paused: messages are dropped, recipients wait, resume sends them.
	paused := mk()
	if _, err := svc.Schedule(ctx, who, paused, campaigns.ScheduleInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Pause(ctx, who, paused); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond) // the sender trusts what it read for 2 s
	if _, err := sender.Handle(ctx, sendEvent(apptest.PracticeA, paused, ids(paused), 1)); err != nil {
		t.Fatal(err)
	}
	if got := len(mailer.mails); got != 0 {
		t.Fatalf("a paused campaign sent %d e-mails", got)
	}
	c := campaign(t, a, apptest.PracticeA, paused)
	if !c.NeedsFanout || c.Counts.Queued() != 3 {
		t.Errorf("paused campaign: needsFanout %v, queued %d; want true, 3", c.NeedsFanout, c.Counts.Queued())
	}
	if _, err := svc.Resume(ctx, who, paused); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	if _, err := sender.Handle(ctx, sendEvent(apptest.PracticeA, paused, ids(paused), 1)); err != nil {
		t.Fatal(err)
	}
	if got, want := len(mailer.mails), 3; got != want {
		t.Errorf("after resume: %d e-mails, want %d", got, want)
	}

	// Quiet all day long (00:00-23:59): nothing goes, nothing is lost.
	quiet := mk()
	if _, err := svc.Schedule(ctx, who, quiet, campaigns.ScheduleInput{TimeZone: "UTC", QuietHours: &carepost.QuietHours{Start: "00:00", End: "23:59"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if now.Hour() == 23 && now.Minute() == 59 {
		t.Skip("the one unquiet minute of the day")
	}
	if _, err := sender.Handle(ctx, sendEvent(apptest.PracticeA, quiet, ids(quiet), 1)); err != nil {
		t.Fatal(err)
	}
	if got, want := len(mailer.mails), 3; got != want {
		t.Errorf("quiet hours: %d e-mails, want still %d", got, want)
	}
	if n, err := svc.FanOut(ctx, apptest.PracticeA, quiet); err != nil || n != 0 {
		t.Errorf("fan-out in quiet hours queued %d (%v), want 0", n, err)
	}

	// Not yet in its window: scheduled, the tick leaves it.
	later := mk()
	start := time.Now().Add(time.Hour)
	v, err := svc.Schedule(ctx, who, later, campaigns.ScheduleInput{WindowStart: &start})
	if err != nil {
		t.Fatal(err)
	}
	if v.State != carepost.CampaignScheduled {
		t.Errorf("future window: state %s, want scheduled", v.State)
	}
	if err := svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := campaign(t, a, apptest.PracticeA, later).State; got != carepost.CampaignScheduled {
		t.Errorf("after a tick: %s, want scheduled", got)
	}
}

// cancelOnClaim is a store whose recipient claims are applied and then
// answered as cancelled, as the SDK answers when a shutdown cancels a
// request that DynamoDB had already carried out.
type cancelOnClaim struct {
	campaigns.Store
	cancel context.CancelFunc
}

func (s cancelOnClaim) ChangeRecipient(ctx context.Context, pid, cid, rid string, ch carepost.RecipientChange) error {
	err := s.Store.ChangeRecipient(context.WithoutCancel(ctx), pid, cid, rid, ch)
	if ch.To == carepost.RecipientSending {
		s.cancel()
	}
	if err == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// A sender shut down while its claim is in flight still sends that e-mail
// and records it: the claim runs under the no-cancel context of the send.
// Before, the claimed recipient stayed "sending" with no e-mail and no
// count, and the stale-claim sweep later recorded it failed.
func TestShutdownDuringClaimStillSendsOnce(t *testing.T) {
	h := apptest.New(t)
	a := h.App
	svc := serviceFor(a)
	cid, rids := startedCampaign(t, h, svc, 1, "shutdown.test")
	rid := rids[0]

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc.Store = cancelOnClaim{Store: svc.Store, cancel: cancel}
	mailer := &fakeMailer{tries: map[string]int{}, sent: map[string]int{}}
	sender := &campaigns.Sender{Service: svc, Mailer: mailer, Limiter: campaigns.NewLimiter(1000, 0)}
	resp, err := sender.Handle(ctx, sendEvent(apptest.PracticeA, cid, []string{rid}, 1))
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() == nil {
		t.Fatal("the claim did not cancel the handler's context; the test proves nothing")
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("batch item failures = %v, want none (the e-mail went out)", resp.BatchItemFailures)
	}
	if got := mailer.sent["r00000@shutdown.test"]; got != 1 {
		t.Errorf("e-mails sent = %d, want 1", got)
	}
	r, _ := a.Store.Recipient(context.Background(), apptest.PracticeA, cid, rid)
	if r.State != carepost.RecipientSent {
		t.Errorf("recipient = %s, want sent", r.State)
	}
	if c := campaign(t, a, apptest.PracticeA, cid).Counts; c.Sent != 1 || c.Sending != 0 || c.Queued() != 0 {
		t.Errorf("counters = %+v, want 1 sent, none sending or queued", c)
	}
}

// Counters that drifted (an ADD lost to a timeout) make a finished
// campaign look as if recipients still waited; the stall check finds none
// pending, recounts exactly and completes the campaign.
func TestStalledCheckRecountsDriftedCounters(t *testing.T) {
	h := apptest.New(t)
	a := h.App
	ctx := context.Background()
	svc := serviceFor(a)
	cid, rids := startedCampaign(t, h, svc, 3, "drift.test")
	mailer := &fakeMailer{tries: map[string]int{}, sent: map[string]int{}}
	sender := &campaigns.Sender{Service: svc, Mailer: mailer, Limiter: campaigns.NewLimiter(1000, 0)}
	if _, err := sender.Handle(ctx, sendEvent(apptest.PracticeA, cid, rids, 1)); err != nil {
		t.Fatal(err)
	}
	// Two "sent" increments lost.
	if err := a.Store.AddCampaignCounts(ctx, apptest.PracticeA, cid, carepost.CampaignCounts{Sent: -2}); err != nil {
		t.Fatal(err)
	}
	if c := campaign(t, a, apptest.PracticeA, cid); c.Counts.Queued() != 2 {
		t.Fatalf("drifted counters = %+v, want 2 that look queued", c.Counts)
	}
	later := *svc
	later.Now = func() time.Time { return time.Now().Add(11 * time.Minute) }
	if err := later.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	c := campaign(t, a, apptest.PracticeA, cid)
	if c.State != carepost.CampaignCompleted || c.Counts.Sent != 3 || c.Counts.Queued() != 0 {
		t.Errorf("campaign = %s %+v, want completed with 3 sent", c.State, c.Counts)
	}
	if got := len(mailer.mails); got != 3 {
		t.Errorf("e-mails = %d, want 3 (none sent again)", got)
	}
}
