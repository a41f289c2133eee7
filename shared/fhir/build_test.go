package fhir

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

func sampleInput() Input {
	t0 := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	th := carepost.ThreadRecord{Thread: carepost.Thread{PracticeID: "clinic-a", ID: "0123456789abcdef0123456789abcdef", PatientID: "pat-a1",
		Category: carepost.CategoryPrescription, Owner: carepost.UserOwner("cognito|nurse 1"), Urgent: true, OpenedByRole: carepost.RoleProxy, Created: t0}}
	form := &carepost.FormPayload{Type: "prescription_renewal", Fields: map[string]any{"medication": "lisinopril", "strength": "10 mg"}}
	msgs := []carepost.Message{
		{ID: "m1", Kind: carepost.KindPatient, SenderID: "proxy-sub", SenderRole: carepost.RoleProxy, Sent: t0, Body: "Refill for my father please.", Form: form},
		{ID: "m2", Kind: carepost.KindSystem, SenderID: "system", SenderName: "Demo Clinic", Sent: t0.Add(time.Minute), Body: "Received.", InResponseTo: "m1"},
		{ID: "m3", Kind: carepost.KindStaff, SenderID: "cognito|nurse 1", SenderRole: carepost.RoleNurse, SenderName: "Nina Nurse", Sent: t0.Add(time.Hour), Body: "Sent to the pharmacy.", InResponseTo: "m2", Attachments: []string{"a1"}},
		{ID: "m4", Kind: carepost.KindPatient, SenderID: "pat-sub", SenderRole: carepost.RolePatient, Sent: t0.Add(2 * time.Hour), Body: "Thnaks", InResponseTo: "m3"},
		{ID: "m5", Kind: carepost.KindRetraction, SenderID: "pat-sub", SenderRole: carepost.RolePatient, Sent: t0.Add(2*time.Hour + time.Minute), Body: "Thanks!", InResponseTo: "m4", Retracts: "m4"},
	}
	reads := []carepost.ReadReceipt{
		{Subject: "cognito|nurse 1", Role: carepost.RoleNurse, MessageID: "m1", At: t0.Add(30 * time.Minute)},
		{Subject: "pat-sub", Role: carepost.RolePatient, MessageID: "m3", At: t0.Add(90 * time.Minute)},
	}
	return Input{
		BaseURL:   "https://api.clinic.example",
		Practice:  carepost.Practice{ID: "clinic-a", Name: "Demo Clinic", Staff: map[string]carepost.StaffRef{"cognito|nurse 1": {Name: "Nina Nurse", Role: carepost.RoleNurse}}},
		PatientID: "pat-a1",
		Patient:   &carepost.Patient{ID: "pat-a1", Status: "active", Contact: carepost.Contact{FirstName: "Alice", LastName: "Ames", BirthDate: "1950-05-06", Email: "alice@example.test", Phone: "+1 555 0101"}},
		Threads:   []messaging.Transcript{{Thread: th, Subject: "Lisinopril refill", Messages: msgs, Reads: reads}},
		Attachments: map[string]carepost.Attachment{"a1": {ID: "a1", ContentType: "application/pdf", Size: 2048, State: carepost.AttachmentLinked,
			Completed: t0.Add(50 * time.Minute)}},
		Now: t0.Add(3 * time.Hour),
	}
}

