package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/golang-jwt/jwt/v5"
)

// Leeway is the clock skew tolerated on exp, nbf and iat.
const Leeway = 60 * time.Second

// maxTokenLen refuses absurd bearer tokens before any parsing. A Cognito ID
// token with the largest custom:grants is well under 8 KB.
const maxTokenLen = 16 << 10

// VerifierConfig says which tokens to trust.
type VerifierConfig struct {
	// JWKSURL is where the signing keys are published:
	// https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json
	// in AWS, LocalIssuer.JWKSURL() locally.
	JWKSURL string
	// Issuer must equal the token's iss exactly.
	Issuer string
	// Audience must be among the token's aud (the Cognito app client id).
	Audience string
	// HTTPClient fetches the JWKS; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Revoked, if set, is asked on every verification whether the subject's
	// access was withdrawn (account disabled) after the token was issued:
	// disabling an account must end access at once, not when the token
	// expires. An error from it fails the request as unavailable.
	Revoked func(ctx context.Context, subject string) (bool, error)
}

// Verifier checks bearer tokens and maps them to principals. It is safe for
// concurrent use; build one per process and share it.
type Verifier struct {
	cfg       VerifierConfig
	misconfig string // non-empty: every Verify fails as internal
	keys      *keySet
	parser    *jwt.Parser
}

// NewVerifier builds a Verifier. It does not fetch the key set until the
// first token arrives. A config without JWKSURL, Issuer or Audience yields a
// Verifier that rejects every token as an internal error, never one that
// skips the missing check.
func NewVerifier(cfg VerifierConfig) *Verifier {
	misconfig := ""
	switch {
	case cfg.JWKSURL == "":
		misconfig = "no JWKS URL"
	case cfg.Issuer == "":
		misconfig = "no issuer"
	case cfg.Audience == "":
		misconfig = "no audience"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: jwksFetchTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Verifier{
		cfg:       cfg,
		misconfig: misconfig,
		keys:      &keySet{url: cfg.JWKSURL, client: cfg.HTTPClient, now: cfg.Now},
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}), // no "none", no HS256 with the public key
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(Leeway),
			jwt.WithStrictDecoding(), // one encoding per token: no malleable padding bits
			jwt.WithTimeFunc(cfg.Now),
		),
	}
}

// BearerToken extracts the token from an Authorization header value
// ("Bearer <token>", scheme case-insensitive). ok is false when the header is
// missing, uses another scheme or carries no token.
func BearerToken(authorizationHeader string) (string, bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(authorizationHeader), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", false
	}
	return token, true
}

// Verify checks a bearer token (without the "Bearer " prefix) and returns the
// principal it names. Every failure is a *carepost.Error: CodeUnauthenticated
// when the token is not acceptable, CodeUnavailable (transient) when the key
// set or the Revoked hook cannot be reached. Neither the message nor the
// wrapped cause contains any part of the token.
//
// The returned principal has no SourceIP; the HTTP layer adds it.
func (v *Verifier) Verify(ctx context.Context, bearer string) (carepost.Principal, error) {
	if v.misconfig != "" {
		return carepost.Principal{}, carepost.Errorf(carepost.CodeInternal, "token verifier is misconfigured: %s", v.misconfig)
	}
	if bearer == "" {
		return carepost.Principal{}, unauthenticated("bearer token missing", nil)
	}
	if len(bearer) > maxTokenLen {
		return carepost.Principal{}, unauthenticated("bearer token is not valid", errTokenTooLong)
	}
	var c idClaims
	_, err := v.parser.ParseWithClaims(bearer, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errNoKid
		}
		return v.keys.key(ctx, kid)
	})
	if err != nil {
		return carepost.Principal{}, classify(err)
	}
	if c.TokenUse != "id" { // Cognito ID tokens always carry it; access tokens say "access"
		return carepost.Principal{}, unauthenticated("bearer token is not an ID token", errWrongTokenUse)
	}
	if c.Subject == "" {
		return carepost.Principal{}, unauthenticated("bearer token has no subject", jwt.ErrTokenRequiredClaimMissing)
	}
	p, err := principalFrom(&c)
	if err != nil {
		return carepost.Principal{}, err
	}
	if v.cfg.Revoked != nil {
		revoked, err := v.cfg.Revoked(ctx, p.Subject)
		if err != nil {
			return carepost.Principal{}, carepost.Unavailable(err, "account status")
		}
		if revoked {
			return carepost.Principal{}, unauthenticated("account is disabled", errRevoked)
		}
	}
	return p, nil
}

// principalFrom maps verified claims to a principal.
func principalFrom(c *idClaims) (carepost.Principal, error) {
	role, ok := RoleFromGroups(c.Groups)
	if !ok {
		return carepost.Principal{}, unauthenticated("bearer token carries no known role", errNoRole)
	}
	if msg, ok := checkAccount(role, c.PracticeID, c.PatientID); !ok {
		return carepost.Principal{}, unauthenticated("bearer token: "+msg, errBadAccount)
	}
	p := carepost.Principal{
		Subject:    c.Subject,
		Role:       role,
		PracticeID: c.PracticeID,
		Name:       c.Name,
	}
	switch role {
	case carepost.RolePatient:
		p.PatientID = c.PatientID
	case carepost.RoleProxy:
		// Grants matter only for proxies; on any other role they are ignored
		// rather than trusted.
		grants, err := DecodeGrants(c.Grants)
		if err != nil {
			return carepost.Principal{}, unauthenticated("bearer token has malformed proxy grants", errBadGrants)
		}
		p.Grants = grants
	}
	return p, nil
}

// Causes wrapped in the errors Verify returns: fixed sentinels, so that a log
// line never carries text derived from the token.
var (
	errTokenTooLong  = errors.New("token too long")
	errNoKid         = errors.New("token header has no kid")
	errWrongTokenUse = errors.New("token_use is not id")
	errNoRole        = errors.New("no role group")
	errBadAccount    = errors.New("account attributes incomplete")
	errBadGrants     = errors.New("malformed custom:grants")
	errRevoked       = errors.New("subject revoked")
	errMalformed     = errors.New("token malformed or unverifiable")
)

// classify turns a jwt error into a safe carepost.Error.
func classify(err error) *carepost.Error {
	if errors.Is(err, errJWKSUnavailable) {
		return carepost.Unavailable(errJWKSUnavailable, "identity provider keys")
	}
	for _, c := range []struct {
		sentinel error
		msg      string
	}{
		{jwt.ErrTokenExpired, "bearer token expired"},
		{jwt.ErrTokenNotValidYet, "bearer token is not valid yet"},
		{jwt.ErrTokenUsedBeforeIssued, "bearer token issued in the future"},
		{jwt.ErrTokenInvalidIssuer, "bearer token has the wrong issuer"},
		{jwt.ErrTokenInvalidAudience, "bearer token has the wrong audience"},
		{jwt.ErrTokenRequiredClaimMissing, "bearer token lacks a required claim"},
		{jwt.ErrTokenSignatureInvalid, "bearer token signature is invalid"},
		{errUnknownKid, "bearer token signed with an unknown key"},
		{errNoKid, "bearer token is not valid"},
	} {
		if errors.Is(err, c.sentinel) {
			return unauthenticated(c.msg, c.sentinel)
		}
	}
	return unauthenticated("bearer token is not valid", errMalformed)
}

func unauthenticated(msg string, cause error) *carepost.Error {
	return &carepost.Error{Code: carepost.CodeUnauthenticated, Message: msg, Err: cause}
}
