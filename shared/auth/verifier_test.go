package auth

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/golang-jwt/jwt/v5"
)

const (
	testIssuer   = "http://127.0.0.1:8080/local-idp"
	testAudience = "carepost-web"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// idp is a JWKS server on 127.0.0.1 whose published issuer can be swapped
// (key rotation) and whose fetches are counted.
type idp struct {
	srv     *httptest.Server
	current atomic.Pointer[LocalIssuer]
	fetches atomic.Int64
	fail    atomic.Bool
}

func newIDP(t testing.TB, iss *LocalIssuer) *idp {
	t.Helper()
	p := &idp{}
	p.current.Store(iss)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/jwks.json") {
			p.fetches.Add(1)
		}
		if p.fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		p.current.Load().Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) jwksURL() string { return p.srv.URL + "/local-idp/.well-known/jwks.json" }

func newTestIssuer(t testing.TB, c *clock) *LocalIssuer {
	t.Helper()
	iss, err := NewLocalIssuer(LocalIssuerConfig{Issuer: testIssuer, Audience: testAudience, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

// fixture is an issuer, its JWKS server and a verifier trusting it.
type fixture struct {
	clock *clock
	iss   *LocalIssuer
	idp   *idp
	v     *Verifier
}

func newFixture(t testing.TB, revoked func(context.Context, string) (bool, error)) *fixture {
	t.Helper()
	c := &clock{now: t0}
	iss := newTestIssuer(t, c)
	p := newIDP(t, iss)
	v := NewVerifier(VerifierConfig{JWKSURL: p.jwksURL(), Issuer: testIssuer, Audience: testAudience, HTTPClient: p.srv.Client(), Now: c.Now, Revoked: revoked})
	return &fixture{clock: c, iss: iss, idp: p, v: v}
}

// sign signs arbitrary claims with the issuer's key and kid.
func sign(t testing.TB, iss *LocalIssuer, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = iss.kid
	s, err := tok.SignedString(iss.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nurseClaims is a valid Cognito-shaped ID token body at t0.
func nurseClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer, "aud": testAudience, "sub": "sub-nurse-1", "token_use": "id",
		"auth_time": t0.Unix(), "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(),
		"cognito:groups":     []string{"nurse"},
		"custom:practice_id": "prac-1",
		"name":               "Nora Nurse",
		"email":              "nora@example.org",
	}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestVerify(t *testing.T) {
	f := newFixture(t, nil)
	other := newTestIssuer(t, f.clock) // a key nobody trusts
	pubPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(&f.iss.key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}()

	tests := []struct {
		name  string
		token func() string
		want  carepost.Principal // checked when code == ""
		code  carepost.Code
	}{
		{
			name:  "valid nurse",
			token: func() string { return sign(t, f.iss, nurseClaims()) },
			want:  carepost.Principal{Subject: "sub-nurse-1", Role: carepost.RoleNurse, PracticeID: "prac-1", Name: "Nora Nurse"},
		},
		{
			name: "valid token from Mint",
			token: func() string {
				s, err := f.iss.Mint(User{Subject: "sub-adm", Role: carepost.RoleAdmin, PracticeID: "prac-2", Name: "Ada", Email: "ada@example.org"}, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			want: carepost.Principal{Subject: "sub-adm", Role: carepost.RoleAdmin, PracticeID: "prac-2", Name: "Ada"},
		},
		{
			name:  "aud as array",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "aud", []string{"other", testAudience})) },
			want:  carepost.Principal{Subject: "sub-nurse-1", Role: carepost.RoleNurse, PracticeID: "prac-1", Name: "Nora Nurse"},
		},
		{
			name:  "expired 30s ago is inside the leeway",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "exp", t0.Add(-30*time.Second).Unix())) },
			want:  carepost.Principal{Subject: "sub-nurse-1", Role: carepost.RoleNurse, PracticeID: "prac-1", Name: "Nora Nurse"},
		},
		{
			name:  "expired",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "exp", t0.Add(-2*time.Minute).Unix())) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name:  "no exp",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "exp", nil)) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name:  "not valid yet",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "nbf", t0.Add(5*time.Minute).Unix())) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name:  "issued in the future",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "iat", t0.Add(5*time.Minute).Unix())) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name: "wrong issuer",
			token: func() string {
				return sign(t, f.iss, with(nurseClaims(), "iss", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other"))
			},
			code: carepost.CodeUnauthenticated,
		},
		{
			name:  "wrong audience",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "aud", "another-client")) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name:  "no audience",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "aud", nil)) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name: "wrong signing key under the trusted kid",
			token: func() string {
				tok := jwt.NewWithClaims(jwt.SigningMethodRS256, nurseClaims())
				tok.Header["kid"] = f.iss.kid
				s, _ := tok.SignedString(other.key)
				return s
			},
			code: carepost.CodeUnauthenticated,
		},
		{
			name:  "wrong signing key with its own kid",
			token: func() string { return sign(t, other, nurseClaims()) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name: "alg none",
			token: func() string {
				tok := jwt.NewWithClaims(jwt.SigningMethodNone, nurseClaims())
				tok.Header["kid"] = f.iss.kid
				s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			code: carepost.CodeUnauthenticated,
		},
		{
			name: "HS256 keyed with the public key (algorithm confusion)",
			token: func() string {
				tok := jwt.NewWithClaims(jwt.SigningMethodHS256, nurseClaims())
				tok.Header["kid"] = f.iss.kid
				s, err := tok.SignedString(pubPEM)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			code: carepost.CodeUnauthenticated,
		},
		{
			name: "PS256 with the right key is still not RS256",
			token: func() string {
				tok := jwt.NewWithClaims(jwt.SigningMethodPS256, nurseClaims())
				tok.Header["kid"] = f.iss.kid
				s, _ := tok.SignedString(f.iss.key)
				return s
			},
			code: carepost.CodeUnauthenticated,
		},
		{
			name: "no kid",
			token: func() string {
				tok := jwt.NewWithClaims(jwt.SigningMethodRS256, nurseClaims())
				s, _ := tok.SignedString(f.iss.key)
				return s
			},
			code: carepost.CodeUnauthenticated,
		},
		{
			name:  "access token",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "token_use", "access")) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			// Cognito ID tokens always say token_use "id"; a token that does
			// not say what it is is not one.
			name:  "token_use absent",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "token_use", nil)) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name:  "no subject",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "sub", nil)) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name:  "missing group",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "cognito:groups", nil)) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name: "only unknown groups",
			token: func() string {
				return sign(t, f.iss, with(nurseClaims(), "cognito:groups", []string{"beta-testers", "Nurse"}))
			},
			code: carepost.CodeUnauthenticated,
		},
		{
			name: "first known role wins",
			token: func() string {
				return sign(t, f.iss, with(nurseClaims(), "cognito:groups", []string{"beta-testers", "clinician", "admin"}))
			},
			want: carepost.Principal{Subject: "sub-nurse-1", Role: carepost.RoleClinician, PracticeID: "prac-1", Name: "Nora Nurse"},
		},
		{
			name:  "staff without practice",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "custom:practice_id", nil)) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name: "operator without practice",
			token: func() string {
				return sign(t, f.iss, with(nurseClaims(), "sub", "sub-op", "cognito:groups", []string{"operator"}, "custom:practice_id", nil, "name", "Olga"))
			},
			want: carepost.Principal{Subject: "sub-op", Role: carepost.RoleOperator, Name: "Olga"},
		},
		{
			name: "patient",
			token: func() string {
				return sign(t, f.iss, with(nurseClaims(), "sub", "sub-pat", "cognito:groups", []string{"patient"}, "custom:patient_id", "pat-9", "name", nil))
			},
			want: carepost.Principal{Subject: "sub-pat", Role: carepost.RolePatient, PracticeID: "prac-1", PatientID: "pat-9"},
		},
		{
			name:  "patient without patient id",
			token: func() string { return sign(t, f.iss, with(nurseClaims(), "cognito:groups", []string{"patient"})) },
			code:  carepost.CodeUnauthenticated,
		},
		{
			name: "proxy grants parse",
			token: func() string {
				return sign(t, f.iss, with(nurseClaims(), "sub", "sub-proxy", "cognito:groups", []string{"proxy"}, "name", nil,
					"custom:grants", `[{"patientId":"pat-1","scope":{"read":true,"write":false,"categories":["prescription","appointment"]},"expires":"2026-12-31T23:00:00Z"},{"patientId":"pat-2","scope":{"read":true,"write":true}}]`))
			},
			want: carepost.Principal{Subject: "sub-proxy", Role: carepost.RoleProxy, PracticeID: "prac-1", Grants: []carepost.Grant{
				{PatientID: "pat-1", Scope: carepost.ProxyScope{Read: true, Categories: []string{"prescription", "appointment"}}, Expires: time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)},
				{PatientID: "pat-2", Scope: carepost.ProxyScope{Read: true, Write: true}},
			}},
		},
		{
			name: "proxy grants malformed",
			token: func() string {
				return sign(t, f.iss, with(nurseClaims(), "cognito:groups", []string{"proxy"}, "custom:grants", `[{"patientId":"pat-1","expires":"next tuesday"}]`))
			},
			code: carepost.CodeUnauthenticated,
		},
		{
			name: "proxy grant without patient",
			token: func() string {
				return sign(t, f.iss, with(nurseClaims(), "cognito:groups", []string{"proxy"}, "custom:grants", `[{"scope":{"read":true}}]`))
			},
			code: carepost.CodeUnauthenticated,
		},
		{
			name: "grants on a non-proxy are ignored",
			token: func() string {
				return sign(t, f.iss, with(nurseClaims(), "custom:grants", `[{"patientId":"pat-1","scope":{"read":true}}]`))
			},
			want: carepost.Principal{Subject: "sub-nurse-1", Role: carepost.RoleNurse, PracticeID: "prac-1", Name: "Nora Nurse"},
		},
		{name: "garbage", token: func() string { return "not-a-jwt" }, code: carepost.CodeUnauthenticated},
		{name: "empty", token: func() string { return "" }, code: carepost.CodeUnauthenticated},
		{name: "huge", token: func() string { return strings.Repeat("a", maxTokenLen+1) }, code: carepost.CodeUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tt.token()
			got, err := f.v.Verify(context.Background(), token)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("principal = %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted the token as %+v", got)
			}
			var ce *carepost.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *carepost.Error", err)
			}
			if got, want := ce.Code, tt.code; got != want {
				t.Errorf("code = %q, want %q (%v)", got, want, err)
			}
			if !reflect.DeepEqual(got, carepost.Principal{}) {
				t.Errorf("a failed Verify returned principal %+v", got)
			}
			assertNoTokenIn(t, err.Error(), token)
		})
	}
}

