package apptest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/httpapi"
)

func TestOpenAPIDocument(t *testing.T) {
	spec, err := apptest.LoadSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	if bad := spec.RefsResolve(); len(bad) > 0 {
		t.Errorf("$refs that point nowhere: %v", bad)
	}
	ops := map[string]bool{}
	for _, op := range spec.Operations() {
		ops[op] = true
	}
	for _, route := range append(coreRoutes, "GET /v1/openapi.json", "GET /health") {
		if !ops[route] {
			t.Errorf("%s is not documented", route)
		}
	}
}

// TestResponsesMatchOpenAPI drives every core endpoint, successes and
// errors, and checks each real response against the served document.
func TestResponsesMatchOpenAPI(t *testing.T) {
	h := apptest.New(t)
	spec, err := apptest.LoadSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &apptest.Recorder{}
	do := func(token, method, path string, body any, want int) []byte {
		t.Helper()
		r, err := h.DoRecorded(rec, token, method, path, body, map[string]string{"Idempotency-Key": secret("k")})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
		}
		return r.Body
	}
	pat, nurse, clin, admin := h.Token(carepost.RolePatient), h.Token(carepost.RoleNurse), h.Token(carepost.RoleClinician), h.Token(carepost.RoleAdmin)

	// Served as is.
	st, served := h.Do(t, "", "GET", "/v1/openapi.json", nil, nil)
	if st != http.StatusOK || !bytes.Equal(served, httpapi.OpenAPI()) {
		t.Errorf("GET /v1/openapi.json: %d, same document %v", st, bytes.Equal(served, httpapi.OpenAPI()))
	}

	do(pat, "POST", "/v1/threads", map[string]any{"category": "question", "subject": "s", "body": "b"}, 403) // consent_required with details
	do(pat, "GET", "/v1/consent", nil, 200)
	do(pat, "POST", "/v1/consent", map[string]any{"version": 1}, 200)
	urgent := apptest.Get(t, do(pat, "POST", "/v1/threads", map[string]any{"category": "question", "subject": "help", "body": "I have crushing chest pain and cannot breathe"}, 201), "thread.id")
	form := apptest.Get(t, do(pat, "POST", "/v1/threads", map[string]any{"form": reading(38.4)}, 201), "thread.id")
	tid := apptest.Get(t, do(pat, "POST", "/v1/threads", map[string]any{"category": "question", "subject": "knee", "body": "my knee hurts"}, 201), "thread.id")
	do(nurse, "POST", "/v1/threads/"+tid+"/messages", map[string]any{"body": "rest it"}, 201)
	do(pat, "POST", "/v1/threads/"+tid+"/read", nil, 200)
	mid := apptest.Get(t, do(pat, "POST", "/v1/threads/"+tid+"/messages", map[string]any{"body": "thanks, it is the left knee"}, 201), "message.id")
	do(pat, "POST", "/v1/threads/"+tid+"/messages/"+mid+"/retract", map[string]any{"body": "the right knee, sorry"}, 201)
	do(pat, "GET", "/v1/threads/"+tid, nil, 200)
	do(nurse, "GET", "/v1/threads/"+form, nil, 200)
	do(nurse, "GET", "/v1/threads/"+urgent, nil, 200)
	cursor := apptest.Get(t, do(pat, "GET", "/v1/threads?limit=1", nil, 200), "cursor")
	do(pat, "GET", "/v1/threads?limit=1&cursor="+cursor, nil, 200)
	do(nurse, "GET", "/v1/threads?patientId="+apptest.PatientA1, nil, 200)
	do(nurse, "GET", "/v1/inbox?pool=nurses", nil, 200)
	do(nurse, "GET", "/v1/inbox?mine=true&priority=urgent", nil, 200)
	do(nurse, "POST", "/v1/threads/"+tid+"/claim", nil, 200)
	do(nurse, "POST", "/v1/threads/"+tid+"/forward", map[string]any{"to": "user:" + h.Subject(t, "clinician")}, 200)
	do(clin, "POST", "/v1/threads/"+tid+"/assign", map[string]any{"to": "pool:nurses"}, 200)
	do(clin, "POST", "/v1/threads/"+tid+"/close", nil, 200)
	do(clin, "POST", "/v1/threads/"+tid+"/reopen", nil, 200)
	do(pat, "GET", "/v1/patients/"+apptest.PatientA1+"/audit", nil, 200)
	do(admin, "GET", "/v1/patients/"+apptest.PatientA1+"/audit?limit=2", nil, 200)
	do(nurse, "POST", "/v1/threads", map[string]any{"patientId": apptest.PatientA1, "category": "follow_up", "subject": "follow-up", "body": "how is the knee?"}, 201)
	// Errors.
	do(pat, "GET", "/v1/threads/"+strings.Repeat("0", 32), nil, 404)
	do(pat, "GET", "/v1/threads?cursor=bogus", nil, 400)
	do(pat, "POST", "/v1/threads", map[string]any{"form": reading(60)}, 422)
	do(pat, "POST", "/v1/threads", map[string]any{"colour": "red"}, 400)
	do(nurse, "POST", "/v1/threads/"+tid+"/reopen", nil, 409)
	do(pat, "POST", "/v1/threads/"+tid+"/claim", nil, 403)
	do(pat, "POST", "/v1/consent", map[string]any{"version": 99}, 409)
	do("", "GET", "/v1/inbox", nil, 401)
	do(nurse, "GET", "/health", nil, 200)

	seenOK := map[string]bool{}
	for _, s := range rec.Seen {
		if err := spec.Check(s.Method, s.Path, s.Status, s.Body); err != nil {
			t.Error(err)
		}
		if tmpl, ok := spec.Template(s.Path); ok && s.Status < 300 {
			seenOK[s.Method+" "+tmpl] = true
		}
	}
	for _, route := range coreRoutes {
		if !seenOK[route] {
			t.Errorf("%s was not exercised with a success", route)
		}
	}
	t.Logf("%d responses checked against the document", len(rec.Seen))
}

