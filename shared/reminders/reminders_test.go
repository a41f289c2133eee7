package reminders_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/linkkeys"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/reminders"
	"github.com/carepost/carepost/shared/testenv"
)

func TestAppointmentReminders(t *testing.T) {
	start := time.Now().Add(-time.Second)
	h := apptest.New(t)
	a := h.App
	ctx := context.Background()
	domain := "rem" + testenv.RandomHex(4) + ".test"
	secret := "Oncology" + strings.ToUpper(testenv.RandomHex(3))
	for _, p := range []struct {
		id     string
		optOut bool
	}{{apptest.PatientA1, false}, {apptest.PatientA2, true}} {
		pt := carepost.Patient{PracticeID: apptest.PracticeA, ID: p.id, Status: "active", Created: time.Now().UTC(), CampaignOptOut: p.optOut,
			Contact: carepost.Contact{FirstName: "F", LastName: "L", BirthDate: "1980-01-01", Email: p.id + "@" + domain}}
		rec, err := messaging.SealPatient(ctx, a.Envelope, pt, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Store.PutPatient(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Minute)
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	list := "patientId,time,clinician,location\n" +
		apptest.PatientA1 + "," + at(20*time.Hour) + ",Dr. " + secret + "," + secret + " wing\n" +
		apptest.PatientA2 + "," + at(10*time.Hour) + ",Dr. X,Main\n" +
		apptest.PatientA1 + "," + at(100*time.Hour) + ",Dr. Y,Main\n" +
		"pat-nobody," + at(20*time.Hour) + ",Dr. Z,Main\n" +
		apptest.PatientA1 + "," + at(-time.Hour) + ",Dr. Z,Main\n" +
		apptest.PatientA1 + ",next tuesday,Dr. Z,Main\n"
	sched := h.Token(carepost.RoleScheduler)

	st, b := h.Do(t, sched, "POST", "/v1/appointments/import", map[string]any{"csv": list}, nil)
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("import with bad rows: %d %s", st, b)
	}
	for i, want := range []string{"5 no patient with this patientId", "6 time is in the past", "7 time is not RFC 3339 or YYYY-MM-DD HH:MM"} {
		p := "error.details.badRows." + string(rune('0'+i))
		if got := apptest.Get(t, b, p+".line") + " " + apptest.Get(t, b, p+".reason"); got != want {
			t.Errorf("bad row %d = %q, want %q", i, got, want)
		}
	}
	var res reminders.ImportResult
	h.Must(t, sched, "POST", "/v1/appointments/import", map[string]any{"csv": list, "acceptValid": true}, http.StatusOK, &res)
	if got, want := res.Imported, 3; got != want {
		t.Fatalf("imported = %d, want %d", got, want)
	}
	h.Must(t, sched, "POST", "/v1/appointments/import", map[string]any{"csv": list, "acceptValid": true}, http.StatusOK, &res)
	if got, want := res.Imported, 0; got != want {
		t.Errorf("imported again = %d, want %d (no duplicates)", got, want)
	}

	var listed struct{ Items []reminders.View }
	h.Must(t, h.Token(carepost.RoleFrontDesk), "GET", "/v1/appointments?to="+url.QueryEscape(at(200*time.Hour)), nil, http.StatusOK, &listed)
	if got, want := len(listed.Items), 3; got != want {
		t.Fatalf("listed = %d, want %d", got, want)
	}
	if got, want := listed.Items[1].Clinician, "Dr. "+secret; got != want {
		t.Errorf("clinician = %q, want %q (opened for staff)", got, want)
	}
	if st, _ := h.Do(t, h.Token(carepost.RoleNurse), "GET", "/v1/appointments", nil, nil); st != http.StatusForbidden {
		t.Errorf("nurse listing appointments: %d, want 403", st)
	}
	if st, _ := h.Do(t, h.TokenFor(t, "b/frontdesk"), "GET", "/v1/appointments/"+listed.Items[0].ID, nil, nil); st != http.StatusNotFound {
		t.Errorf("another practice reading an appointment: %d, want 404", st)
	}

	// The reminders job: one e-mail for the visit 20 h ahead (the 24 h
	// reminder); none for the patient who opted out, none for the visit 100 h
	// ahead; running it again sends nothing more.
	job, _ := a.Schedule("reminders")
	for range 2 {
		if err := job.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var mine []testenv.Mail
	for _, m := range testenv.Mailbox(t, start) {
		if strings.HasSuffix(m.Destination.To[0], "@"+domain) {
			mine = append(mine, m)
		}
	}
	if got, want := len(mine), 1; got != want {
		t.Fatalf("reminders sent = %d, want %d", got, want)
	}
	m := mine[0]
	if m.Destination.To[0] != apptest.PatientA1+"@"+domain {
		t.Errorf("reminder went to %v", m.Destination.To)
	}
	if strings.Contains(m.Subject+m.Body.Text, secret) || strings.Contains(m.Body.Text, "Dr.") {
		t.Errorf("the reminder names the clinician or the location:\n%s", m.Body.Text)
	}
	if want := reminders.When(now.Add(20*time.Hour), "America/New_York"); !strings.Contains(m.Body.Text, want) {
		t.Errorf("reminder lacks the time %q:\n%s", want, m.Body.Text)
	}
	links := regexp.MustCompile(`(Confirm|Cancel): (\S+)`).FindAllStringSubmatch(m.Body.Text, -1)
	if len(links) != 2 {
		t.Fatalf("links in the reminder: %v", links)
	}
	path := func(s string) string { u, _ := url.Parse(s); return u.Path }
	confirm, cancel := path(links[0][2]), path(links[1][2])

	// Confirm: the page asks, the POST confirms, repeating is harmless.
	st, page := h.Do(t, "", "GET", confirm, nil, nil)
	if st != http.StatusOK || !strings.Contains(string(page), ">Confirm</button>") || strings.Contains(string(page), secret) {
		t.Errorf("confirm page: %d %s", st, page)
	}
	for range 2 {
		st, page = h.Do(t, "", "POST", confirm, nil, nil)
		if st != http.StatusOK || !strings.Contains(string(page), "is confirmed") {
			t.Errorf("confirm: %d %s", st, page)
		}
	}
	aid := listed.Items[1].ID
	got, _ := a.Store.Appointment(ctx, apptest.PracticeA, aid)
	if got.State != carepost.AppointmentConfirmed {
		t.Errorf("state after confirm = %s", got.State)
	}
	// Cancel: frees the slot and tells the front desk (no health detail).
	st, page = h.Do(t, "", "POST", cancel, nil, nil)
	if st != http.StatusOK || !strings.Contains(string(page), "is cancelled") {
		t.Errorf("cancel: %d %s", st, page)
	}
	got, _ = a.Store.Appointment(ctx, apptest.PracticeA, aid)
	if got.State != carepost.AppointmentCancelled || got.CancelledBy != "patient-link" {
		t.Errorf("after cancel: %s by %q", got.State, got.CancelledBy)
	}
	var told []testenv.Mail
	for _, m := range testenv.Mailbox(t, start) {
		if m.Subject == "An appointment was cancelled" && m.Destination.To[0] == h.User(t, "frontdesk").Email {
			told = append(told, m)
		}
	}
	if len(told) != 1 {
		t.Fatalf("front desk e-mails = %d, want 1", len(told))
	}
	if strings.Contains(told[0].Body.Text, secret) || strings.Contains(told[0].Body.Text, apptest.PatientA1) {
		t.Errorf("the front desk e-mail carries patient detail: %s", told[0].Body.Text)
	}
	// Confirming a cancelled visit is refused.
	if st, _ := h.Do(t, "", "POST", confirm, nil, nil); st != http.StatusConflict {
		t.Errorf("confirm after cancel: %d, want 409", st)
	}

	// Expired and forged links.
	expired, _ := linkkeys.New(a.Store, a.Envelope).Sign(ctx, apptest.PracticeA, reminders.PurposeCancel, []string{aid}, time.Now().Add(-time.Minute))
	if st, _ := h.Do(t, "", "GET", "/v1/public/appointments/"+expired, nil, nil); st != http.StatusGone {
		t.Errorf("expired link: %d, want 410", st)
	}
	if st, _ := h.Do(t, "", "GET", cancel[:len(cancel)-2]+"xx", nil, nil); st != http.StatusNotFound {
		t.Errorf("forged link: %d, want 404", st)
	}

	// Staff cancel the far visit; twice is a conflict.
	far := listed.Items[2].ID
	h.Must(t, h.Token(carepost.RoleFrontDesk), "POST", "/v1/appointments/"+far+"/cancel", nil, http.StatusOK, nil)
	if st, _ := h.Do(t, h.Token(carepost.RoleFrontDesk), "POST", "/v1/appointments/"+far+"/cancel", nil, nil); st != http.StatusConflict {
		t.Errorf("cancel twice: %d, want 409", st)
	}
}
