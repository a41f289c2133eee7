// Package kmsenvelope seals patient data — message bodies, form payloads,
// thread subjects, patient contact details — with envelope encryption: AWS KMS
// makes and wraps the keys, AES-256-GCM from the Go standard library encrypts
// the data. It must never write a plaintext, a plaintext key or a bound field
// into an error or a log, and it must never hand back data that failed its
// integrity check: such a value is an error, not something to skip.
//
// # What is encrypted under what
//
// The KMS key (Options.KeyID, the one customer managed key of the stack)
// encrypts only data keys. A data key is 32 random bytes made by KMS
// GenerateDataKey with KeySpec AES_256 and the encryption context
//
//	{"app": "carepost", "practice": <practice id>}
//
// KMS binds that context to the wrapped key (the CiphertextBlob): Decrypt
// succeeds only when called with the very same context, so a wrapped key
// copied from practice A's record onto practice B's cannot be unwrapped
// while opening B's record, and CloudTrail logs every unwrap with the
// practice it was for. The data key encrypts the data with AES-256-GCM under
// a fresh random 96-bit nonce per value.
//
// # Sealed format (version 1)
//
//	offset  size  field
//	0       1     version, 1
//	1       2     n, length of the wrapped data key, big-endian
//	3       n     wrapped data key: the KMS CiphertextBlob, stored as is
//	3+n     12    GCM nonce, random
//	15+n    rest  GCM ciphertext followed by the 16-byte tag
//
// The overhead is 31 bytes plus the wrapped key: about 200 bytes with AWS
// KMS (its blob for a 32-byte key is 150–190 bytes), 127 with moto (96-byte
// blob). Carrying the wrapped key in every value costs those bytes but makes
// each value self-contained: no key table to look up, join or lose, and a
// record can be copied, backed up and restored as one attribute.
//
// # What is bound as associated data
//
// GCM authenticates, besides the ciphertext, the associated data
//
//	"carepost/kmsenvelope" | version
//	| u32 len | practice id | u32 len | kind | u32 len | thread id
//	| u32 len | message id  | u32 len | sender id
//	| i64 unix seconds | u32 nanoseconds | i64 schema version
//
// (lengths and numbers big-endian). Every variable-length field carries its
// length, and the fixed-size fields come last, so two different Bindings
// never produce the same bytes: ("ab","c") and ("a","bc") differ in their
// first length. The associated data is rebuilt from the record being read,
// never stored. A ciphertext copied onto another record, another practice,
// another kind of field (a body pasted into a subject), or read back with any
// bound field changed fails the tag check. The time is bound to the
// nanosecond, so the store must keep it at that precision (RFC 3339 with
// nanoseconds, or unix nanoseconds). A record that is not a message (patient
// contact details) puts its own id in MessageID and leaves the fields that do
// not apply empty.
//
// The header is protected too: the version is part of the associated data,
// and a changed wrapped key either fails in KMS or unwraps to another key,
// under which the tag does not verify.
//
// # Why the constants have their values
//
//   - Version 1 byte: room for 255 future formats; readers reject others.
//   - Length 2 bytes: a KMS CiphertextBlob is at most 6144 bytes.
//   - Nonce 12 bytes: the GCM standard nonce size; any other size is hashed
//     into one and is slower. Random nonces are safe while a key seals far
//     fewer than 2^32 values (NIST SP 800-38D); MaxMessages keeps it to 1000,
//     where the chance of a repeated nonce is about 2^-77.
//   - Tag 16 bytes: the full GCM tag; shorter tags weaken forgery bounds.
//   - MaxMessages 1000 and MaxAge 5 minutes (defaults): a data key lives in
//     memory for at most five minutes and covers at most a thousand values,
//     which bounds what one leaked key exposes and how long a disabled KMS
//     key or revoked grant takes to stop new writes. KMS cost follows: at ten
//     messages a second per instance and practice, one GenerateDataKey per
//     thousand messages; below about one message every three seconds the age
//     limit dominates, and it is one call per practice per instance every
//     five minutes, however few messages that is.
//   - MaxCachedKeys 1000 (default): unwrapped keys for reading, least
//     recently used evicted first; a thread's messages are usually sealed
//     under a handful of keys, so a reader pays a few Decrypts per thousand
//     values, at about a kilobyte of memory per key. An unwrapped key is
//     kept at most MaxAge and serves at most MaxMessages opens, like a
//     sealing key.
//
// # Keys in memory
//
// The plaintext data key that KMS returns is zeroed as soon as the AES key
// schedule is built from it, so no raw key bytes stay in this package's
// memory; the caches hold only cipher.AEAD values. The expanded key schedule
// inside crypto/aes cannot be wiped from Go and is left to the garbage
// collector when a key is evicted; so are the SDK's response buffers.
//
// Decrypt is called without a KeyId: the wrapped key names its KMS key, and
// the function's IAM policy allows kms:Decrypt on the stack's key only, so
// reads keep working after the key behind the alias changes.
package kmsenvelope

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/carepost/carepost/shared/carepost"
)

