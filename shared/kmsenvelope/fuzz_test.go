package kmsenvelope

import (
	"bytes"
	"context"
	"testing"
)

// FuzzOpen feeds Open arbitrary bytes as a sealed value: it must never
// panic and never succeed, except on the one genuine value it was seeded
// with.
func FuzzOpen(f *testing.F) {
	ctx := context.Background()
	w := newWrappingKMS()
	e := newTestEnvelope(w, Options{})
	b := testBinding("prac-1")
	genuine, err := e.Seal(ctx, b, []byte(testPlaintext))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(genuine)
	f.Add(genuine[:len(genuine)-1])
	f.Add(genuine[:headerFixed+fakeBlobSize])
	f.Add([]byte{})
	f.Add([]byte{Version})
	f.Add([]byte{Version, 0, 1, 0})
	f.Add([]byte{Version, 0xff, 0xff})
	f.Add(append([]byte{Version, 0, 1, 7}, make([]byte, nonceSize+tagSize)...))
	flipped := bytes.Clone(genuine)
	flipped[len(flipped)/2] ^= 1
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, sealed []byte) {
		plain, err := e.Open(ctx, b, sealed)
		if err == nil {
			if !bytes.Equal(sealed, genuine) {
				t.Fatalf("Open accepted a value that Seal never made (%d bytes)", len(sealed))
			}
			if string(plain) != testPlaintext {
				t.Fatalf("genuine value opened to the wrong plaintext")
			}
			return
		}
		if plain != nil {
			t.Fatalf("Open returned data with its error")
		}
		wantIntegrityError(t, plain, err)
	})
}
