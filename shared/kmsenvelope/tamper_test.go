package kmsenvelope

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// testBinding is a message body bound to its record.
func testBinding(practice string) Binding {
	return Binding{
		PracticeID: practice,
		Kind:       KindMessageBody,
		ThreadID:   "thr-01HQ",
		MessageID:  "msg-01HQ",
		SenderID:   "pat-7",
		Time:       time.Date(2026, 3, 1, 9, 30, 15, 123456789, time.UTC),
		Schema:     1,
	}
}

const testPlaintext = "My blood pressure was 150/95 this morning; should I double the dose?"

// wantIntegrityError fails t unless err is the integrity failure: an
// internal *carepost.Error wrapping ErrIntegrity, whose text holds none of
// the secrets.
func wantIntegrityError(t *testing.T, plain []byte, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Open succeeded (%d bytes); want an integrity error", len(plain))
	}
	if plain != nil {
		t.Errorf("Open returned %d bytes with its error; want none", len(plain))
	}
	var ce *carepost.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is %T; want *carepost.Error", err, err)
	}
	if got, want := ce.Code, carepost.CodeInternal; got != want {
		t.Errorf("code = %q, want %q (err %v)", got, want, err)
	}
	if got, want := ce.Message, integrityMessage; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrIntegrity) {
		t.Errorf("error %v does not wrap ErrIntegrity", err)
	}
	if ce.Transient {
		t.Errorf("integrity error marked transient")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains %q", err, s)
		}
	}
}