// assertNoTokenIn fails if msg quotes the token or any of its segments.
func assertNoTokenIn(t *testing.T, msg, token string) {
	t.Helper()
	for _, part := range append(strings.Split(token, "."), token) {
		if len(part) >= 8 && strings.Contains(msg, part) {
			t.Errorf("error %q echoes part of the token", msg)
		}
	}
}

func TestVerifyUnknownKidRefetchesAtMostEvery30s(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, err := f.v.Verify(ctx, sign(t, f.iss, nurseClaims())); err != nil {
		t.Fatal(err)
	}
	if got, want := f.idp.fetches.Load(), int64(1); got != want {
		t.Fatalf("fetches after first token = %d, want %d", got, want)
	}
	for range 5 { // cached key: no fetch
		if _, err := f.v.Verify(ctx, sign(t, f.iss, nurseClaims())); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := f.idp.fetches.Load(), int64(1); got != want {
		t.Fatalf("fetches with a cached key = %d, want %d", got, want)
	}

	// The provider rotates to a new key.
	rotated := newTestIssuer(t, f.clock)
	f.idp.current.Store(rotated)
	newToken := sign(t, rotated, nurseClaims())

	// Within 30 s of the last fetch an unknown kid does not fetch.
	f.clock.Add(10 * time.Second)
	if _, err := f.v.Verify(ctx, newToken); err == nil {
		t.Fatal("token with a kid unknown to the cache verified without a refetch")
	}
	if got, want := f.idp.fetches.Load(), int64(1); got != want {
		t.Fatalf("fetches within 30s = %d, want %d", got, want)
	}

	// After 30 s one fetch, however many callers arrive at once.
	f.clock.Add(21 * time.Second)
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() { _, errs[i] = f.v.Verify(ctx, newToken) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("token of the rotated key: %v", err)
		}
	}
	if got, want := f.idp.fetches.Load(), int64(2); got != want {
		t.Fatalf("fetches after 20 concurrent unknown-kid tokens = %d, want %d", got, want)
	}

	// Invented kids right after a fetch cost nothing.
	bogus := sign(t, newTestIssuer(t, f.clock), nurseClaims())
	for range 10 {
		if _, err := f.v.Verify(ctx, bogus); err == nil {
			t.Fatal("token of an untrusted key verified")
		}
	}
	if got, want := f.idp.fetches.Load(), int64(2); got != want {
		t.Fatalf("fetches after invented kids = %d, want %d", got, want)
	}
	// The key withdrawn by the rotation stops verifying after the next fetch.
	f.clock.Add(31 * time.Second)
	if _, err := f.v.Verify(ctx, bogus); err == nil {
		t.Fatal("token of an untrusted key verified")
	}
	if got, want := f.idp.fetches.Load(), int64(3); got != want {
		t.Fatalf("fetches after 30s more = %d, want %d", got, want)
	}
	if _, err := f.v.Verify(ctx, sign(t, f.iss, nurseClaims())); err == nil {
		t.Error("token of the withdrawn key still verifies")
	}
}

