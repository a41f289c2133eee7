package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/testenv"
)

// adminMatrix is every administration endpoint × every role → the status
// the caller gets. Columns are the roles of practice A (apptest users,
// except "patient" and "proxy", which this test makes with a registered
// patient profile). Targets: {pat} a patient of A, {patB} a patient of B,
// {staff} a staff member of A invited through the API, {staffB} one of B,
// {proxy} a proxy of A. Rows that name another practice's object answer
// 404 for every role that may use the endpoint at all.
const adminMatrix = `
method path                              patient proxy frontdesk nurse clinician admin scheduler operator
GET    /v1/practice                      403     403   403       403   403       200   403       403
PUT    /v1/practice                      403     403   403       403   403       200   403       403
PUT    /v1/practice/hours                403     403   403       403   403       200   403       403
PUT    /v1/practice/pools                403     403   403       403   403       200   403       403
PUT    /v1/practice/routing              403     403   403       403   403       200   403       403
GET    /v1/practice/agreement            403     403   403       403   403       200   403       403
PUT    /v1/practice/agreement            403     403   403       403   403       200   403       403
GET    /v1/staff                         403     403   403       403   403       200   403       403
POST   /v1/staff                         403     403   403       403   403       201   403       403
PUT    /v1/staff/{staff}/role            403     403   403       403   403       200   403       403
PUT    /v1/staff/{staffB}/role           403     403   403       403   403       404   403       403
GET    /v1/patients                      403     403   200       200   200       200   403       403
POST   /v1/patients                      403     403   201       403   403       201   403       403
POST   /v1/patients/import               403     403   200       403   403       200   403       403
GET    /v1/patients/{pat}                403     403   200       200   200       200   403       403
GET    /v1/patients/{patB}               403     403   404       404   404       404   403       403
POST   /v1/patients/{pat}/invite         403     403   200       403   403       200   403       403
POST   /v1/patients/{patB}/invite        403     403   404       403   403       404   403       403
GET    /v1/patients/{pat}/proxies        403     403   200       403   403       200   403       403
GET    /v1/patients/{patB}/proxies       403     403   404       403   403       404   403       403
POST   /v1/patients/{pat}/proxies        403     403   201       403   403       201   403       403
POST   /v1/patients/{patB}/proxies       403     403   404       403   403       404   403       403
GET    /v1/me/proxies                    200     403   403       403   403       403   403       403
GET    /v1/me/preferences                200     403   403       403   403       403   403       403
PUT    /v1/me/preferences                200     403   403       403   403       403   403       403
GET    /v1/operator/practices            403     403   403       403   403       403   403       200
POST   /v1/operator/practices            403     403   403       403   403       403   403       201
POST   /v1/operator/practices/{B}/suspend 403    403   403       403   403       403   403       200
POST   /v1/staff/{staffB}/disable        403     403   403       403   403       404   403       403
POST   /v1/staff/{staff}/disable         403     403   403       403   403       200   403       403
`

