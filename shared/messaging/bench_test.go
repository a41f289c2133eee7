package messaging_test

// Benchmarks of the send path in process, on in-memory fakes: what a message
// costs in CPU and allocations before any network I/O (validation, the
// urgent-symptom rules, sealing with a cached data key, building the
// records). The costs on the emulators, with DynamoDB write units and KMS
// calls, are in shared/apptest.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/kmsenvelope"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/testenv"
)

// fakeKMS makes data keys and unwraps them, checking the encryption context.
type fakeKMS struct {
	mu   sync.Mutex
	keys map[string]fakeKey
}

type fakeKey struct {
	plain   []byte
	context map[string]string
}

var _ kmsenvelope.KMS = (*fakeKMS)(nil)

func (f *fakeKMS) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	plain, id := make([]byte, 32), make([]byte, 96)
	_, _ = rand.Read(plain)
	_, _ = rand.Read(id)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys == nil {
		f.keys = map[string]fakeKey{}
	}
	f.keys[string(id)] = fakeKey{plain: plain, context: in.EncryptionContext}
	return &kms.GenerateDataKeyOutput{Plaintext: append([]byte(nil), plain...), CiphertextBlob: id, KeyId: in.KeyId}, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[string(in.CiphertextBlob)]
	if !ok || k.context["practice"] != in.EncryptionContext["practice"] {
		return nil, &smithy.GenericAPIError{Code: "InvalidCiphertextException", Message: "invalid ciphertext", Fault: smithy.FaultClient}
	}
	return &kms.DecryptOutput{Plaintext: append([]byte(nil), k.plain...), KeyId: aws.String("fake")}, nil
}

// memStore keeps the records the send and read paths touch in memory.
// Methods those paths do not call are left to the embedded nil interface
// (they panic).
type memStore struct {
	carepost.Store

	mu        sync.Mutex
	practice  carepost.Practice
	agreement carepost.Agreement
	consents  map[string]carepost.Consent
	threads   map[string]carepost.ThreadRecord
	messages  map[string][]carepost.MessageRecord
}

func newMemStore(p carepost.Practice) *memStore {
	return &memStore{practice: p, agreement: carepost.Agreement{Version: 1, Text: "agreement"},
		consents: map[string]carepost.Consent{}, threads: map[string]carepost.ThreadRecord{}, messages: map[string][]carepost.MessageRecord{}}
}

func (m *memStore) Practice(context.Context, string) (carepost.Practice, error) {
	return m.practice, nil
}
func (m *memStore) CurrentAgreement(context.Context, string) (carepost.Agreement, error) {
	return m.agreement, nil
}

func (m *memStore) Consent(_ context.Context, _, patientID, subject string) (carepost.Consent, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.consents[patientID+"|"+subject]
	return c, ok, nil
}

func (m *memStore) PutConsent(_ context.Context, _ string, c carepost.Consent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.consents[c.PatientID+"|"+c.Subject] = c
	return nil
}

func (m *memStore) CreateThread(_ context.Context, t carepost.ThreadRecord, msg carepost.MessageRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.threads[t.ID]; ok {
		return carepost.Errorf(carepost.CodeConflict, "exists")
	}
	m.threads[t.ID] = t
	m.messages[t.ID] = append(m.messages[t.ID], msg)
	return nil
}

func (m *memStore) AppendMessage(ctx context.Context, msg carepost.MessageRecord, c carepost.ThreadChange) error {
	m.mu.Lock()
	m.messages[msg.ThreadID] = append(m.messages[msg.ThreadID], msg)
	m.mu.Unlock()
	return m.UpdateThread(ctx, c)
}

func (m *memStore) UpdateThread(_ context.Context, c carepost.ThreadChange) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.threads[c.ThreadID]; !ok || cur.Version != c.Version {
		return carepost.Errorf(carepost.CodeConflict, "moved")
	}
	t := c.Set
	t.Version = c.Version + 1
	m.threads[c.ThreadID] = t
	return nil
}

func (m *memStore) Thread(_ context.Context, _, threadID string) (carepost.ThreadRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.threads[threadID]
	if !ok {
		return t, carepost.NotFound("thread")
	}
	return t, nil
}

func (m *memStore) Messages(_ context.Context, _, threadID string) ([]carepost.MessageRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]carepost.MessageRecord(nil), m.messages[threadID]...), nil
}

func (m *memStore) ReadReceipts(context.Context, string, string) ([]carepost.ReadReceipt, error) {
	return nil, nil
}

// text2KB is a routine 2 KB message (no red flags).
var text2KB = func() string {
	const s = "Hello, my blood pressure readings this week were in the usual range and I would like to ask about the refill of my usual tablets. "
	return strings.Repeat(s, 2048/len(s)+1)[:2048]
}()

type bench struct {
	svc     *messaging.Service
	env     *kmsenvelope.Envelope
	kms     kmsenvelope.KMS
	keyID   string
	store   *memStore
	patient carepost.Principal
	seq     int
}

func newBench(b *testing.B) *bench { return newBenchKMS(b, &fakeKMS{}, "alias/bench") }

