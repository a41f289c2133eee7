package reports_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/reports"
)

// TestReportsOverHTTP drives the inbox through the API and reads the
// reports the write path fed.
func TestReportsOverHTTP(t *testing.T) {
	h := apptest.New(t)
	ctx := context.Background()
	admin := h.Token(carepost.RoleAdmin)
	h.Accept(t, "patient")
	h.Accept(t, "patient2")
	a := h.Open(t, "patient", map[string]any{"category": "question", "subject": "Rash", "body": "I have a rash."})
	b := h.Open(t, "patient2", map[string]any{"category": "question", "subject": "Cough", "body": "I have a cough."})
	h.Open(t, "clinician", map[string]any{"patientId": apptest.PatientA1, "category": "result", "subject": "Your result", "body": "Normal."})
	h.Must(t, h.Token(carepost.RoleNurse), "POST", "/v1/threads/"+a.ThreadID+"/messages", map[string]any{"body": "Please send a photo."}, http.StatusCreated, nil)
	h.Must(t, h.Token(carepost.RoleNurse), "POST", "/v1/threads/"+a.ThreadID+"/messages", map[string]any{"body": "Thanks."}, http.StatusCreated, nil)
	h.Must(t, h.Token(carepost.RoleClinician), "POST", "/v1/threads/"+b.ThreadID+"/messages", map[string]any{"body": "Rest and fluids."}, http.StatusCreated, nil)
	h.Must(t, h.Token(carepost.RolePatient), "POST", "/v1/threads/"+a.ThreadID+"/messages", map[string]any{"body": "Photo sent."}, http.StatusCreated, nil)
	h.Must(t, h.Token(carepost.RoleNurse), "POST", "/v1/threads/"+a.ThreadID+"/close", nil, http.StatusOK, nil)

	var rt reports.ResponseTimes
	h.Must(t, admin, "GET", "/v1/reports/response-times", nil, http.StatusOK, &rt)
	if got, want := rt.FirstResponse.Overall.Count, 2; got != want {
		t.Errorf("first responses %d, want %d", got, want)
	}
	staff := map[string]int{}
	for _, sd := range rt.FirstResponse.ByStaff {
		staff[sd.Subject] = sd.Count
	}
	if staff[h.Subject(t, "nurse")] != 1 || staff[h.Subject(t, "clinician")] != 1 || len(staff) != 2 {
		t.Errorf("first responses by staff %v", staff)
	}
	if got, want := rt.TimeToClose.Overall.Count, 1; got != want {
		t.Errorf("closes %d, want %d", got, want)
	}

	var vol reports.Volume
	h.Must(t, admin, "GET", "/v1/reports/volume", nil, http.StatusOK, &vol)
	if got, want := vol.Totals, (reports.DayVolume{Day: "total", Opened: 2, OpenedByStaff: 1, PatientMessages: 3, StaffMessages: 4, Closed: 1}); got != want {
		t.Errorf("volume totals %+v, want %+v", got, want)
	}
	if got, want := len(vol.Days), reports.DefaultDays; got != want {
		t.Errorf("%d days, want %d", got, want)
	}

	// Backlog: b is active; make it overdue.
	var bl reports.Backlog
	h.Must(t, admin, "GET", "/v1/reports/backlog", nil, http.StatusOK, &bl)
	active := bl.Active
	tb, err := h.App.Store.Thread(ctx, apptest.PracticeA, b.ThreadID)
	if err != nil {
		t.Fatal(err)
	}
	next := tb
	next.Due = time.Now().Add(-time.Hour)
	if err := h.App.Store.UpdateThread(ctx, carepost.ThreadChange{PracticeID: apptest.PracticeA, ThreadID: b.ThreadID, Version: tb.Version, Set: next}); err != nil {
		t.Fatal(err)
	}
	h.Must(t, admin, "GET", "/v1/reports/backlog", nil, http.StatusOK, &bl)
	if bl.Active != active || bl.Overdue != 1 {
		t.Errorf("backlog active %d (was %d), overdue %d, want 1", bl.Active, active, bl.Overdue)
	}
	if active != 2 { // b and the clinician's result (waiting on the patient)
		t.Errorf("active %d, want 2", active)
	}

	// Meaningful Use: seen = uploaded ids for today plus past, not
	// cancelled appointments; messaged = wrote in the period.
	today := time.Now().In(mustZone(t, "America/New_York")).Format(time.DateOnly)
	h.Must(t, admin, "POST", "/v1/reports/patients-seen", map[string]any{"day": today, "patientIds": []string{apptest.PatientA1, "pat-x", "pat-y", "pat-x"}}, http.StatusOK, nil)
	now := time.Now().UTC()
	for _, ap := range []carepost.AppointmentRecord{
		{Appointment: carepost.Appointment{PracticeID: apptest.PracticeA, ID: "ap1", PatientID: apptest.PatientA2, Time: now.Add(-time.Minute), State: carepost.AppointmentConfirmed, Reminded: []int{24}}},
		{Appointment: carepost.Appointment{PracticeID: apptest.PracticeA, ID: "ap2", PatientID: "pat-z", Time: now.Add(-2 * time.Minute), State: carepost.AppointmentCancelled, Reminded: []int{24}}},
		{Appointment: carepost.Appointment{PracticeID: apptest.PracticeA, ID: "ap3", PatientID: "pat-w", Time: now.Add(48 * time.Hour), State: carepost.AppointmentBooked, Reminded: []int{72}}},
	} {
		ap.Created, ap.Updated = now, now
		if err := h.App.Store.PutAppointment(ctx, ap); err != nil {
			t.Fatal(err)
		}
	}
	var mu reports.SecureMessaging
	h.Must(t, admin, "GET", "/v1/reports/secure-messaging", nil, http.StatusOK, &mu)
	if mu.PatientsSeen != 4 || mu.SeenFromUploads != 3 || mu.SeenFromAppointment != 1 || mu.PatientsWhoMessaged != 2 || mu.Share != 0.5 || !mu.Meets {
		t.Errorf("secure messaging %+v", mu)
	}

	// Reminders: a campaign's counters and the appointments of the period.
	c := carepost.Campaign{PracticeID: apptest.PracticeA, ID: "c1", Name: "Flu shots", State: carepost.CampaignDraft, Created: now, Updated: now,
		Counts: carepost.CampaignCounts{Total: 10, Sent: 10, Delivered: 8, Bounced: 1}}
	if err := h.App.Store.PutCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Store.ChangeCampaign(ctx, apptest.PracticeA, "c1", carepost.CampaignChange{To: carepost.CampaignRunning, Started: now, Now: now}); err != nil {
		t.Fatal(err)
	}
	from := time.Now().AddDate(0, 0, -2).Format(time.DateOnly)
	to := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
	var rem reports.Reminders
	h.Must(t, admin, "GET", "/v1/reports/reminders?from="+from+"&to="+to, nil, http.StatusOK, &rem)
	if rem.Campaigns.Campaigns != 1 || rem.Campaigns.DeliveryRate != 0.8 {
		t.Errorf("campaigns %+v", rem.Campaigns)
	}
	if rem.Appointments.Appointments != 3 || rem.Appointments.Reminded != 3 || rem.Appointments.Confirmed != 1 || rem.Appointments.Cancelled != 1 {
		t.Errorf("appointments %+v", rem.Appointments)
	}

	// A year's report reads 366 day items (four BatchGetItem calls).
	yearFrom := time.Now().AddDate(0, 0, -365).Format(time.DateOnly)
	start := time.Now()
	h.Must(t, admin, "GET", "/v1/reports/response-times?from="+yearFrom, nil, http.StatusOK, &rt)
	t.Logf("366-day response-times report over HTTP on DynamoDB Local: %v", time.Since(start).Round(time.Millisecond))
	if rt.FirstResponse.Overall.Count != 2 {
		t.Errorf("year report counts %d first responses", rt.FirstResponse.Overall.Count)
	}

	// Only admins; bad periods are 422s.
	for _, tc := range []struct {
		token, path string
		want        int
	}{
		{h.Token(carepost.RoleNurse), "/v1/reports/volume", http.StatusForbidden},
		{h.Token(carepost.RoleClinician), "/v1/reports/backlog", http.StatusForbidden},
		{h.Token(carepost.RolePatient), "/v1/reports/response-times", http.StatusForbidden},
		{admin, "/v1/reports/volume?from=2026-02-10&to=2026-02-01", http.StatusUnprocessableEntity},
		{admin, "/v1/reports/volume?from=yesterday", http.StatusUnprocessableEntity},
	} {
		if st, body := h.Do(t, tc.token, "GET", tc.path, nil, nil); st != tc.want {
			t.Errorf("GET %s: %d, want %d: %s", tc.path, st, tc.want, body)
		}
	}
	// Practice B's reports see none of practice A's work.
	h.Must(t, h.TokenFor(t, "b/admin"), "GET", "/v1/reports/volume", nil, http.StatusOK, &vol)
	if vol.Totals.PatientMessages != 0 {
		t.Errorf("practice B sees %+v", vol.Totals)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
