package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/golang-jwt/jwt/v5"
)

// LocalIssuerConfig configures the dev stack's token issuer.
type LocalIssuerConfig struct {
	// Issuer is the iss of minted tokens and the base of the JWKS URL, e.g.
	// "http://127.0.0.1:8080/local-idp".
	Issuer string
	// Audience is the aud of minted tokens (Cognito's app client id).
	Audience string
	// KeyPath, if set, is a PEM file holding the RSA signing key. It is read
	// if it exists and created (mode 0600) if not, so tokens survive a
	// restart of the dev stack. Empty: a fresh key in memory.
	KeyPath string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// LocalIssuer stands in for a Cognito user pool in the dev stack: it mints
// RS256 ID tokens with Cognito's claim names and publishes its key as a JWKS,
// so Verifier checks local tokens exactly as it checks Cognito's. It is not an
// identity provider for production: anyone who can call Mint can be anyone.
type LocalIssuer struct {
	cfg LocalIssuerConfig
	key *rsa.PrivateKey
	kid string
}

// DefaultTokenTTL is the lifetime of a minted token when Mint is given none;
// Cognito's default ID-token lifetime is one hour too.
const DefaultTokenTTL = time.Hour

// NewLocalIssuer loads or generates the signing key.
func NewLocalIssuer(cfg LocalIssuerConfig) (*LocalIssuer, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("auth: local issuer needs an issuer and an audience")
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key, err := loadOrCreateKey(cfg.KeyPath)
	if err != nil {
		return nil, err
	}
	return &LocalIssuer{cfg: cfg, key: key, kid: thumbprint(&key.PublicKey)}, nil
}

func loadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	if path == "" {
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("auth: local issuer key directory: %w", err)
		}
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, fmt.Errorf("auth: writing local issuer key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: reading local issuer key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("auth: %s holds no PEM block", path)
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		var k any
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		if err == nil {
			var ok bool
			if key, ok = k.(*rsa.PrivateKey); !ok {
				err = errors.New("not an RSA key")
			}
		}
	default:
		err = fmt.Errorf("unexpected PEM type %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: parsing local issuer key %s: %w", path, err)
	}
	if key.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("auth: local issuer key %s is shorter than %d bits", path, minRSABits)
	}
	return key, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of pub: a kid that changes when
// the key does.
func thumbprint(pub *rsa.PublicKey) string {
	j := jwkFor("", pub)
	sum := sha256.Sum256([]byte(`{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Issuer is the iss of minted tokens.
func (i *LocalIssuer) Issuer() string { return i.cfg.Issuer }

// Audience is the aud of minted tokens.
func (i *LocalIssuer) Audience() string { return i.cfg.Audience }

// JWKSURL is where Handler publishes the key, assuming Handler is mounted at
// the issuer URL.
func (i *LocalIssuer) JWKSURL() string { return i.cfg.Issuer + "/.well-known/jwks.json" }

// KeyID is the kid of the signing key.
func (i *LocalIssuer) KeyID() string { return i.kid }

// Handler serves GET <prefix>/.well-known/jwks.json and
// <prefix>/.well-known/openid-configuration. It matches on the path suffix,
// so it works mounted at the issuer's path with or without http.StripPrefix.
func (i *LocalIssuer) Handler() http.Handler {
	jwks, _ := json.Marshal(jwkSet{Keys: []jwk{jwkFor(i.kid, &i.key.PublicKey)}})
	oidc, _ := json.Marshal(map[string]any{
		"issuer":                                i.cfg.Issuer,
		"jwks_uri":                              i.JWKSURL(),
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"subject_types_supported":               []string{"public"},
		"response_types_supported":              []string{"code", "token"},
		"claims_supported":                      []string{"iss", "aud", "sub", "token_use", "auth_time", "iat", "exp", ClaimGroups, AttrPracticeID, AttrPatientID, AttrGrants, AttrName, AttrEmail},
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/jwks.json"):
			body = jwks
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			body = oidc
		default:
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(body)
	})
}

// Mint signs an ID token for u that lives ttl (DefaultTokenTTL if ttl <= 0),
// with Cognito's claim names: iss, aud, sub, token_use="id", auth_time, iat,
// exp, jti, cognito:username, cognito:groups, custom:practice_id,
// custom:patient_id, custom:grants, name, email. Custom attributes that are
// empty are left out, as Cognito leaves out unset attributes.
func (i *LocalIssuer) Mint(u User, ttl time.Duration) (string, error) {
	if u.Subject == "" {
		return "", carepost.Errorf(carepost.CodeInvalid, "a token needs a subject")
	}
	if msg, ok := checkAccount(u.Role, u.PracticeID, u.PatientID); !ok {
		return "", carepost.Errorf(carepost.CodeInvalid, "cannot mint a token: %s", msg)
	}
	if u.Disabled {
		return "", carepost.Errorf(carepost.CodeForbidden, "account is disabled")
	}
	grants, err := EncodeGrants(u.Grants)
	if err != nil {
		return "", err
	}
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	now := i.cfg.Now().Truncate(time.Second)
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	claims := jwt.MapClaims{
		"iss":              i.cfg.Issuer,
		"aud":              i.cfg.Audience, // a string, as in Cognito ID tokens
		"sub":              u.Subject,
		"token_use":        "id",
		"auth_time":        now.Unix(),
		"iat":              now.Unix(),
		"exp":              now.Add(ttl).Unix(),
		"jti":              base64.RawURLEncoding.EncodeToString(jti),
		"cognito:username": u.Subject,
		ClaimGroups:        []string{string(u.Role)},
	}
	for name, v := range map[string]string{AttrPracticeID: u.PracticeID, AttrPatientID: u.PatientID, AttrGrants: grants, AttrName: u.Name, AttrEmail: u.Email} {
		if v != "" {
			claims[name] = v
		}
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = i.kid
	s, err := t.SignedString(i.key)
	if err != nil {
		return "", carepost.Wrap(carepost.CodeInternal, err, "token could not be signed")
	}
	return s, nil
}
