package apptest_test

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
)

// TestRecordsResponsesMatchOpenAPI drives the issue-7 endpoints (quick
// replies, attachments, bulk, e-visit time, legal holds, reports) and checks
// every JSON answer against the served document (60-records.json). The FHIR
// and CSV answers are not JSON; their tests check them (package fhir, evisit).
func TestRecordsResponsesMatchOpenAPI(t *testing.T) {
	h := apptest.New(t)
	spec, err := apptest.LoadSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	h.SeedPatientProfile(t, apptest.PracticeA, apptest.PatientA1, carepost.Contact{FirstName: "Ann", LastName: "A", BirthDate: "1990-01-01", Email: "a@example.test"})
	rec := &apptest.Recorder{}
	n := 0
	do := func(token, method, path string, body any, want int) []byte {
		t.Helper()
		n++
		r, err := h.DoRecorded(rec, token, method, path, body, map[string]string{"Idempotency-Key": "rec-" + strconv.Itoa(n)})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
		}
		return r.Body
	}
	pat, nurse, clin, admin := h.Token(carepost.RolePatient), h.Token(carepost.RoleNurse), h.Token(carepost.RoleClinician), h.Token(carepost.RoleAdmin)
	h.Accept(t, "patient")
	tid := h.Open(t, "patient", map[string]any{"category": "question", "subject": "Knee", "body": "My knee hurts."}).ThreadID

	// Quick replies.
	qid := apptest.Get(t, do(admin, "POST", "/v1/quick-replies", map[string]any{"scope": "practice", "title": "Hi", "text": "Hi {{patientFirstName}}"}, 201), "id")
	pid := apptest.Get(t, do(nurse, "POST", "/v1/quick-replies", map[string]any{"title": "Mine", "text": "{{clinicianSignature}}"}, 201), "id")
	do(nurse, "POST", "/v1/quick-replies", map[string]any{"title": "Bad", "text": "{{ssn}}"}, 422)
	do(nurse, "GET", "/v1/quick-replies", nil, 200)
	do(nurse, "PUT", "/v1/quick-replies/personal/"+pid, map[string]any{"title": "Mine", "text": "{{clinicianName}}"}, 200)
	do(nurse, "GET", "/v1/threads/"+tid+"/quick-replies/"+qid, nil, 200)
	do(nurse, "DELETE", "/v1/quick-replies/personal/"+pid, nil, 204)

	// Attachments.
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 64)...)
	tk := do(pat, "POST", "/v1/threads/"+tid+"/attachments", map[string]any{"contentType": "image/png", "size": len(png)}, 201)
	aid := apptest.Get(t, tk, "attachment.id")
	req, _ := http.NewRequest("PUT", apptest.Get(t, tk, "upload.url"), bytes.NewReader(png))
	for _, hdr := range []string{"Content-Type", "X-Amz-Server-Side-Encryption", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "X-Amz-Server-Side-Encryption-Context"} {
		req.Header.Set(hdr, apptest.Get(t, tk, "upload.headers."+hdr))
	}
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("upload: %v %v", resp, err)
	}
	do(pat, "POST", "/v1/threads/"+tid+"/attachments/"+aid+"/complete", nil, 200)
	do(pat, "GET", "/v1/threads/"+tid+"/attachments", nil, 200)
	do(pat, "POST", "/v1/threads/"+tid+"/messages", map[string]any{"body": "Photo attached."}, 201)
	do(nurse, "GET", "/v1/threads/"+tid+"/attachments/"+aid, nil, 200)
	do(nurse, "POST", "/v1/threads/"+tid+"/attachments", map[string]any{"contentType": "text/html", "size": 10}, 415)

	// Bulk, time, holds, reports.
	do(clin, "POST", "/v1/messages/bulk", map[string]any{"category": "education", "subject": "Flu", "body": "Get a shot.", "patientIds": []string{apptest.PatientA1}}, 200)
	do(clin, "GET", "/v1/threads/"+tid, nil, 200)
	do(clin, "POST", "/v1/threads/"+tid+"/time", map[string]any{"minutes": 6}, 201)
	do(admin, "GET", "/v1/threads/"+tid+"/time", nil, 200)
	do(nurse, "POST", "/v1/threads/"+tid+"/close", nil, 200)
	do(admin, "PUT", "/v1/threads/"+tid+"/legal-hold", map[string]any{"on": true}, 200)
	do(admin, "GET", "/v1/threads/"+tid+"/legal-hold", nil, 200)
	do(nurse, "PUT", "/v1/threads/"+tid+"/legal-hold", map[string]any{"on": true}, 403)
	for _, path := range []string{"/v1/reports/response-times", "/v1/reports/volume", "/v1/reports/backlog", "/v1/reports/secure-messaging", "/v1/reports/reminders"} {
		do(admin, "GET", path, nil, 200)
	}
	do(admin, "POST", "/v1/reports/patients-seen", map[string]any{"day": "2026-01-05", "patientIds": []string{apptest.PatientA1}}, 200)
	do(admin, "GET", "/v1/reports/volume?from=2026-02-02&to=2026-02-01", nil, 422)

	for _, s := range rec.Seen {
		if err := spec.Check(s.Method, s.Path, s.Status, s.Body); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d responses checked against the document", len(rec.Seen))
}
