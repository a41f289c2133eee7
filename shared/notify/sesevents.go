package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/linkkeys"
	"github.com/carepost/carepost/shared/messaging"
)

// EventStore is what the SES event handler writes (implemented by
// dynamo.Store).
type EventStore interface {
	Suppress(ctx context.Context, practiceID, addrHash, reason string, at time.Time) error
	Patient(ctx context.Context, practiceID, patientID string) (carepost.PatientRecord, error)
	SetPatientEmailProblem(ctx context.Context, practiceID, patientID, problem string) error
	AddDelivery(ctx context.Context, practiceID, campaignID, recipientID, event string) (bool, error)
	AddCampaignCounts(ctx context.Context, practiceID, campaignID string, delta carepost.CampaignCounts) error
}

// SESEvents handles the bounce, complaint and delivery events that the SES
// configuration set publishes to SNS. Every e-mail CarePost sends is tagged
// with ids (practice, and patient or campaign and recipient), never
// addresses: the tags say whose record to mark.
type SESEvents struct {
	Store  EventStore
	Keys   *linkkeys.Keys
	Sealer carepost.Sealer
	Audit  carepost.AuditLog
	Log    *slog.Logger
	Now    func() time.Time
}

// sesEvent is the part of an SES event (configuration-set event publishing,
// "eventType"; or identity notifications, "notificationType") we read.
type sesEvent struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Mail             struct {
		MessageID string              `json:"messageId"`
		Tags      map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string `json:"bounceType"` // Permanent, Transient, Undetermined
		BouncedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Delivery *struct {
		Recipients []string `json:"recipients"`
	} `json:"delivery"`
}

func (e sesEvent) kind() string {
	if e.EventType != "" {
		return e.EventType
	}
	return e.NotificationType
}

func (e sesEvent) tag(name string) string {
	if v := e.Mail.Tags[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Handle is the SNS handler. An error makes Lambda retry the whole event;
// every step is idempotent (suppression is a set, deliveries are recorded
// once per kind), so a retry does not count twice.
func (h *SESEvents) Handle(ctx context.Context, ev events.SNSEvent) error {
	for _, r := range ev.Records {
		var e sesEvent
		if err := json.Unmarshal([]byte(r.SNS.Message), &e); err != nil {
			h.Log.Warn("SES event is not JSON; dropped", "snsMessage", r.SNS.MessageID)
			continue
		}
		if err := h.handleEvent(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// handleEvent records one SES event.
func (h *SESEvents) handleEvent(ctx context.Context, e sesEvent) error {
	pid := e.tag("practice")
	if pid == "" {
		h.Log.Warn("SES event without a practice tag; not attributable", "type", e.kind(), "mail", e.Mail.MessageID)
		return nil
	}
	var reason string
	var addrs []string
	switch e.kind() {
	case "Bounce":
		if e.Bounce == nil {
			return nil
		}
		for _, b := range e.Bounce.BouncedRecipients {
			addrs = append(addrs, b.EmailAddress)
		}
		if e.Bounce.BounceType == "Permanent" {
			reason = ReasonBounced
		}
	case "Complaint":
		if e.Complaint == nil {
			return nil
		}
		for _, c := range e.Complaint.ComplainedRecipients {
			addrs = append(addrs, c.EmailAddress)
		}
		reason = ReasonComplained
	case "Delivery":
		return h.campaignEvent(ctx, e, pid, "delivered")
	default:
		return nil
	}
	if reason == "" {
		// A soft bounce (mailbox full, out of office) is recorded by SES
		// and retried by it; it does not stop mail to the address.
		return nil
	}
	now := h.Now().UTC()
	patid := e.tag("patient")
	var patientHash string
	if patid != "" {
		rec, err := h.Store.Patient(ctx, pid, patid)
		if err != nil && carepost.ErrorCode(err) != carepost.CodeNotFound {
			return err
		}
		if err == nil {
			p, err := messaging.OpenPatient(ctx, h.Sealer, rec)
			if err != nil {
				return err
			}
			if p.Contact.Email != "" {
				if patientHash, err = h.Keys.AddressHash(ctx, pid, p.Contact.Email); err != nil {
					return err
				}
			}
		}
	}
	for _, a := range addrs {
		hash, err := h.Keys.AddressHash(ctx, pid, a)
		if err != nil {
			return err
		}
		if err := h.Store.Suppress(ctx, pid, hash, reason, now); err != nil {
			return err
		}
		// Mark the patient's record only if the address that failed is
		// still the one on file (they may have changed it since).
		if patientHash != "" && hash == patientHash {
			if err := h.Store.SetPatientEmailProblem(ctx, pid, patid, reason); err != nil && carepost.ErrorCode(err) != carepost.CodeNotFound {
				return err
			}
		}
	}
	if err := h.campaignEvent(ctx, e, pid, reason); err != nil {
		return err
	}
	if h.Audit != nil {
		action := "mail.bounce"
		if reason == ReasonComplained {
			action = "mail.complaint"
		}
		if err := h.Audit.Record(ctx, carepost.AuditEvent{PracticeID: pid, Actor: "ses", ActorRole: carepost.Role("system"),
			Action: action, PatientID: patid, Object: "mail/" + safeTag(e.Mail.MessageID), Outcome: "ok", Time: now}); err != nil {
			return carepost.Unavailable(err, "the audit log")
		}
	}
	return nil
}

// campaignEvent counts a delivery, bounce or complaint of a campaign e-mail
// once.
func (h *SESEvents) campaignEvent(ctx context.Context, e sesEvent, pid, event string) error {
	cid, rid := e.tag("campaign"), e.tag("recipient")
	if cid == "" || rid == "" {
		return nil
	}
	added, err := h.Store.AddDelivery(ctx, pid, cid, rid, event)
	if err != nil || !added {
		if carepost.ErrorCode(err) == carepost.CodeNotFound {
			return nil
		}
		return err
	}
	var d carepost.CampaignCounts
	switch event {
	case "delivered":
		d.Delivered = 1
	case ReasonBounced:
		d.Bounced = 1
	case ReasonComplained:
		d.Complained = 1
	}
	return h.Store.AddCampaignCounts(ctx, pid, cid, d)
}

func safeTag(s string) string {
	if len(s) > 128 {
		return "invalid"
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' || r == '.' || r == '@') {
			return "invalid"
		}
	}
	return s
}
