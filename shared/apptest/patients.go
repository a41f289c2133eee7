package apptest

import (
	"context"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

// seededPatients is the patient registry of the harness's app: the store's,
// plus the seeded patients, which have accounts but no profile until a test
// stores one (SeedPatientProfile; other packages' tests store their own
// profiles under the same ids, so New cannot). Each counts as registered in
// its own practice only, as enrollment would have made it, so staff can
// open threads to it. Every other id, and a seeded id asked for in the
// other practice, goes to the store, exactly as in production.
type seededPatients struct {
	store messaging.PatientRegistry
}

var _ messaging.PatientRegistry = seededPatients{}

func (r seededPatients) Patient(ctx context.Context, practiceID, patientID string) (carepost.PatientRecord, error) {
	rec, err := r.store.Patient(ctx, practiceID, patientID)
	if carepost.ErrorCode(err) != carepost.CodeNotFound {
		return rec, err
	}
	seeded := map[string]string{PatientA1: PracticeA, PatientA2: PracticeA, PatientB1: PracticeB}
	if pid, ok := seeded[patientID]; ok && pid == practiceID {
		return carepost.PatientRecord{Patient: carepost.Patient{PracticeID: pid, ID: patientID, Status: "active"}}, nil
	}
	return rec, err
}

// SeedPatientProfile stores a patient profile (contact sealed, as the admin
// enrollment does) for a seeded patient id, e.g. PatientA1, so features
// that read the patient's name or e-mail find one. The seeded patients have
// no profile until a test adds one.
func (h *Harness) SeedPatientProfile(t testing.TB, practiceID, patientID string, c carepost.Contact) {
	t.Helper()
	ctx := context.Background()
	p := carepost.Patient{PracticeID: practiceID, ID: patientID, Contact: c, Status: "active", Created: time.Now().UTC()}
	rec, err := messaging.SealPatient(ctx, h.App.Envelope, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.App.Store.PutPatient(ctx, rec); err != nil {
		t.Fatal(err)
	}
}
