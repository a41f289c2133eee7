package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

const (
	// jwksRefetchInterval bounds how often an unknown kid may trigger a
	// fetch: a flood of tokens with invented kids costs at most one request
	// to the identity provider per interval.
	jwksRefetchInterval = 30 * time.Second
	// jwksMaxAge is how long a fetched key set is trusted before the next
	// verification refreshes it, so a key the provider withdrew stops
	// verifying within the hour. If that refresh fails the old set is kept.
	jwksMaxAge = time.Hour
	// jwksFetchTimeout bounds one fetch of the key set.
	jwksFetchTimeout = 10 * time.Second
	// maxJWKSBytes caps the JWKS response; Cognito's is about 1 KB.
	maxJWKSBytes = 1 << 20
	// minRSABits refuses toy keys in a key set.
	minRSABits = 2048
)

// errJWKSUnavailable is the cause when the key set cannot be fetched: a
// dependency failure, not a bad token.
var errJWKSUnavailable = errors.New("jwks unavailable")

// keySet caches the provider's RSA signing keys by kid.
type keySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu        sync.RWMutex
	keys      map[string]*rsa.PublicKey
	fetched   time.Time // last successful fetch
	attempted time.Time // last fetch attempt, successful or not

	fetchMu sync.Mutex // one fetch at a time
}

// key returns the key for kid, fetching the set when it was never fetched,
// is older than jwksMaxAge, or lacks kid and was not fetched within
// jwksRefetchInterval.
func (s *keySet) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	s.mu.RLock()
	k, ok := s.keys[kid]
	fresh := !s.fetched.IsZero() && s.now().Sub(s.fetched) < jwksMaxAge
	s.mu.RUnlock()
	if ok && fresh {
		return k, nil
	}

	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	// Another caller may have fetched while this one waited.
	s.mu.RLock()
	k, ok = s.keys[kid]
	fresh = !s.fetched.IsZero() && s.now().Sub(s.fetched) < jwksMaxAge
	recent := !s.attempted.IsZero() && s.now().Sub(s.attempted) < jwksRefetchInterval
	never := s.fetched.IsZero()
	s.mu.RUnlock()
	switch {
	case ok && fresh:
		return k, nil
	case recent && !never:
		// Fetched (or tried) moments ago: answer from what we have.
		if ok {
			return k, nil
		}
		return nil, errUnknownKid
	case recent && never:
		return nil, errJWKSUnavailable
	}

	// The fetch outlives a caller that gives up: its result serves everyone.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jwksFetchTimeout)
	keys, err := s.fetch(fctx)
	cancel()
	s.mu.Lock()
	s.attempted = s.now()
	if err == nil {
		s.keys, s.fetched = keys, s.attempted
	}
	s.mu.Unlock()
	if err != nil {
		if ok { // keep serving a known key while the provider is down
			return k, nil
		}
		return nil, err
	}
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, errUnknownKid
}

var errUnknownKid = errors.New("unknown signing key")

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

func (s *keySet) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errJWKSUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errJWKSUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: status %d", errJWKSUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errJWKSUnavailable, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("%w: key set larger than %d bytes", errJWKSUnavailable, maxJWKSBytes)
	}
	return parseJWKS(body)
}

// parseJWKS keeps the RSA signature keys of a JWK set; other keys are
// skipped, and a set without a usable key is an error.
func parseJWKS(body []byte) (map[string]*rsa.PublicKey, error) {
	var set jwkSet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("%w: key set is not JSON", errJWKSUnavailable)
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		pub, err := rsaKey(k.N, k.E)
		if err != nil {
			continue
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: key set has no usable RS256 key", errJWKSUnavailable)
	}
	return keys, nil
}

func rsaKey(n64, e64 string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(n64)
	if err != nil {
		return nil, err
	}
	eb, err := base64.RawURLEncoding.DecodeString(e64)
	if err != nil {
		return nil, err
	}
	if len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("bad exponent")
	}
	e := 0
	for _, b := range eb {
		e = e<<8 | int(b)
	}
	n := new(big.Int).SetBytes(nb)
	if n.BitLen() < minRSABits || e < 3 || e%2 == 0 {
		return nil, errors.New("weak key")
	}
	return &rsa.PublicKey{N: n, E: e}, nil
}

// jwkFor renders pub as a JWK with kid.
func jwkFor(kid string, pub *rsa.PublicKey) jwk {
	return jwk{
		Kty: "RSA", Kid: kid, Use: "sig", Alg: "RS256",
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}