// runTamperTests seals values with newEnv() and checks that every single
// change to a value or to its binding makes Open fail with the integrity
// error, both on the envelope that sealed (cached key: the AEAD catches it)
// and on a fresh one (cold cache: KMS sees the wrapped key and context).
func runTamperTests(t *testing.T, newEnv func() *Envelope, practiceA, practiceB string) {
	ctx := context.Background()
	writer := newEnv()
	b := testBinding(practiceA)
	sealed, err := writer.Seal(ctx, b, []byte(testPlaintext))
	if err != nil {
		t.Fatal(err)
	}
	b2 := b
	b2.MessageID, b2.Time = "msg-01HR", b.Time.Add(time.Minute)
	const otherText = "Please also renew my inhaler."
	sealed2, err := writer.Seal(ctx, b2, []byte(otherText))
	if err != nil {
		t.Fatal(err)
	}
	bB := b
	bB.PracticeID = practiceB
	sealedB, err := writer.Seal(ctx, bB, []byte(otherText))
	if err != nil {
		t.Fatal(err)
	}

	n := int(binary.BigEndian.Uint16(sealed[1:3]))
	wrapped := headerFixed              // first byte of the wrapped key
	nonce := headerFixed + n            // first nonce byte
	body := headerFixed + n + nonceSize // first ciphertext byte
	tag := len(sealed) - 1              // last tag byte
	flip := func(i int, x byte) func([]byte) []byte {
		return func(s []byte) []byte { s[i] ^= x; return s }
	}
	same := func(s []byte) []byte { return s }
	// spliceWrapped puts the wrapped key of `from` into s (same lengths:
	// both come from one KMS key).
	spliceWrapped := func(from []byte) func([]byte) []byte {
		return func(s []byte) []byte {
			m := int(binary.BigEndian.Uint16(from[1:3]))
			out := append([]byte(nil), from[:headerFixed+m]...)
			return append(out, s[headerFixed+n:]...)
		}
	}

	tests := []struct {
		name   string
		value  []byte // the sealed value to start from (sealed if nil)
		change func([]byte) []byte
		bind   func(Binding) Binding
	}{
		{name: "version byte 0", change: flip(0, 1)},
		{name: "version byte 2", change: func(s []byte) []byte { s[0] = 2; return s }},
		{name: "wrapped-key length high byte", change: flip(1, 0x01)},
		{name: "wrapped-key length low byte", change: flip(2, 0x01)},
		{name: "wrapped key first byte", change: flip(wrapped, 0x01)},
		{name: "wrapped key middle byte", change: flip(wrapped+n/2, 0x80)},
		{name: "wrapped key last byte", change: flip(wrapped+n-1, 0x01)},
		{name: "nonce first byte", change: flip(nonce, 0x01)},
		{name: "nonce last byte", change: flip(nonce+nonceSize-1, 0x40)},
		{name: "ciphertext first byte", change: flip(body, 0x01)},
		{name: "ciphertext last byte", change: flip(tag-tagSize, 0x01)},
		{name: "tag last byte", change: flip(tag, 0x01)},
		{name: "truncated to nothing", change: func(s []byte) []byte { return s[:0] }},
		{name: "truncated to version", change: func(s []byte) []byte { return s[:1] }},
		{name: "truncated inside wrapped key", change: func(s []byte) []byte { return s[:headerFixed+n/2] }},
		{name: "truncated after nonce", change: func(s []byte) []byte { return s[:body] }},
		{name: "tag cut by one byte", change: func(s []byte) []byte { return s[:len(s)-1] }},
		{name: "one byte appended", change: func(s []byte) []byte { return append(s, 0) }},
		{name: "practice changed", bind: func(b Binding) Binding { b.PracticeID = practiceB; return b }},
		{name: "kind changed", bind: func(b Binding) Binding { b.Kind = KindThreadSubject; return b }},
		{name: "thread changed", bind: func(b Binding) Binding { b.ThreadID = "thr-01HZ"; return b }},
		{name: "thread emptied", bind: func(b Binding) Binding { b.ThreadID = ""; return b }},
		{name: "message changed", bind: func(b Binding) Binding { b.MessageID = "msg-01HZ"; return b }},
		{name: "sender changed", bind: func(b Binding) Binding { b.SenderID = "pat-8"; return b }},
		{name: "time one nanosecond later", bind: func(b Binding) Binding { b.Time = b.Time.Add(time.Nanosecond); return b }},
		{name: "time truncated to ms", bind: func(b Binding) Binding { b.Time = b.Time.Truncate(time.Millisecond); return b }},
		{name: "schema changed", bind: func(b Binding) Binding { b.Schema = 2; return b }},
		{name: "field boundary moved", bind: func(b Binding) Binding {
			b.ThreadID, b.MessageID = b.ThreadID+b.MessageID[:1], b.MessageID[1:]
			return b
		}},
		{name: "message 2 ciphertext read as message 1", value: sealed2, change: same},
		{name: "message 1 ciphertext read as message 2", change: same, bind: func(Binding) Binding { return b2 }},
		{name: "message 2 body with message 1 header", value: sealed2, change: func(s []byte) []byte {
			return append(append([]byte(nil), sealed[:body]...), s[body:]...)
		}},
		{name: "practice A value read under practice B", change: same, bind: func(b Binding) Binding { b.PracticeID = practiceB; return b }},
		{name: "practice B value with practice A wrapped key", value: sealedB, change: spliceWrapped(sealed), bind: func(Binding) Binding { return bB }},
		{name: "practice A value with practice B wrapped key", change: spliceWrapped(sealedB)},
	}
	secrets := []string{testPlaintext, otherText, b.ThreadID, b.MessageID, b.SenderID}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := sealed
			if tt.value != nil {
				from = tt.value
			}
			change := tt.change
			if change == nil {
				change = same
			}
			value := change(bytes.Clone(from))
			bind := b
			if tt.bind != nil {
				bind = tt.bind(b)
			}
			for _, env := range []struct {
				name string
				e    *Envelope
			}{{"writer", writer}, {"cold reader", newEnv()}} {
				plain, err := env.e.Open(ctx, bind, value)
				if err == nil {
					t.Errorf("%s: Open succeeded", env.name)
					continue
				}
				t.Run(env.name, func(t *testing.T) { wantIntegrityError(t, plain, err, secrets...) })
			}
		})
	}

	// Control: the untouched values open, on both paths, so the failures
	// above are the changes' doing.
	for _, env := range []*Envelope{writer, newEnv()} {
		for _, c := range []struct {
			b     Binding
			value []byte
			want  string
		}{{b, sealed, testPlaintext}, {b2, sealed2, otherText}, {bB, sealedB, otherText}} {
			got, err := env.Open(ctx, c.b, c.value)
			if err != nil {
				t.Fatalf("untouched value: %v", err)
			}
			if string(got) != c.want {
				t.Errorf("untouched value opened to %q, want %q", got, c.want)
			}
		}
	}
}
