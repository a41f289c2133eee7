package campaigns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/notify"
	"github.com/carepost/carepost/shared/sqsqueue"
)

// Sender is the campaign queue's worker.
type Sender struct {
	Service *Service
	Mailer  carepost.Mailer
	Limiter *Limiter
	// MaxAttempts is how many times a throttled recipient is tried before
	// it is recorded as failed (the queue's maxReceiveCount, 5).
	MaxAttempts int
	// OnSent, when set, is called after each e-mail handed to SES (tests).
	OnSent func()

	mu        sync.Mutex
	campaigns map[string]cachedCampaign
	practices map[string]cachedPractice
}

type cachedCampaign struct {
	c  carepost.Campaign
	at time.Time
}

type cachedPractice struct {
	p  carepost.Practice
	at time.Time
}

// How long a sender trusts what it read: a pause or cancel is seen within
// campaignTTL.
const (
	campaignTTL = 2 * time.Second
	practiceTTL = time.Minute
	sendTimeout = 30 * time.Second
)

// Handle is the SQS handler (ReportBatchItemFailures). Records are handled
// concurrently; the limiter keeps the rate. A record fails (comes back
// after the visibility timeout) when its recipient was not claimed or was
// released after a throttled send; never after the e-mail may have gone.
func (s *Sender) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, rec := range ev.Records {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.handle(ctx, rec); err != nil {
				if ctx.Err() == nil {
					s.Service.Log.Warn("campaign record failed", "queueMessage", rec.MessageId, "code", carepost.ErrorCode(err), "cause", err.Error())
				}
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return resp, nil
}

func decodeMessage(body string) (Message, error) {
	var m Message
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || m.PracticeID == "" || m.CampaignID == "" {
		return m, carepost.Errorf(carepost.CodeInvalid, "malformed campaign queue message")
	}
	return m, nil
}

func (s *Sender) handle(ctx context.Context, rec events.SQSMessage) error {
	m, err := decodeMessage(rec.Body)
	if err != nil {
		return err // to the dead-letter queue, for an operator
	}
	switch m.Type {
	case MsgFanout:
		_, err := s.Service.FanOut(ctx, m.PracticeID, m.CampaignID)
		return err
	case MsgSend:
		if m.RecipientID == "" {
			return carepost.Errorf(carepost.CodeInvalid, "malformed campaign queue message")
		}
		return s.send(ctx, m, sqsqueue.ReceiveCount(rec))
	}
	return carepost.Errorf(carepost.CodeInvalid, "unknown campaign queue message type")
}

func (s *Sender) campaign(ctx context.Context, pid, cid string) (carepost.Campaign, error) {
	k := pid + "\x00" + cid
	now := time.Now()
	s.mu.Lock()
	e, ok := s.campaigns[k]
	s.mu.Unlock()
	if ok && now.Sub(e.at) < campaignTTL {
		return e.c, nil
	}
	c, err := s.Service.Store.Campaign(ctx, pid, cid)
	if err != nil {
		return c, err
	}
	s.mu.Lock()
	if s.campaigns == nil || len(s.campaigns) > 1000 {
		s.campaigns = map[string]cachedCampaign{}
	}
	s.campaigns[k] = cachedCampaign{c: c, at: now}
	s.mu.Unlock()
	return c, nil
}

func (s *Sender) practice(ctx context.Context, pid string) (carepost.Practice, error) {
	now := time.Now()
	s.mu.Lock()
	e, ok := s.practices[pid]
	s.mu.Unlock()
	if ok && now.Sub(e.at) < practiceTTL {
		return e.p, nil
	}
	p, err := s.Service.Store.Practice(ctx, pid)
	if err != nil {
		return p, err
	}
	s.mu.Lock()
	if s.practices == nil || len(s.practices) > 1000 {
		s.practices = map[string]cachedPractice{}
	}
	s.practices[pid] = cachedPractice{p: p, at: now}
	s.mu.Unlock()
	return p, nil
}

func (s *Sender) send(ctx context.Context, m Message, receiveCount int) error {
	svc := s.Service
	c, err := s.campaign(ctx, m.PracticeID, m.CampaignID)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if c.State.Final() {
		return nil
	}
	now := svc.now()
	if c.State != carepost.CampaignRunning || !Sendable(c, now) {
		// Paused, not yet started, quiet hours: drop the message; the
		// recipient stays pending and is fanned out again later.
		return svc.flagFanout(ctx, c)
	}
	r, err := svc.Store.Recipient(ctx, m.PracticeID, m.CampaignID, m.RecipientID)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if r.State != carepost.RecipientPending {
		return nil // handled already (a duplicate message), or in flight elsewhere
	}
	contact, err := svc.openContact(ctx, r)
	if err != nil {
		return err
	}
	if outcome, err := s.optOutcome(ctx, r, contact); err != nil {
		return err
	} else if outcome != "" {
		return s.settle(ctx, r, carepost.RecipientPending, outcome, "")
	}
	// Wait for a token before claiming: a stopped sender holds no claims.
	if err := s.Limiter.Wait(ctx); err != nil {
		return err
	}
	// From the claim on the work finishes even if ctx ends: between the
	// claim and the recorded outcome there must be no gap a shutdown can
	// leave. The claim itself too: a claim cancelled in flight may have
	// been applied by DynamoDB, and its recipient would wait as "sending"
	// for the stale-claim sweep, which records it failed, never e-mailed.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout+20*time.Second)
	defer cancel()
	err = svc.Store.ChangeRecipient(bg, r.PracticeID, r.CampaignID, r.ID, carepost.RecipientChange{From: carepost.RecipientPending, To: carepost.RecipientSending, Claimed: svc.now()})
	if carepost.ErrorCode(err) == carepost.CodeConflict {
		return nil // another sender claimed it
	}
	if err != nil {
		return err
	}
	// The counter update runs beside the send (ADDs commute), so it costs
	// no time on the way to SES.
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		if err := svc.Store.AddCampaignCounts(bg, r.PracticeID, r.CampaignID, carepost.CampaignCounts{Sending: 1}); err != nil {
			svc.Log.Warn("campaign counter not updated", "campaign", r.CampaignID, "cause", err.Error())
		}
	}()
	defer func() { <-counted }()
	mail, err := s.mail(bg, c, r, contact)
	if err != nil {
		return s.release(bg, r, err)
	}
	sendCtx, cancelSend := context.WithTimeout(bg, sendTimeout)
	mailID, err := s.Mailer.Send(sendCtx, mail)
	cancelSend()
	switch {
	case err == nil:
		s.Limiter.Success()
		if s.OnSent != nil {
			s.OnSent()
		}
		return s.recordSent(bg, r, mailID)
	case notSent(err) && carepost.IsTransient(err):
		// SES refused it (throttling, a dependency down): nothing went out.
		s.Limiter.Backoff()
		if receiveCount >= s.maxAttempts() {
			return s.settle(bg, r, carepost.RecipientSending, carepost.RecipientFailed, "unavailable")
		}
		return s.release(bg, r, err)
	case notSent(err):
		return s.settle(bg, r, carepost.RecipientSending, carepost.RecipientFailed, "rejected")
	default:
		// No answer from SES: it may have sent the e-mail. Never again.
		return s.settle(bg, r, carepost.RecipientSending, carepost.RecipientFailed, "unknown")
	}
}