func TestVerifyJWKSDown(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.idp.fail.Store(true)
	_, err := f.v.Verify(ctx, sign(t, f.iss, nurseClaims()))
	if got, want := carepost.ErrorCode(err), carepost.CodeUnavailable; got != want {
		t.Fatalf("code with the key set unreachable = %q, want %q (%v)", got, want, err)
	}
	if !carepost.IsTransient(err) {
		t.Error("key set unreachable is not marked transient")
	}
	// The provider comes back; after the 30 s back-off tokens verify again.
	f.idp.fail.Store(false)
	f.clock.Add(31 * time.Second)
	if _, err := f.v.Verify(ctx, sign(t, f.iss, nurseClaims())); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	// A stale set whose refresh fails keeps serving the known key.
	f.idp.fail.Store(true)
	f.clock.Add(jwksMaxAge + time.Minute)
	if _, err := f.v.Verify(ctx, sign(t, f.iss, with(nurseClaims(), "iat", f.clock.Now().Unix(), "exp", f.clock.Now().Add(time.Hour).Unix()))); err != nil {
		t.Fatalf("known key with the provider down: %v", err)
	}
}

func TestVerifyRevoked(t *testing.T) {
	errStore := errors.New("store down")
	tests := []struct {
		name    string
		revoked func(context.Context, string) (bool, error)
		code    carepost.Code
	}{
		{"not revoked", func(context.Context, string) (bool, error) { return false, nil }, ""},
		{"revoked", func(_ context.Context, sub string) (bool, error) { return sub == "sub-nurse-1", nil }, carepost.CodeUnauthenticated},
		{"hook fails", func(context.Context, string) (bool, error) { return false, errStore }, carepost.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.revoked)
			_, err := f.v.Verify(context.Background(), sign(t, f.iss, nurseClaims()))
			if got, want := carepost.ErrorCode(err), tt.code; got != want {
				t.Errorf("code = %q, want %q (%v)", got, want, err)
			}
		})
	}
}

