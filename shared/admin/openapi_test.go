package admin_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/admin"
	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/testenv"
)

// TestRoutesDocumented: every route of the package is in the OpenAPI
// document, whose references all resolve.
func TestRoutesDocumented(t *testing.T) {
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
	for _, r := range admin.Routes(&admin.Service{}) {
		if !ops[r.Pattern] {
			t.Errorf("%s is not documented", r.Pattern)
		}
	}
}

// TestResponsesMatchOpenAPI drives every administration endpoint, with
// successes and errors, and checks each real response against the
// document (schemas with additionalProperties false: an undocumented field
// fails).
func TestAdminResponsesMatchOpenAPI(t *testing.T) {
	h := apptest.New(t)
	spec, err := apptest.LoadSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rec := &apptest.Recorder{}
	since := time.Now().Add(-2 * time.Second)
	run := testenv.RandomHex(4)
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
	adm, front, nurse, op := h.Token(carepost.RoleAdmin), h.Token(carepost.RoleFrontDesk), h.Token(carepost.RoleNurse), h.Token(carepost.RoleOperator)

	do(adm, "GET", "/v1/practice", nil, 200)
	do(adm, "PUT", "/v1/practice", map[string]any{"retentionDays": 4000, "urgentTerms": []string{"chest tightness"}}, 200)
	do(adm, "PUT", "/v1/practice/hours", map[string]any{"hours": []map[string]any{{"day": 2, "open": "07:30", "close": "15:00"}}}, 200)
	do(adm, "PUT", "/v1/practice/pools", map[string]any{"pools": []map[string]any{{"name": "frontdesk"}, {"name": "nurses"}, {"name": "billing"}, {"name": "oncall"}}}, 200)
	do(adm, "PUT", "/v1/practice/routing", map[string]any{"routing": map[string]string{"prescription": "pool:nurses"}}, 200)
	do(adm, "PUT", "/v1/practice/agreement", map[string]any{"text": "A new agreement text, long enough to publish."}, 200)
	do(adm, "GET", "/v1/practice/agreement", nil, 200)
	staff := apptest.Get(t, do(adm, "POST", "/v1/staff", map[string]any{"name": "Olga", "email": "olga-" + run + "@a.test", "role": "nurse"}, 201), "subject")
	do(adm, "PUT", "/v1/staff/"+staff+"/role", map[string]any{"role": "clinician"}, 200)
	do(adm, "GET", "/v1/staff", nil, 200)
	pat := apptest.Get(t, do(front, "POST", "/v1/patients", map[string]any{"firstName": "Ola", "lastName": "Nordmann", "birthDate": "1980-05-17", "email": "ola-" + run + "@m.test", "phone": "+47 555 0101"}, 201), "id")
	do(front, "POST", "/v1/patients", map[string]any{"firstName": "Ola", "lastName": "Nordmann", "birthDate": "1980-05-17", "email": "ola-" + run + "@m.test", "invite": true}, 409)
	do(front, "POST", "/v1/patients/import", map[string]any{"csv": "firstName,lastName,birthDate,email\nA,B,1990-01-01,ab-" + run + "@m.test\nC,D,1990-13-01,cd@m.test\n", "commit": true, "invite": true}, 200)
	do(front, "POST", "/v1/patients/import", map[string]any{"csv": "firstName,lastName,email\n"}, 422)
	do(nurse, "GET", "/v1/patients/"+pat, nil, 200)
	cursor := apptest.Get(t, do(nurse, "GET", "/v1/patients?limit=1", nil, 200), "cursor")
	do(nurse, "GET", "/v1/patients?limit=1&cursor="+cursor, nil, 200)
	do(nurse, "GET", "/v1/patients?cursor=bogus", nil, 400)
	do(front, "POST", "/v1/patients/"+pat+"/invite", nil, 200)
	proxy := apptest.Get(t, do(front, "POST", "/v1/patients/"+pat+"/proxies", map[string]any{"email": "care-" + run + "@m.test", "name": "Care Giver", "scope": map[string]any{"read": true, "categories": []string{"appointment"}}, "expires": time.Now().Add(48 * time.Hour)}, 201), "subject")
	do(front, "POST", "/v1/patients/"+pat+"/proxies", map[string]any{"subject": proxy, "scope": map[string]any{"read": true, "write": true}}, 201)
	do(front, "GET", "/v1/patients/"+pat+"/proxies", nil, 200)
	patient := mint(t, h, h.AddUser(t, "ola-"+run, auth.User{Role: carepost.RolePatient, PracticeID: apptest.PracticeA, PatientID: pat}))
	do(patient, "GET", "/v1/me/proxies", nil, 200)
	do(patient, "PUT", "/v1/me/preferences", map[string]any{"emailNotifications": false}, 200)
	do(patient, "PUT", "/v1/me/preferences", map[string]any{}, 422)
	do(patient, "GET", "/v1/me/preferences", nil, 200)
	do(patient, "DELETE", "/v1/me/proxies/"+proxy, nil, 204)
	do(patient, "DELETE", "/v1/me/proxies/"+proxy, nil, 404)
	do(front, "POST", "/v1/patients/"+pat+"/proxies", map[string]any{"subject": proxy, "scope": map[string]any{"read": true}}, 201)
	do(front, "DELETE", "/v1/patients/"+pat+"/proxies/"+proxy, nil, 204)
	do(adm, "POST", "/v1/staff/"+staff+"/disable", nil, 200)
	code := regexp.MustCompile(`activation code: (\S+)`).FindStringSubmatch(mailTo(t, since, "ola-"+run+"@m.test").Body.Text)
	if code == nil {
		t.Fatal("no activation code")
	}
	do("", "POST", "/v1/public/activate", map[string]any{"practiceId": apptest.PracticeA, "code": code[1], "birthDate": "1980-05-18", "password": "a long password"}, 422)
	do("", "POST", "/v1/public/activate", map[string]any{"practiceId": apptest.PracticeA, "code": code[1], "birthDate": "1980-05-17", "password": "a long password"}, 200)
	do("", "POST", "/v1/public/activate", map[string]any{"practiceId": apptest.PracticeA, "code": code[1], "birthDate": "1980-05-17", "password": "short"}, 422)
	do(op, "POST", "/v1/operator/practices", map[string]any{"id": "spec-" + run, "name": "Spec Clinic", "timeZone": "Europe/Oslo", "admin": map[string]any{"name": "Ada", "email": "ada-" + run + "@spec.test"}}, 201)
	do(op, "POST", "/v1/operator/practices/spec-"+run+"/suspend", nil, 200)
	do(op, "POST", "/v1/operator/practices/spec-"+run+"/suspend", map[string]any{"suspended": false}, 200)
	do(op, "GET", "/v1/operator/practices", nil, 200)
	// Errors.
	do(adm, "PUT", "/v1/practice/routing", map[string]any{"routing": map[string]string{"prescription": "pool:nowhere"}}, 422)
	do(adm, "PUT", "/v1/practice", map[string]any{"colour": "red"}, 400)
	do(nurse, "GET", "/v1/practice", nil, 403)
	do(adm, "GET", "/v1/patients/pat-nobody", nil, 404)
	do(op, "POST", "/v1/operator/practices/no-such-practice/suspend", nil, 404)
	_ = ctx

	seenOK := map[string]bool{}
	for _, s := range rec.Seen {
		if err := spec.Check(s.Method, s.Path, s.Status, s.Body); err != nil {
			t.Error(err)
		}
		if tmpl, ok := spec.Template(s.Path); ok && s.Status < 300 {
			seenOK[s.Method+" "+tmpl] = true
		}
	}
	for _, r := range admin.Routes(&admin.Service{}) {
		if !seenOK[r.Pattern] {
			t.Errorf("%s was not exercised with a success", r.Pattern)
		}
	}
	t.Logf("%d responses checked against the document", len(rec.Seen))
}
