package apptest_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
)

// TestStaffOpenNeedsRegisteredPatient: staff open threads only toward a
// patient registered in their own practice. An id nobody has, a patient of
// another practice and a malformed id all answer the same 404 not_found, to
// the byte, write no thread or message, and leave an audit event (outcome
// not_found) under the id asked for.
func TestStaffOpenNeedsRegisteredPatient(t *testing.T) {
	h := apptest.New(t)
	contact := carepost.Contact{FirstName: "Reg", LastName: "Istered", BirthDate: "1980-01-01", Email: "reg@example.test"}
	h.SeedPatientProfile(t, apptest.PracticeA, "pat-registered", contact)
	h.SeedPatientProfile(t, apptest.PracticeB, "pat-b-only", contact)
	open := func(patientID string) map[string]any {
		return map[string]any{"patientId": patientID, "category": "follow_up", "subject": "follow-up " + secret("s"), "body": "how are you? " + secret("b")}
	}

	// A registered patient: the thread is opened for them.
	var ok postResult
	h.Must(t, h.TokenFor(t, "nurse"), "POST", "/v1/threads", open("pat-registered"), http.StatusCreated, &ok)
	if d := readThread(t, h, "nurse", ok.Thread.ID); d.Thread.PatientID != "pat-registered" {
		t.Errorf("the thread is for %q, want pat-registered", d.Thread.PatientID)
	}
	// The same holds in practice B for its own patient.
	h.Must(t, h.TokenFor(t, "b/nurse"), "POST", "/v1/threads", open("pat-b-only"), http.StatusCreated, nil)

	_, missing := h.Do(t, h.TokenFor(t, "nurse"), "POST", "/v1/threads", open("pat-nobody"), nil)
	for _, user := range []string{"nurse", "clinician", "frontdesk"} {
		for _, patientID := range []string{"pat-nobody", "pat-b-only", apptest.PatientB1, "pat registered", strings.Repeat("x", 80)} {
			before := h.Counts(t)
			st, b := h.Do(t, h.TokenFor(t, user), "POST", "/v1/threads", open(patientID), nil)
			if code, _, _ := apptest.ErrorOf(t, b); st != http.StatusNotFound || code != "not_found" {
				t.Errorf("%s opening for %q: %d %s, want 404 not_found", user, patientID, st, b)
			}
			if !bytes.Equal(b, missing) {
				t.Errorf("%s opening for %q answers %s; a missing patient %s", user, patientID, b, missing)
			}
			after := h.Counts(t)
			for kind, n := range after {
				if kind != "audit" && n != before[kind] {
					t.Errorf("%s opening for %q wrote %s items (%d, was %d)", user, patientID, kind, n, before[kind])
				}
			}
		}
	}
	events := auditEvents(t, h, apptest.PracticeA)
	for _, tc := range []struct{ patientID, object string }{
		{"pat-nobody", "patient/pat-nobody"}, {"pat-b-only", "patient/pat-b-only"}, {apptest.PatientB1, "patient/" + apptest.PatientB1},
		{"pat registered", "patient/invalid"},
	} {
		found := false
		for _, e := range findAudit(events, h.Subject(t, "clinician"), "thread.create", "not_found") {
			if e.Object == tc.object && e.PatientID == "" {
				found = true
			}
		}
		if !found {
			t.Errorf("no not_found thread.create audit event for %q under %s", tc.patientID, tc.object)
		}
	}
	for _, e := range events {
		if e.Outcome == "ok" && e.PatientID == apptest.PatientB1 {
			t.Errorf("practice A's audit log records an ok %s for practice B's patient", e.Action)
		}
	}
}