func TestAdminAccessMatrix(t *testing.T) {
	h := apptest.New(t)
	ctx := context.Background()
	run := testenv.RandomHex(4)
	adminA, adminB := h.Token(carepost.RoleAdmin), h.TokenFor(t, "b/admin")

	register := func(tok, who, birth string) string {
		var ref struct{ ID string }
		h.Must(t, tok, "POST", "/v1/patients", map[string]any{"firstName": "Test", "lastName": who, "birthDate": birth, "email": who + "-" + run + "@m.test"}, http.StatusCreated, &ref)
		return ref.ID
	}
	pat, patB := register(adminA, "alpha", "1970-01-01"), register(adminB, "beta", "1971-01-01")
	var staff, staffB struct{ Subject string }
	h.Must(t, adminA, "POST", "/v1/staff", map[string]any{"name": "Fay Frontdesk", "email": "fay-" + run + "@a.test", "role": "frontdesk"}, http.StatusCreated, &staff)
	h.Must(t, adminB, "POST", "/v1/staff", map[string]any{"name": "Bea Nurse", "email": "bea-" + run + "@b.test", "role": "nurse"}, http.StatusCreated, &staffB)
	var proxy struct{ Subject string }
	h.Must(t, adminA, "POST", "/v1/patients/"+pat+"/proxies", map[string]any{"email": "pro-" + run + "@a.test", "name": "Pro Xy", "scope": map[string]any{"read": true}}, http.StatusCreated, &proxy)
	u, err := h.Dir.GetUser(ctx, proxy.Subject)
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{
		"patient": mint(t, h, h.AddUser(t, "pat-"+run, auth.User{Role: carepost.RolePatient, PracticeID: apptest.PracticeA, PatientID: pat})),
		"proxy":   mint(t, h, u),
	}
	for _, r := range []string{"frontdesk", "nurse", "clinician", "admin", "scheduler", "operator"} {
		tokens[r] = h.TokenFor(t, r)
	}

	lines := strings.Split(strings.TrimSpace(adminMatrix), "\n")
	roles := strings.Fields(lines[0])[2:]
	n := 0
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		method, tmpl, want := f[0], f[1], f[2:]
		for i, role := range roles {
			n++
			path := strings.NewReplacer("{pat}", pat, "{patB}", patB, "{staff}", staff.Subject, "{staffB}", staffB.Subject, "{B}", apptest.PracticeB).Replace(tmpl)
			body := bodyFor(method, tmpl, role, run, n, proxy.Subject)
			st, b := h.Do(t, tokens[role], method, path, body, nil)
			if got := strconv.Itoa(st); got != want[i] {
				t.Errorf("%s %s as %s: %s, want %s; %s", method, tmpl, role, got, want[i], b)
			}
			if st >= 400 {
				apptest.ErrorOf(t, b) // the one error shape
			}
		}
	}
	t.Logf("%d cells", n)
}

func mint(t *testing.T, h *apptest.Harness, u auth.User) string {
	t.Helper()
	tok, err := h.Issuer.Mint(u, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// bodyFor is a valid request body for the cell (unique where it creates
// something).
func bodyFor(method, tmpl, role, run string, n int, proxySub string) any {
	switch {
	case method == "PUT" && tmpl == "/v1/practice":
		return map[string]any{"name": "Practice renamed " + role}
	case strings.HasSuffix(tmpl, "/hours"):
		return map[string]any{"hours": []map[string]any{{"day": 1, "open": "08:00", "close": "16:00"}}}
	case strings.HasSuffix(tmpl, "/pools"):
		return map[string]any{"pools": []map[string]any{{"name": "frontdesk"}, {"name": "nurses"}, {"name": "billing"}, {"name": "oncall"}}}
	case strings.HasSuffix(tmpl, "/routing"):
		return map[string]any{"routing": map[string]string{"prescription": "pool:nurses", "question": "pool:nurses", "billing": "pool:billing"}}
	case method == "PUT" && strings.HasSuffix(tmpl, "/agreement"):
		return map[string]any{"text": "Agreement text long enough to publish, version " + role}
	case tmpl == "/v1/staff":
		return map[string]any{"name": "New Person", "email": fmt.Sprintf("new-%s-%d@a.test", run, n), "role": "scheduler"}
	case strings.HasSuffix(tmpl, "/role"):
		return map[string]any{"role": "nurse"}
	case tmpl == "/v1/patients":
		return map[string]any{"firstName": "New", "lastName": fmt.Sprintf("Patient%d", n), "birthDate": "1980-02-02", "email": fmt.Sprintf("np-%s-%d@m.test", run, n)}
	case strings.HasSuffix(tmpl, "/import"):
		return map[string]any{"csv": "firstName,lastName,birthDate,email\nA,B,1990-01-01,ab@m.test\n"}
	case method == "POST" && strings.HasSuffix(tmpl, "/proxies"):
		return map[string]any{"subject": proxySub, "scope": map[string]any{"read": true, "categories": []string{"appointment"}}}
	case tmpl == "/v1/operator/practices":
		return map[string]any{"id": fmt.Sprintf("m-%s-%d", run, n), "name": "Matrix", "timeZone": "UTC", "admin": map[string]any{"name": "Adm", "email": fmt.Sprintf("adm-%s-%d@x.test", run, n)}}
	case tmpl == "/v1/me/preferences":
		return map[string]any{"emailNotifications": true}
	case strings.HasSuffix(tmpl, "/suspend"):
		return map[string]any{"suspended": false}
	}
	return nil
}