func (s *Sender) maxAttempts() int {
	if s.MaxAttempts <= 0 {
		return 5
	}
	return s.MaxAttempts
}

// notSent reports whether err proves the e-mail did not go out: SES
// answered with an error, or no connection was made.
func notSent(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	// A validation error of our own (e.g. no recipient) never reached SES.
	return carepost.ErrorCode(err) == carepost.CodeValidation && !carepost.IsTransient(err)
}

// optOutcome decides whether a recipient must not get the e-mail: the
// patient opted out of campaigns, the address unsubscribed, bounced or
// complained.
func (s *Sender) optOutcome(ctx context.Context, r carepost.Recipient, contact carepost.RecipientContact) (carepost.RecipientState, error) {
	svc := s.Service
	// The profile and the suppression list are read at the same time.
	var p carepost.PatientRecord
	var perr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if r.PatientID != "" {
			p, perr = svc.Store.Patient(ctx, r.PracticeID, r.PatientID)
		}
	}()
	h, err := svc.Keys.AddressHash(ctx, r.PracticeID, contact.Email)
	var reasons []string
	if err == nil {
		reasons, err = svc.Store.Suppression(ctx, r.PracticeID, h)
	}
	<-done
	if err != nil {
		return "", err
	}
	if r.PatientID != "" {
		switch {
		case perr == nil && p.CampaignOptOut:
			return carepost.RecipientOptedOut, nil
		case perr == nil && p.EmailProblem != "":
			return carepost.RecipientSkipped, nil
		case perr != nil && carepost.ErrorCode(perr) != carepost.CodeNotFound:
			return "", perr
		}
	}
	switch {
	case slices.Contains(reasons, notify.ReasonBounced), slices.Contains(reasons, notify.ReasonComplained):
		return carepost.RecipientSkipped, nil
	case slices.Contains(reasons, notify.ReasonUnsubscribed):
		return carepost.RecipientOptedOut, nil
	}
	return "", nil
}

