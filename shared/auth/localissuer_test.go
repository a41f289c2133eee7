package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

func TestMintClaimNames(t *testing.T) {
	c := &clock{now: t0}
	iss := newTestIssuer(t, c)
	tok, err := iss.Mint(User{
		Subject: "sub-px", Email: "pat@example.org", Name: "Pat Proxy", Role: carepost.RoleProxy, PracticeID: "prac-1",
		Grants: []carepost.Grant{{PatientID: "pat-1", Scope: carepost.ProxyScope{Read: true}, Expires: t0.Add(24 * time.Hour)}},
	}, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if got, want := len(parts), 3; got != want {
		t.Fatalf("token has %d parts, want %d", got, want)
	}
	var header, claims map[string]any
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := header["alg"], "RS256"; got != want {
		t.Errorf("alg = %v, want %v", got, want)
	}
	if got, want := header["kid"], iss.KeyID(); got != want {
		t.Errorf("kid = %v, want %v", got, want)
	}
	var names []string
	for k := range claims {
		names = append(names, k)
	}
	slices.Sort(names)
	want := []string{"aud", "auth_time", "cognito:groups", "cognito:username", "custom:grants", "custom:practice_id", "email", "exp", "iat", "iss", "jti", "name", "sub", "token_use"}
	if !slices.Equal(names, want) {
		t.Errorf("claim names = %v, want %v", names, want)
	}
	for name, want := range map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "sub-px", "token_use": "id",
		"iat": float64(t0.Unix()), "exp": float64(t0.Add(15 * time.Minute).Unix()), "auth_time": float64(t0.Unix()),
		"custom:practice_id": "prac-1", "email": "pat@example.org", "name": "Pat Proxy",
		"custom:grants": `[{"patientId":"pat-1","scope":{"read":true,"write":false},"expires":"2026-03-03T09:00:00Z"}]`,
	} {
		if got := claims[name]; got != want {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	if got, ok := claims["cognito:groups"].([]any); !ok || len(got) != 1 || got[0] != "proxy" {
		t.Errorf("cognito:groups = %#v, want [proxy]", claims["cognito:groups"])
	}
}

func TestMintRefuses(t *testing.T) {
	iss := newTestIssuer(t, &clock{now: t0})
	tests := []struct {
		name string
		u    User
	}{
		{"no subject", User{Role: carepost.RoleNurse, PracticeID: "p"}},
		{"no role", User{Subject: "s", PracticeID: "p"}},
		{"unknown role", User{Subject: "s", Role: "superuser", PracticeID: "p"}},
		{"staff without practice", User{Subject: "s", Role: carepost.RoleAdmin}},
		{"patient without patient id", User{Subject: "s", Role: carepost.RolePatient, PracticeID: "p"}},
		{"disabled", User{Subject: "s", Role: carepost.RoleNurse, PracticeID: "p", Disabled: true}},
		{"grant without patient", User{Subject: "s", Role: carepost.RoleProxy, PracticeID: "p", Grants: []carepost.Grant{{Scope: carepost.ProxyScope{Read: true}}}}},
	}
	for _, tt := range tests {
		if tok, err := iss.Mint(tt.u, time.Hour); err == nil {
			t.Errorf("%s: Mint = %d-byte token, want an error", tt.name, len(tok))
		}
	}
}

func TestLocalIssuerHandler(t *testing.T) {
	iss := newTestIssuer(t, &clock{now: t0})
	mux := http.NewServeMux()
	mux.Handle("/local-idp/", iss.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		path   string
		status int
		check  func(t *testing.T, body map[string]any)
	}{
		{"/local-idp/.well-known/jwks.json", 200, func(t *testing.T, body map[string]any) {
			keys, _ := body["keys"].([]any)
			if got, want := len(keys), 1; got != want {
				t.Fatalf("%d keys, want %d", got, want)
			}
			k := keys[0].(map[string]any)
			for name, want := range map[string]any{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": iss.KeyID(), "e": "AQAB"} {
				if got := k[name]; got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
		}},
		{"/local-idp/.well-known/openid-configuration", 200, func(t *testing.T, body map[string]any) {
			if got, want := body["issuer"], testIssuer; got != want {
				t.Errorf("issuer = %v, want %v", got, want)
			}
			if got, want := body["jwks_uri"], testIssuer+"/.well-known/jwks.json"; got != want {
				t.Errorf("jwks_uri = %v, want %v", got, want)
			}
		}},
		{"/local-idp/other", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := srv.Client().Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got, want := resp.StatusCode, tt.status; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			if tt.check == nil {
				return
			}
			if got, want := resp.Header.Get("Content-Type"), "application/json"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			b, _ := io.ReadAll(resp.Body)
			var body map[string]any
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatal(err)
			}
			tt.check(t, body)
		})
	}
	resp, err := srv.Client().Post(srv.URL+"/local-idp/.well-known/jwks.json", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusMethodNotAllowed; got != want {
		t.Errorf("POST status = %d, want %d", got, want)
	}
}

// A token minted before a restart still verifies after it when the key is
// kept in a file.
func TestLocalIssuerKeyFileSurvivesRestart(t *testing.T) {
	c := &clock{now: t0}
	path := filepath.Join(t.TempDir(), "idp", "signing-key.pem")
	cfg := LocalIssuerConfig{Issuer: testIssuer, Audience: testAudience, KeyPath: path, Now: c.Now}
	first, err := NewLocalIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("key file mode = %v, want %v", got, want)
	}
	tok, err := first.Mint(User{Subject: "s1", Role: carepost.RoleClinician, PracticeID: "p1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	second, err := NewLocalIssuer(cfg) // the restart
	if err != nil {
		t.Fatal(err)
	}
	if got, want := second.KeyID(), first.KeyID(); got != want {
		t.Errorf("kid after restart = %q, want %q", got, want)
	}
	p := newIDP(t, second)
	v := NewVerifier(VerifierConfig{JWKSURL: p.jwksURL(), Issuer: testIssuer, Audience: testAudience, HTTPClient: p.srv.Client(), Now: c.Now})
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("token from before the restart: %v", err)
	}
	if got.Subject != "s1" || got.Role != carepost.RoleClinician {
		t.Errorf("principal = %+v", got)
	}

	// Without a key file every start has a new key.
	a, _ := NewLocalIssuer(LocalIssuerConfig{Issuer: testIssuer, Audience: testAudience})
	b, _ := NewLocalIssuer(LocalIssuerConfig{Issuer: testIssuer, Audience: testAudience})
	if a.KeyID() == b.KeyID() {
		t.Error("two in-memory issuers share a key")
	}

	if err := os.WriteFile(path, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLocalIssuer(cfg); err == nil {
		t.Error("a corrupt key file was accepted")
	}
}
