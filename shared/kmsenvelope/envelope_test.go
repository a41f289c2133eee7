package kmsenvelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/carepost/carepost/shared/carepost"
)

const testKeyID = "arn:aws:kms:eu-west-1:111122223333:key/fake"

func newTestEnvelope(k KMS, opt Options) *Envelope {
	if opt.KeyID == "" {
		opt.KeyID = testKeyID
	}
	return New(k, opt)
}

func TestSealOpenRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newTestEnvelope(newWrappingKMS(), Options{})
	big := bytes.Repeat([]byte("0123456789"), 10_000)
	tests := []struct {
		name  string
		bind  func(Binding) Binding
		plain []byte
	}{
		{"message body", nil, []byte(testPlaintext)},
		{"empty body", nil, []byte{}},
		{"100 KB form", func(b Binding) Binding { b.Kind = KindMessageForm; return b }, big},
		{"subject", func(b Binding) Binding { b.Kind, b.MessageID, b.SenderID = KindThreadSubject, "", ""; return b }, []byte("Dose question")},
		{"patient contact, zero time", func(b Binding) Binding {
			return Binding{PracticeID: b.PracticeID, Kind: KindPatientContact, MessageID: "pat-7"}
		}, []byte(`{"phone":"+44 20 7946 0000"}`)},
		{"local time zone", func(b Binding) Binding { b.Time = b.Time.In(time.FixedZone("X", 3600)); return b }, []byte("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBinding("prac-1")
			if tt.bind != nil {
				b = tt.bind(b)
			}
			sealed, err := e.Seal(ctx, b, tt.plain)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(sealed), len(tt.plain)+31+fakeBlobSize; got != want {
				t.Errorf("sealed size = %d, want %d", got, want)
			}
			if got, want := sealed[0], byte(Version); got != want {
				t.Errorf("version byte = %d, want %d", got, want)
			}
			if len(tt.plain) > 16 && bytes.Contains(sealed, tt.plain[:16]) {
				t.Errorf("sealed value contains plaintext")
			}
			// The same instant in another zone is the same binding.
			b.Time = b.Time.UTC()
			got, err := e.Open(ctx, b, sealed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.plain) {
				t.Errorf("Open = %d bytes, want the %d sealed", len(got), len(tt.plain))
			}
		})
	}
	if got, want := e.Stats(), (Stats{KMSGenerateCalls: 1, Seals: uint64(len(tests)), Opens: uint64(len(tests))}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func TestSealsDifferEachTime(t *testing.T) {
	ctx := context.Background()
	e := newTestEnvelope(newWrappingKMS(), Options{})
	b := testBinding("prac-1")
	s1, _ := e.Seal(ctx, b, []byte(testPlaintext))
	s2, _ := e.Seal(ctx, b, []byte(testPlaintext))
	if bytes.Equal(s1, s2) {
		t.Fatal("two seals of the same value are equal: nonce reused")
	}
	n := len(s1) - len(testPlaintext) - tagSize - nonceSize
	if !bytes.Equal(s1[:n], s2[:n]) {
		t.Error("two seals in a row used different data keys")
	}
	if bytes.Equal(s1[n:n+nonceSize], s2[n:n+nonceSize]) {
		t.Error("two seals in a row used the same nonce")
	}
}

func TestTamperFake(t *testing.T) {
	w := newWrappingKMS()
	runTamperTests(t, func() *Envelope { return newTestEnvelope(w, Options{}) }, "prac-A", "prac-B")
}

func TestAssociatedDataIsInjective(t *testing.T) {
	base := testBinding("p")
	variants := []Binding{base}
	add := func(f func(*Binding)) {
		b := base
		f(&b)
		variants = append(variants, b)
	}
	add(func(b *Binding) { b.PracticeID = "p" + b.Kind[:1]; b.Kind = b.Kind[1:] }) // boundary shift
	add(func(b *Binding) { b.Kind = b.Kind + b.ThreadID[:1]; b.ThreadID = b.ThreadID[1:] })
	add(func(b *Binding) { b.ThreadID = b.ThreadID + b.MessageID[:1]; b.MessageID = b.MessageID[1:] })
	add(func(b *Binding) { b.MessageID = b.MessageID + b.SenderID[:1]; b.SenderID = b.SenderID[1:] })
	add(func(b *Binding) { b.SenderID = "" })
	add(func(b *Binding) { b.Time = b.Time.Add(time.Nanosecond) })
	add(func(b *Binding) { b.Time = b.Time.Add(time.Second) })
	add(func(b *Binding) { b.Time = time.Time{} })
	add(func(b *Binding) { b.Schema = -1 })
	add(func(b *Binding) { b.Schema = 0 })
	seen := map[string]int{}
	for i, b := range variants {
		ad := string(appendAD(nil, b))
		if j, ok := seen[ad]; ok {
			t.Errorf("bindings %d and %d give the same associated data", j, i)
		}
		seen[ad] = i
	}
}

func TestBadBindingAndConfig(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		keyID string
		bind  func(Binding) Binding
	}{
		{"no practice", testKeyID, func(b Binding) Binding { b.PracticeID = ""; return b }},
		{"no kind", testKeyID, func(b Binding) Binding { b.Kind = ""; return b }},
		{"field too long", testKeyID, func(b Binding) Binding { b.ThreadID = strings.Repeat("t", maxBoundField+1); return b }},
		{"no KMS key", "", func(b Binding) Binding { return b }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWrappingKMS()
			e := New(w, Options{KeyID: tt.keyID})
			_, err := e.Seal(ctx, tt.bind(testBinding("prac-1")), []byte("x"))
			if got, want := carepost.ErrorCode(err), carepost.CodeInternal; got != want {
				t.Errorf("Seal error code = %q, want %q (%v)", got, want, err)
			}
			if got := e.Stats().KMSGenerateCalls; got != 0 {
				t.Errorf("KMS called %d times for a bad request", got)
			}
		})
	}
}

