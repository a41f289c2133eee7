package auditlog

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// hashDomain separates this encoding from every other use of SHA-256; bump
// the version if the field list or order ever changes.
const hashDomain = "carepost.auditlog.v1"

// Hash returns the hex SHA-256 of e's canonical encoding (every field but
// Hash itself, Prev included). See the package comment for the layout.
func Hash(e Event) string {
	h := sha256.New()
	var n [8]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	putString := func(s string) { put([]byte(s)) }
	putInt := func(v int64) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(v))
		put(b[:])
	}
	putString(hashDomain)
	putString(e.PracticeID)
	putInt(e.Seq)
	putInt(e.Time.UnixNano())
	putString(e.Actor)
	putString(e.ActorRole)
	putString(e.SourceIP)
	putString(e.Action)
	putString(e.PatientID)
	putString(e.Object)
	putString(string(e.Outcome))
	putString(e.Prev)
	return sum(h)
}

func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
