package fhir_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/auditlog"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/fhir"
)

func TestFHIRExportOverHTTP(t *testing.T) {
	h := apptest.New(t)
	h.SeedPatientProfile(t, apptest.PracticeA, apptest.PatientA1, carepost.Contact{FirstName: "Alice", LastName: "Ames", BirthDate: "1980-01-02", Email: "alice@example.test"})
	h.Accept(t, "patient")
	h.Accept(t, "proxy")
	h.Accept(t, "patient2")
	q := h.Open(t, "patient", map[string]any{"category": "question", "subject": "Rash", "body": "I have a rash."})
	h.Must(t, h.Token(carepost.RoleNurse), "POST", "/v1/threads/"+q.ThreadID+"/claim", nil, http.StatusOK, nil)
	h.Must(t, h.Token(carepost.RoleNurse), "POST", "/v1/threads/"+q.ThreadID+"/messages", map[string]any{"body": "Use the cream twice a day."}, http.StatusCreated, nil)
	h.Must(t, h.Token(carepost.RolePatient), "POST", "/v1/threads/"+q.ThreadID+"/read", nil, http.StatusOK, nil)
	h.Must(t, h.Token(carepost.RoleProxy), "POST", "/v1/threads/"+q.ThreadID+"/messages", map[string]any{"body": "Thank you."}, http.StatusCreated, nil)
	refill := h.Open(t, "patient", map[string]any{"form": map[string]any{"type": "prescription_renewal", "fields": map[string]any{
		"medication": "lisinopril", "strength": "10 mg", "pharmacy": "Main St", "supplyDays": 90, "dosesLeft": 3}}})
	_ = h.Open(t, "clinician", map[string]any{"patientId": apptest.PatientA1, "category": "education", "subject": "Diet", "body": "See https://example.org/diet"})
	other := h.Open(t, "patient2", map[string]any{"category": "question", "subject": "Cough", "body": "Cough."})

	var bundle map[string]any
	r := h.Request(t, h.Token(carepost.RoleClinician), "GET", "/v1/threads/"+q.ThreadID+"/fhir", nil, nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/fhir+json" {
		t.Fatalf("thread export: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	apptest.Decode(t, r.Body, &bundle)
	count := map[string]int{}
	for _, e := range bundle["entry"].([]any) {
		count[e.(map[string]any)["resource"].(map[string]any)["resourceType"].(string)]++
	}
	if count["Communication"] != 3 || count["Patient"] != 1 || count["Practitioner"] != 1 || count["RelatedPerson"] != 1 || count["Organization"] != 1 {
		t.Errorf("thread export holds %v", count)
	}
	if !strings.Contains(string(r.Body), `"family":"Ames"`) || !strings.Contains(string(r.Body), "Use the cream twice a day.") {
		t.Errorf("thread export lacks the patient's name or the reply")
	}

	p := h.Request(t, h.Token(carepost.RoleAdmin), "GET", "/v1/patients/"+apptest.PatientA1+"/fhir", nil, nil)
	if p.Status != http.StatusOK {
		t.Fatalf("patient export: %d %s", p.Status, p.Body)
	}
	if strings.Contains(string(p.Body), other.ThreadID) || strings.Contains(string(p.Body), "Cough") {
		t.Errorf("the patient export holds another patient's thread")
	}
	if !strings.Contains(string(p.Body), refill.ThreadID) || !strings.Contains(string(p.Body), "https://example.org/diet") {
		t.Errorf("the patient export misses a thread")
	}
	self := h.Request(t, h.Token(carepost.RolePatient), "GET", "/v1/patients/"+apptest.PatientA1+"/fhir", nil, nil)
	if self.Status != http.StatusOK {
		t.Errorf("the patient's own export: %d", self.Status)
	}

	// Both exports are valid FHIR R4.
	for i, res := range fhir.Validate(t, r.Body, p.Body, self.Body) {
		if !res.Valid {
			t.Errorf("export %d is not valid FHIR R4: %+v", i, res.Issues)
		}
	}

	// Not visible: not found, exactly like a missing thread or patient.
	for _, tc := range []struct {
		name, token, path string
	}{
		{"another patient's thread", h.TokenFor(t, "patient2"), "/v1/threads/" + q.ThreadID + "/fhir"},
		{"another practice", h.TokenFor(t, "b/clinician"), "/v1/threads/" + q.ThreadID + "/fhir"},
		{"front desk on a clinical thread", h.Token(carepost.RoleFrontDesk), "/v1/threads/" + q.ThreadID + "/fhir"},
		{"missing thread", h.Token(carepost.RoleClinician), "/v1/threads/0000/fhir"},
		{"another patient's record", h.TokenFor(t, "patient2"), "/v1/patients/" + apptest.PatientA1 + "/fhir"},
		{"front desk patient export", h.Token(carepost.RoleFrontDesk), "/v1/patients/" + apptest.PatientA1 + "/fhir"},
		{"another practice's patient", h.TokenFor(t, "b/admin"), "/v1/patients/" + apptest.PatientA1 + "/fhir"},
		{"unknown patient", h.Token(carepost.RoleAdmin), "/v1/patients/nobody/fhir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := h.Do(t, tc.token, "GET", tc.path, nil, nil)
			if st != http.StatusNotFound {
				t.Fatalf("status %d, want 404: %s", st, body)
			}
			if strings.Contains(string(body), "Alice") || strings.Contains(string(body), "rash") {
				t.Errorf("the answer leaks patient data: %s", body)
			}
		})
	}

	// Every export is audited as thread.export, per thread.
	events, _, err := h.App.AuditLog.ListPatient(context.Background(), apptest.PracticeA, apptest.PatientA1, 200, "")
	if err != nil {
		t.Fatal(err)
	}
	exports := 0
	for _, e := range events {
		if e.Action == fhir.ExportAction && e.Outcome == auditlog.Outcome("ok") {
			exports++
		}
	}
	if got, want := exports, 1+3+3; got != want {
		t.Errorf("%d thread.export audit events, want %d", got, want)
	}
}
