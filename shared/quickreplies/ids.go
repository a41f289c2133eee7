package quickreplies

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/carepost/carepost/shared/carepost"
)

// derivedID makes a template's id from the Idempotency-Key, so a retried
// create targets the same template.
func derivedID(p carepost.Principal, key string) string {
	h := sha256.Sum256([]byte("quickreply\x00" + p.PracticeID + "\x00" + p.Subject + "\x00" + key))
	return hex.EncodeToString(h[:16])
}

// safeID keeps client-supplied ids out of the audit log unless they look
// like ids.
func safeID(id string) string {
	if len(id) == 0 || len(id) > 64 {
		return "invalid"
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return "invalid"
		}
	}
	return id
}
