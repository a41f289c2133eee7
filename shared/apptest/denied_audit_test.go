package apptest_test

import (
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
)

// TestDeniedAccessIsAudited: every refusal of the messaging core writes an
// audit event with outcome denied (who, role, action, object; never
// content), as the admin package's refusals do: roles without inbox
// access calling the inbox or the thread actions, a role that cannot open
// threads, an admin claiming, staff calling the patients' consent
// endpoints, a patient asking for another patient's consent.
func TestDeniedAccessIsAudited(t *testing.T) {
	h := apptest.New(t)
	h.Accept(t, "patient")
	subject := "private " + secret("subject")
	th := h.Open(t, "patient", map[string]any{"category": "question", "subject": subject, "body": "private " + secret("body")})
	for _, tc := range []struct {
		user, method, path string
		body               any
		status             int
		action, object     string
		patientID          string
	}{
		{"patient", "GET", "/v1/inbox?pool=nurses", nil, 403, "inbox.list", "endpoint/inbox.list", ""},
		{"proxy", "GET", "/v1/inbox?mine=true", nil, 403, "inbox.list", "endpoint/inbox.list", ""},
		{"scheduler", "GET", "/v1/inbox?pool=nurses", nil, 403, "inbox.list", "endpoint/inbox.list", ""},
		{"patient", "POST", "/v1/threads/" + th.ThreadID + "/claim", nil, 403, "thread.claim", "thread/" + th.ThreadID, ""},
		{"proxy", "POST", "/v1/threads/" + th.ThreadID + "/close", nil, 403, "thread.close", "thread/" + th.ThreadID, ""},
		{"proxy-ro", "POST", "/v1/threads/" + th.ThreadID + "/reopen", nil, 403, "thread.reopen", "thread/" + th.ThreadID, ""},
		{"scheduler", "POST", "/v1/threads/" + th.ThreadID + "/assign", map[string]any{"to": "pool:nurses"}, 403, "thread.assign", "thread/" + th.ThreadID, ""},
		{"patient", "POST", "/v1/threads/" + th.ThreadID + "/forward", map[string]any{"to": "pool:nurses"}, 403, "thread.forward", "thread/" + th.ThreadID, ""},
		{"admin", "POST", "/v1/threads/" + th.ThreadID + "/claim", nil, 403, "thread.claim", "thread/" + th.ThreadID, apptest.PatientA1},
		{"scheduler", "POST", "/v1/threads", map[string]any{"patientId": apptest.PatientA1, "category": "question", "subject": "s", "body": "b"}, 403, "thread.create", "endpoint/thread.create", ""},
		{"admin", "POST", "/v1/threads", map[string]any{"patientId": apptest.PatientA1, "category": "question", "subject": "s", "body": "b"}, 403, "thread.create", "endpoint/thread.create", ""},
		{"nurse", "GET", "/v1/consent?patientId=" + apptest.PatientA1, nil, 403, "consent.read", "patient/" + apptest.PatientA1 + "/consent", ""},
		{"frontdesk", "POST", "/v1/consent", map[string]any{"version": 1, "patientId": apptest.PatientA1}, 403, "consent.accept", "patient/" + apptest.PatientA1 + "/consent", ""},
		{"patient", "GET", "/v1/consent?patientId=" + apptest.PatientA2, nil, 404, "consent.read", "patient/" + apptest.PatientA2 + "/consent", ""},
		{"proxy-ro", "POST", "/v1/consent", map[string]any{"version": 1, "patientId": apptest.PatientA2}, 404, "consent.accept", "patient/" + apptest.PatientA2 + "/consent", ""},
	} {
		name := tc.user + " " + tc.method + " " + tc.path
		actor := h.Subject(t, tc.user)
		before := len(findAudit(auditEvents(t, h, apptest.PracticeA), actor, tc.action, "denied"))
		st, b := h.Do(t, h.TokenFor(t, tc.user), tc.method, tc.path, tc.body, nil)
		if st != tc.status {
			t.Errorf("%s: %d %s, want %d", name, st, b, tc.status)
			continue
		}
		apptest.ErrorOf(t, b)
		denied := findAudit(auditEvents(t, h, apptest.PracticeA), actor, tc.action, "denied")
		if got := len(denied) - before; got != 1 {
			t.Errorf("%s: %d new denied %s audit events, want 1", name, got, tc.action)
			continue
		}
		e := denied[len(denied)-1]
		u := h.User(t, tc.user)
		if e.ActorRole != string(u.Role) || e.Object != tc.object || e.PatientID != tc.patientID {
			t.Errorf("%s: audit event role %s object %s patient %q, want %s %s %q", name, e.ActorRole, e.Object, e.PatientID, u.Role, tc.object, tc.patientID)
		}
	}
	for _, e := range auditEvents(t, h, apptest.PracticeA) {
		if strings.Contains(e.Object+e.Action, "private") {
			t.Errorf("an audit event holds content: %+v", e)
		}
	}
}