func newBenchKMS(b *testing.B, k kmsenvelope.KMS, keyID string) *bench {
	b.Helper()
	p := carepost.Practice{ID: "bench-clinic", Routing: map[carepost.Category]carepost.Owner{carepost.CategoryQuestion: carepost.PoolOwner("nurses")}}
	st := newMemStore(p)
	env := kmsenvelope.New(k, kmsenvelope.Options{KeyID: keyID, MaxAge: time.Hour, MaxMessages: kmsenvelope.DefaultMaxMessages})
	svc := messaging.New(st, env, nil, nil)
	pat := carepost.Principal{Subject: "sub-patient", Role: carepost.RolePatient, PracticeID: p.ID, PatientID: "pat-1"}
	_ = st.PutConsent(context.Background(), p.ID, carepost.Consent{PatientID: "pat-1", Subject: pat.Subject, Version: 1})
	return &bench{svc: svc, env: env, kms: k, keyID: keyID, store: st, patient: pat}
}

func (bn *bench) request() messaging.Request {
	bn.seq++
	return messaging.Request{Principal: bn.patient, IdempotencyKey: "k" + hex.EncodeToString([]byte{byte(bn.seq >> 24), byte(bn.seq >> 16), byte(bn.seq >> 8), byte(bn.seq)}), RequestHash: "h"}
}

func (bn *bench) open(b *testing.B, in messaging.OpenInput) string {
	res, err := bn.svc.Open(context.Background(), bn.request(), in)
	if err != nil {
		b.Fatal(err)
	}
	return res.Thread.ID
}

// BenchmarkSendPath is the in-process cost of sending one message:
// validation, the urgent rules, sealing under a cached data key, the
// records and the (in-memory) store calls; no network I/O.
func BenchmarkSendPath(b *testing.B) {
	ctx := context.Background()
	b.Run("reply-2KB", func(b *testing.B) {
		bn := newBench(b)
		tid := bn.open(b, messaging.OpenInput{Category: carepost.CategoryQuestion, Subject: "refill", Body: "first"})
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := bn.svc.Reply(ctx, bn.request(), tid, messaging.ReplyInput{Body: text2KB}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open-2KB", func(b *testing.B) {
		bn := newBench(b)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			bn.open(b, messaging.OpenInput{Category: carepost.CategoryQuestion, Subject: "about my tablets", Body: text2KB})
		}
	})
	b.Run("open-measurement-form", func(b *testing.B) {
		bn := newBench(b)
		form := &carepost.FormPayload{Type: "measurement_report", Fields: map[string]any{"readings": []any{
			map[string]any{"type": "blood_pressure", "value": 128.0, "value2": 82.0, "unit": "mmHg", "takenAt": "2026-01-02T08:00:00Z"},
			map[string]any{"type": "heart_rate", "value": 71.0, "unit": "bpm", "takenAt": "2026-01-02T08:00:00Z"}}}}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			bn.open(b, messaging.OpenInput{Form: form})
		}
	})
}

// BenchmarkKMSCallsSteadyState counts KMS calls per 1,000 messages in
// steady state: b.N messages sent in threads of ten by one writer, then
// every thread read by a fresh reader (a cold Lambda instance) and read
// again by the same reader, now warm. The counts come from Envelope.Stats.
// Under `make bench` (CAREPOST_EMULATORS=1) the keys come from the KMS
// emulator; otherwise from a fake, which gives the same counts.
func BenchmarkKMSCallsSteadyState(b *testing.B) {
	var k kmsenvelope.KMS = &fakeKMS{}
	keyID, source := "alias/bench", "fake"
	if os.Getenv("CAREPOST_EMULATORS") == "1" {
		st := testenv.NewStack(b)
		k, keyID, source = st.Clients.KMS, st.Outputs.KeyID, "emulator"
	}
	b.Run("kms="+source, func(b *testing.B) { kmsSteadyState(b, k, keyID) })
}

func kmsSteadyState(b *testing.B, k kmsenvelope.KMS, keyID string) {
	ctx := context.Background()
	bn := newBenchKMS(b, k, keyID)
	var threads []string
	b.ResetTimer()
	for i := range b.N {
		if i%10 == 0 {
			threads = append(threads, bn.open(b, messaging.OpenInput{Category: carepost.CategoryQuestion, Subject: "s", Body: text2KB}))
			continue
		}
		if _, err := bn.svc.Reply(ctx, bn.request(), threads[len(threads)-1], messaging.ReplyInput{Body: text2KB}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	sent := bn.env.Stats()
	b.ReportMetric(float64(sent.KMSGenerateCalls+sent.KMSDecryptCalls)*1000/float64(b.N), "kms-calls/1000-sent")

	read := func(env *kmsenvelope.Envelope) float64 {
		svc := messaging.New(bn.store, env, nil, nil)
		before := env.Stats()
		msgs := 0
		for _, tid := range threads {
			d, err := svc.Get(ctx, bn.patient, tid)
			if err != nil {
				b.Fatal(err)
			}
			msgs += len(d.Messages)
		}
		after := env.Stats()
		return float64(after.KMSGenerateCalls+after.KMSDecryptCalls-before.KMSGenerateCalls-before.KMSDecryptCalls) * 1000 / float64(msgs)
	}
	reader := kmsenvelope.New(bn.kms, kmsenvelope.Options{KeyID: bn.keyID, MaxAge: time.Hour})
	b.ReportMetric(read(reader), "kms-calls/1000-read-cold")
	b.ReportMetric(read(reader), "kms-calls/1000-read")
}