// Format constants; see the package comment for why each has its value.
const (
	Version   = 1
	nonceSize = 12
	tagSize   = 16
	keySize   = 32
	// maxWrapped is the largest KMS CiphertextBlob; it also fits the 2-byte
	// length field.
	maxWrapped = 6144
	// headerFixed is the version byte plus the wrapped-key length.
	headerFixed = 1 + 2
	// minSealed is the smallest well-formed value: a 1-byte wrapped key and
	// an empty plaintext.
	minSealed = headerFixed + 1 + nonceSize + tagSize
	// maxBoundField bounds each string in a Binding; ids are far shorter.
	maxBoundField = 1 << 12
)

// Default cache limits.
const (
	DefaultMaxAge        = 5 * time.Minute
	DefaultMaxMessages   = 1000
	DefaultMaxCachedKeys = 1000
)

// Record kinds bound into the associated data.
const (
	KindMessageBody    = "message.body"
	KindMessageForm    = "message.form"
	KindThreadSubject  = "thread.subject"
	KindPatientContact = "patient.contact"
)

// Encryption context keys sent to KMS with every GenerateDataKey and Decrypt.
const (
	contextApp      = "app"
	contextAppValue = "carepost"
	contextPractice = "practice"
)

// adLabel separates this format's associated data from any other use of the
// same keys.
const adLabel = "carepost/kmsenvelope"

// Binding is what a sealed value is bound to; it is the domain's
// carepost.Binding, so an *Envelope is a carepost.Sealer.
type Binding = carepost.Binding

var _ carepost.Sealer = (*Envelope)(nil)

// KMS is the subset of *kms.Client the envelope uses.
type KMS interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

var _ KMS = (*kms.Client)(nil)

// Options configures an Envelope. Zero values take the defaults.
type Options struct {
	KeyID         string        // KMS key id, ARN or alias that wraps new data keys; needed to Seal
	MaxAge        time.Duration // how long a data key is used and cached (DefaultMaxAge)
	MaxMessages   int           // values sealed under one data key (DefaultMaxMessages)
	MaxCachedKeys int           // unwrapped keys kept for reading, and practices kept for writing (DefaultMaxCachedKeys)
	Now           func() time.Time
}

// Stats counts what an Envelope did since it was made.
type Stats struct {
	KMSGenerateCalls uint64 // GenerateDataKey calls, failed ones included
	KMSDecryptCalls  uint64 // Decrypt calls, failed ones included
	Seals            uint64 // values sealed
	Opens            uint64 // values opened and verified
}

// Envelope seals and opens values. It is safe for concurrent use; make one
// per process and share it, so its key caches work.
type Envelope struct {
	kms KMS
	opt Options

	encMu sync.Mutex
	enc   map[string]*encSlot // practice id → current data key

	dec decCache

	generateCalls, decryptCalls, seals, opens atomic.Uint64
}

// dataKey is a usable data key: its AEAD and its wrapped form. The raw key
// bytes are gone by the time a dataKey exists.
type dataKey struct {
	aead    cipher.AEAD
	wrapped []byte
	created time.Time
}