// TestBuildShape checks the mapping: threading, senders and recipients,
// received times, payloads, and that every reference resolves inside the
// Bundle.
func TestBuildShape(t *testing.T) {
	b := Build(sampleInput())
	raw, _ := json.Marshal(b)
	var doc struct {
		Type  string `json:"type"`
		Entry []struct {
			FullURL  string         `json:"fullUrl"`
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Type != "collection" {
		t.Errorf("type %q", doc.Type)
	}
	byURL := map[string]map[string]any{}
	comms := map[string]map[string]any{}
	for _, e := range doc.Entry {
		byURL[e.FullURL] = e.Resource
		if e.Resource["resourceType"] == "Communication" {
			comms[e.Resource["id"].(string)] = e.Resource
		}
	}
	if got, want := len(comms), 5; got != want {
		t.Fatalf("%d Communications, want %d", got, want)
	}
	ref := func(v any) string {
		if m, ok := v.(map[string]any); ok {
			s, _ := m["reference"].(string)
			return s
		}
		return ""
	}
	first := func(v any) any {
		if l, ok := v.([]any); ok && len(l) > 0 {
			return l[0]
		}
		return nil
	}
	nurseID := ID("cognito|nurse 1")
	for _, tc := range []struct {
		id, sender, recipient, partOf, inResponseTo, received string
	}{
		{"m1", "RelatedPerson/" + ID("proxy-sub"), "Practitioner/" + nurseID, "", "", "2026-03-02T14:30:00Z"},
		{"m2", "Organization/clinic-a", "Patient/pat-a1", "Communication/m1", "Communication/m1", "2026-03-02T15:30:00Z"},
		{"m3", "Practitioner/" + nurseID, "Patient/pat-a1", "Communication/m1", "Communication/m2", "2026-03-02T15:30:00Z"},
		{"m4", "Patient/pat-a1", "Practitioner/" + nurseID, "Communication/m1", "Communication/m3", ""},
		{"m5", "Patient/pat-a1", "Practitioner/" + nurseID, "Communication/m1", "Communication/m4", ""},
	} {
		c := comms[tc.id]
		if got := ref(c["sender"]); got != tc.sender {
			t.Errorf("%s sender %q, want %q", tc.id, got, tc.sender)
		}
		if got := ref(first(c["recipient"])); got != tc.recipient {
			t.Errorf("%s recipient %q, want %q", tc.id, got, tc.recipient)
		}
		if got := ref(first(c["partOf"])); got != tc.partOf {
			t.Errorf("%s partOf %q, want %q", tc.id, got, tc.partOf)
		}
		if got := ref(first(c["inResponseTo"])); got != tc.inResponseTo {
			t.Errorf("%s inResponseTo %q, want %q", tc.id, got, tc.inResponseTo)
		}
		if got, _ := c["received"].(string); got != tc.received {
			t.Errorf("%s received %q, want %q", tc.id, got, tc.received)
		}
		if got := ref(c["subject"]); got != "Patient/pat-a1" {
			t.Errorf("%s subject %q", tc.id, got)
		}
		if c["status"] != "completed" || c["priority"] != "urgent" {
			t.Errorf("%s status %v priority %v", tc.id, c["status"], c["priority"])
		}
		// Every reference resolves to an entry of the Bundle.
		for _, field := range []string{"sender", "subject"} {
			if r := ref(c[field]); byURL["https://api.clinic.example/fhir/"+r] == nil {
				t.Errorf("%s %s %q does not resolve", tc.id, field, r)
			}
		}
		for _, field := range []string{"recipient", "partOf", "inResponseTo"} {
			if r := ref(first(c[field])); r != "" && byURL["https://api.clinic.example/fhir/"+r] == nil {
				t.Errorf("%s %s %q does not resolve", tc.id, field, r)
			}
		}
	}
	m3, _ := json.Marshal(comms["m3"]["payload"])
	if !strings.Contains(string(m3), `"url":"https://api.clinic.example/v1/threads/0123456789abcdef0123456789abcdef/attachments/a1"`) || !strings.Contains(string(m3), `"size":2048`) {
		t.Errorf("attachment payload %s", m3)
	}
	m1, _ := json.Marshal(comms["m1"]["payload"])
	if !strings.Contains(string(m1), `"contentType":"application/json"`) {
		t.Errorf("form payload %s", m1)
	}
	if notes, _ := json.Marshal(comms["m4"]["note"]); !strings.Contains(string(notes), "Communication/m5") {
		t.Errorf("retracted message notes %s", notes)
	}
	if got := ID("cognito|nurse 1"); !idPattern.MatchString(got) || got == "cognito|nurse 1" {
		t.Errorf("ID of an invalid id: %q", got)
	}
}

// TestBuildIsValidR4 pipes the export through two FHIR R4 validators, and
// shows they catch broken bundles.
func TestBuildIsValidR4(t *testing.T) {
	good, err := json.Marshal(Build(sampleInput()))
	if err != nil {
		t.Fatal(err)
	}
	noProfile := sampleInput()
	noProfile.Patient = nil
	bare, _ := json.Marshal(Build(noProfile))

	cases := []struct {
		name   string
		break_ func(s string) string
	}{
		{"a bad status code type", func(s string) string { return strings.Replace(s, `"status":"completed"`, `"status":7`, 1) }},
		{"a status outside the required value set", func(s string) string { return strings.Replace(s, `"status":"completed"`, `"status":"done"`, 1) }},
		{"a priority outside the required value set", func(s string) string { return strings.Replace(s, `"priority":"urgent"`, `"priority":"high"`, 1) }},
		{"a bundle type outside the required value set", func(s string) string { return strings.Replace(s, `"type":"collection"`, `"type":"export"`, 1) }},
		{"a date that is not a dateTime", func(s string) string {
			return strings.Replace(s, `"sent":"2026-03-02T14:00:00Z"`, `"sent":"2 March"`, 1)
		}},
		{"an element FHIR does not have", func(s string) string {
			return strings.Replace(s, `"resourceType":"Communication",`, `"resourceType":"Communication","threadSubject":"x",`, 1)
		}},
		{"an attachment size as text", func(s string) string { return strings.Replace(s, `"size":2048`, `"size":"2 KB"`, 1) }},
		{"an invalid resource id", func(s string) string { return strings.Replace(s, `"id":"pat-a1"`, `"id":"pat a1!"`, 1) }},
		{"an unknown resource type", func(s string) string {
			return strings.Replace(s, `"resourceType":"Organization"`, `"resourceType":"Practice"`, 1)
		}},
		{"a payload without content", func(s string) string { return strings.Replace(s, `{"contentString":"Received."}`, `{}`, 1) }},
	}
	docs := [][]byte{good, bare}
	for _, tc := range cases {
		broken := tc.break_(string(good))
		if broken == string(good) {
			t.Fatalf("%s: the test did not change the bundle", tc.name)
		}
		docs = append(docs, []byte(broken))
	}
	results := Validate(t, docs...)
	if !results[0].Valid {
		t.Fatalf("the export is not valid FHIR R4: %+v", results[0].Issues)
	}
	if !results[1].Valid {
		t.Fatalf("the export without a patient profile is not valid FHIR R4: %+v", results[1].Issues)
	}
	for i, tc := range cases {
		if results[i+2].Valid {
			t.Errorf("%s: the validators accepted a broken bundle", tc.name)
		}
	}
}
