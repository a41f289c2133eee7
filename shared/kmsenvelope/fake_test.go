package kmsenvelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
)

// fakeKMS is a KMS built from function fields.
type fakeKMS struct {
	GenerateDataKeyFn func(ctx context.Context, in *kms.GenerateDataKeyInput) (*kms.GenerateDataKeyOutput, error)
	DecryptFn         func(ctx context.Context, in *kms.DecryptInput) (*kms.DecryptOutput, error)
}

var _ KMS = (*fakeKMS)(nil)

func (f *fakeKMS) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	return f.GenerateDataKeyFn(ctx, in)
}

func (f *fakeKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return f.DecryptFn(ctx, in)
}

// fakeBlobSize is the size of the fake's wrapped keys: about what AWS KMS
// returns for a 32-byte data key, so size figures are realistic.
const fakeBlobSize = 184

// wrappingKMS behaves like KMS for the calls the envelope makes: it wraps
// data keys with AES-GCM under a master key and binds the encryption context
// as associated data, so a wrong context or a changed blob is refused with
// InvalidCiphertextException. It remembers the plaintext slices it handed
// out, so tests can check that they were wiped.
type wrappingKMS struct {
	fakeKMS
	master cipher.AEAD

	mu        sync.Mutex
	handedOut [][]byte
}

func newWrappingKMS() *wrappingKMS {
	mk := make([]byte, 32)
	_, _ = rand.Read(mk)
	block, _ := aes.NewCipher(mk)
	master, _ := cipher.NewGCM(block)
	w := &wrappingKMS{master: master}
	w.GenerateDataKeyFn = w.generate
	w.DecryptFn = w.decrypt
	return w
}

func contextAD(ec map[string]string) []byte {
	var ad []byte
	for _, k := range slices.Sorted(maps.Keys(ec)) {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(k)))
		ad = append(ad, k...)
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(ec[k])))
		ad = append(ad, ec[k]...)
	}
	return ad
}

// blob layout: padding (authenticated) | nonce | sealed key.
const fakePad = fakeBlobSize - 12 - 32 - 16

func (w *wrappingKMS) generate(_ context.Context, in *kms.GenerateDataKeyInput) (*kms.GenerateDataKeyOutput, error) {
	if in.KeySpec != types.DataKeySpecAes256 {
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "want AES_256", Fault: smithy.FaultClient}
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	blob := make([]byte, fakePad+12, fakeBlobSize)
	_, _ = rand.Read(blob)
	blob = w.master.Seal(blob, blob[fakePad:], key, append(contextAD(in.EncryptionContext), blob[:fakePad]...))
	plain := append([]byte(nil), key...)
	w.mu.Lock()
	w.handedOut = append(w.handedOut, plain)
	w.mu.Unlock()
	return &kms.GenerateDataKeyOutput{CiphertextBlob: blob, Plaintext: plain, KeyId: in.KeyId}, nil
}

func (w *wrappingKMS) decrypt(_ context.Context, in *kms.DecryptInput) (*kms.DecryptOutput, error) {
	blob := in.CiphertextBlob
	if len(blob) != fakeBlobSize {
		return nil, &smithy.GenericAPIError{Code: "InvalidCiphertextException", Fault: smithy.FaultClient}
	}
	key, err := w.master.Open(nil, blob[fakePad:fakePad+12], blob[fakePad+12:], append(contextAD(in.EncryptionContext), blob[:fakePad]...))
	if err != nil {
		return nil, &smithy.GenericAPIError{Code: "InvalidCiphertextException", Fault: smithy.FaultClient}
	}
	w.mu.Lock()
	w.handedOut = append(w.handedOut, key)
	w.mu.Unlock()
	return &kms.DecryptOutput{Plaintext: key, KeyId: aws.String("fake-key")}, nil
}

// allWiped reports whether every plaintext key handed out is now zero.
func (w *wrappingKMS) allWiped() (handed int, wiped bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range w.handedOut {
		for _, c := range k {
			if c != 0 {
				return len(w.handedOut), false
			}
		}
	}
	return len(w.handedOut), true
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
