// Package linkkeys holds each practice's link key and what is derived from
// it: signed links that work without a login (campaign unsubscribe,
// appointment confirm / cancel) and keyed hashes of e-mail addresses (the
// suppression list is keyed by them, so no address is ever a table key).
//
// # What is secret, and where it lives
//
// A practice's link key is 32 random bytes made on first use, sealed with the
// practice's envelope (KMS data key, AES-256-GCM, Binding Kind
// "practice.secret", ThreadID "links") and stored as a practice secret item.
// A process keeps the opened key for keyCacheTTL. Each use derives its own
// subkey, HMAC-SHA256(link key, "carepost/" + purpose), so a token signed for
// unsubscribing can never pass as an appointment cancel, and an address hash
// can never be replayed as a signature.
//
// # Token format
//
//	base64url(payload) "." base64url(HMAC-SHA256(subkey, payload)[:16])
//	payload = "1|" purpose "|" practice "|" expires-unix (0: none) "|" field "|" field ...
//
// Fields are ids (never patient data), so a token in a URL reveals nothing;
// it cannot be guessed (128-bit tag) or altered (any change breaks the tag),
// and one practice's tokens never verify under another practice's key.
package linkkeys

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

const (
	secretName  = "links"
	keyCacheTTL = 10 * time.Minute
	tagSize     = 16
	maxToken    = 512
)

// SecretStore keeps sealed per-practice secrets (implemented by dynamo.Store).
type SecretStore interface {
	PracticeSecret(ctx context.Context, practiceID, name string) ([]byte, bool, error)
	// PutPracticeSecret stores once; CodeConflict when one exists already.
	PutPracticeSecret(ctx context.Context, practiceID, name string, sealed []byte) error
}

// Keys derives link signatures and address hashes per practice.
type Keys struct {
	Store  SecretStore
	Sealer carepost.Sealer
	Now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	key     []byte
	fetched time.Time
}

// New returns Keys over store and sealer.
func New(store SecretStore, sealer carepost.Sealer) *Keys {
	return &Keys{Store: store, Sealer: sealer, Now: time.Now}
}

func binding(pid string) carepost.Binding {
	return carepost.Binding{PracticeID: pid, Kind: "practice.secret", ThreadID: secretName, Schema: 1}
}

// master returns the practice's link key, making it on first use when
// create is set (verifying never creates: a forged token naming some
// practice must not leave a key behind).
func (k *Keys) master(ctx context.Context, pid string, create bool) ([]byte, error) {
	if pid == "" {
		return nil, carepost.Errorf(carepost.CodeInternal, "link key needs a practice")
	}
	now := k.Now()
	k.mu.Lock()
	if c, ok := k.cache[pid]; ok && now.Sub(c.fetched) < keyCacheTTL {
		k.mu.Unlock()
		return c.key, nil
	}
	k.mu.Unlock()
	for range 3 {
		sealed, found, err := k.Store.PracticeSecret(ctx, pid, secretName)
		if err != nil {
			return nil, err
		}
		if !found && !create {
			return nil, ErrBadLink()
		}
		if !found {
			fresh := make([]byte, 32)
			_, _ = rand.Read(fresh)
			if sealed, err = k.Sealer.Seal(ctx, binding(pid), fresh); err != nil {
				return nil, err
			}
			err = k.Store.PutPracticeSecret(ctx, pid, secretName, sealed)
			if carepost.ErrorCode(err) == carepost.CodeConflict {
				continue // made concurrently by another process: read that one
			}
			if err != nil {
				return nil, err
			}
		}
		key, err := k.Sealer.Open(ctx, binding(pid), sealed)
		if err != nil {
			return nil, err
		}
		k.mu.Lock()
		if k.cache == nil {
			k.cache = map[string]cachedKey{}
		}
		k.cache[pid] = cachedKey{key: key, fetched: now}
		k.mu.Unlock()
		return key, nil
	}
	return nil, carepost.Errorf(carepost.CodeUnavailable, "link key is being created concurrently; retry")
}

