package evisit_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/evisit"
)

func TestEVisitTimeOverHTTP(t *testing.T) {
	h := apptest.New(t)
	h.Accept(t, "patient")
	h.Accept(t, "patient2")
	q := h.Open(t, "patient", map[string]any{"category": "question", "subject": "Rash", "body": "I have a rash."})
	appt := h.Open(t, "patient2", map[string]any{"category": "appointment", "subject": "Visit", "body": "I need a visit."})
	clin, nurse := h.Token(carepost.RoleClinician), h.Token(carepost.RoleNurse)
	n := 0
	log := func(token, tid string, body map[string]any, want int) evisit.ThreadTime {
		t.Helper()
		n++
		var tt evisit.ThreadTime
		st, b := h.Do(t, token, "POST", "/v1/threads/"+tid+"/time", body, map[string]string{"Idempotency-Key": "time-" + string(rune('a'+n))})
		if st != want {
			t.Fatalf("log time: %d, want %d: %s", st, want, b)
		}
		if st == http.StatusCreated {
			apptest.Decode(t, b, &tt)
		}
		return tt
	}

	// The clinician opens the question: the window starts.
	h.Must(t, clin, "GET", "/v1/threads/"+q.ThreadID, nil, http.StatusOK, nil)
	log(clin, q.ThreadID, map[string]any{"minutes": 4}, http.StatusCreated)
	tt := log(nurse, q.ThreadID, map[string]any{"minutes": 9}, http.StatusCreated)
	if s := tt.Summary; s.Code != "98970" || s.ClinicianMinutes != 4 || s.NurseMinutes != 9 || s.WindowStart.IsZero() {
		t.Errorf("after 4 clinician and 9 nurse minutes: %+v", s)
	}
	tt = log(clin, q.ThreadID, map[string]any{"minutes": 3}, http.StatusCreated)
	if s := tt.Summary; s.Code != "99421" || s.BillingStaff != h.Subject(t, "clinician") || s.Complete {
		t.Errorf("after 7 clinician minutes: %+v", s)
	}
	// Scheduling is not billable however long it took; logging time starts
	// the window of a thread no clinician has opened.
	tt = log(nurse, appt.ThreadID, map[string]any{"minutes": 30}, http.StatusCreated)
	if s := tt.Summary; s.Billable || s.Reason != evisit.ReasonExcludedCategory || s.WindowStart.IsZero() {
		t.Errorf("appointment thread: %+v", s)
	}

	// Refusals.
	log(h.Token(carepost.RoleFrontDesk), appt.ThreadID, map[string]any{"minutes": 5}, http.StatusForbidden)
	log(h.Token(carepost.RolePatient), q.ThreadID, map[string]any{"minutes": 5}, http.StatusForbidden)
	log(h.TokenFor(t, "b/clinician"), q.ThreadID, map[string]any{"minutes": 5}, http.StatusNotFound)
	log(clin, q.ThreadID, map[string]any{"minutes": 0}, http.StatusUnprocessableEntity)
	log(clin, q.ThreadID, map[string]any{"minutes": evisit.MaxMinutes + 1}, http.StatusUnprocessableEntity)
	log(clin, q.ThreadID, map[string]any{"minutes": 5, "at": time.Now().Add(time.Hour)}, http.StatusUnprocessableEntity)
	log(clin, q.ThreadID, map[string]any{"minutes": 5, "at": time.Now().Add(-24 * time.Hour)}, http.StatusUnprocessableEntity)
	log(clin, q.ThreadID, map[string]any{"minutes": 5, "note": "free text"}, http.StatusBadRequest)

	var got evisit.ThreadTime
	h.Must(t, h.Token(carepost.RoleAdmin), "GET", "/v1/threads/"+q.ThreadID+"/time", nil, http.StatusOK, &got)
	if len(got.Entries) != 3 || got.Summary.Code != "99421" {
		t.Errorf("GET time: %d entries, %+v", len(got.Entries), got.Summary)
	}

	// The billing CSV lists the billable e-visit only.
	r := h.Request(t, h.Token(carepost.RoleAdmin), "GET", "/v1/reports/evisits.csv", nil, nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", r.Status, r.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("CSV rows %v", rows)
	}
	row := map[string]string{}
	for i, col := range rows[0] {
		row[col] = rows[1][i]
	}
	for col, want := range map[string]string{"thread_id": q.ThreadID, "patient_id": apptest.PatientA1, "cpt_code": "99421", "clinician_minutes": "7",
		"nurse_minutes": "9", "billing_role": "clinician", "status": "open", "billing_staff_name": "Test clinician"} {
		if row[col] != want {
			t.Errorf("CSV %s = %q, want %q", col, row[col], want)
		}
	}
	if st, _ := h.Do(t, clin, "GET", "/v1/reports/evisits.csv", nil, nil); st != http.StatusForbidden {
		t.Errorf("clinician reading the billing CSV: %d", st)
	}
	old := time.Now().AddDate(0, -2, 0).Format(time.DateOnly)
	r = h.Request(t, h.Token(carepost.RoleAdmin), "GET", "/v1/reports/evisits.csv?from="+old+"&to="+old, nil, nil)
	if r.Status != http.StatusOK || strings.Count(string(r.Body), "\n") != 1 {
		t.Errorf("CSV of another period: %d %q", r.Status, r.Body)
	}
}