func TestVerifierMisconfigured(t *testing.T) {
	f := newFixture(t, nil)
	token := sign(t, f.iss, nurseClaims())
	for name, cfg := range map[string]VerifierConfig{
		"no issuer":   {JWKSURL: f.idp.jwksURL(), Audience: testAudience},
		"no audience": {JWKSURL: f.idp.jwksURL(), Issuer: testIssuer},
		"no JWKS URL": {Issuer: testIssuer, Audience: testAudience},
	} {
		cfg.Now = f.clock.Now
		_, err := NewVerifier(cfg).Verify(context.Background(), token)
		if got, want := carepost.ErrorCode(err), carepost.CodeInternal; got != want {
			t.Errorf("%s: code = %q, want %q", name, got, want)
		}
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearer a b", "", false},
		{"abc.def.ghi", "", false},
	}
	for _, tt := range tests {
		got, ok := BearerToken(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, nil)
	token := sign(b, f.iss, with(nurseClaims(), "cognito:groups", []string{"proxy"},
		"custom:grants", `[{"patientId":"pat-1","scope":{"read":true,"write":true,"categories":["prescription"]}}]`))
	ctx := context.Background()
	if _, err := f.v.Verify(ctx, token); err != nil { // warm the key cache
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.v.Verify(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(f.idp.fetches.Load()), "jwks-fetches")
}

func FuzzVerify(f *testing.F) {
	fx := newFixture(f, nil)
	valid := sign(f, fx.iss, nurseClaims())
	f.Add(valid)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	parts := strings.Split(valid, ".")
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Fuzz(func(t *testing.T, token string) {
		p, err := fx.v.Verify(context.Background(), token)
		if err == nil {
			if token != valid {
				// Only the exact signed token may pass (RS256 signatures are
				// not malleable under the parser's strict base64).
				t.Fatalf("a modified token verified: %+v", p)
			}
			return
		}
		var ce *carepost.Error
		if !errors.As(err, &ce) {
			t.Fatalf("error %T is not a *carepost.Error", err)
		}
		assertNoTokenIn(t, err.Error(), token)
	})
}
