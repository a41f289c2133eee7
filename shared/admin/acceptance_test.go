package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/testenv"
)

// token mints a bearer token for an account created through the API.
func token(t *testing.T, h *apptest.Harness, sub string) string {
	t.Helper()
	u, err := h.Dir.GetUser(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := h.Issuer.Mint(u, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// mailTo waits for the newest e-mail to addr captured by the SES emulator.
func mailTo(t *testing.T, since time.Time, addr string) testenv.Mail {
	t.Helper()
	for range 50 {
		mails := testenv.Mailbox(t, since)
		for i := len(mails) - 1; i >= 0; i-- {
			if slices.Contains(mails[i].Destination.To, addr) {
				return mails[i]
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no e-mail to %s", addr)
	return testenv.Mail{}
}

func wantError(t *testing.T, st int, body []byte, status int, field string) {
	t.Helper()
	if st != status {
		t.Fatalf("status %d, want %d; body %s", st, status, body)
	}
	_, _, f := apptest.ErrorOf(t, body)
	if field != "" && f != field {
		t.Fatalf("field %q, want %q; body %s", f, field, body)
	}
}

var (
	tempPassword   = regexp.MustCompile(`temporary password\s+(\S+)`)
	activationCode = regexp.MustCompile(`activation code: ([A-Z0-9-]{19})`)
)

// TestOnboardingAcceptance is issue 8's acceptance on the emulators, over
// HTTP: from an empty practice created by the operator to a patient's
// refill request in the nurse pool, a read-only proxy, and isolation from
// another practice's admin.
func TestOnboardingAcceptance(t *testing.T) {
	h := apptest.New(t)
	ctx := context.Background()
	since := time.Now().Add(-2 * time.Second)
	run := testenv.RandomHex(4)
	email := func(who string) string { return who + "-" + run + "@acme.test" }

	// The operator creates the practice with its first admin.
	var created struct {
		ID           string `json:"id"`
		AdminSubject string `json:"adminSubject"`
	}
	pid := "acme-" + run
	h.Must(t, h.Token(carepost.RoleOperator), "POST", "/v1/operator/practices", map[string]any{
		"id": pid, "name": "Acme Family Medicine", "timeZone": "America/Chicago",
		"admin": map[string]any{"name": "Ann Admin", "email": email("ann")},
	}, http.StatusCreated, &created)
	st, body := h.Do(t, h.Token(carepost.RoleOperator), "POST", "/v1/operator/practices", map[string]any{
		"id": pid, "name": "Again", "timeZone": "America/Chicago", "admin": map[string]any{"name": "X", "email": email("x")}}, nil)
	wantError(t, st, body, http.StatusConflict, "id")
	// Only operators create practices.
	st, body = h.Do(t, h.Token(carepost.RoleAdmin), "POST", "/v1/operator/practices", map[string]any{"name": "Mine", "timeZone": "UTC", "admin": map[string]any{"name": "X", "email": email("y")}}, nil)
	wantError(t, st, body, http.StatusForbidden, "")

	// The first admin signs in with the temporary password from the invitation.
	m := tempPassword.FindStringSubmatch(mailTo(t, since, email("ann")).Body.Text)
	if m == nil {
		t.Fatal("the invitation carries no temporary password")
	}
	if _, err := h.Dir.IssueToken(created.AdminSubject, m[1]); err != nil {
		t.Fatalf("sign in with the temporary password: %v", err)
	}
	admin := token(t, h, created.AdminSubject)

	// Hours: validated, then saved.
	st, body = h.Do(t, admin, "PUT", "/v1/practice/hours", map[string]any{"hours": []map[string]any{{"day": 1, "open": "17:00", "close": "09:00"}}}, nil)
	wantError(t, st, body, http.StatusUnprocessableEntity, "hours[0].close")
	st, body = h.Do(t, admin, "PUT", "/v1/practice/hours", map[string]any{"timeZone": "America/Nowhere"}, nil)
	wantError(t, st, body, http.StatusUnprocessableEntity, "timeZone")
	hours := []map[string]any{}
	for d := 1; d <= 5; d++ {
		hours = append(hours, map[string]any{"day": d, "open": "09:00", "close": "18:00"})
	}
	hours = append(hours, map[string]any{"day": 6, "open": "09:00", "close": "12:00"})
	var settings carepost.Practice
	h.Must(t, admin, "PUT", "/v1/practice/hours", map[string]any{"hours": hours, "holidays": []string{"2026-12-25", "2026-07-04"}}, http.StatusOK, &settings)
	if got, want := len(settings.Hours), 6; got != want {
		t.Fatalf("hours saved = %d, want %d", got, want)
	}

	// Invite a nurse and a clinician.
	var nurse, clinician struct{ Subject string }
	h.Must(t, admin, "POST", "/v1/staff", map[string]any{"name": "Nina Nurse, RN", "email": email("nina"), "role": "nurse"}, http.StatusCreated, &nurse)
	h.Must(t, admin, "POST", "/v1/staff", map[string]any{"name": "Dr. Cal Clinician", "email": email("cal"), "role": "clinician"}, http.StatusCreated, &clinician)
	st, body = h.Do(t, admin, "POST", "/v1/staff", map[string]any{"name": "Pat", "email": email("pat-op"), "role": "operator"}, nil)
	wantError(t, st, body, http.StatusUnprocessableEntity, "role")
	if got := tempPassword.FindStringSubmatch(mailTo(t, since, email("nina")).Body.Text); got == nil {
		t.Fatal("the nurse's invitation carries no temporary password")
	}
	var staff struct {
		Items []struct{ Subject, Email, Name string }
	}
	h.Must(t, admin, "GET", "/v1/staff", nil, http.StatusOK, &staff)
	if got, want := len(staff.Items), 3; got != want {
		t.Fatalf("staff listed = %d, want %d", got, want)
	}

	// Pools and routing: a rule to a missing pool is a 422 naming the field.
	h.Must(t, admin, "PUT", "/v1/practice/pools", map[string]any{"pools": []map[string]any{
		{"name": "frontdesk", "members": []string{}},
		{"name": "nurses", "members": []string{nurse.Subject}, "lead": nurse.Subject},
		{"name": "clinical", "members": []string{nurse.Subject, clinician.Subject}},
	}, "onCallPool": "clinical"}, http.StatusOK, nil)
	st, body = h.Do(t, admin, "PUT", "/v1/practice/routing", map[string]any{"routing": map[string]string{"prescription": "pool:pharmacy"}}, nil)
	wantError(t, st, body, http.StatusUnprocessableEntity, "routing.prescription")
	h.Must(t, admin, "PUT", "/v1/practice/routing", map[string]any{"routing": map[string]string{
		"prescription": "pool:nurses", "question": "pool:nurses", "measurement": "pool:nurses",
		"test_result": "user:" + clinician.Subject, "appointment": "pool:frontdesk", "billing": "pool:frontdesk",
	}}, http.StatusOK, &settings)
	if got, want := settings.Routing[carepost.CategoryPrescription], carepost.PoolOwner("nurses"); got != want {
		t.Fatalf("prescription routes to %s, want %s", got, want)
	}
	// A pool a rule points at cannot be removed.
	st, body = h.Do(t, admin, "PUT", "/v1/practice/pools", map[string]any{"pools": []map[string]any{{"name": "frontdesk"}, {"name": "clinical"}}}, nil)
	wantError(t, st, body, http.StatusUnprocessableEntity, "")

	// The agreement: a new version per save, old ones kept.
	h.Must(t, admin, "PUT", "/v1/practice/agreement", map[string]any{"text": "Acme messaging agreement, version two: not for emergencies; call 911."}, http.StatusOK, nil)
	var agreements struct {
		Current  carepost.Agreement
		Versions []carepost.Agreement
	}
	h.Must(t, admin, "GET", "/v1/practice/agreement", nil, http.StatusOK, &agreements)
	if got, want := len(agreements.Versions), 2; got != want || agreements.Current.Version != 2 {
		t.Fatalf("agreement versions = %d (current %d), want %d (current 2)", got, agreements.Current.Version, want)
	}

	// Import 50 patients from a CSV with 2 bad rows.
	var csv strings.Builder
	csv.WriteString("First Name,Last Name,Date of Birth,Email,Phone\n")
	for i := 1; i <= 50; i++ {
		birth, mail := fmt.Sprintf("19%02d-%02d-%02d", 40+i, 1+i%12, 1+i%28), email(fmt.Sprintf("patient%02d", i))
		switch i {
		case 6:
			birth = "31/12/1970" // line 7
		case 29:
			mail = "not-an-address" // line 30
		}
		fmt.Fprintf(&csv, "Given%02d,Family%02d,%s,%s,+1 555 01%02d\n", i, i, birth, mail, i)
	}
	type importResult struct {
		Rows, Valid int
		Committed   bool
		Imported    []struct {
			Line      int
			PatientID string
		}
		Problems []struct {
			Line           int
			Field, Message string
			Duplicate      bool
		}
	}
	var dry, done importResult
	h.Must(t, admin, "POST", "/v1/patients/import", map[string]any{"csv": csv.String()}, http.StatusOK, &dry)
	if dry.Rows != 50 || dry.Valid != 48 || len(dry.Imported) != 0 || dry.Committed {
		t.Fatalf("dry run = %+v, want 50 rows, 48 valid, nothing imported", dry)
	}
	var lines []string
	for _, p := range dry.Problems {
		lines = append(lines, fmt.Sprintf("%d:%s", p.Line, p.Field))
		if strings.Contains(p.Message, "not-an-address") || strings.Contains(p.Message, "31/12") {
			t.Errorf("a problem message quotes the row: %q", p.Message)
		}
	}
	if got, want := strings.Join(lines, ","), "7:birthDate,30:email"; got != want {
		t.Fatalf("problems = %s, want %s", got, want)
	}
	var none struct{ Items []any }
	h.Must(t, admin, "GET", "/v1/patients", nil, http.StatusOK, &none)
	if len(none.Items) != 0 {
		t.Fatalf("a dry run imported %d patients", len(none.Items))
	}
	began := time.Now()
	h.Must(t, admin, "POST", "/v1/patients/import", map[string]any{"csv": csv.String(), "commit": true}, http.StatusOK, &done)
	t.Logf("import of 50 rows (48 enrolled) took %v on the emulators", time.Since(began).Round(time.Millisecond))
	if got, want := len(done.Imported), 48; got != want {
		t.Fatalf("imported %d, want %d: %+v", got, want, done.Problems)
	}
	var again importResult
	h.Must(t, admin, "POST", "/v1/patients/import", map[string]any{"csv": csv.String(), "commit": true}, http.StatusOK, &again)
	dups := 0
	for _, p := range again.Problems {
		if p.Duplicate {
			dups++
		}
	}
	if len(again.Imported) != 0 || dups != 48 {
		t.Fatalf("re-import imported %d and found %d duplicates, want 0 and 48", len(again.Imported), dups)
	}
	// Registering one of them again by hand is a 409 naming the patient.
	st, body = h.Do(t, admin, "POST", "/v1/patients", map[string]any{"firstName": "given01", "lastName": "FAMILY01", "birthDate": "1941-02-02", "email": email("patient01")}, nil)
	wantError(t, st, body, http.StatusConflict, "patient")
	if got, want := apptest.Get(t, body, "error.details.patientId"), done.Imported[0].PatientID; got != want {
		t.Fatalf("duplicate names %s, want %s", got, want)
	}
	var page struct {
		Items  []struct{ ID string }
		Cursor string
	}
	h.Must(t, admin, "GET", "/v1/patients?limit=30", nil, http.StatusOK, &page)
	total := len(page.Items)
	h.Must(t, admin, "GET", "/v1/patients?limit=30&cursor="+page.Cursor, nil, http.StatusOK, &page)
	if total += len(page.Items); total != 48 {
		t.Fatalf("listed %d patients over two pages, want 48", total)
	}

	// Activate one patient with the code from the e-mail.
	patientID := done.Imported[2].PatientID // line 4: patient03, born 1943-04-04
	patientMail := email("patient03")
	st, inviteBody := h.Do(t, admin, "POST", "/v1/patients/"+patientID+"/invite", nil, nil)
	if st != http.StatusOK || apptest.Get(t, inviteBody, "status") != "invited" {
		t.Fatalf("invite: %d %s", st, inviteBody)
	}
	mail := mailTo(t, since, patientMail)
	for _, secret := range []string{"Given03", "Family03", "1943", "Acme"} {
		if strings.Contains(mail.Body.Text+mail.Subject, secret) {
			t.Errorf("the activation e-mail contains %q", secret)
		}
	}
	code := activationCode.FindStringSubmatch(mail.Body.Text)
	if code == nil {
		t.Fatalf("no activation code in %q", mail.Body.Text)
	}
	if bytesContain(inviteBody, code[1]) {
		t.Fatal("the API answer carries the activation code")
	}
	activate := func(birth string) (int, []byte) {
		return h.Do(t, "", "POST", "/v1/public/activate", map[string]any{"practiceId": pid, "code": strings.ToLower(code[1]), "birthDate": birth, "password": "correct horse battery"}, nil)
	}
	st, body = activate("1943-04-05")
	wantError(t, st, body, http.StatusUnprocessableEntity, "code")
	st, body = activate("1943-04-04")
	if st != http.StatusOK || apptest.Get(t, body, "patientId") != patientID {
		t.Fatalf("activate: %d %s", st, body)
	}
	st, body = activate("1943-04-04")
	wantError(t, st, body, http.StatusUnprocessableEntity, "code") // single use
	sub, ok := h.Dir.SubjectForEmail(patientMail)
	if !ok {
		t.Fatal("no account for the activated patient")
	}
	patient, err := h.Dir.IssueToken(sub, "correct horse battery")
	if err != nil {
		t.Fatalf("sign in with the chosen password: %v", err)
	}

	// The patient accepts the agreement and asks for a refill: it lands in
	// the nurse pool.
	var consent struct{ Agreement carepost.Agreement }
	began = time.Now()
	for range 20 {
		h.Must(t, patient, "GET", "/v1/consent", nil, http.StatusOK, &consent)
	}
	t.Logf("GET /v1/consent with the per-request account check: %v each", (time.Since(began) / 20).Round(time.Microsecond))
	h.Must(t, patient, "POST", "/v1/consent", map[string]any{"version": consent.Agreement.Version}, http.StatusOK, nil)
	var opened struct {
		Thread struct {
			ID    string
			Owner carepost.Owner
		}
	}
	h.Must(t, patient, "POST", "/v1/threads", map[string]any{"body": "Running low, please renew.", "form": map[string]any{"type": "prescription_renewal",
		"fields": map[string]any{"medication": "Lisinopril", "strength": "10 mg", "pharmacy": "Main St Pharmacy", "supplyDays": 90, "dosesLeft": 10}}}, http.StatusCreated, &opened)
	if got, want := opened.Thread.Owner, carepost.PoolOwner("nurses"); got != want {
		t.Fatalf("refill owner = %s, want %s", got, want)
	}
	nurseTok := token(t, h, nurse.Subject)
	var inbox struct{ Items []struct{ ID string } }
	h.Must(t, nurseTok, "GET", "/v1/inbox?pool=nurses", nil, http.StatusOK, &inbox)
	if len(inbox.Items) != 1 || inbox.Items[0].ID != opened.Thread.ID {
		t.Fatalf("nurse pool = %+v, want the refill %s", inbox.Items, opened.Thread.ID)
	}
	var secret struct{ Thread struct{ ID string } }
	h.Must(t, patient, "POST", "/v1/threads", map[string]any{"category": "question", "subject": "Private", "body": "Only for my doctor.", "confidential": true}, http.StatusCreated, &secret)

	// A read-only proxy reads but does not send, and never sees the
	// confidential thread.
	var proxy struct{ Subject string }
	h.Must(t, admin, "POST", "/v1/patients/"+patientID+"/proxies", map[string]any{"email": email("carer"), "name": "Carla Carer",
		"scope": map[string]any{"read": true}, "expires": time.Now().Add(30 * 24 * time.Hour)}, http.StatusCreated, &proxy)
	proxyTok := token(t, h, proxy.Subject)
	h.Must(t, proxyTok, "POST", "/v1/consent", map[string]any{"version": consent.Agreement.Version, "patientId": patientID}, http.StatusOK, nil)
	h.Must(t, proxyTok, "GET", "/v1/threads/"+opened.Thread.ID, nil, http.StatusOK, nil)
	var seen struct{ Items []struct{ ID string } }
	h.Must(t, proxyTok, "GET", "/v1/threads?patientId="+patientID, nil, http.StatusOK, &seen)
	if len(seen.Items) != 1 || seen.Items[0].ID != opened.Thread.ID {
		t.Fatalf("the proxy lists %+v, want only the refill", seen.Items)
	}
	st, body = h.Do(t, proxyTok, "GET", "/v1/threads/"+secret.Thread.ID, nil, nil)
	wantError(t, st, body, http.StatusNotFound, "")
	st, body = h.Do(t, proxyTok, "POST", "/v1/threads/"+opened.Thread.ID+"/messages", map[string]any{"body": "Any news?"}, nil)
	wantError(t, st, body, http.StatusForbidden, "")
	st, body = h.Do(t, proxyTok, "POST", "/v1/threads", map[string]any{"patientId": patientID, "category": "question", "subject": "Hi", "body": "A question."}, nil)
	if st != http.StatusForbidden && st != http.StatusNotFound {
		t.Fatalf("a read-only proxy opened a thread: %d %s", st, body)
	}

	// Isolation: an admin of another practice gets 404 on every object of
	// this one, through every endpoint that names an object.
	other := h.Token(carepost.RoleAdmin)
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/threads/" + opened.Thread.ID},
		{"POST", "/v1/threads/" + opened.Thread.ID + "/messages"},
		{"POST", "/v1/threads/" + opened.Thread.ID + "/read"},
		{"POST", "/v1/threads/" + opened.Thread.ID + "/close"},
		{"POST", "/v1/threads/" + opened.Thread.ID + "/assign"},
		{"POST", "/v1/threads/" + opened.Thread.ID + "/forward"},
		{"GET", "/v1/patients/" + patientID},
		{"POST", "/v1/patients/" + patientID + "/invite"},
		{"GET", "/v1/patients/" + patientID + "/proxies"},
		{"POST", "/v1/patients/" + patientID + "/proxies"},
		{"DELETE", "/v1/patients/" + patientID + "/proxies/" + proxy.Subject},
		{"PUT", "/v1/staff/" + nurse.Subject + "/role"},
		{"POST", "/v1/staff/" + nurse.Subject + "/disable"},
	} {
		var in any
		switch {
		case strings.HasSuffix(c.path, "/messages"):
			in = map[string]any{"body": "hello"}
		case strings.HasSuffix(c.path, "/assign"), strings.HasSuffix(c.path, "/forward"):
			in = map[string]any{"to": "pool:nurses"}
		case strings.HasSuffix(c.path, "/proxies") && c.method == "POST":
			in = map[string]any{"subject": proxy.Subject, "scope": map[string]any{"read": true}}
		case strings.HasSuffix(c.path, "/role"):
			in = map[string]any{"role": "clinician"}
		}
		st, body := h.Do(t, other, c.method, c.path, in, nil)
		if st != http.StatusNotFound {
			t.Errorf("%s %s as another practice's admin: %d %s, want 404", c.method, c.path, st, body)
		}
	}
	// Listings and settings run in the caller's own practice: nothing of
	// this one appears. (Listing by a foreign patient id is 200 with no
	// items: the core filters by id inside the caller's practice.)
	for _, path := range []string{"/v1/threads?patientId=" + patientID, "/v1/patients/" + patientID + "/audit", "/v1/patients?limit=100", "/v1/staff"} {
		st, body := h.Do(t, other, "GET", path, nil, nil)
		if st != http.StatusOK && st != http.StatusNotFound {
			t.Errorf("GET %s: %d", path, st)
		}
		ids := []string{patientID, opened.Thread.ID, nurse.Subject, created.AdminSubject, "patient.create", "patient.activate"}
		if strings.HasSuffix(path, "/audit") {
			ids = ids[1:] // the caller's own (denied) look is logged under the id it asked for
		}
		for _, id := range ids {
			if bytesContain(body, id) {
				t.Errorf("GET %s as another practice's admin shows %s", path, id)
			}
		}
	}
	var own carepost.Practice
	h.Must(t, other, "GET", "/v1/practice", nil, http.StatusOK, &own)
	if own.ID == pid {
		t.Fatal("another practice's admin read this practice's settings")
	}

	// The adult patient sees and revokes the proxy; the proxy's token stops
	// reading at once.
	var mine struct {
		Items []struct{ Subject, Name string }
	}
	h.Must(t, patient, "GET", "/v1/me/proxies", nil, http.StatusOK, &mine)
	if len(mine.Items) != 1 || mine.Items[0].Subject != proxy.Subject || mine.Items[0].Name != "Carla Carer" {
		t.Fatalf("my proxies = %+v", mine.Items)
	}
	h.Must(t, patient, "DELETE", "/v1/me/proxies/"+proxy.Subject, nil, http.StatusNoContent, nil)
	st, body = h.Do(t, proxyTok, "GET", "/v1/threads/"+opened.Thread.ID, nil, nil)
	wantError(t, st, body, http.StatusNotFound, "")

	// Disabling the nurse ends her access at once.
	h.Must(t, nurseTok, "GET", "/v1/inbox?pool=nurses", nil, http.StatusOK, nil)
	h.Must(t, admin, "POST", "/v1/staff/"+nurse.Subject+"/disable", nil, http.StatusOK, nil)
	st, body = h.Do(t, nurseTok, "GET", "/v1/inbox?pool=nurses", nil, nil)
	wantError(t, st, body, http.StatusUnauthorized, "")
	h.Must(t, admin, "GET", "/v1/practice", nil, http.StatusOK, &settings)
	if got := settings.Pools[1].Members; len(got) != 0 {
		t.Fatalf("the disabled nurse is still in the pool: %v", got)
	}

	// The operator suspends the practice: no new messages.
	h.Must(t, h.Token(carepost.RoleOperator), "POST", "/v1/operator/practices/"+pid+"/suspend", map[string]any{"suspended": true}, http.StatusOK, nil)
	st, body = h.Do(t, patient, "POST", "/v1/threads", map[string]any{"category": "question", "subject": "Hello", "body": "Still there?"}, nil)
	wantError(t, st, body, http.StatusForbidden, "")
	var practices struct {
		Items []struct {
			ID        string
			Suspended bool
			Patients  int
		}
	}
	h.Must(t, h.Token(carepost.RoleOperator), "GET", "/v1/operator/practices", nil, http.StatusOK, &practices)
	i := slices.IndexFunc(practices.Items, func(p struct {
		ID        string
		Suspended bool
		Patients  int
	}) bool {
		return p.ID == pid
	})
	if i < 0 || !practices.Items[i].Suspended || practices.Items[i].Patients != 48 {
		t.Fatalf("operator listing = %+v", practices.Items)
	}

	// The patient's audit trail shows the enrollment and activation.
	var trail struct{ Items []struct{ Action string } }
	h.Must(t, admin, "GET", "/v1/patients/"+patientID+"/audit?limit=100", nil, http.StatusOK, &trail)
	var actions []string
	for _, e := range trail.Items {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"patient.create", "patient.invite", "patient.activate", "proxy.grant", "proxy.revoke"} {
		if !slices.Contains(actions, want) {
			t.Errorf("the patient's audit trail lacks %s: %v", want, actions)
		}
	}
	_ = ctx
}

func bytesContain(b []byte, s string) bool { return s != "" && strings.Contains(string(b), s) }
