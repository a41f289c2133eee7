package messaging_test

import (
	"context"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/dynamo"
	"github.com/carepost/carepost/shared/kmsenvelope"
	"github.com/carepost/carepost/shared/messaging"
)

// The product's store is the patient registry: New takes it from there, so
// the app needs no extra wiring for staff to open threads.
var _ messaging.PatientRegistry = (*dynamo.Store)(nil)

func TestNewTakesTheRegistryFromTheStore(t *testing.T) {
	if s := messaging.New(dynamo.New(nil, "table"), nil, nil, nil); s.Patients == nil {
		t.Error("New over the DynamoDB store left Patients nil")
	}
	if s := messaging.New(newMemStore(carepost.Practice{ID: "p"}), nil, nil, nil); s.Patients != nil {
		t.Error("New over a store without patients set a registry")
	}
}

// registryFn is a PatientRegistry built from a function.
type registryFn func(ctx context.Context, practiceID, patientID string) (carepost.PatientRecord, error)

func (f registryFn) Patient(ctx context.Context, practiceID, patientID string) (carepost.PatientRecord, error) {
	return f(ctx, practiceID, patientID)
}

var _ messaging.PatientRegistry = registryFn(nil)

// TestStaffOpenChecksTheRegistry: a staff-opened thread goes only to a
// patient the registry knows in the caller's practice; without a registry
// staff cannot open threads at all (fail closed). Nothing is stored either
// way.
func TestStaffOpenChecksTheRegistry(t *testing.T) {
	p := carepost.Practice{ID: "clinic"}
	nurse := carepost.Principal{Subject: "sub-nurse", Role: carepost.RoleNurse, PracticeID: p.ID}
	in := messaging.OpenInput{PatientID: "pat-1", Category: carepost.CategoryFollowUp, Subject: "follow-up", Body: "how are you?"}
	known := registryFn(func(_ context.Context, practiceID, patientID string) (carepost.PatientRecord, error) {
		if practiceID == "clinic" && patientID == "pat-1" {
			return carepost.PatientRecord{Patient: carepost.Patient{PracticeID: practiceID, ID: patientID}}, nil
		}
		return carepost.PatientRecord{}, carepost.NotFound("patient")
	})
	for _, tc := range []struct {
		name     string
		registry messaging.PatientRegistry
		patient  string
		want     carepost.Code // "" success
	}{
		{"registered", known, "pat-1", ""},
		{"not registered", known, "pat-2", carepost.CodeNotFound},
		{"no registry", nil, "pat-1", carepost.CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore(p)
			svc := messaging.New(st, kmsenvelope.New(&fakeKMS{}, kmsenvelope.Options{KeyID: "k", MaxAge: time.Hour, MaxMessages: 10}), nil, nil)
			svc.Patients = tc.registry
			in := in
			in.PatientID = tc.patient
			_, err := svc.Open(context.Background(), messaging.Request{Principal: nurse}, in)
			if got := carepost.ErrorCode(err); got != tc.want && !(tc.want == "" && err == nil) {
				t.Fatalf("Open: %v (code %q), want code %q", err, got, tc.want)
			}
			if n, want := len(st.threads), map[bool]int{true: 1, false: 0}[tc.want == ""]; n != want {
				t.Errorf("%d threads stored, want %d", n, want)
			}
		})
	}
}