func (k *Keys) subkey(ctx context.Context, pid, purpose string, create bool) ([]byte, error) {
	m, err := k.master(ctx, pid, create)
	if err != nil {
		return nil, err
	}
	h := hmac.New(sha256.New, m)
	h.Write([]byte("carepost/" + purpose))
	return h.Sum(nil), nil
}

// Hash returns a keyed hash (32 hex digits) of data for purpose: equal
// inputs give equal hashes within a practice; without the key nothing about
// data can be learnt or tested.
func (k *Keys) Hash(ctx context.Context, pid, purpose, data string) (string, error) {
	sk, err := k.subkey(ctx, pid, "hash/"+purpose, true)
	if err != nil {
		return "", err
	}
	h := hmac.New(sha256.New, sk)
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// NormalizeEmail is the form addresses are compared and hashed in.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// AddressHash is the keyed hash that keys an address's suppression item.
func (k *Keys) AddressHash(ctx context.Context, pid, email string) (string, error) {
	return k.Hash(ctx, pid, "address", NormalizeEmail(email))
}

// Sign makes a token for purpose over fields (ids only, no "|"), valid
// until expires (zero: no expiry).
func (k *Keys) Sign(ctx context.Context, pid, purpose string, fields []string, expires time.Time) (string, error) {
	for _, f := range append([]string{pid, purpose}, fields...) {
		if strings.Contains(f, "|") {
			return "", carepost.Errorf(carepost.CodeInternal, "a token field may not contain |")
		}
	}
	exp := int64(0)
	if !expires.IsZero() {
		exp = expires.Unix()
	}
	payload := "1|" + purpose + "|" + pid + "|" + strconv.FormatInt(exp, 10)
	for _, f := range fields {
		payload += "|" + f
	}
	tag, err := k.tag(ctx, pid, purpose, payload, true)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(tag), nil
}

func (k *Keys) tag(ctx context.Context, pid, purpose, payload string, create bool) ([]byte, error) {
	sk, err := k.subkey(ctx, pid, "link/"+purpose, create)
	if err != nil {
		return nil, err
	}
	h := hmac.New(sha256.New, sk)
	h.Write([]byte(payload))
	return h.Sum(nil)[:tagSize], nil
}

// ErrBadLink is the one answer for a token that is malformed, forged, for
// another purpose or another practice: a link that does not exist.
func ErrBadLink() error { return carepost.NotFound("link") }

// ErrExpired answers a genuine link past its expiry.
func ErrExpired() error {
	return carepost.Errorf(carepost.CodeValidation, "this link has expired; sign in to CarePost instead")
}

// Verify checks token for purpose and returns its practice and fields.
func (k *Keys) Verify(ctx context.Context, token, purpose string) (pid string, fields []string, err error) {
	if len(token) > maxToken {
		return "", nil, ErrBadLink()
	}
	p64, t64, ok := strings.Cut(token, ".")
	if !ok {
		return "", nil, ErrBadLink()
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(p64)
	tag, err2 := base64.RawURLEncoding.DecodeString(t64)
	if err1 != nil || err2 != nil || len(tag) != tagSize {
		return "", nil, ErrBadLink()
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) < 4 || parts[0] != "1" || parts[1] != purpose || parts[2] == "" || !plausibleID(parts[2]) {
		return "", nil, ErrBadLink()
	}
	pid = parts[2]
	want, err := k.tag(ctx, pid, purpose, string(raw), false)
	if err != nil {
		if carepost.IsTransient(err) {
			return "", nil, err
		}
		return "", nil, ErrBadLink()
	}
	if !hmac.Equal(want, tag) {
		return "", nil, ErrBadLink()
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return "", nil, ErrBadLink()
	}
	if exp != 0 && k.Now().Unix() > exp {
		return "", nil, ErrExpired()
	}
	return pid, parts[4:], nil
}

// plausibleID keeps junk practice ids from reaching the store (a forged
// token must not make the store create a key for "practice" ../../x).
func plausibleID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