func (s *Sender) mail(ctx context.Context, c carepost.Campaign, r carepost.Recipient, contact carepost.RecipientContact) (carepost.Mail, error) {
	practice, err := s.practice(ctx, r.PracticeID)
	if err != nil {
		return carepost.Mail{}, err
	}
	unsub, err := s.Service.UnsubscribeURL(ctx, r.PracticeID, []string{"campaign", r.CampaignID, r.ID})
	if err != nil {
		return carepost.Mail{}, err
	}
	subject, text := render(c.Template, map[string]string{"firstName": contact.FirstName, "practiceName": practice.Name, "unsubscribeUrl": unsub})
	tags := map[string]string{"kind": "campaign", "practice": r.PracticeID, "campaign": r.CampaignID, "recipient": r.ID}
	if r.PatientID != "" {
		tags["patient"] = r.PatientID
	}
	return carepost.Mail{To: []string{contact.Email}, Subject: subject, Text: text, Tags: tags, Headers: UnsubscribeHeaders(unsub)}, nil
}

// UnsubscribeHeaders are the RFC 2369 / RFC 8058 one-click headers.
func UnsubscribeHeaders(url string) map[string]string {
	return map[string]string{"List-Unsubscribe": "<" + url + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
}

func (s *Sender) recordSent(ctx context.Context, r carepost.Recipient, mailID string) error {
	svc := s.Service
	err := svc.Store.ChangeRecipient(ctx, r.PracticeID, r.CampaignID, r.ID, carepost.RecipientChange{From: carepost.RecipientSending, To: carepost.RecipientSent, Sent: svc.now(), MailID: safeMailID(mailID)})
	if err != nil {
		// The e-mail went out; the claim stays and the sweep records the
		// recipient as unknown. Never report failure: that would resend.
		svc.Log.Warn("sent e-mail not recorded", "campaign", r.CampaignID, "recipient", r.ID, "cause", err.Error())
		return nil
	}
	if err := svc.Store.AddCampaignCounts(ctx, r.PracticeID, r.CampaignID, carepost.CampaignCounts{Sending: -1, Sent: 1}); err != nil {
		svc.Log.Warn("campaign counter not updated", "campaign", r.CampaignID, "cause", err.Error())
	}
	return nil
}

// release hands a claimed recipient back (the e-mail provably did not go
// out) and fails the record so the queue redelivers it.
func (s *Sender) release(ctx context.Context, r carepost.Recipient, cause error) error {
	svc := s.Service
	if err := svc.Store.ChangeRecipient(ctx, r.PracticeID, r.CampaignID, r.ID, carepost.RecipientChange{From: carepost.RecipientSending, To: carepost.RecipientPending}); err != nil {
		return err
	}
	if err := svc.Store.AddCampaignCounts(ctx, r.PracticeID, r.CampaignID, carepost.CampaignCounts{Sending: -1}); err != nil {
		svc.Log.Warn("campaign counter not updated", "campaign", r.CampaignID, "cause", err.Error())
	}
	return cause
}

// settle records a final state for a recipient in state from.
func (s *Sender) settle(ctx context.Context, r carepost.Recipient, from, to carepost.RecipientState, reason string) error {
	svc := s.Service
	err := svc.Store.ChangeRecipient(ctx, r.PracticeID, r.CampaignID, r.ID, carepost.RecipientChange{From: from, To: to, Reason: reason})
	if carepost.ErrorCode(err) == carepost.CodeConflict {
		return nil
	}
	if err != nil {
		return err
	}
	var d carepost.CampaignCounts
	if from == carepost.RecipientSending {
		d.Sending = -1
	}
	switch to {
	case carepost.RecipientOptedOut:
		d.OptedOut = 1
	case carepost.RecipientSkipped:
		d.Skipped = 1
	case carepost.RecipientFailed:
		d.Failed = 1
	}
	if err := svc.Store.AddCampaignCounts(ctx, r.PracticeID, r.CampaignID, d); err != nil {
		svc.Log.Warn("campaign counter not updated", "campaign", r.CampaignID, "cause", err.Error())
	}
	return nil
}

func safeMailID(id string) string {
	if len(id) > 200 || strings.ContainsAny(id, " \r\n") {
		return ""
	}
	return id
}

// UnsubscribeURL is the signed one-click link for fields (["campaign", cid,
// rid] or ["patient", patid]).
func (s *Service) UnsubscribeURL(ctx context.Context, pid string, fields []string) (string, error) {
	tok, err := s.Keys.Sign(ctx, pid, PurposeUnsubscribe, fields, time.Time{})
	if err != nil {
		return "", err
	}
	return strings.TrimRight(s.PublicURL, "/") + "/v1/public/unsubscribe/" + tok, nil
}

// PurposeUnsubscribe is the link-key purpose of unsubscribe tokens.
const PurposeUnsubscribe = "unsubscribe"
