package quickreplies_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
)

// TestQuickRepliesOverHTTP: admins write practice-wide templates, staff
// their own; unknown placeholders are refused when saved; rendering fills
// the thread's own patient and never another's.
func TestQuickRepliesOverHTTP(t *testing.T) {
	h := apptest.New(t)
	h.SeedPatientProfile(t, apptest.PracticeA, apptest.PatientA1, carepost.Contact{FirstName: "Alice", LastName: "Ames", BirthDate: "1980-01-02", Email: "alice@example.test"})
	h.SeedPatientProfile(t, apptest.PracticeA, apptest.PatientA2, carepost.Contact{FirstName: "Bob", LastName: "Byrne", BirthDate: "1975-03-04", Email: "bob@example.test"})
	admin, nurse, clinician := h.Token(carepost.RoleAdmin), h.Token(carepost.RoleNurse), h.Token(carepost.RoleClinician)

	// Saving: scope rules and placeholder validation.
	for _, tc := range []struct {
		name  string
		token string
		body  map[string]any
		want  int
		field string
	}{
		{"admin practice-wide", admin, map[string]any{"scope": "practice", "title": "Refill", "text": "Hi {{patientFirstName}}, your refill is at the pharmacy. {{clinicianSignature}} {{practicePhone}}"}, http.StatusCreated, ""},
		{"nurse personal", nurse, map[string]any{"title": "Mine", "text": "Dear {{ patientFirstName }}, next opening {{nextAvailableDate}}."}, http.StatusCreated, ""},
		{"nurse practice-wide forbidden", nurse, map[string]any{"scope": "practice", "title": "X", "text": "x"}, http.StatusForbidden, ""},
		{"unknown placeholder", admin, map[string]any{"scope": "practice", "title": "Bad", "text": "Hi {{patientSSN}}"}, http.StatusUnprocessableEntity, "text"},
		{"unclosed placeholder", clinician, map[string]any{"title": "Bad", "text": "Hi {{patientFirstName"}, http.StatusUnprocessableEntity, "text"},
		{"bad scope", clinician, map[string]any{"scope": "everyone", "title": "Bad", "text": "x"}, http.StatusUnprocessableEntity, "scope"},
		{"patient forbidden", h.Token(carepost.RolePatient), map[string]any{"title": "X", "text": "x"}, http.StatusForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := h.Do(t, tc.token, "POST", "/v1/quick-replies", tc.body, map[string]string{"Idempotency-Key": "qr-" + strings.ReplaceAll(tc.name, " ", "-")})
			if st != tc.want {
				t.Fatalf("status %d, want %d: %s", st, tc.want, body)
			}
			if tc.field != "" {
				if _, msg, field := apptest.ErrorOf(t, body); field != tc.field {
					t.Errorf("field %q, want %q (%s)", field, tc.field, msg)
				}
			}
			if tc.name == "unknown placeholder" {
				if _, msg, _ := apptest.ErrorOf(t, body); !strings.Contains(msg, "{{patientSSN}}") {
					t.Errorf("message %q does not name the placeholder", msg)
				}
			}
		})
	}

	var list struct {
		Items []carepost.QuickReply `json:"items"`
	}
	h.Must(t, nurse, "GET", "/v1/quick-replies", nil, http.StatusOK, &list)
	if got, want := len(list.Items), 2; got != want {
		t.Fatalf("nurse sees %d templates, want %d (practice + own)", got, want)
	}
	var practiceID, personalID string
	for _, q := range list.Items {
		if q.Scope == carepost.ScopePractice {
			practiceID = q.ID
		} else {
			personalID = q.ID
		}
	}
	h.Must(t, clinician, "GET", "/v1/quick-replies", nil, http.StatusOK, &list)
	if got, want := len(list.Items), 1; got != want {
		t.Fatalf("clinician sees %d templates, want %d (the nurse's personal one is hers)", got, want)
	}

	// Rendering for two threads of two patients.
	h.Accept(t, "patient")
	h.Accept(t, "patient2")
	th1 := h.Open(t, "patient", map[string]any{"category": "question", "subject": "Rash", "body": "I have a rash."})
	th2 := h.Open(t, "patient2", map[string]any{"category": "question", "subject": "Cough", "body": "I have a cough."})

	var r struct {
		Text    string   `json:"text"`
		Missing []string `json:"missing"`
	}
	h.Must(t, nurse, "GET", "/v1/threads/"+th1.ThreadID+"/quick-replies/"+practiceID, nil, http.StatusOK, &r)
	if !strings.HasPrefix(r.Text, "Hi Alice, your refill") || !strings.Contains(r.Text, "Test nurse") || !strings.Contains(r.Text, "+1-555-0100") {
		t.Errorf("rendered %q", r.Text)
	}
	if strings.Contains(r.Text, "Bob") || len(r.Missing) != 0 {
		t.Errorf("rendered %q missing %v", r.Text, r.Missing)
	}
	h.Must(t, nurse, "GET", "/v1/threads/"+th2.ThreadID+"/quick-replies/"+personalID, nil, http.StatusOK, &r)
	if !strings.HasPrefix(r.Text, "Dear Bob, next opening ") || strings.Contains(r.Text, "Alice") || strings.Contains(r.Text, "{{") {
		t.Errorf("rendered %q", r.Text)
	}

	// Not visible: another practice's staff, the patient, a front-desk user
	// on a clinical thread, someone else's personal template: not found.
	for _, tc := range []struct {
		name, token, path string
		want              int
	}{
		{"other practice", h.TokenFor(t, "b/nurse"), "/v1/threads/" + th1.ThreadID + "/quick-replies/" + practiceID, http.StatusNotFound},
		{"front desk on a clinical thread", h.Token(carepost.RoleFrontDesk), "/v1/threads/" + th1.ThreadID + "/quick-replies/" + practiceID, http.StatusNotFound},
		{"someone else's personal template", clinician, "/v1/threads/" + th1.ThreadID + "/quick-replies/" + personalID, http.StatusNotFound},
		{"patient", h.Token(carepost.RolePatient), "/v1/threads/" + th1.ThreadID + "/quick-replies/" + practiceID, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := h.Do(t, tc.token, "GET", tc.path, nil, nil)
			if st != tc.want {
				t.Fatalf("status %d, want %d: %s", st, tc.want, body)
			}
			if strings.Contains(string(body), "Alice") {
				t.Errorf("body leaks the patient's name: %s", body)
			}
		})
	}

	// Update and delete.
	h.Must(t, admin, "PUT", "/v1/quick-replies/practice/"+practiceID, map[string]any{"title": "Refill", "text": "{{patientLastName}}"}, http.StatusOK, nil)
	h.Must(t, nurse, "GET", "/v1/threads/"+th1.ThreadID+"/quick-replies/"+practiceID, nil, http.StatusOK, &r)
	if got, want := r.Text, "Ames"; got != want {
		t.Errorf("after update rendered %q, want %q", got, want)
	}
	if st, body := h.Do(t, admin, "PUT", "/v1/quick-replies/practice/"+practiceID, map[string]any{"title": "Refill", "text": "{{dob}}"}, nil); st != http.StatusUnprocessableEntity {
		t.Errorf("update with an unknown placeholder: %d %s", st, body)
	}
	h.Must(t, nurse, "DELETE", "/v1/quick-replies/personal/"+personalID, nil, http.StatusNoContent, nil)
	h.Must(t, nurse, "DELETE", "/v1/quick-replies/personal/"+personalID, nil, http.StatusNotFound, nil)
}
