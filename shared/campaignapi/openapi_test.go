package campaignapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/testenv"
)

// TestResponsesMatchOpenAPI drives every campaign and appointment route,
// successes and errors, and checks each JSON answer against the served
// document (50-campaigns.json, strict schemas).
func TestResponsesMatchOpenAPI(t *testing.T) {
	h := apptest.New(t)
	spec, err := apptest.LoadSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	if bad := spec.RefsResolve(); len(bad) > 0 {
		t.Fatalf("unresolved $refs: %v", bad)
	}
	rec := &apptest.Recorder{}
	do := func(token, method, path string, body any, want int) []byte {
		t.Helper()
		r, err := h.DoRecorded(rec, token, method, path, body, map[string]string{"Idempotency-Key": testenv.RandomHex(8)})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
		}
		return r.Body
	}
	sched, front, nurse := h.Token(carepost.RoleScheduler), h.Token(carepost.RoleFrontDesk), h.Token(carepost.RoleNurse)
	h.SeedPatientProfile(t, apptest.PracticeA, apptest.PatientA1, carepost.Contact{FirstName: "Ada", LastName: "L", BirthDate: "1980-01-01", Email: "ada@openapi.test"})
	tmpl := map[string]string{"subject": "Hi {{firstName}}", "text": "From {{practiceName}}"}
	csv := "email,firstName\na@openapi.test,A\nb@openapi.test,B\nbad,C\n"

	do(sched, "POST", "/v1/campaigns", map[string]any{"name": "n", "template": tmpl, "audience": map[string]any{"csv": csv}}, 422)
	do(nurse, "POST", "/v1/campaigns", map[string]any{"name": "n", "template": tmpl, "audience": map[string]any{"csv": csv}}, 403)
	do(sched, "POST", "/v1/campaigns", map[string]any{"name": "n", "template": tmpl, "extra": 1}, 400)
	cid := apptest.Get(t, do(sched, "POST", "/v1/campaigns", map[string]any{"name": "n", "template": tmpl, "audience": map[string]any{"csv": csv}, "acceptValid": true}, 201), "campaign.id")
	do(sched, "POST", "/v1/campaigns/"+cid+"/recipients", map[string]any{"csv": "email,firstName\nc@openapi.test,C\na@openapi.test,A\n", "lineOffset": 10}, 200)
	do(sched, "POST", "/v1/campaigns", map[string]any{"name": "f", "template": tmpl, "audience": map[string]any{"filter": map[string]any{"status": "any", "minAge": 18}}}, 201)
	do(sched, "GET", "/v1/campaigns", nil, 200)
	do(sched, "GET", "/v1/campaigns/"+cid+"?exact=true", nil, 200)
	do(sched, "GET", "/v1/campaigns/"+strings.Repeat("0", 32), nil, 404)
	do(sched, "GET", "/v1/campaigns/"+cid+"/preview?limit=2", nil, 200)
	start := time.Now().Add(time.Hour).UTC()
	do(sched, "POST", "/v1/campaigns/"+cid+"/schedule", map[string]any{"windowStart": start, "timeZone": "Europe/Berlin", "quietHours": map[string]string{"start": "21:00", "end": "08:00"}}, 200)
	do(sched, "POST", "/v1/campaigns/"+cid+"/schedule", map[string]any{"quietHours": map[string]string{"start": "9pm", "end": "08:00"}}, 422)
	do(sched, "POST", "/v1/campaigns/"+cid+"/pause", nil, 200)
	do(sched, "POST", "/v1/campaigns/"+cid+"/pause", nil, 409)
	do(sched, "POST", "/v1/campaigns/"+cid+"/resume", nil, 200)
	do(sched, "POST", "/v1/campaigns/"+cid+"/cancel", nil, 200)

	when := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339)
	aid := apptest.Get(t, do(front, "POST", "/v1/appointments", map[string]any{"patientId": apptest.PatientA1, "time": when, "clinician": "Dr. A", "location": "Room 1"}, 201), "id")
	do(front, "POST", "/v1/appointments", map[string]any{"patientId": apptest.PatientA1, "time": when}, 409)
	do(front, "POST", "/v1/appointments", map[string]any{"patientId": "nobody", "time": when}, 422)
	do(sched, "POST", "/v1/appointments/import", map[string]any{"csv": "patientId,time\n" + apptest.PatientA1 + ",2099-01-01 10:00\nnobody," + when + "\n", "acceptValid": true}, 200)
	do(sched, "POST", "/v1/appointments/import", map[string]any{"csv": "patientId,time\nnobody," + when + "\n"}, 422)
	do(front, "GET", "/v1/appointments", nil, 200)
	do(front, "GET", "/v1/appointments?from=bad", nil, 400)
	do(nurse, "GET", "/v1/appointments", nil, 403)
	do(front, "GET", "/v1/appointments/"+aid, nil, 200)
	do(front, "GET", "/v1/appointments/nope", nil, 404)
	do(front, "POST", "/v1/appointments/"+aid+"/cancel", nil, 200)
	do(front, "POST", "/v1/appointments/"+aid+"/cancel", nil, 409)

	seenOK := map[string]bool{}
	for _, s := range rec.Seen {
		if err := spec.Check(s.Method, s.Path, s.Status, s.Body); err != nil {
			t.Error(err)
		}
		if tmpl, ok := spec.Template(s.Path); ok && s.Status < 300 {
			seenOK[s.Method+" "+tmpl] = true
		}
	}
	for _, op := range spec.Operations() {
		if (strings.Contains(op, "/v1/campaigns") || strings.Contains(op, "/v1/appointments")) && !seenOK[op] {
			t.Errorf("%s was not exercised with a success", op)
		}
	}
	// The public pages are HTML and documented.
	for _, op := range []string{"GET /v1/public/unsubscribe/{token}", "POST /v1/public/unsubscribe/{token}", "GET /v1/public/appointments/{token}", "POST /v1/public/appointments/{token}"} {
		found := false
		for _, o := range spec.Operations() {
			found = found || o == op
		}
		if !found {
			t.Errorf("%s is not documented", op)
		}
	}
	if st, _ := h.Do(t, "", "GET", "/v1/public/unsubscribe/not-a-token", nil, nil); st != http.StatusNotFound {
		t.Errorf("bad unsubscribe token: %d, want 404", st)
	}
}