func TestGenerateDataKeyRequest(t *testing.T) {
	w := newWrappingKMS()
	var got *kms.GenerateDataKeyInput
	inner := w.GenerateDataKeyFn
	w.GenerateDataKeyFn = func(ctx context.Context, in *kms.GenerateDataKeyInput) (*kms.GenerateDataKeyOutput, error) {
		got = in
		return inner(ctx, in)
	}
	var dec *kms.DecryptInput
	innerDec := w.DecryptFn
	w.DecryptFn = func(ctx context.Context, in *kms.DecryptInput) (*kms.DecryptOutput, error) {
		dec = in
		return innerDec(ctx, in)
	}
	ctx := context.Background()
	sealed, err := newTestEnvelope(w, Options{}).Seal(ctx, testBinding("prac-9"), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *got.KeyId, testKeyID; got != want {
		t.Errorf("KeyId = %q, want %q", got, want)
	}
	if got, want := got.KeySpec, types.DataKeySpecAes256; got != want {
		t.Errorf("KeySpec = %q, want %q", got, want)
	}
	if got, want := fmt.Sprint(got.EncryptionContext), "map[app:carepost practice:prac-9]"; got != want {
		t.Errorf("EncryptionContext = %s, want %s", got, want)
	}
	if _, err := newTestEnvelope(w, Options{}).Open(ctx, testBinding("prac-9"), sealed); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(dec.EncryptionContext), "map[app:carepost practice:prac-9]"; got != want {
		t.Errorf("Decrypt EncryptionContext = %s, want %s", got, want)
	}
}

func TestPlaintextKeysAreWiped(t *testing.T) {
	ctx := context.Background()
	w := newWrappingKMS()
	writer := newTestEnvelope(w, Options{MaxMessages: 2})
	reader := newTestEnvelope(w, Options{})
	for i := range 5 {
		b := testBinding("prac-1")
		b.MessageID = fmt.Sprint(i)
		s, err := writer.Seal(ctx, b, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reader.Open(ctx, b, s); err != nil {
			t.Fatal(err)
		}
	}
	handed, wiped := w.allWiped()
	if got, want := handed, 6; got != want { // 3 generated, 3 unwrapped
		t.Errorf("KMS handed out %d plaintext keys, want %d", got, want)
	}
	if !wiped {
		t.Error("a plaintext key from KMS was not zeroed")
	}
}

func TestWriteCacheMaxMessages(t *testing.T) {
	tests := []struct {
		max, seals int
		wantCalls  uint64
	}{
		{1, 5, 5},
		{3, 10, 4},
		{1000, 1000, 1},
		{1000, 1001, 2},
		{0, 2500, 3}, // default 1000
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("max %d seals %d", tt.max, tt.seals), func(t *testing.T) {
			ctx := context.Background()
			e := newTestEnvelope(newWrappingKMS(), Options{MaxMessages: tt.max})
			for range tt.seals {
				if _, err := e.Seal(ctx, testBinding("prac-1"), []byte("x")); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := e.Stats().KMSGenerateCalls, tt.wantCalls; got != want {
				t.Errorf("GenerateDataKey calls = %d, want %d", got, want)
			}
		})
	}
}

// The read side keeps an unwrapped key for at most MaxMessages opens, as
// the write side seals at most MaxMessages values under one.
func TestReadCacheMaxMessages(t *testing.T) {
	ctx := context.Background()
	w := newWrappingKMS()
	writer := newTestEnvelope(w, Options{})
	reader := newTestEnvelope(w, Options{MaxMessages: 3})
	b := testBinding("prac-1")
	s, err := writer.Seal(ctx, b, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := reader.Open(ctx, b, s); err != nil {
			t.Fatal(err)
		}
	}
	// Opens 1, 5 and 9 unwrap; each unwrapped key serves three more.
	if got, want := reader.Stats().KMSDecryptCalls, uint64(3); got != want {
		t.Errorf("Decrypt calls for 10 opens with MaxMessages 3 = %d, want %d", got, want)
	}
}

func TestCachesMaxAge(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w := newWrappingKMS()
	writer := newTestEnvelope(w, Options{Now: clk.Now}) // default 5 min
	reader := newTestEnvelope(w, Options{Now: clk.Now})
	b := testBinding("prac-1")
	seal := func() []byte {
		t.Helper()
		s, err := writer.Seal(ctx, b, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	open := func(s []byte) {
		t.Helper()
		if _, err := reader.Open(ctx, b, s); err != nil {
			t.Fatal(err)
		}
	}
	s1 := seal()
	open(s1)
	clk.Advance(DefaultMaxAge - time.Nanosecond)
	s2 := seal()
	open(s1)
	if got, want := writer.Stats().KMSGenerateCalls, uint64(1); got != want {
		t.Errorf("before MaxAge: GenerateDataKey calls = %d, want %d", got, want)
	}
	if got, want := reader.Stats().KMSDecryptCalls, uint64(1); got != want {
		t.Errorf("before MaxAge: Decrypt calls = %d, want %d", got, want)
	}
	clk.Advance(time.Nanosecond)
	s3 := seal()
	if got, want := writer.Stats().KMSGenerateCalls, uint64(2); got != want {
		t.Errorf("at MaxAge: GenerateDataKey calls = %d, want %d", got, want)
	}
	if bytes.Equal(s2[:headerFixed+fakeBlobSize], s3[:headerFixed+fakeBlobSize]) {
		t.Error("key past MaxAge still used")
	}
	open(s2) // same data key as s1, but its cache entry is now too old
	if got, want := reader.Stats().KMSDecryptCalls, uint64(2); got != want {
		t.Errorf("at MaxAge: Decrypt calls = %d, want %d", got, want)
	}
	// Old values still open (age limits use, not validity).
	open(s1)
	open(s3)
	if got, want := reader.Stats().KMSDecryptCalls, uint64(3); got != want {
		t.Errorf("Decrypt calls = %d, want %d", got, want)
	}
}

func TestWriterReadsOwnValuesWithoutDecrypt(t *testing.T) {
	ctx := context.Background()
	e := newTestEnvelope(newWrappingKMS(), Options{})
	b := testBinding("prac-1")
	s, err := e.Seal(ctx, b, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Open(ctx, b, s); err != nil {
		t.Fatal(err)
	}
	if got, want := e.Stats().KMSDecryptCalls, uint64(0); got != want {
		t.Errorf("Decrypt calls = %d, want %d", got, want)
	}
}

func TestKeysArePerPractice(t *testing.T) {
	ctx := context.Background()
	w := newWrappingKMS()
	e := newTestEnvelope(w, Options{})
	wrappedOf := map[string][]byte{}
	for _, p := range []string{"prac-A", "prac-B", "prac-A", "prac-C", "prac-B"} {
		s, err := e.Seal(ctx, testBinding(p), []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		wk := s[headerFixed : headerFixed+fakeBlobSize]
		if prev, ok := wrappedOf[p]; ok && !bytes.Equal(prev, wk) {
			t.Errorf("%s: second seal used another key", p)
		}
		for q, other := range wrappedOf {
			if q != p && bytes.Equal(other, wk) {
				t.Errorf("%s and %s share a data key", p, q)
			}
		}
		wrappedOf[p] = wk
	}
	if got, want := e.Stats().KMSGenerateCalls, uint64(3); got != want {
		t.Errorf("GenerateDataKey calls = %d, want %d", got, want)
	}
}

func TestReadCacheFewDecryptsPerThousand(t *testing.T) {
	ctx := context.Background()
	w := newWrappingKMS()
	writer := newTestEnvelope(w, Options{MaxMessages: 250})
	type rec struct {
		b Binding
		s []byte
	}
	var recs []rec
	for i := range 1000 {
		b := testBinding("prac-1")
		b.MessageID = fmt.Sprintf("msg-%04d", i)
		s, err := writer.Seal(ctx, b, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec{b, s})
	}
	reader := newTestEnvelope(w, Options{})
	for i := range 1000 {
		r := recs[(i*7919)%1000] // read in scattered order
		if _, err := reader.Open(ctx, r.b, r.s); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := reader.Stats().KMSDecryptCalls, uint64(4); got != want {
		t.Errorf("Decrypt calls for 1000 opens over 4 data keys = %d, want %d", got, want)
	}
}

func TestReadCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	w := newWrappingKMS()
	writer := newTestEnvelope(w, Options{MaxMessages: 1})
	var sealed [][]byte
	b := testBinding("prac-1")
	for range 3 {
		s, err := writer.Seal(ctx, b, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
	}
	reader := newTestEnvelope(w, Options{MaxCachedKeys: 2})
	// Keys 0,1 cached; 2 evicts 0 (least recently used); 1 hits; 0 misses.
	for i, idx := range []int{0, 1, 2, 1, 0} {
		if _, err := reader.Open(ctx, b, sealed[idx]); err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	if got, want := reader.Stats().KMSDecryptCalls, uint64(4); got != want {
		t.Errorf("Decrypt calls = %d, want %d", got, want)
	}
	if got, want := reader.dec.cachedKeys(), 2; got != want {
		t.Errorf("cached keys = %d, want %d", got, want)
	}
}

func TestWriteCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	e := newTestEnvelope(newWrappingKMS(), Options{MaxCachedKeys: 3})
	for i := range 10 {
		if _, err := e.Seal(ctx, testBinding(fmt.Sprint("prac-", i)), []byte("x")); err != nil {
			t.Fatal(err)
		}
		e.encMu.Lock()
		n := len(e.enc)
		e.encMu.Unlock()
		if n > 3 {
			t.Fatalf("after %d practices the write cache holds %d, want ≤ 3", i+1, n)
		}
	}
}

// gatedKMS blocks every KMS call until release is closed and counts calls.
func gatedKMS(release <-chan struct{}, calls *atomic.Int32) *wrappingKMS {
	w := newWrappingKMS()
	gen, dec := w.GenerateDataKeyFn, w.DecryptFn
	w.GenerateDataKeyFn = func(ctx context.Context, in *kms.GenerateDataKeyInput) (*kms.GenerateDataKeyOutput, error) {
		calls.Add(1)
		<-release
		return gen(ctx, in)
	}
	w.DecryptFn = func(ctx context.Context, in *kms.DecryptInput) (*kms.DecryptOutput, error) {
		calls.Add(1)
		<-release
		return dec(ctx, in)
	}
	return w
}

func TestConcurrentMissesMakeOneCall(t *testing.T) {
	const workers = 64
	ctx := context.Background()
	release := make(chan struct{})
	var calls atomic.Int32
	w := gatedKMS(release, &calls)
	writer := newTestEnvelope(w, Options{MaxMessages: 10_000})
	b := testBinding("prac-1")

	var wg sync.WaitGroup
	sealed := make([][]byte, workers)
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() { sealed[i], errs[i] = writer.Seal(ctx, b, []byte(fmt.Sprint("value ", i))) })
	}
	time.Sleep(50 * time.Millisecond) // let them all pile up on the miss
	close(release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("seal %d: %v", i, err)
		}
	}
	if got, want := calls.Load(), int32(1); got != want {
		t.Errorf("GenerateDataKey calls for %d concurrent seals = %d, want %d", workers, got, want)
	}

	release2 := make(chan struct{})
	var calls2 atomic.Int32
	reader := newTestEnvelope(gatedKMS(release2, &calls2), Options{})
	reader.kms.(*wrappingKMS).master = w.master // same "KMS key"
	for i := range workers {
		wg.Go(func() {
			got, err := reader.Open(ctx, b, sealed[i])
			if err == nil && string(got) != fmt.Sprint("value ", i) {
				err = fmt.Errorf("opened to the wrong value")
			}
			errs[i] = err
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release2)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	if got, want := calls2.Load(), int32(1); got != want {
		t.Errorf("Decrypt calls for %d concurrent opens = %d, want %d", workers, got, want)
	}
}

func TestConcurrentSealOpenRace(t *testing.T) {
	// Many goroutines, few practices, small limits: keys rotate while in
	// use. Run with -race.
	ctx := context.Background()
	clk := newClock()
	w := newWrappingKMS()
	e := newTestEnvelope(w, Options{MaxMessages: 7, MaxCachedKeys: 3, Now: clk.Now, MaxAge: time.Second})
	var wg sync.WaitGroup
	var failed atomic.Int32
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				b := testBinding(fmt.Sprint("prac-", (g+i)%4))
				b.MessageID = fmt.Sprint(g, "-", i)
				want := []byte(b.MessageID)
				s, err := e.Seal(ctx, b, want)
				if err != nil {
					failed.Add(1)
					return
				}
				if i%10 == 0 {
					clk.Advance(100 * time.Millisecond)
				}
				got, err := e.Open(ctx, b, s)
				if err != nil || !bytes.Equal(got, want) {
					failed.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := failed.Load(); got != 0 {
		t.Fatalf("%d goroutines failed", got)
	}
	st := e.Stats()
	if got, want := st.Seals, uint64(1600); got != want {
		t.Errorf("Seals = %d, want %d", got, want)
	}
	if got, want := st.Opens, uint64(1600); got != want {
		t.Errorf("Opens = %d, want %d", got, want)
	}
	if min := uint64(1600 / 7); st.KMSGenerateCalls < min {
		t.Errorf("GenerateDataKey calls = %d, want ≥ %d (MaxMessages 7)", st.KMSGenerateCalls, min)
	}
}

func TestLeaderGivesUpWaitersRetry(t *testing.T) {
	w := newWrappingKMS()
	gen := w.GenerateDataKeyFn
	var calls atomic.Int32
	entered := make(chan struct{})
	w.GenerateDataKeyFn = func(ctx context.Context, in *kms.GenerateDataKeyInput) (*kms.GenerateDataKeyOutput, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-ctx.Done() // the first caller's context ends mid-call
			return nil, ctx.Err()
		}
		return gen(ctx, in)
	}
	e := newTestEnvelope(w, Options{})
	b := testBinding("prac-1")
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error)
	go func() {
		_, err := e.Seal(leaderCtx, b, []byte("x"))
		leaderErr <- err
	}()
	<-entered
	waiterErr := make(chan error)
	go func() {
		_, err := e.Seal(context.Background(), b, []byte("y"))
		waiterErr <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-leaderErr; carepost.ErrorCode(err) != carepost.CodeUnavailable {
		t.Errorf("leader error = %v, want unavailable", err)
	}
	if err := <-waiterErr; err != nil {
		t.Errorf("waiter error = %v, want it to retry and succeed", err)
	}
	if got, want := calls.Load(), int32(2); got != want {
		t.Errorf("GenerateDataKey calls = %d, want %d", got, want)
	}
}

func TestKMSErrors(t *testing.T) {
	ctx := context.Background()
	apiErr := func(code string, fault smithy.ErrorFault) error {
		return &smithy.GenericAPIError{Code: code, Message: "from KMS", Fault: fault}
	}
	tests := []struct {
		name          string
		err           error
		onDecrypt     bool
		wantCode      carepost.Code
		wantTransient bool
		wantIntegrity bool
	}{
		{"generate throttled", &types.KMSInternalException{Message: new("busy")}, false, carepost.CodeUnavailable, true, false},
		{"generate throttling code", apiErr("ThrottlingException", smithy.FaultClient), false, carepost.CodeUnavailable, true, false},
		{"generate network", errors.New("dial tcp: connection refused"), false, carepost.CodeUnavailable, true, false},
		{"generate deadline", context.DeadlineExceeded, false, carepost.CodeUnavailable, true, false},
		{"generate server fault", apiErr("SomethingNew", smithy.FaultServer), false, carepost.CodeUnavailable, true, false},
		{"generate disabled key", &types.DisabledException{Message: new("disabled")}, false, carepost.CodeInternal, false, false},
		{"generate access denied", apiErr("AccessDeniedException", smithy.FaultClient), false, carepost.CodeInternal, false, false},
		{"decrypt throttled", apiErr("ThrottlingException", smithy.FaultClient), true, carepost.CodeUnavailable, true, false},
		{"decrypt unavailable key", &types.KeyUnavailableException{}, true, carepost.CodeUnavailable, true, false},
		{"decrypt invalid ciphertext", &types.InvalidCiphertextException{}, true, carepost.CodeInternal, false, true},
		{"decrypt incorrect key", &types.IncorrectKeyException{}, true, carepost.CodeInternal, false, true},
		{"decrypt access denied", apiErr("AccessDeniedException", smithy.FaultClient), true, carepost.CodeInternal, false, true},
		{"decrypt disabled key", &types.DisabledException{}, true, carepost.CodeInternal, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWrappingKMS()
			good := newTestEnvelope(w, Options{})
			b := testBinding("prac-1")
			sealed, err := good.Seal(ctx, b, []byte(testPlaintext))
			if err != nil {
				t.Fatal(err)
			}
			if tt.onDecrypt {
				w.DecryptFn = func(context.Context, *kms.DecryptInput) (*kms.DecryptOutput, error) { return nil, tt.err }
			} else {
				w.GenerateDataKeyFn = func(context.Context, *kms.GenerateDataKeyInput) (*kms.GenerateDataKeyOutput, error) {
					return nil, tt.err
				}
			}
			e := newTestEnvelope(w, Options{})
			var out []byte
			if tt.onDecrypt {
				out, err = e.Open(ctx, b, sealed)
			} else {
				out, err = e.Seal(ctx, b, []byte(testPlaintext))
			}
			if err == nil || out != nil {
				t.Fatalf("got %d bytes, err %v; want an error", len(out), err)
			}
			if got, want := carepost.ErrorCode(err), tt.wantCode; got != want {
				t.Errorf("code = %q, want %q (%v)", got, want, err)
			}
			if got, want := carepost.IsTransient(err), tt.wantTransient; got != want {
				t.Errorf("transient = %v, want %v", got, want)
			}
			if got, want := errors.Is(err, ErrIntegrity), tt.wantIntegrity; got != want {
				t.Errorf("integrity = %v, want %v (%v)", got, want, err)
			}
			for _, s := range []string{testPlaintext, b.PracticeID, b.ThreadID, b.MessageID, b.SenderID} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
			// A failure is not cached: once KMS recovers, the call works.
			w2 := newWrappingKMS()
			w2.master = w.master
			e.kms = w2
			if tt.onDecrypt {
				_, err = e.Open(ctx, b, sealed)
			} else {
				_, err = e.Seal(ctx, b, []byte(testPlaintext))
			}
			if err != nil {
				t.Errorf("after KMS recovered: %v", err)
			}
		})
	}
}
