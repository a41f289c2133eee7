package kmsenvelope

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/carepost/carepost/shared/testenv"
)

// The tests in this file run against the KMS emulator (moto) through
// testenv: `make test`, or `carepost-dev emulators -test -- go test ./shared/kmsenvelope/`.

// TestEmulatorKMSContract checks the KMS behaviour the envelope relies on,
// directly: GenerateDataKey with AES_256 and an encryption context, Decrypt
// with the same context, and a refusal for any other context.
func TestEmulatorKMSContract(t *testing.T) {
	st := testenv.NewStack(t)
	ctx := context.Background()
	k := st.Clients.KMS
	ecA := encryptionContext("prac-A")
	out, err := k.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(st.Outputs.KeyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: ecA,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(out.Plaintext), 32; got != want {
		t.Fatalf("data key is %d bytes, want %d", got, want)
	}
	t.Logf("wrapped data key: %d bytes", len(out.CiphertextBlob))

	dec, err := k.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ecA})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dec.Plaintext, out.Plaintext) {
		t.Fatal("Decrypt returned another key")
	}

	tests := []struct {
		name string
		ec   map[string]string
	}{
		{"other practice", encryptionContext("prac-B")},
		{"practice id prefix", encryptionContext("prac-")},
		{"no context", nil},
		{"app only", map[string]string{contextApp: contextAppValue}},
		{"extra key", map[string]string{contextApp: contextAppValue, contextPractice: "prac-A", "x": "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := k.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: tt.ec})
			var ice *types.InvalidCiphertextException
			if !errors.As(err, &ice) {
				t.Errorf("Decrypt with %v: err = %v, want InvalidCiphertextException", tt.ec, err)
			}
		})
	}
}

func TestEmulatorSealOpen(t *testing.T) {
	st := testenv.NewStack(t)
	ctx := context.Background()
	newEnv := func() *Envelope { return New(st.Clients.KMS, Options{KeyID: st.Outputs.KeyID}) }
	writer, reader := newEnv(), newEnv()
	plain := bytes.Repeat([]byte("x"), 2048)
	var sealed [][]byte
	for i := range 20 {
		b := testBinding("prac-1")
		b.Schema = i
		s, err := writer.Seal(ctx, b, plain)
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
	}
	for i, s := range sealed {
		b := testBinding("prac-1")
		b.Schema = i
		got, err := reader.Open(ctx, b, s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatal("opened to another value")
		}
	}
	if got, want := writer.Stats().KMSGenerateCalls, uint64(1); got != want {
		t.Errorf("GenerateDataKey calls = %d, want %d", got, want)
	}
	if got, want := reader.Stats().KMSDecryptCalls, uint64(1); got != want {
		t.Errorf("Decrypt calls = %d, want %d", got, want)
	}
	t.Logf("overhead with moto: %d bytes per value", len(sealed[0])-len(plain))
}

func TestEmulatorTamper(t *testing.T) {
	st := testenv.NewStack(t)
	runTamperTests(t, func() *Envelope {
		return New(st.Clients.KMS, Options{KeyID: st.Outputs.KeyID})
	}, "prac-A", "prac-B")
}
