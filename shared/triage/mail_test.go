package triage

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// healthWords may never appear in an e-mail: message text, category names,
// form fields, the patient's id.
var healthWords = []string{
	"chest", "pain", "breath", "bleeding", "suicid", "medication", "refill", "prescription", "metformin",
	"question", "test_result", "result", "measurement", "blood", "glucose", "appointment", "billing", "referral",
	"pat-", "patient-id", "diagnos", "symptom",
}

func TestMailsCarryNoHealthDetail(t *testing.T) {
	p := testPractice()
	link := "https://app.example/app/threads/0f3c6d0e9a8b4c2d8e1f2a3b4c5d6e7f"
	mails := map[string]carepost.Mail{
		"page":            pageMail([]string{"nora@clinic.test"}, link, 15*time.Minute, p.ID),
		"page-escalation": pageEscalationMail([]string{"carl@clinic.test"}, link, 2, 15*time.Minute, p.ID),
		"overdue":         overdueMail([]string{"nora@clinic.test"}, link, 0, p.ID),
		"digest":          digestMail([]string{"carl@clinic.test"}, "https://app.example/app/inbox", "Monday, March 2", "Monday, March 9", coverLabel(p, carepost.PoolOwner("nurses")), digestCounts{Covered: 3, Answered: 2, Open: 1}, p.ID),
	}
	for name, m := range mails {
		t.Run(name, func(t *testing.T) {
			all := strings.ToLower(m.Subject + "\n" + m.Text + "\n" + m.HTML)
			for _, w := range healthWords {
				if strings.Contains(all, w) {
					t.Errorf("%s e-mail contains %q:\n%s", name, w, all)
				}
			}
			if len(m.Headers) != 0 {
				t.Errorf("headers = %v, want none", m.Headers)
			}
			for k, v := range m.Tags {
				if strings.ContainsAny(k+v, " /:#") {
					t.Errorf("tag %s=%s is not an SES-safe id", k, v)
				}
			}
		})
	}
	if got := mails["page"].Text; !strings.Contains(got, "within 15 minutes: "+link) {
		t.Errorf("page text = %q, want the deadline and the link", got)
	}
	if got := mails["digest"].Text; !strings.Contains(got, "3 patient message threads") || !strings.Contains(got, "2 of them") || !strings.Contains(got, "1 are still") {
		t.Errorf("digest text = %q, want the counts", got)
	}
}

func TestRecipients(t *testing.T) {
	p := testPractice()
	now := ny(t, "2026-03-03 10:00")
	awayP := testPractice()
	awayP.Absences = map[string]carepost.Absence{"carl": {From: now.Add(-time.Hour), Until: now.Add(time.Hour), Cover: carepost.UserOwner("frank")}}
	tests := []struct {
		name     string
		practice carepost.Practice
		owners   []carepost.Owner
		want     []string
	}{
		{"pool members, disabled skipped", p, []carepost.Owner{carepost.PoolOwner("nurses")}, []string{"nora@clinic.test"}},
		{"on-call pool", p, onCallOwners(p), []string{"carl@clinic.test", "nora@clinic.test"}},
		{"duplicates once", p, []carepost.Owner{carepost.PoolOwner("oncall"), carepost.UserOwner("nora")}, []string{"carl@clinic.test", "nora@clinic.test"}},
		{"admins", p, adminOwners(p), []string{"alice@clinic.test"}},
		{"an absent person and their cover", awayP, []carepost.Owner{carepost.UserOwner("carl")}, []string{"carl@clinic.test", "frank@clinic.test"}},
		{"unknown pool", p, []carepost.Owner{carepost.PoolOwner("nope")}, nil},
		{"pool lead", p, []carepost.Owner{leadOf(p, carepost.PoolOwner("nurses"))}, []string{"nora@clinic.test"}},
		{"pool without a lead: its members", p, []carepost.Owner{leadOf(p, carepost.PoolOwner("frontdesk"))}, []string{"frank@clinic.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recipients(tt.practice, now, tt.owners...); !slices.Equal(got, tt.want) {
				t.Errorf("recipients = %v, want %v", got, tt.want)
			}
		})
	}
	// No on-call pool: the first step of the chain is paged.
	noPool := testPractice()
	noPool.OnCallPool = ""
	if got, want := onCallOwners(noPool), []carepost.Owner{carepost.UserOwner("carl")}; !slices.Equal(got, want) {
		t.Errorf("onCallOwners without a pool = %v, want %v", got, want)
	}
	// Building the acknowledgement list must not write into the chain.
	chain := slices.Clone(noPool.EscalationChain)
	_ = mayAcknowledge(noPool, "nobody", now)
	if !slices.Equal(noPool.EscalationChain, chain) {
		t.Errorf("mayAcknowledge changed the escalation chain: %v", noPool.EscalationChain)
	}
}

func TestMayAcknowledge(t *testing.T) {
	p := testPractice()
	now := ny(t, "2026-03-03 10:00")
	for sub, want := range map[string]bool{"nora": true, "carl": true, "alice": true, "frank": false, "ned": false} {
		if got := mayAcknowledge(p, sub, now); got != want {
			t.Errorf("mayAcknowledge(%s) = %v, want %v", sub, got, want)
		}
	}
}

func TestChainSteps(t *testing.T) {
	p := testPractice() // chain: carl, alice (the admin)
	if got, want := len(chainSteps(p)), 2; got != want {
		t.Errorf("steps with the admin in the chain = %d, want %d", got, want)
	}
	p.EscalationChain = []carepost.Owner{carepost.UserOwner("carl")}
	steps := chainSteps(p)
	if got, want := len(steps), 2; got != want {
		t.Fatalf("steps = %d, want %d", got, want)
	}
	if got, want := steps[1], []carepost.Owner{carepost.UserOwner("alice")}; !slices.Equal(got, want) {
		t.Errorf("last step = %v, want the admins %v", got, want)
	}
}

func TestSweepMetric(t *testing.T) {
	var buf strings.Builder
	s := &Service{Metrics: &buf, MetricTable: "carepost-data", Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	s.emitMetric(SweepReport{OverdueUrgent: 2})
	var line map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &line); err != nil {
		t.Fatalf("metric line %q: %v", buf.String(), err)
	}
	if got, want := line["OverdueUrgentMessages"], float64(2); got != want {
		t.Errorf("OverdueUrgentMessages = %v, want %v", got, want)
	}
	if got, want := line["Table"], "carepost-data"; got != want {
		t.Errorf("Table = %v, want %v", got, want)
	}
	aws, _ := line["_aws"].(map[string]any)
	if got, want := aws["Timestamp"], float64(1_800_000_000_000); got != want {
		t.Errorf("Timestamp = %v, want %v", got, want)
	}
	if !strings.Contains(buf.String(), `"Namespace":"CarePost"`) {
		t.Errorf("no CarePost namespace in %s", buf.String())
	}
}
