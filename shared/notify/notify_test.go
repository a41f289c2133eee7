package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/carepost/carepost/shared/app"
	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/sqsqueue"
	"github.com/carepost/carepost/shared/testenv"
)

// phi collects the patient data a test puts in threads and profiles; no
// e-mail sent during the test may contain any of it.
type phi struct{ words []string }

func (p *phi) word(prefix string) string {
	w := prefix + strings.ToUpper(testenv.RandomHex(3))
	p.words = append(p.words, w)
	return w
}

// scan fails the test if any e-mail captured since start carries a word of
// patient data, or the category or a health word from the thread.
func (p *phi) scan(t *testing.T, start time.Time) int {
	t.Helper()
	mails := testenv.Mailbox(t, start)
	for _, m := range mails {
		all := m.Subject + "\n" + m.Body.Text + "\n" + m.Body.HTML
		for _, w := range p.words {
			if strings.Contains(strings.ToLower(all), strings.ToLower(w)) {
				t.Errorf("an e-mail to %v carries patient data %q:\n%s", m.Destination.To, w, all)
			}
		}
	}
	return len(mails)
}

func mailsTo(t *testing.T, start time.Time, addr string) []testenv.Mail {
	t.Helper()
	var out []testenv.Mail
	for _, m := range testenv.Mailbox(t, start) {
		for _, to := range m.Destination.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

// drain runs the notify worker until its queue is empty.
func drain(t *testing.T, a *app.App) {
	t.Helper()
	w, ok := a.Worker("notify")
	if !ok {
		t.Fatal("notify worker not wired")
	}
	p := &sqsqueue.Poller{SQS: a.Clients.SQS, QueueURL: a.Config.NotifyQueueURL, BatchSize: 10, Wait: time.Second, Handle: w.Handle}
	empty := 0
	for empty < 2 {
		n, err := p.PollOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			empty++
		} else {
			empty = 0
		}
	}
}

func addPatient(t *testing.T, a *app.App, pid, patid string, c carepost.Contact, notifications bool) {
	t.Helper()
	ctx := context.Background()
	p := carepost.Patient{PracticeID: pid, ID: patid, Contact: c, Status: "active", Created: time.Now().UTC(), EmailNotifications: notifications}
	rec, err := messaging.SealPatient(ctx, a.Envelope, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.PutPatient(ctx, rec); err != nil {
		t.Fatal(err)
	}
}

func addProxyLink(t *testing.T, a *app.App, u auth.User, scope carepost.ProxyScope) {
	t.Helper()
	ctx := context.Background()
	rec, err := a.Store.User(ctx, u.PracticeID, u.Subject)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		rec, err = carepost.UserRecord{PracticeID: u.PracticeID, Subject: u.Subject, Role: carepost.RoleProxy, Grants: u.Grants, Created: time.Now().UTC()}, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	link := carepost.ProxyLink{PatientID: apptest.PatientA1, Subject: u.Subject, Scope: scope, Granted: time.Now().UTC()}
	if err := a.Store.SaveProxy(ctx, rec, link, false); err != nil {
		t.Fatal(err)
	}
}

// sesEvent loads a sample SNS event from events/ and rewrites its address
// and tags for this test.
func sesEvent(t *testing.T, file string, replace map[string]string) events.SNSEvent {
	t.Helper()
	b, err := os.ReadFile("../../events/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	msg := ev.Records[0].SNS.Message
	for from, to := range replace {
		msg = strings.ReplaceAll(msg, from, to)
	}
	ev.Records[0].SNS.Message = msg
	return ev
}

func TestNotificationsCarryNoHealthData(t *testing.T) {
	start := time.Now().Add(-time.Second)
	h := apptest.New(t)
	a := h.App
	ctx := context.Background()
	var secrets phi
	unique := strings.ToLower(testenv.RandomHex(4))
	patientEmail := "pat-" + unique + "@notify.test"
	first, last := secrets.word("Quintessa"), secrets.word("Vandermolen")
	addPatient(t, a, apptest.PracticeA, apptest.PatientA1, carepost.Contact{FirstName: first, LastName: last, BirthDate: "1950-04-02", Email: patientEmail}, true)
	quietEmail := "quiet-" + unique + "@notify.test"
	addPatient(t, a, apptest.PracticeA, apptest.PatientA2, carepost.Contact{FirstName: secrets.word("Ottoline"), LastName: "X", BirthDate: "1960-01-01", Email: quietEmail}, false)

	rw := []carepost.Grant{{PatientID: apptest.PatientA1, Scope: carepost.ProxyScope{Read: true, Write: true}}}
	proxyEmail := "proxy-" + unique + "@notify.test"
	proxy := h.AddUser(t, "proxy-"+unique, auth.User{Role: carepost.RoleProxy, PracticeID: apptest.PracticeA, Grants: rw, Email: proxyEmail})
	addProxyLink(t, a, proxy, carepost.ProxyScope{Read: true, Write: true})
	billingEmail := "billing-proxy-" + unique + "@notify.test"
	billingOnly := h.AddUser(t, "billing-"+unique, auth.User{Role: carepost.RoleProxy, PracticeID: apptest.PracticeA, Email: billingEmail,
		Grants: []carepost.Grant{{PatientID: apptest.PatientA1, Scope: carepost.ProxyScope{Read: true, Categories: []string{"billing"}}}}})
	addProxyLink(t, a, billingOnly, carepost.ProxyScope{Read: true, Categories: []string{"billing"}})

	clinician := h.Token(carepost.RoleClinician)
	open := func(patient string) (string, string) {
		t.Helper()
		var res struct {
			Thread  struct{ ID string }
			Message struct{ ID string }
		}
		h.Must(t, clinician, "POST", "/v1/threads", map[string]any{
			"patientId": patient, "category": "result",
			"subject": "Your " + secrets.word("Metformin") + " and " + secrets.word("oncology") + " results",
			"body":    "The " + secrets.word("biopsy") + " shows " + secrets.word("carcinoma") + "; start " + secrets.word("Tamoxifen") + " 20 mg.",
		}, http.StatusCreated, &res)
		return res.Thread.ID, res.Message.ID
	}

	// 1. A result for the patient: one e-mail each to the patient and the
	// read-write proxy; none to the billing-only proxy or to the patient
	// who turned e-mail off.
	tid, mid := open(apptest.PatientA1)
	open(apptest.PatientA2)
	drain(t, a)
	pm := mailsTo(t, start, patientEmail)
	if got, want := len(pm), 1; got != want {
		t.Fatalf("e-mails to the patient = %d, want %d", got, want)
	}
	if got, want := len(mailsTo(t, start, proxyEmail)), 1; got != want {
		t.Errorf("e-mails to the proxy = %d, want %d", got, want)
	}
	for _, addr := range []string{billingEmail, quietEmail} {
		if got := len(mailsTo(t, start, addr)); got != 0 {
			t.Errorf("e-mails to %s = %d, want 0", addr, got)
		}
	}
	m := pm[0]
	if got, want := m.Subject, "New secure message from Practice "+apptest.PracticeA; got != want {
		t.Errorf("subject = %q, want %q", got, want)
	}
	if want := "Sign in to read it: " + a.Config.PublicURL + "/app"; !strings.Contains(m.Body.Text, want) {
		t.Errorf("text %q does not contain %q", m.Body.Text, want)
	}
	if regexp.MustCompile(`(?i)result|clinician|dr\.`).MatchString(m.Subject + m.Body.Text) {
		t.Errorf("the e-mail names the category or the sender: %q", m.Subject+m.Body.Text)
	}

	// 2. Redelivery of the same event sends nothing; a second message on the
	// busy thread within the window sends nothing.
	w, _ := a.Worker("notify")
	body, _ := json.Marshal(carepost.Event{Type: "message.to_patient", PracticeID: apptest.PracticeA, ThreadID: tid, MessageID: mid, At: time.Now()})
	resp, err := w.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "again", Body: string(body)}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery: %v %v", resp, err)
	}
	h.Must(t, clinician, "POST", "/v1/threads/"+tid+"/messages", map[string]any{"body": "Also " + secrets.word("Warfarin") + " stays."}, http.StatusCreated, nil)
	drain(t, a)
	if got, want := len(mailsTo(t, start, patientEmail)), 1; got != want {
		t.Errorf("after a redelivery and a second message in the window: e-mails to the patient = %d, want %d", got, want)
	}

	// 3. A thread the patient marked confidential: the patient hears of the
	// answer, the proxy does not.
	h.Accept(t, "patient")
	conf := h.Open(t, "patient", map[string]any{"category": "question", "confidential": true,
		"subject": "About " + secrets.word("Sertraline"), "body": "Since the " + secrets.word("miscarriage") + " I feel low."})
	h.Must(t, clinician, "POST", "/v1/threads/"+conf.ThreadID+"/messages", map[string]any{"body": "Let us talk about " + secrets.word("depression") + "."}, http.StatusCreated, nil)
	drain(t, a)
	if got, want := len(mailsTo(t, start, patientEmail)), 2; got != want {
		t.Errorf("after a confidential thread: e-mails to the patient = %d, want %d", got, want)
	}
	if got, want := len(mailsTo(t, start, proxyEmail)), 1; got != want {
		t.Errorf("after a confidential thread: e-mails to the proxy = %d, want %d", got, want)
	}

	// 4. The patient's address bounces (SES event through SNS): the profile
	// shows it, and the next thread e-mails only the proxy.
	ses := a.SESEvents()
	if err := ses.Handle(ctx, sesEvent(t, "sns-ses-bounce.json", map[string]string{"ada@patients.test": patientEmail, "demo-clinic": apptest.PracticeA, "pat-ada": apptest.PatientA1})); err != nil {
		t.Fatal(err)
	}
	rec, err := a.Store.Patient(ctx, apptest.PracticeA, apptest.PatientA1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rec.EmailProblem, "bounced"; got != want {
		t.Errorf("patient's emailProblem = %q, want %q", got, want)
	}
	// The proxy complains (a complaint about any mail of the practice).
	if err := ses.Handle(ctx, sesEvent(t, "sns-ses-complaint.json", map[string]string{"grace@patients.test": proxyEmail, "demo-clinic": apptest.PracticeA})); err != nil {
		t.Fatal(err)
	}
	open(apptest.PatientA1)
	drain(t, a)
	if got, want := len(mailsTo(t, start, patientEmail)), 2; got != want {
		t.Errorf("after the bounce: e-mails to the patient = %d, want %d", got, want)
	}
	if got, want := len(mailsTo(t, start, proxyEmail)), 1; got != want {
		t.Errorf("after the complaint: e-mails to the proxy = %d, want %d", got, want)
	}

	if n := secrets.scan(t, start); n == 0 {
		t.Fatal("no e-mails scanned")
	}
}

func TestPoolNoticeForNewWork(t *testing.T) {
	start := time.Now().Add(-time.Second)
	h := apptest.New(t)
	a := h.App
	ctx := context.Background()
	p, err := a.Store.Practice(ctx, apptest.PracticeA)
	if err != nil {
		t.Fatal(err)
	}
	p.NotifyPools = []string{"nurses"}
	if err := a.Store.PutPractice(ctx, p); err != nil {
		t.Fatal(err)
	}
	var secrets phi
	h.Accept(t, "patient")
	nurse := h.User(t, "nurse").Email
	subject := "New work in the nurses inbox"
	count := func() int {
		n := 0
		for _, m := range mailsTo(t, start, nurse) {
			if m.Subject == subject {
				n++
			}
		}
		return n
	}
	var tids []string
	for range 2 {
		o := h.Open(t, "patient", map[string]any{"category": "question", "subject": "About " + secrets.word("Lisinopril"), "body": "Is " + secrets.word("dizziness") + " normal?"})
		tids = append(tids, o.ThreadID)
	}
	for _, tid := range tids {
		if err := a.Publisher.Publish(ctx, carepost.QueueNotify, carepost.Event{Type: "work.new", PracticeID: apptest.PracticeA, ThreadID: tid, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, a)
	// Two new threads within the window: one notice.
	if got, want := count(), 1; got != want {
		t.Errorf("pool notices = %d, want %d", got, want)
	}
	// A pool that did not ask gets nothing.
	o := h.Open(t, "patient", map[string]any{"category": "billing", "subject": "Bill", "body": "Why " + secrets.word("copay") + "?"})
	_ = a.Publisher.Publish(ctx, carepost.QueueNotify, carepost.Event{Type: "work.new", PracticeID: apptest.PracticeA, ThreadID: o.ThreadID, At: time.Now()})
	drain(t, a)
	for _, m := range testenv.Mailbox(t, start) {
		if strings.Contains(m.Subject, "billing inbox") {
			t.Errorf("the billing pool got a notice it did not ask for")
		}
	}
	secrets.scan(t, start)
}

// TestPatientTurnsEmailOffAndOn: the patient's own switch (PUT
// /v1/me/preferences) stops the new-message e-mails and starts them again;
// a bounce shows as "needs attention" to the patient and on the record the
// staff read.
func TestPatientTurnsEmailOffAndOn(t *testing.T) {
	start := time.Now().Add(-time.Second)
	h := apptest.New(t)
	a := h.App
	unique := strings.ToLower(testenv.RandomHex(4))
	email := "pref-" + unique + "@notify.test"
	addPatient(t, a, apptest.PracticeA, apptest.PatientA1, carepost.Contact{FirstName: "Pia", LastName: "Pref", BirthDate: "1970-04-02", Email: email}, true)
	patient, clinician := h.Token(carepost.RolePatient), h.Token(carepost.RoleClinician)
	result := func() {
		t.Helper()
		h.Must(t, clinician, "POST", "/v1/threads", map[string]any{"patientId": apptest.PatientA1, "category": "result", "subject": "Your results", "body": "All normal."}, http.StatusCreated, nil)
		drain(t, a)
	}
	var prefs struct {
		EmailNotifications bool   `json:"emailNotifications"`
		CampaignOptOut     bool   `json:"campaignOptOut"`
		EmailProblem       string `json:"emailProblem"`
	}
	h.Must(t, patient, "PUT", "/v1/me/preferences", map[string]any{"emailNotifications": false}, http.StatusOK, &prefs)
	if prefs.EmailNotifications {
		t.Fatal("the answer still says e-mail is on")
	}
	result()
	if got := len(mailsTo(t, start, email)); got != 0 {
		t.Errorf("e-mails after turning them off = %d, want 0", got)
	}
	var view struct {
		EmailNotifications bool   `json:"emailNotifications"`
		EmailProblem       string `json:"emailProblem"`
	}
	h.Must(t, h.Token(carepost.RoleFrontDesk), "GET", "/v1/patients/"+apptest.PatientA1, nil, http.StatusOK, &view)
	if view.EmailNotifications {
		t.Error("the staff view of the patient still shows e-mail on")
	}

	h.Must(t, patient, "PUT", "/v1/me/preferences", map[string]any{"emailNotifications": true}, http.StatusOK, &prefs)
	result()
	if got := len(mailsTo(t, start, email)); got != 1 {
		t.Errorf("e-mails after turning them on again = %d, want 1", got)
	}

	// A bounce: both the patient and the staff see the address needs attention.
	if err := a.SESEvents().Handle(context.Background(), sesEvent(t, "sns-ses-bounce.json", map[string]string{"ada@patients.test": email, "demo-clinic": apptest.PracticeA, "pat-ada": apptest.PatientA1})); err != nil {
		t.Fatal(err)
	}
	h.Must(t, patient, "GET", "/v1/me/preferences", nil, http.StatusOK, &prefs)
	if prefs.EmailProblem != "bounced" {
		t.Errorf("patient's preferences after a bounce: emailProblem %q, want bounced", prefs.EmailProblem)
	}
	h.Must(t, h.Token(carepost.RoleFrontDesk), "GET", "/v1/patients/"+apptest.PatientA1, nil, http.StatusOK, &view)
	if view.EmailProblem != "bounced" {
		t.Errorf("staff view after a bounce: emailProblem %q, want bounced", view.EmailProblem)
	}
	// Only the patient has preferences; a proxy or staff member is refused.
	if st, _ := h.Do(t, h.Token(carepost.RoleProxy), "PUT", "/v1/me/preferences", map[string]any{"emailNotifications": false}, nil); st != http.StatusForbidden {
		t.Errorf("a proxy setting the patient's preferences: %d, want 403", st)
	}
}
