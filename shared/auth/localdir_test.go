package auth

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// localStack is a directory whose tokens a verifier trusts, as in the dev
// stack, with the verifier's Revoked hook backed by the directory.
type localStack struct {
	*fixture
	dir *LocalDirectory
}

func newLocalStack(t *testing.T) *localStack {
	t.Helper()
	var dir *LocalDirectory
	f := newFixture(t, func(ctx context.Context, sub string) (bool, error) { return dir.Revoked(ctx, sub) })
	dir = NewLocalDirectory(LocalDirectoryConfig{Issuer: f.iss, PasswordIterations: 1000})
	return &localStack{fixture: f, dir: dir}
}

const pw = "correct horse battery"

func (s *localStack) create(t *testing.T, u User) User {
	t.Helper()
	got, err := s.dir.CreateUser(context.Background(), u, pw)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return got
}

func (s *localStack) signIn(t *testing.T, sub string) (carepost.Principal, error) {
	t.Helper()
	tok, err := s.dir.IssueToken(sub, pw)
	if err != nil {
		return carepost.Principal{}, err
	}
	return s.v.Verify(context.Background(), tok)
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestLocalDirectoryCreateAndSignIn(t *testing.T) {
	s := newLocalStack(t)
	ctx := context.Background()
	nurse := s.create(t, User{Email: "Nora@Example.org", Name: "Nora", Role: carepost.RoleNurse, PracticeID: "prac-1"})
	if !uuidRE.MatchString(nurse.Subject) {
		t.Errorf("subject %q is not a UUID like a Cognito sub", nurse.Subject)
	}
	got, err := s.dir.GetUser(ctx, nurse.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, nurse) {
		t.Errorf("GetUser = %+v, want %+v", got, nurse)
	}
	if sub, ok := s.dir.SubjectForEmail("nora@example.ORG"); !ok || sub != nurse.Subject {
		t.Errorf("SubjectForEmail = %q, %v; want %q, true", sub, ok, nurse.Subject)
	}

	p, err := s.signIn(t, nurse.Subject)
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	if want := (carepost.Principal{Subject: nurse.Subject, Role: carepost.RoleNurse, PracticeID: "prac-1", Name: "Nora"}); !reflect.DeepEqual(p, want) {
		t.Errorf("principal = %+v, want %+v", p, want)
	}

	// Same e-mail, any case: conflict.
	_, err = s.dir.CreateUser(ctx, User{Email: "nora@example.org", Role: carepost.RoleAdmin, PracticeID: "prac-2"}, pw)
	if got, want := carepost.ErrorCode(err), carepost.CodeConflict; got != want {
		t.Errorf("duplicate e-mail: code = %q, want %q", got, want)
	}
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "nora") {
		t.Errorf("error %q names the e-mail", err)
	}
}

func TestLocalDirectoryCreateValidation(t *testing.T) {
	s := newLocalStack(t)
	tests := []struct {
		name  string
		u     User
		pw    string
		field string
	}{
		{"no e-mail", User{Role: carepost.RoleNurse, PracticeID: "p"}, pw, "email"},
		{"bad e-mail", User{Email: "nora at example", Role: carepost.RoleNurse, PracticeID: "p"}, pw, "email"},
		{"no role", User{Email: "a@b.org", PracticeID: "p"}, pw, "role"},
		{"unknown role", User{Email: "a@b.org", Role: "root", PracticeID: "p"}, pw, "role"},
		{"staff without practice", User{Email: "a@b.org", Role: carepost.RoleClinician}, pw, "practiceId"},
		{"patient without patient id", User{Email: "a@b.org", Role: carepost.RolePatient, PracticeID: "p"}, pw, "patientId"},
		{"grants on a nurse", User{Email: "a@b.org", Role: carepost.RoleNurse, PracticeID: "p", Grants: []carepost.Grant{{PatientID: "x", Scope: carepost.ProxyScope{Read: true}}}}, pw, "grants"},
		{"grant with unknown category", User{Email: "a@b.org", Role: carepost.RoleProxy, PracticeID: "p", Grants: []carepost.Grant{{PatientID: "x", Scope: carepost.ProxyScope{Read: true, Categories: []string{"gossip"}}}}}, pw, "grants[0].scope.categories"},
		{"write without read", User{Email: "a@b.org", Role: carepost.RoleProxy, PracticeID: "p", Grants: []carepost.Grant{{PatientID: "x", Scope: carepost.ProxyScope{Write: true}}}}, pw, "grants[0].scope"},
		{"short password", User{Email: "a@b.org", Role: carepost.RoleNurse, PracticeID: "p"}, "short", "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.dir.CreateUser(context.Background(), tt.u, tt.pw)
			ce, ok := err.(*carepost.Error)
			if !ok {
				t.Fatalf("err = %v, want a *carepost.Error", err)
			}
			if got, want := ce.Code, carepost.CodeValidation; got != want {
				t.Errorf("code = %q, want %q", got, want)
			}
			if got, want := ce.Field, tt.field; got != want {
				t.Errorf("field = %q, want %q", got, want)
			}
		})
	}
	if _, ok := s.dir.SubjectForEmail("a@b.org"); ok {
		t.Error("a rejected user was stored")
	}
}

