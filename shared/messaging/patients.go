package messaging

import (
	"context"
	"encoding/json"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// PatientRegistry reads the practice's registered patients (implemented by
// package dynamo). Another practice's patient answers not found.
type PatientRegistry interface {
	Patient(ctx context.Context, practiceID, patientID string) (carepost.PatientRecord, error)
}

// registeredPatient answers not found unless patientID is registered in
// p's practice. The answer for another practice's patient is the same as
// for an id nobody has (the registry's keys hold the practice id), and the
// refused attempt is audited under the id asked for, never attributed to a
// patient.
func (s *Service) registeredPatient(ctx context.Context, p carepost.Principal, patientID, action string) error {
	if s.Patients == nil {
		return carepost.Errorf(carepost.CodeInternal, "the patient registry is not configured")
	}
	_, err := s.Patients.Patient(ctx, p.PracticeID, patientID)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		if aerr := s.audit(ctx, p, action, "", "patient/"+safeID(patientID), "not_found"); aerr != nil {
			return aerr
		}
		return carepost.NotFound("patient")
	}
	return err
}

// ContactKind is the Binding kind of a patient's sealed contact details.
const ContactKind = "patient.contact"

// ContactBinding is what a patient's contact details are sealed under: the
// practice, the patient id (in MessageID, as the kmsenvelope package
// documents for records that are not messages) and the profile's creation
// time. A sealed contact copied onto another patient or practice fails to
// open.
func ContactBinding(practiceID, patientID string, created time.Time) carepost.Binding {
	return carepost.Binding{PracticeID: practiceID, Kind: ContactKind, MessageID: patientID, Time: created, Schema: schema}
}

// SealPatient returns p as stored: the contact sealed, the plaintext contact
// cleared. dedupKey is the keyed duplicate-detection hash (see package
// admin); it may be empty.
func SealPatient(ctx context.Context, sealer carepost.Sealer, p carepost.Patient, dedupKey string) (carepost.PatientRecord, error) {
	b, err := json.Marshal(p.Contact)
	if err != nil {
		return carepost.PatientRecord{}, carepost.Wrap(carepost.CodeInternal, err, "contact could not be encoded")
	}
	sealed, err := sealer.Seal(ctx, ContactBinding(p.PracticeID, p.ID, p.Created), b)
	if err != nil {
		return carepost.PatientRecord{}, err
	}
	rec := carepost.PatientRecord{Patient: p, ContactSealed: sealed, DedupKey: dedupKey}
	rec.Contact = carepost.Contact{}
	return rec, nil
}

// OpenPatient returns the stored patient with its contact details opened.
// A contact that fails its integrity check is an error, never skipped.
func OpenPatient(ctx context.Context, sealer carepost.Sealer, rec carepost.PatientRecord) (carepost.Patient, error) {
	p := rec.Patient
	if len(rec.ContactSealed) == 0 {
		return p, nil
	}
	b, err := sealer.Open(ctx, ContactBinding(rec.PracticeID, rec.ID, rec.Created), rec.ContactSealed)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p.Contact); err != nil {
		return p, carepost.Wrap(carepost.CodeInternal, err, "stored contact is malformed")
	}
	return p, nil
}