// TestOpenAPICheckCatchesDrift proves the check fails when a response
// drifts from the document: each mutation of a real, valid response must be
// refused.
func TestOpenAPICheckCatchesDrift(t *testing.T) {
	spec, err := apptest.LoadSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	valid := `{"thread":{"id":"t1","patientId":"p1","category":"question","subject":"s","status":"open","owner":"pool:nurses","priority":"routine","urgent":false,"confidential":false,"created":"2026-01-02T03:04:05.123456789Z","updated":"2026-01-02T03:04:05Z","overdue":false,"messageCount":1},` +
		`"messages":[{"id":"m1","kind":"patient","senderId":"u1","senderRole":"patient","sent":"2026-01-02T03:04:05Z","body":"b","consentVersion":1}],"reads":[]}`
	if err := spec.Check("GET", "/v1/threads/t1", 200, []byte(valid)); err != nil {
		t.Fatalf("the valid body is refused: %v", err)
	}
	drift := []struct {
		name string
		edit func(m map[string]any)
	}{
		{"a field added to the thread", func(m map[string]any) { threadOf(m)["colour"] = "red" }},
		{"a required field removed", func(m map[string]any) { delete(threadOf(m), "subject") }},
		{"a number where a string belongs", func(m map[string]any) { threadOf(m)["id"] = 7 }},
		{"an unknown priority", func(m map[string]any) { threadOf(m)["priority"] = "critical" }},
		{"a time that is not a date-time", func(m map[string]any) { threadOf(m)["created"] = "yesterday" }},
		{"a message without its body", func(m map[string]any) { delete(m["messages"].([]any)[0].(map[string]any), "body") }},
		{"an unknown message kind", func(m map[string]any) { m["messages"].([]any)[0].(map[string]any)["kind"] = "gossip" }},
		{"reads missing", func(m map[string]any) { delete(m, "reads") }},
	}
	for _, d := range drift {
		var m map[string]any
		if err := json.Unmarshal([]byte(valid), &m); err != nil {
			t.Fatal(err)
		}
		d.edit(m)
		b, _ := json.Marshal(m)
		if err := spec.Check("GET", "/v1/threads/t1", 200, b); err == nil {
			t.Errorf("%s: the drifted body passes the check", d.name)
		}
	}
	for _, c := range []struct {
		name, method, path string
		status             int
		body               string
	}{
		{"error with an extra top-level field", "GET", "/v1/threads/t1", 404, `{"error":{"code":"not_found","message":"thread not found"},"trace":"x"}`},
		{"error with an unknown code", "GET", "/v1/threads/t1", 404, `{"error":{"code":"nope","message":"m"}}`},
		{"error without a message", "GET", "/v1/threads/t1", 404, `{"error":{"code":"not_found"}}`},
		{"undocumented path", "GET", "/v1/secret", 200, `{}`},
		{"undocumented method", "DELETE", "/v1/threads/t1", 200, `{}`},
		{"post result without the message", "POST", "/v1/threads", 201, `{"thread":{"id":"t","status":"open","category":"question","owner":"pool:nurses","priority":"routine","urgent":false,"version":0}}`},
	} {
		if err := spec.Check(c.method, c.path, c.status, []byte(c.body)); err == nil {
			t.Errorf("%s: passes the check", c.name)
		}
	}
}

func threadOf(m map[string]any) map[string]any { return m["thread"].(map[string]any) }

// TestEveryWiredRouteDocumented: every route any feature wires into the app
// is in the OpenAPI document, so a new endpoint cannot ship undocumented.
func TestEveryWiredRouteDocumented(t *testing.T) {
	h := apptest.New(t)
	spec, err := apptest.LoadSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for _, op := range spec.Operations() {
		ops[op] = true
	}
	if len(h.App.Routes) == 0 {
		t.Fatal("the app wired no feature routes")
	}
	for _, r := range h.App.Routes {
		if !ops[r.Pattern] {
			t.Errorf("%s is wired but not documented", r.Pattern)
		}
	}
}
