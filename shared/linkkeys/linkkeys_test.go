package linkkeys

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// fakeSealer "seals" by prefixing a hash of the binding: opening under
// another binding fails, as with the real envelope.
type fakeSealer struct{}

func bindingTag(b carepost.Binding) []byte {
	h := sha256.Sum256([]byte(fmt.Sprintf("%#v", b)))
	return h[:8]
}

func (fakeSealer) Seal(ctx context.Context, b carepost.Binding, p []byte) ([]byte, error) {
	return append(bindingTag(b), p...), nil
}

func (fakeSealer) Open(ctx context.Context, b carepost.Binding, s []byte) ([]byte, error) {
	if len(s) < 8 || !bytes.Equal(s[:8], bindingTag(b)) {
		return nil, carepost.Errorf(carepost.CodeInternal, "integrity")
	}
	return s[8:], nil
}

type fakeStore struct {
	mu      sync.Mutex
	secrets map[string][]byte
	puts    int
}

func (f *fakeStore) PracticeSecret(ctx context.Context, pid, name string) ([]byte, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.secrets[pid+"/"+name]
	return v, ok, nil
}

func (f *fakeStore) PutPracticeSecret(ctx context.Context, pid, name string, sealed []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.secrets[pid+"/"+name]; ok {
		return carepost.Errorf(carepost.CodeConflict, "exists")
	}
	f.puts++
	f.secrets[pid+"/"+name] = sealed
	return nil
}

func newKeys() (*Keys, *fakeStore) {
	st := &fakeStore{secrets: map[string][]byte{}}
	return New(st, fakeSealer{}), st
}

func TestSignVerify(t *testing.T) {
	ctx := context.Background()
	k, _ := newKeys()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	k.Now = func() time.Time { return now }
	good, err := k.Sign(ctx, "clinic-a", "unsubscribe", []string{"campaign", "c1", "r1"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	expiring, _ := k.Sign(ctx, "clinic-a", "appointment-cancel", []string{"a1"}, now.Add(time.Hour))
	expired, _ := k.Sign(ctx, "clinic-a", "appointment-cancel", []string{"a1"}, now.Add(-time.Second))
	otherPractice, _ := k.Sign(ctx, "clinic-b", "unsubscribe", []string{"campaign", "c1", "r1"}, time.Time{})
	p64, t64, _ := strings.Cut(good, ".")
	// The same payload under practice B's name: the tag is A's, so B's key rejects it.
	bPayload := strings.Replace(good, p64, strings.Split(otherPractice, ".")[0], 1)
	flipped := p64 + "." + string(t64[0]^1) + t64[1:]

	for _, tc := range []struct {
		name, token, purpose string
		wantCode             carepost.Code
		wantPID              string
		wantFields           []string
	}{
		{"good", good, "unsubscribe", "", "clinic-a", []string{"campaign", "c1", "r1"}},
		{"good, not expired", expiring, "appointment-cancel", "", "clinic-a", []string{"a1"}},
		{"expired", expired, "appointment-cancel", carepost.CodeValidation, "", nil},
		{"wrong purpose", good, "appointment-cancel", carepost.CodeNotFound, "", nil},
		{"tag from another practice", bPayload, "unsubscribe", carepost.CodeNotFound, "", nil},
		{"flipped tag", flipped, "unsubscribe", carepost.CodeNotFound, "", nil},
		{"no dot", p64, "unsubscribe", carepost.CodeNotFound, "", nil},
		{"garbage", "!!!.???", "unsubscribe", carepost.CodeNotFound, "", nil},
		{"empty", "", "unsubscribe", carepost.CodeNotFound, "", nil},
		{"too long", strings.Repeat("a", 600) + "." + t64, "unsubscribe", carepost.CodeNotFound, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pid, fields, err := k.Verify(ctx, tc.token, tc.purpose)
			if got, want := carepost.ErrorCode(err), tc.wantCode; got != want {
				t.Fatalf("code = %q, want %q (%v)", got, want, err)
			}
			if got, want := pid, tc.wantPID; got != want {
				t.Errorf("practice = %q, want %q", got, want)
			}
			if got, want := strings.Join(fields, ","), strings.Join(tc.wantFields, ","); got != want {
				t.Errorf("fields = %q, want %q", got, want)
			}
		})
	}
}

func TestVerifyNeverCreatesAKey(t *testing.T) {
	ctx := context.Background()
	k, st := newKeys()
	other, _ := newKeys()
	forged, _ := other.Sign(ctx, "no-such-practice", "unsubscribe", []string{"campaign", "c", "r"}, time.Time{})
	if _, _, err := k.Verify(ctx, forged, "unsubscribe"); carepost.ErrorCode(err) != carepost.CodeNotFound {
		t.Fatalf("verify of a token for a practice without a key: %v, want not found", err)
	}
	if got, want := st.puts, 0; got != want {
		t.Fatalf("keys created by Verify = %d, want %d", got, want)
	}
}

func TestAddressHash(t *testing.T) {
	ctx := context.Background()
	k, st := newKeys()
	a1, _ := k.AddressHash(ctx, "clinic-a", "Ada@Example.test ")
	a2, _ := k.AddressHash(ctx, "clinic-a", "ada@example.test")
	b1, _ := k.AddressHash(ctx, "clinic-b", "ada@example.test")
	other, _ := k.AddressHash(ctx, "clinic-a", "bob@example.test")
	if a1 != a2 {
		t.Errorf("case and spaces change the hash: %s vs %s", a1, a2)
	}
	if a1 == b1 || a1 == other {
		t.Errorf("hashes collide across practices or addresses")
	}
	if strings.Contains(a1, "ada") || len(a1) != 32 {
		t.Errorf("hash %q is not 32 hex digits", a1)
	}
	// A second Keys over the same store (another process) agrees.
	k2 := New(st, fakeSealer{})
	if again, _ := k2.AddressHash(ctx, "clinic-a", "ada@example.test"); again != a1 {
		t.Errorf("another process computes %s, want %s", again, a1)
	}
	if got, want := st.puts, 2; got != want {
		t.Errorf("keys made = %d, want one per practice (%d)", got, want)
	}
}

func TestConcurrentFirstUseMakesOneKey(t *testing.T) {
	ctx := context.Background()
	st := &fakeStore{secrets: map[string][]byte{}}
	var wg sync.WaitGroup
	hashes := make([]string, 8)
	for i := range hashes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hashes[i], _ = New(st, fakeSealer{}).AddressHash(ctx, "clinic-a", "x@y.test")
		}()
	}
	wg.Wait()
	for _, h := range hashes {
		if h != hashes[0] || h == "" {
			t.Fatalf("processes disagree on the key: %v", hashes)
		}
	}
}