func TestLocalDirectoryIssueToken(t *testing.T) {
	s := newLocalStack(t)
	ctx := context.Background()
	nurse := s.create(t, User{Email: "n@example.org", Role: carepost.RoleNurse, PracticeID: "prac-1"})
	nopw, err := s.dir.CreateUser(ctx, User{Email: "invited@example.org", Role: carepost.RoleClinician, PracticeID: "prac-1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		sub, pw  string
		wantCode carepost.Code
	}{
		{"right password", nurse.Subject, pw, ""},
		{"wrong password", nurse.Subject, pw + "!", carepost.CodeUnauthenticated},
		{"unknown subject", "no-such-user", pw, carepost.CodeUnauthenticated},
		{"no password set yet", nopw.Subject, "", carepost.CodeUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := s.dir.IssueToken(tt.sub, tt.pw)
			if got, want := carepost.ErrorCode(err), tt.wantCode; got != want {
				t.Fatalf("code = %q, want %q (%v)", got, want, err)
			}
			if err == nil && tok == "" {
				t.Error("no token")
			}
			if err != nil && strings.Contains(err.Error(), tt.pw) && tt.pw != "" {
				t.Errorf("error %q echoes the password", err)
			}
		})
	}
	// Wrong password and unknown user are indistinguishable.
	_, e1 := s.dir.IssueToken(nurse.Subject, "wrong-password")
	_, e2 := s.dir.IssueToken("no-such-user", "wrong-password")
	if e1.Error() != e2.Error() {
		t.Errorf("wrong password %q differs from unknown user %q", e1, e2)
	}

	// Activation: the invited user sets a password, then signs in.
	if err := s.dir.SetPassword(ctx, "prac-1", nopw.Subject, pw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.signIn(t, nopw.Subject); err != nil {
		t.Errorf("sign-in after SetPassword: %v", err)
	}
	if got, want := carepost.ErrorCode(s.dir.SetPassword(ctx, "prac-2", nopw.Subject, pw)), carepost.CodeNotFound; got != want {
		t.Errorf("SetPassword from another practice: code = %q, want %q", got, want)
	}
}

// Disabling ends access at once: no new token, and the token already held
// stops verifying through the Revoked hook.
func TestLocalDirectoryDisable(t *testing.T) {
	s := newLocalStack(t)
	ctx := context.Background()
	nurse := s.create(t, User{Email: "n@example.org", Role: carepost.RoleNurse, PracticeID: "prac-1"})
	held, err := s.dir.IssueToken(nurse.Subject, pw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.v.Verify(ctx, held); err != nil {
		t.Fatal(err)
	}
	if got, want := carepost.ErrorCode(s.dir.DisableUser(ctx, "prac-2", nurse.Subject)), carepost.CodeNotFound; got != want {
		t.Errorf("disable from another practice: code = %q, want %q", got, want)
	}
	if err := s.dir.DisableUser(ctx, "prac-1", nurse.Subject); err != nil {
		t.Fatal(err)
	}
	_, err = s.v.Verify(ctx, held)
	if got, want := carepost.ErrorCode(err), carepost.CodeUnauthenticated; got != want {
		t.Errorf("held token after disable: code = %q, want %q", got, want)
	}
	_, err = s.dir.IssueToken(nurse.Subject, pw)
	if got, want := carepost.ErrorCode(err), carepost.CodeForbidden; got != want {
		t.Errorf("sign-in after disable: code = %q, want %q", got, want)
	}
	_, err = s.dir.IssueToken(nurse.Subject, "wrong-password")
	if got, want := carepost.ErrorCode(err), carepost.CodeUnauthenticated; got != want {
		t.Errorf("wrong password on a disabled account: code = %q, want %q", got, want)
	}
	u, err := s.dir.GetUser(ctx, nurse.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Disabled {
		t.Error("GetUser: not disabled")
	}
}

func TestLocalDirectorySetRole(t *testing.T) {
	s := newLocalStack(t)
	ctx := context.Background()
	nurse := s.create(t, User{Email: "n@example.org", Role: carepost.RoleNurse, PracticeID: "prac-1"})
	patient := s.create(t, User{Email: "p@example.org", Role: carepost.RolePatient, PracticeID: "prac-1", PatientID: "pat-1"})
	tests := []struct {
		name string
		prac string
		sub  string
		role carepost.Role
		code carepost.Code
	}{
		{"nurse to clinician", "prac-1", nurse.Subject, carepost.RoleClinician, ""},
		{"other practice", "prac-2", nurse.Subject, carepost.RoleAdmin, carepost.CodeNotFound},
		{"missing user", "prac-1", "nobody", carepost.RoleAdmin, carepost.CodeNotFound},
		{"to operator", "prac-1", nurse.Subject, carepost.RoleOperator, carepost.CodeValidation},
		{"to patient", "prac-1", nurse.Subject, carepost.RolePatient, carepost.CodeValidation},
		{"unknown role", "prac-1", nurse.Subject, "root", carepost.CodeValidation},
		{"patient to staff", "prac-1", patient.Subject, carepost.RoleAdmin, carepost.CodeValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.dir.SetRole(ctx, tt.prac, tt.sub, tt.role)
			if got, want := carepost.ErrorCode(err), tt.code; got != want {
				t.Errorf("code = %q, want %q (%v)", got, want, err)
			}
		})
	}
	p, err := s.signIn(t, nurse.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Role, carepost.RoleClinician; got != want {
		t.Errorf("role in the next token = %q, want %q", got, want)
	}
	p, err = s.signIn(t, patient.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Role, carepost.RolePatient; got != want {
		t.Errorf("patient's role = %q, want %q", got, want)
	}
}

func TestLocalDirectorySetGrants(t *testing.T) {
	s := newLocalStack(t)
	ctx := context.Background()
	proxy := s.create(t, User{Email: "parent@example.org", Role: carepost.RoleProxy, PracticeID: "prac-1",
		Grants: []carepost.Grant{{PatientID: "pat-1", Scope: carepost.ProxyScope{Read: true, Write: true}}}})
	nurse := s.create(t, User{Email: "n@example.org", Role: carepost.RoleNurse, PracticeID: "prac-1"})

	narrowed := []carepost.Grant{{PatientID: "pat-1", Scope: carepost.ProxyScope{Read: true, Categories: []string{"appointment"}}, Expires: t0.Add(30 * 24 * time.Hour)}}
	tests := []struct {
		name   string
		prac   string
		sub    string
		grants []carepost.Grant
		code   carepost.Code
	}{
		{"narrow", "prac-1", proxy.Subject, narrowed, ""},
		{"other practice", "prac-2", proxy.Subject, nil, carepost.CodeNotFound},
		{"not a proxy", "prac-1", nurse.Subject, narrowed, carepost.CodeValidation},
		{"grant without patient", "prac-1", proxy.Subject, []carepost.Grant{{Scope: carepost.ProxyScope{Read: true}}}, carepost.CodeValidation},
		{"too many for Cognito", "prac-1", proxy.Subject, manyGrants(60), carepost.CodeValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.dir.SetGrants(ctx, tt.prac, tt.sub, tt.grants)
			if got, want := carepost.ErrorCode(err), tt.code; got != want {
				t.Errorf("code = %q, want %q (%v)", got, want, err)
			}
		})
	}
	p, err := s.signIn(t, proxy.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Grants, narrowed) {
		t.Errorf("grants in the next token = %+v, want %+v", p.Grants, narrowed)
	}
	if p.ActsForPatient("pat-1", t0.Add(31*24*time.Hour)) {
		t.Error("grant still live after its expiry")
	}
	// The caller's slice is not aliased.
	narrowed[0].PatientID = "pat-2"
	if u, _ := s.dir.GetUser(ctx, proxy.Subject); u.Grants[0].PatientID != "pat-1" {
		t.Error("directory shares the caller's grants slice")
	}
}

func manyGrants(n int) []carepost.Grant {
	g := make([]carepost.Grant, n)
	for i := range g {
		g[i] = carepost.Grant{PatientID: "patient-000000" + string(rune('a'+i%26)), Scope: carepost.ProxyScope{Read: true}}
	}
	return g
}

func TestLocalDirectoryConcurrentCreate(t *testing.T) {
	s := newLocalStack(t)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.dir.CreateUser(context.Background(), User{Email: "same@example.org", Role: carepost.RoleNurse, PracticeID: "p"}, pw)
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch carepost.ErrorCode(err) {
		case "":
			created++
		case carepost.CodeConflict:
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if got, want := created, 1; got != want {
		t.Errorf("%d users created with one e-mail, want %d", got, want)
	}
}