// flight is one KMS call in progress that other callers wait for, so that a
// cache miss under load makes one call, not one per caller.
type flight struct {
	done chan struct{}
	key  *dataKey
	err  error
	// abandoned reports that the caller who made the call gave up (its
	// context ended), so its error says nothing about KMS: waiters retry.
	abandoned bool
}

// New returns an Envelope that gets its keys from k.
func New(k KMS, opt Options) *Envelope {
	if opt.MaxAge <= 0 {
		opt.MaxAge = DefaultMaxAge
	}
	if opt.MaxMessages <= 0 {
		opt.MaxMessages = DefaultMaxMessages
	}
	if opt.MaxCachedKeys <= 0 {
		opt.MaxCachedKeys = DefaultMaxCachedKeys
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	e := &Envelope{kms: k, opt: opt, enc: make(map[string]*encSlot)}
	e.dec.init(opt.MaxCachedKeys)
	return e
}

// Stats returns the counters.
func (e *Envelope) Stats() Stats {
	return Stats{
		KMSGenerateCalls: e.generateCalls.Load(),
		KMSDecryptCalls:  e.decryptCalls.Load(),
		Seals:            e.seals.Load(),
		Opens:            e.opens.Load(),
	}
}

// Seal encrypts plaintext and binds it to b. The result holds everything
// Open needs except the binding, which the caller stores in the clear beside
// it (it is the record's own keys and attributes).
func (e *Envelope) Seal(ctx context.Context, b Binding, plaintext []byte) ([]byte, error) {
	if err := checkBinding(b); err != nil {
		return nil, err
	}
	if e.opt.KeyID == "" {
		return nil, carepost.Errorf(carepost.CodeInternal, "encryption is not configured: no KMS key id")
	}
	k, err := e.sealKey(ctx, b.PracticeID)
	if err != nil {
		return nil, err
	}
	n := len(k.wrapped)
	hdr := headerFixed + n
	out := make([]byte, hdr+nonceSize, hdr+nonceSize+len(plaintext)+tagSize)
	out[0] = Version
	binary.BigEndian.PutUint16(out[1:3], uint16(n))
	copy(out[headerFixed:], k.wrapped)
	nonce := out[hdr : hdr+nonceSize]
	_, _ = rand.Read(nonce) // never fails; a broken system RNG crashes the program
	var adBuf [256]byte
	out = k.aead.Seal(out, nonce, plaintext, appendAD(adBuf[:0], b))
	e.seals.Add(1)
	return out, nil
}

// Open checks that sealed was made by Seal with exactly the binding b and
// returns its plaintext. Anything else — a changed byte, a changed bound
// field, a value from another record or practice, a truncated value, an
// unknown version — is a *carepost.Error with CodeInternal wrapping
// ErrIntegrity. KMS throttling or outages are CodeUnavailable and transient.
func (e *Envelope) Open(ctx context.Context, b Binding, sealed []byte) ([]byte, error) {
	if err := checkBinding(b); err != nil {
		return nil, err
	}
	if len(sealed) < minSealed {
		return nil, integrityError("value is truncated", nil)
	}
	if sealed[0] != Version {
		return nil, integrityError("unknown format version", nil)
	}
	n := int(binary.BigEndian.Uint16(sealed[1:3]))
	if n == 0 || n > maxWrapped {
		return nil, integrityError("wrapped key length out of range", nil)
	}
	hdr := headerFixed + n
	if len(sealed) < hdr+nonceSize+tagSize {
		return nil, integrityError("value is truncated", nil)
	}
	k, err := e.openKey(ctx, b.PracticeID, sealed[headerFixed:hdr])
	if err != nil {
		return nil, err
	}
	var adBuf [256]byte
	plain, err := k.aead.Open(nil, sealed[hdr:hdr+nonceSize], sealed[hdr+nonceSize:], appendAD(adBuf[:0], b))
	if err != nil {
		return nil, integrityError("authentication tag mismatch", nil)
	}
	e.opens.Add(1)
	return plain, nil
}

func checkBinding(b Binding) error {
	if b.PracticeID == "" {
		return carepost.Errorf(carepost.CodeInternal, "encryption binding has no practice id")
	}
	if b.Kind == "" {
		return carepost.Errorf(carepost.CodeInternal, "encryption binding has no record kind")
	}
	for _, s := range [...]string{b.PracticeID, b.Kind, b.ThreadID, b.MessageID, b.SenderID} {
		if len(s) > maxBoundField {
			return carepost.Errorf(carepost.CodeInternal, "encryption binding field is too long")
		}
	}
	return nil
}

// appendAD appends the canonical associated data of b to dst (see the
// package comment).
func appendAD(dst []byte, b Binding) []byte {
	dst = append(dst, adLabel...)
	dst = append(dst, Version)
	for _, s := range [...]string{b.PracticeID, b.Kind, b.ThreadID, b.MessageID, b.SenderID} {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(b.Time.Unix()))
	dst = binary.BigEndian.AppendUint32(dst, uint32(b.Time.Nanosecond()))
	dst = binary.BigEndian.AppendUint64(dst, uint64(int64(b.Schema)))
	return dst
}

func encryptionContext(practice string) map[string]string {
	return map[string]string{contextApp: contextAppValue, contextPractice: practice}
}

// newDataKey builds the AEAD for a plaintext key from KMS and zeroes the
// plaintext, whatever happens.
func newDataKey(plain, wrapped []byte, now time.Time) (*dataKey, error) {
	defer clear(plain)
	if len(plain) != keySize {
		return nil, carepost.Errorf(carepost.CodeInternal, "KMS returned a data key of the wrong size")
	}
	block, err := aes.NewCipher(plain)
	if err != nil {
		return nil, carepost.Wrap(carepost.CodeInternal, err, "cannot build the data cipher")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, carepost.Wrap(carepost.CodeInternal, err, "cannot build the data cipher")
	}
	return &dataKey{aead: aead, wrapped: bytes.Clone(wrapped), created: now}, nil
}

// generate asks KMS for a new data key for practice.
func (e *Envelope) generate(ctx context.Context, practice string) (*dataKey, error) {
	e.generateCalls.Add(1)
	out, err := e.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(e.opt.KeyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: encryptionContext(practice),
	})
	if err != nil {
		return nil, kmsError(err, false)
	}
	if n := len(out.CiphertextBlob); n == 0 || n > maxWrapped {
		clear(out.Plaintext)
		return nil, carepost.Errorf(carepost.CodeInternal, "KMS returned a wrapped key of unusable size")
	}
	return newDataKey(out.Plaintext, out.CiphertextBlob, e.opt.Now())
}

