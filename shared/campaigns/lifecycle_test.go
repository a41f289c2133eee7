package campaigns_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/campaigns"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/linkkeys"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/testenv"
)

func TestCampaignLifecycle(t *testing.T) {
	start := time.Now().Add(-time.Second)
	h := apptest.New(t)
	a := h.App
	ctx := context.Background()
	domain := "c" + testenv.RandomHex(4) + ".test"
	sched := h.Token(carepost.RoleScheduler)

	// A patient who opted out of campaigns, and an address that bounced.
	p := carepost.Patient{PracticeID: apptest.PracticeA, ID: apptest.PatientA1, Status: "active", Created: time.Now().UTC(), CampaignOptOut: true,
		Contact: carepost.Contact{FirstName: "Opt", LastName: "Out", BirthDate: "1970-01-01", Email: "optout@" + domain}}
	rec, err := messaging.SealPatient(ctx, a.Envelope, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.PutPatient(ctx, rec); err != nil {
		t.Fatal(err)
	}
	hash, _ := linkkeys.New(a.Store, a.Envelope).AddressHash(ctx, apptest.PracticeA, "bounced@"+domain)
	if err := a.Store.Suppress(ctx, apptest.PracticeA, hash, "bounced", time.Now()); err != nil {
		t.Fatal(err)
	}

	list := "email,firstName,patientId\n" +
		"r1@" + domain + ",Ann,\n" +
		"r2@" + domain + ",Ben,\n" +
		"bad-address,Cy,\n" +
		"optout@" + domain + ",Opt," + apptest.PatientA1 + "\n" +
		"bounced@" + domain + ",Bo,\n" +
		"r3@" + domain + ",Cat,\n"
	tmpl := map[string]string{"subject": "Flu shots at {{practiceName}}", "text": "Hello {{firstName}},\nbook your flu shot.\nUnsubscribe: {{unsubscribeUrl}}"}
	body := map[string]any{"name": "Flu 2026", "template": tmpl, "audience": map[string]any{"csv": list}}

	// Who may: schedulers and admins; nobody else.
	if st, _ := h.Do(t, h.Token(carepost.RoleNurse), "POST", "/v1/campaigns", body, nil); st != http.StatusForbidden {
		t.Errorf("nurse creating a campaign: %d, want 403", st)
	}
	// A bad row refuses the whole list, with its line number.
	st, b := h.Do(t, sched, "POST", "/v1/campaigns", body, nil)
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("list with a bad row: %d %s, want 422", st, b)
	}
	if got, want := apptest.Get(t, b, "error.details.badRows.0.line"), "4"; got != want {
		t.Errorf("bad row line = %s, want %s (%s)", got, want, b)
	}
	if strings.Contains(string(b), "bad-address") {
		t.Errorf("the error repeats the row's content: %s", b)
	}
	// An unknown placeholder is refused.
	bad := map[string]any{"name": "x", "template": map[string]string{"subject": "Hi", "text": "{{lastName}}"}, "audience": map[string]any{"csv": list}, "acceptValid": true}
	if st, b := h.Do(t, sched, "POST", "/v1/campaigns", bad, nil); st != http.StatusUnprocessableEntity || !strings.Contains(string(b), "lastName") {
		t.Errorf("unknown placeholder: %d %s, want 422 naming it", st, b)
	}

	body["acceptValid"] = true
	var res campaigns.ImportResult
	h.Must(t, sched, "POST", "/v1/campaigns", body, http.StatusCreated, &res)
	cid := res.Campaign.ID
	if got, want := res.Imported, 5; got != want {
		t.Errorf("imported = %d, want %d", got, want)
	}
	if got, want := len(res.BadRows), 1; got != want {
		t.Errorf("bad rows = %d, want %d", got, want)
	}
	// Another practice cannot see it.
	if st, _ := h.Do(t, h.TokenFor(t, "b/admin"), "GET", "/v1/campaigns/"+cid, nil, nil); st != http.StatusNotFound {
		t.Errorf("another practice's admin reading the campaign: %d, want 404", st)
	}

	var pv struct{ Items []campaigns.PreviewMail }
	h.Must(t, sched, "GET", "/v1/campaigns/"+cid+"/preview?limit=2", nil, http.StatusOK, &pv)
	if got, want := len(pv.Items), 2; got != want {
		t.Fatalf("preview mails = %d, want %d", got, want)
	}
	if !strings.Contains(pv.Items[0].Text, "Hello Ann") || !strings.HasPrefix(pv.Items[0].Subject, "Flu shots at Practice") {
		t.Errorf("preview = %+v", pv.Items[0])
	}
	if got := len(mailsTo(t, start, domain)); got != 0 {
		t.Fatalf("a preview sent %d e-mails", got)
	}

	var v campaigns.View
	h.Must(t, sched, "POST", "/v1/campaigns/"+cid+"/schedule", nil, http.StatusOK, &v)
	if got, want := v.State, carepost.CampaignRunning; got != want {
		t.Fatalf("state after schedule = %s, want %s", got, want)
	}
	sendCtx, stop := context.WithCancel(ctx)
	wg := runSenders(sendCtx, a, 2)
	waitFor(t, 60*time.Second, "the campaign to be handled", func() bool {
		c := campaign(t, a, apptest.PracticeA, cid)
		return c.Counts.Queued() == 0 && c.Counts.Sending == 0
	})
	tick, _ := a.Schedule("campaigntick")
	if err := tick.Run(ctx); err != nil {
		t.Fatal(err)
	}
	h.Must(t, sched, "GET", "/v1/campaigns/"+cid+"?exact=true", nil, http.StatusOK, &v)
	want := campaigns.Progress{Total: 5, Sent: 3, OptedOut: 1, Skipped: 1}
	if v.Progress != want || v.State != carepost.CampaignCompleted {
		t.Errorf("progress = %+v %s, want %+v completed", v.Progress, v.State, want)
	}
	mails := mailsTo(t, start, domain)
	if got, want := len(mails), 3; got != want {
		t.Fatalf("e-mails = %d, want %d", got, want)
	}
	var unsubURL string
	for _, m := range mails {
		if m.Destination.To[0] == "r1@"+domain {
			if !strings.Contains(m.Body.Text, "Hello Ann") {
				t.Errorf("r1's e-mail text = %q", m.Body.Text)
			}
			unsubURL = linkRE.FindString(m.Body.Text)
		}
	}
	if unsubURL == "" {
		t.Fatal("no unsubscribe link in r1's e-mail")
	}

	// One-click unsubscribe: the GET shows a button and changes nothing;
	// the POST (RFC 8058 form) unsubscribes. Forged links are 404.
	u, _ := url.Parse(unsubURL)
	st, page := h.Do(t, "", "GET", u.Path, nil, nil)
	if st != http.StatusOK || !strings.Contains(string(page), "<form method=\"post\">") {
		t.Errorf("unsubscribe page: %d %s", st, page)
	}
	if st, _ := h.Do(t, "", "GET", u.Path+"x", nil, nil); st != http.StatusNotFound {
		t.Errorf("forged unsubscribe link: %d, want 404", st)
	}
	resp, err := http.Post(h.URL+u.Path, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	pageBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(pageBody), "any more") {
		t.Errorf("one-click unsubscribe: %d %s", resp.StatusCode, pageBody)
	}

	// A later campaign skips r1.
	body2 := map[string]any{"name": "Recall", "template": tmpl, "audience": map[string]any{"csv": "email,firstName\nr1@" + domain + ",Ann\nr2@" + domain + ",Ben\n"}}
	h.Must(t, sched, "POST", "/v1/campaigns", body2, http.StatusCreated, &res)
	cid2 := res.Campaign.ID
	h.Must(t, sched, "POST", "/v1/campaigns/"+cid2+"/schedule", nil, http.StatusOK, nil)
	waitFor(t, 60*time.Second, "the second campaign to be handled", func() bool {
		c := campaign(t, a, apptest.PracticeA, cid2)
		return c.Counts.Queued() == 0 && c.Counts.Sending == 0
	})
	stop()
	wg.Wait()
	c2 := campaign(t, a, apptest.PracticeA, cid2)
	if got, want := [2]int{c2.Counts.Sent, c2.Counts.OptedOut}, [2]int{1, 1}; got != want {
		t.Errorf("second campaign sent/opted out = %v, want %v", got, want)
	}
	counts := map[string]int{}
	for _, m := range mailsTo(t, start, domain) {
		counts[m.Destination.To[0]]++
	}
	if counts["r1@"+domain] != 1 || counts["r2@"+domain] != 2 {
		t.Errorf("e-mails per address = %v, want r1 once, r2 twice", counts)
	}

	// State changes: a completed campaign cannot be cancelled; a draft can,
	// and is then final.
	if st, _ := h.Do(t, sched, "POST", "/v1/campaigns/"+cid+"/cancel", nil, nil); st != http.StatusConflict {
		t.Errorf("cancel a completed campaign: %d, want 409", st)
	}
	h.Must(t, sched, "POST", "/v1/campaigns", map[string]any{"name": "Draft", "template": tmpl, "audience": map[string]any{"csv": "email,firstName\nz@" + domain + ",Z\n"}}, http.StatusCreated, &res)
	h.Must(t, sched, "POST", "/v1/campaigns/"+res.Campaign.ID+"/cancel", nil, http.StatusOK, &v)
	if v.State != carepost.CampaignCancelled || v.Progress.Unsent != 1 {
		t.Errorf("cancelled draft: %s %+v", v.State, v.Progress)
	}
	if st, _ := h.Do(t, sched, "POST", "/v1/campaigns/"+res.Campaign.ID+"/schedule", nil, nil); st != http.StatusConflict {
		t.Errorf("schedule a cancelled campaign: %d, want 409", st)
	}
	var listed struct{ Items []campaigns.View }
	h.Must(t, sched, "GET", "/v1/campaigns", nil, http.StatusOK, &listed)
	if got, want := len(listed.Items), 3; got != want {
		t.Errorf("campaigns listed = %d, want %d", got, want)
	}
}
