package apptest

import (
	"context"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

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