// unwrap asks KMS to decrypt a wrapped data key of practice.
func (e *Envelope) unwrap(ctx context.Context, practice string, wrapped []byte) (*dataKey, error) {
	e.decryptCalls.Add(1)
	out, err := e.kms.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    wrapped,
		EncryptionContext: encryptionContext(practice),
	})
	if err != nil {
		return nil, kmsError(err, true)
	}
	if len(out.Plaintext) != keySize {
		clear(out.Plaintext)
		return nil, integrityError("wrapped key does not hold a data key", nil)
	}
	return newDataKey(out.Plaintext, wrapped, e.opt.Now())
}

// fresh reports whether k may still be used at now.
func (e *Envelope) fresh(k *dataKey, now time.Time) bool {
	return now.Sub(k.created) < e.opt.MaxAge
}

// openKey returns the data key that wrapped unwraps to for practice, from
// the cache or from KMS.
func (e *Envelope) openKey(ctx context.Context, practice string, wrapped []byte) (*dataKey, error) {
	id := decID{practice: practice, sum: sha256.Sum256(wrapped)}
	for {
		k, f, leader := e.dec.lookup(id, e)
		if k != nil {
			return k, nil
		}
		if leader {
			k, err := e.unwrap(ctx, practice, wrapped)
			e.dec.land(id, f, k, err, ctx.Err() != nil)
			return k, err
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, carepost.Unavailable(ctx.Err(), "the encryption key service")
		}
		if f.err == nil {
			return f.key, nil
		}
		if !f.abandoned {
			return nil, f.err
		}
	}
}
