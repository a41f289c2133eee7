package outreach_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/outreach"
)

// TestBulkOverHTTP: one thread per patient, counts only in the answer, no
// recipient sees another's thread or learns who else got the message, and
// each can reply.
func TestBulkOverHTTP(t *testing.T) {
	h := apptest.New(t)
	for _, id := range []string{apptest.PatientA1, apptest.PatientA2} {
		h.SeedPatientProfile(t, apptest.PracticeA, id, carepost.Contact{FirstName: "P", LastName: id, BirthDate: "1990-01-01", Email: id + "@example.test"})
	}
	in := map[string]any{"category": "education", "subject": "Flu season", "body": "Please get your flu shot.",
		"links":      []map[string]string{{"title": "Flu facts", "url": "https://example.org/flu"}},
		"patientIds": []string{apptest.PatientA1, apptest.PatientA2, "pat-nobody", apptest.PatientA2, apptest.PatientB1}}
	key := map[string]string{"Idempotency-Key": "bulk-1"}
	st, body := h.Do(t, h.Token(carepost.RoleClinician), "POST", "/v1/messages/bulk", in, key)
	if st != http.StatusOK {
		t.Fatalf("bulk: %d %s", st, body)
	}
	var res outreach.BulkResult
	apptest.Decode(t, body, &res)
	if got, want := res, (outreach.BulkResult{Requested: 4, Sent: 2, Skipped: 2}); got != want {
		t.Errorf("result %+v, want %+v", got, want)
	}
	for _, id := range []string{apptest.PatientA1, apptest.PatientA2, "pat-nobody", apptest.PatientB1} {
		if strings.Contains(string(body), id) {
			t.Errorf("the answer names %s: %s", id, body)
		}
	}
	// A retry of the request gets the stored answer.
	if r := h.Request(t, h.Token(carepost.RoleClinician), "POST", "/v1/messages/bulk", in, key); r.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry was not replayed: %d", r.Status)
	}

	threadsOf := func(name string) []struct {
		ID        string `json:"id"`
		PatientID string `json:"patientId"`
		Subject   string `json:"subject"`
	} {
		var page struct {
			Items []struct {
				ID        string `json:"id"`
				PatientID string `json:"patientId"`
				Subject   string `json:"subject"`
			} `json:"items"`
		}
		h.Must(t, h.TokenFor(t, name), "GET", "/v1/threads", nil, http.StatusOK, &page)
		return page.Items
	}
	t1, t2 := threadsOf("patient"), threadsOf("patient2")
	if len(t1) != 1 || len(t2) != 1 || t1[0].ID == t2[0].ID || t1[0].Subject != "Flu season" {
		t.Fatalf("threads: patient %v, patient2 %v", t1, t2)
	}
	// Neither can open the other's thread; neither thread names the other.
	if st, _ := h.Do(t, h.TokenFor(t, "patient2"), "GET", "/v1/threads/"+t1[0].ID, nil, nil); st != http.StatusNotFound {
		t.Errorf("patient2 opening patient's thread: %d", st)
	}
	if st, _ := h.Do(t, h.TokenFor(t, "patient"), "GET", "/v1/threads/"+t2[0].ID, nil, nil); st != http.StatusNotFound {
		t.Errorf("patient opening patient2's thread: %d", st)
	}
	h.Accept(t, "patient")
	_, detail := h.Do(t, h.TokenFor(t, "patient"), "GET", "/v1/threads/"+t1[0].ID, nil, nil)
	if strings.Contains(string(detail), apptest.PatientA2) || strings.Contains(string(detail), t2[0].ID) {
		t.Errorf("patient's thread names the other recipient: %s", detail)
	}
	if !strings.Contains(string(detail), "Flu facts: https://example.org/flu") {
		t.Errorf("the link is missing: %s", detail)
	}
	// The patient replies; the thread is open again for the practice.
	var reply struct {
		Thread struct {
			Status string `json:"status"`
		} `json:"thread"`
	}
	h.Must(t, h.TokenFor(t, "patient"), "POST", "/v1/threads/"+t1[0].ID+"/messages", map[string]any{"body": "Done, thanks."}, http.StatusCreated, &reply)
	if reply.Thread.Status != string(carepost.StatusOpen) {
		t.Errorf("after the patient's reply the thread is %q", reply.Thread.Status)
	}

	// Below the HTTP layer too, a retried send (same key and body, e.g.
	// after a crash) opens no second thread for anyone.
	svc := &outreach.Service{Store: h.App.Store, Threads: h.App.Messaging}
	clin := carepost.Principal{Subject: h.Subject(t, "clinician"), Role: carepost.RoleClinician, PracticeID: apptest.PracticeA, Name: "Test clinician"}
	again := outreach.BulkInput{Category: carepost.CategoryFollowUp, Subject: "Follow-up", Body: "How are you?", PatientIDs: []string{apptest.PatientA1}}
	for i := 0; i < 2; i++ {
		r, err := svc.Send(context.Background(), messaging.Request{Principal: clin, IdempotencyKey: "bulk-2", RequestHash: "h2"}, again)
		if err != nil || r.Sent != 1 {
			t.Fatalf("direct send %d: %+v %v", i, r, err)
		}
	}
	if got := threadsOf("patient"); len(got) != 2 {
		t.Errorf("after a retried send the patient has %d threads, want 2", len(got))
	}

	// Refusals.
	for _, tc := range []struct {
		name  string
		token string
		body  map[string]any
		want  int
	}{
		{"front desk", h.Token(carepost.RoleFrontDesk), in, http.StatusForbidden},
		{"admin", h.Token(carepost.RoleAdmin), in, http.StatusForbidden},
		{"patient", h.Token(carepost.RolePatient), in, http.StatusForbidden},
		{"no patients", h.Token(carepost.RoleNurse), map[string]any{"category": "result", "subject": "s", "body": "b", "patientIds": []string{}}, http.StatusUnprocessableEntity},
		{"unknown field", h.Token(carepost.RoleNurse), map[string]any{"category": "result", "subject": "s", "body": "b", "patientIds": []string{"x"}, "bcc": "all"}, http.StatusBadRequest},
	} {
		if st, b := h.Do(t, tc.token, "POST", "/v1/messages/bulk", tc.body, nil); st != tc.want {
			t.Errorf("%s: %d, want %d: %s", tc.name, st, tc.want, b)
		}
	}
}
