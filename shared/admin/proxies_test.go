package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/testenv"
)

// TestComingOfAge: a grant given while the patient is a minor is narrowed
// by the proxy-age job once the patient reaches the practice's adult age;
// the proxy's existing token follows at once; the now-adult patient can see
// the proxy, the minor could not. A role change ends the old token too.
func TestComingOfAge(t *testing.T) {
	h := apptest.New(t)
	ctx := context.Background()
	run := testenv.RandomHex(4)
	admin := h.Token(carepost.RoleAdmin)
	ny, _ := time.LoadLocation("America/New_York")
	birth := time.Now().In(ny).AddDate(-17, 0, -10).Format(time.DateOnly) // 17 years and 10 days old

	var pat struct{ ID string }
	h.Must(t, admin, "POST", "/v1/patients", map[string]any{"firstName": "Kim", "lastName": "Minor", "birthDate": birth, "email": "kim-" + run + "@m.test"}, http.StatusCreated, &pat)
	var proxy struct{ Subject string }
	h.Must(t, admin, "POST", "/v1/patients/"+pat.ID+"/proxies", map[string]any{"email": "parent-" + run + "@m.test", "name": "Pat Parent",
		"scope": map[string]any{"read": true, "write": true}}, http.StatusCreated, &proxy)
	pu, err := h.Dir.GetUser(ctx, proxy.Subject)
	if err != nil {
		t.Fatal(err)
	}
	proxyTok := mint(t, h, pu) // carries the full read-write grant
	minor := mint(t, h, h.AddUser(t, "kim-"+run, auth.User{Role: carepost.RolePatient, PracticeID: apptest.PracticeA, PatientID: pat.ID}))

	st, body := h.Do(t, minor, "GET", "/v1/me/proxies", nil, nil)
	wantError(t, st, body, http.StatusForbidden, "")

	job, ok := h.App.Schedule("proxyage")
	if !ok {
		t.Fatal("no proxyage schedule wired")
	}
	scope := func() (carepost.ProxyScope, bool) {
		var res struct {
			Items []struct {
				Subject  string
				Scope    carepost.ProxyScope
				Narrowed bool
			}
		}
		h.Must(t, admin, "GET", "/v1/patients/"+pat.ID+"/proxies", nil, http.StatusOK, &res)
		if len(res.Items) != 1 || res.Items[0].Subject != proxy.Subject {
			t.Fatalf("proxies = %+v", res.Items)
		}
		return res.Items[0].Scope, res.Items[0].Narrowed
	}
	if err := job.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if sc, narrowed := scope(); narrowed || !sc.Write {
		t.Fatalf("a minor's proxy was narrowed: %+v", sc)
	}
	h.Must(t, h.Token(carepost.RolePatient), "GET", "/v1/consent", nil, http.StatusOK, nil) // unrelated users unaffected

	// The practice lowers its adult age: the patient (17) is now of age.
	h.Must(t, admin, "PUT", "/v1/practice", map[string]any{"proxyAdultAge": 16}, http.StatusOK, nil)
	if err := job.Run(ctx); err != nil {
		t.Fatal(err)
	}
	sc, narrowed := scope()
	if !narrowed || sc.Write || !sc.Read || strings.Join(sc.Categories, ",") != "appointment,billing,forms" {
		t.Fatalf("after coming of age the grant is %+v (narrowed %v), want read-only administrative", sc, narrowed)
	}
	u, err := h.Dir.GetUser(ctx, proxy.Subject)
	if err != nil || len(u.Grants) != 1 || u.Grants[0].Scope.Write {
		t.Fatalf("the directory still holds %+v (%v)", u.Grants, err)
	}
	// The token minted before the narrowing no longer writes.
	h.Must(t, proxyTok, "GET", "/v1/consent?patientId="+pat.ID, nil, http.StatusOK, nil)
	st, body = h.Do(t, proxyTok, "POST", "/v1/threads", map[string]any{"patientId": pat.ID, "category": "appointment", "subject": "Visit", "body": "Can we book?"}, nil)
	if st != http.StatusForbidden && st != http.StatusNotFound {
		t.Fatalf("the narrowed proxy opened a thread: %d %s", st, body)
	}
	// A second run changes nothing.
	if err := job.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// The patient, now of age, sees the proxy.
	var mine struct{ Items []struct{ Subject string } }
	h.Must(t, minor, "GET", "/v1/me/proxies", nil, http.StatusOK, &mine)
	if len(mine.Items) != 1 {
		t.Fatalf("my proxies = %+v", mine.Items)
	}

	// A role change ends the old token.
	var nurse struct{ Subject string }
	h.Must(t, admin, "POST", "/v1/staff", map[string]any{"name": "Ned Nurse", "email": "ned-" + run + "@a.test", "role": "nurse"}, http.StatusCreated, &nurse)
	nu, err := h.Dir.GetUser(ctx, nurse.Subject)
	if err != nil {
		t.Fatal(err)
	}
	nurseTok := mint(t, h, nu)
	h.Must(t, nurseTok, "GET", "/v1/patients/"+pat.ID, nil, http.StatusOK, nil)
	h.Must(t, admin, "PUT", "/v1/staff/"+nurse.Subject+"/role", map[string]any{"role": "scheduler"}, http.StatusOK, nil)
	st, body = h.Do(t, nurseTok, "GET", "/v1/patients/"+pat.ID, nil, nil)
	wantError(t, st, body, http.StatusUnauthorized, "")
	nu, _ = h.Dir.GetUser(ctx, nurse.Subject)
	st, body = h.Do(t, mint(t, h, nu), "GET", "/v1/patients/"+pat.ID, nil, nil)
	wantError(t, st, body, http.StatusForbidden, "") // a scheduler reads no patients
	// An admin cannot demote or disable themselves.
	self := h.Subject(t, "admin")
	st, body = h.Do(t, admin, "POST", "/v1/staff/"+self+"/disable", nil, nil)
	if st != http.StatusNotFound && st != http.StatusConflict {
		t.Fatalf("self-disable: %d %s", st, body)
	}
}
