package campaigns

import (
	"context"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/notify"
)

// LinkInfo is what the page behind a link shows: the practice's name, never
// anything about the patient.
type LinkInfo struct {
	PracticeName string `json:"practiceName"`
}

// UnsubscribeInfo checks an unsubscribe token (for the page a person sees
// when they click the link; the unsubscribe itself is a POST, so mail
// scanners that fetch links do not unsubscribe anyone).
func (s *Service) UnsubscribeInfo(ctx context.Context, token string) (LinkInfo, error) {
	pid, fields, err := s.Keys.Verify(ctx, token, PurposeUnsubscribe)
	if err != nil {
		return LinkInfo{}, err
	}
	if !validUnsubscribeFields(fields) {
		return LinkInfo{}, carepost.NotFound("link")
	}
	p, err := s.Store.Practice(ctx, pid)
	if err != nil {
		return LinkInfo{}, err
	}
	return LinkInfo{PracticeName: p.Name}, nil
}

func validUnsubscribeFields(f []string) bool {
	return (len(f) == 3 && f[0] == "campaign") || (len(f) == 2 && f[0] == "patient")
}

// Unsubscribe carries out a one-click unsubscribe: the address goes on the
// practice's suppression list as "unsubscribed" (later campaigns and
// reminders skip it), the patient's profile records the opt-out, and a
// recipient still waiting in this campaign is not sent. Clinical "new
// message" notices are a separate preference and continue. Repeating it is
// harmless.
func (s *Service) Unsubscribe(ctx context.Context, token, sourceIP string) (LinkInfo, error) {
	pid, fields, err := s.Keys.Verify(ctx, token, PurposeUnsubscribe)
	if err != nil {
		return LinkInfo{}, err
	}
	if !validUnsubscribeFields(fields) {
		return LinkInfo{}, carepost.NotFound("link")
	}
	practice, err := s.Store.Practice(ctx, pid)
	if err != nil {
		return LinkInfo{}, err
	}
	now := s.now()
	var email, patientID, object string
	switch fields[0] {
	case "campaign":
		cid, rid := fields[1], fields[2]
		object = "campaign/" + safeID(cid) + "/recipient/" + safeID(rid)
		r, err := s.Store.Recipient(ctx, pid, cid, rid)
		if err != nil {
			return LinkInfo{}, err
		}
		c, err := s.openContact(ctx, r)
		if err != nil {
			return LinkInfo{}, err
		}
		email, patientID = c.Email, r.PatientID
		err = s.Store.ChangeRecipient(ctx, pid, cid, rid, carepost.RecipientChange{From: carepost.RecipientPending, To: carepost.RecipientOptedOut})
		if err == nil {
			_ = s.Store.AddCampaignCounts(ctx, pid, cid, carepost.CampaignCounts{OptedOut: 1})
		} else if carepost.ErrorCode(err) != carepost.CodeConflict {
			return LinkInfo{}, err
		}
	case "patient":
		patientID = fields[1]
		object = "patient/" + safeID(patientID) + "/campaigns"
	}
	if patientID != "" {
		rec, err := s.Store.Patient(ctx, pid, patientID)
		switch {
		case err == nil:
			if err := s.Store.SetPatientCampaignOptOut(ctx, pid, patientID, true); err != nil {
				return LinkInfo{}, err
			}
			if email == "" {
				p, err := messaging.OpenPatient(ctx, s.Sealer, rec)
				if err != nil {
					return LinkInfo{}, err
				}
				email = p.Contact.Email
			}
		case carepost.ErrorCode(err) != carepost.CodeNotFound:
			return LinkInfo{}, err
		}
	}
	if email != "" {
		h, err := s.Keys.AddressHash(ctx, pid, email)
		if err != nil {
			return LinkInfo{}, err
		}
		if err := s.Store.Suppress(ctx, pid, h, notify.ReasonUnsubscribed, now); err != nil {
			return LinkInfo{}, err
		}
	}
	if s.Audit != nil {
		if err := s.Audit.Record(ctx, carepost.AuditEvent{PracticeID: pid, Actor: "unsubscribe-link", ActorRole: carepost.RolePatient, SourceIP: sourceIP,
			Action: "campaign.unsubscribe", PatientID: patientID, Object: object, Outcome: "ok", Time: now}); err != nil {
			return LinkInfo{}, carepost.Unavailable(err, "the audit log")
		}
	}
	return LinkInfo{PracticeName: practice.Name}, nil
}
