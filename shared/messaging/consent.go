package messaging

import (
	"context"

	"github.com/carepost/carepost/shared/carepost"
)

// ConsentStatus is the current agreement and whether the caller accepted it.
type ConsentStatus struct {
	Agreement carepost.Agreement `json:"agreement"`
	Accepted  bool               `json:"accepted"`
	PatientID string             `json:"patientId"`
}

// ConsentInput accepts an agreement version for a patient.
type ConsentInput struct {
	Version   int    `json:"version"`
	PatientID string `json:"patientId,omitempty"`
}

// consentPatient resolves whose consent the caller reads or gives. A
// refusal is audited (outcome denied) under the id asked for.
func (s *Service) consentPatient(ctx context.Context, p carepost.Principal, patientID, action string) (string, error) {
	if patientID == "" && p.Role == carepost.RolePatient {
		patientID = p.PatientID
	}
	refuse := func(err error) (string, error) {
		if aerr := s.audit(ctx, p, action, "", "patient/"+safeID(patientID)+"/consent", "denied"); aerr != nil {
			return "", aerr
		}
		return "", err
	}
	switch p.Role {
	case carepost.RolePatient, carepost.RoleProxy:
		if hasReadGrant(p, patientID, s.now()) || (p.Role == carepost.RolePatient && patientID == p.PatientID && patientID != "") {
			return patientID, nil
		}
		return refuse(carepost.NotFound("patient"))
	}
	return refuse(carepost.Errorf(carepost.CodeForbidden, "only patients and proxies accept the messaging agreement"))
}

// Consent returns the current agreement and whether the caller accepted it.
func (s *Service) Consent(ctx context.Context, p carepost.Principal, patientID string) (ConsentStatus, error) {
	patientID, err := s.consentPatient(ctx, p, patientID, "consent.read")
	if err != nil {
		return ConsentStatus{}, err
	}
	a, err := s.Store.CurrentAgreement(ctx, p.PracticeID)
	if err != nil {
		return ConsentStatus{}, err
	}
	c, ok, err := s.Store.Consent(ctx, p.PracticeID, patientID, p.Subject)
	if err != nil {
		return ConsentStatus{}, err
	}
	return ConsentStatus{Agreement: a, Accepted: ok && c.Version == a.Version, PatientID: patientID}, nil
}

// AcceptConsent records acceptance of the current agreement version. Only
// the current version can be accepted: a stale page asks again.
func (s *Service) AcceptConsent(ctx context.Context, r Request, in ConsentInput) (ConsentStatus, error) {
	p := r.Principal
	patientID, err := s.consentPatient(ctx, p, in.PatientID, "consent.accept")
	if err != nil {
		return ConsentStatus{}, err
	}
	a, err := s.Store.CurrentAgreement(ctx, p.PracticeID)
	if err != nil {
		return ConsentStatus{}, err
	}
	if in.Version != a.Version {
		return ConsentStatus{}, &carepost.Error{Code: carepost.CodeConflict, Field: "version", Message: "that is not the current agreement version; read the current one and accept it",
			Details: map[string]any{"agreement": a}}
	}
	c := carepost.Consent{PatientID: patientID, Subject: p.Subject, Version: a.Version, Accepted: s.now()}
	if err := s.Store.PutConsent(ctx, p.PracticeID, c); err != nil {
		return ConsentStatus{}, err
	}
	if err := s.audit(ctx, p, "consent.accept", patientID, "agreement/"+itoa(a.Version), "ok"); err != nil {
		return ConsentStatus{}, err
	}
	return ConsentStatus{Agreement: a, Accepted: true, PatientID: patientID}, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
