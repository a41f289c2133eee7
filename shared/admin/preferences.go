package admin

import (
	"context"

	"github.com/carepost/carepost/shared/carepost"
)

// Preferences are a patient's own e-mail settings.
type Preferences struct {
	// EmailNotifications: the "a new secure message is waiting" e-mails.
	EmailNotifications bool `json:"emailNotifications"`
	// CampaignOptOut: the patient unsubscribed from reminder campaigns (the
	// one-click link in every campaign e-mail); clinical notices are apart.
	CampaignOptOut bool `json:"campaignOptOut"`
	// EmailProblem is "bounced" or "complained" when mail to the address
	// stopped: the practice must confirm a new address.
	EmailProblem string `json:"emailProblem,omitempty"`
}

// PreferencesInput changes a patient's preferences; absent fields stay.
type PreferencesInput struct {
	EmailNotifications *bool `json:"emailNotifications"`
}

// ownPatient is the calling patient's record; any other caller is refused
// (audited).
func (s *Service) ownPatient(ctx context.Context, p carepost.Principal, action string) (carepost.PatientRecord, error) {
	if p.Role != carepost.RolePatient || p.PatientID == "" {
		return carepost.PatientRecord{}, s.require(ctx, p, action, carepost.RolePatient)
	}
	return s.Store.Patient(ctx, p.PracticeID, p.PatientID)
}

func preferencesOf(rec carepost.PatientRecord) Preferences {
	return Preferences{EmailNotifications: rec.EmailNotifications, CampaignOptOut: rec.CampaignOptOut, EmailProblem: rec.EmailProblem}
}

// MyPreferences returns the calling patient's e-mail preferences.
func (s *Service) MyPreferences(ctx context.Context, p carepost.Principal) (Preferences, error) {
	rec, err := s.ownPatient(ctx, p, "patient.preferences.read")
	if err != nil {
		return Preferences{}, err
	}
	if err := s.audit(ctx, p, "", "patient.preferences.read", rec.ID, "patient/"+rec.ID+"/preferences", "ok"); err != nil {
		return Preferences{}, err
	}
	return preferencesOf(rec), nil
}

// SetMyPreferences lets a patient turn the new-message e-mails off (or on
// again). It takes effect for the next notice: the notify worker reads the
// profile for every message.
func (s *Service) SetMyPreferences(ctx context.Context, p carepost.Principal, in PreferencesInput) (Preferences, error) {
	rec, err := s.ownPatient(ctx, p, "patient.preferences.update")
	if err != nil {
		return Preferences{}, err
	}
	if in.EmailNotifications == nil {
		return Preferences{}, &carepost.Error{Code: carepost.CodeValidation, Field: "emailNotifications", Message: "emailNotifications is required (true or false)"}
	}
	if err := s.Store.SetPatientEmailNotifications(ctx, p.PracticeID, rec.ID, *in.EmailNotifications); err != nil {
		return Preferences{}, err
	}
	if err := s.audit(ctx, p, "", "patient.preferences.update", rec.ID, "patient/"+rec.ID+"/preferences", "ok"); err != nil {
		return Preferences{}, err
	}
	rec.EmailNotifications = *in.EmailNotifications
	return preferencesOf(rec), nil
}
