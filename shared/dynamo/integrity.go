package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
)

// The domain records are built from an item's attributes, and the sealed
// fields are bound to those attributes (practice, thread, message ids). An
// item copied under another key (a thread item pasted under another thread
// id, a message duplicated under another sort key) would keep attributes
// that open its ciphertexts while answering for a key it was never written
// under. The key is what a caller asked for, so it must agree with the
// attributes: a mismatch is an integrity error, never data.

func integrityError(what string) error {
	return carepost.Errorf(carepost.CodeInternal, "stored %s does not match its key", what)
}

// checkThreadKey verifies that a thread item sits under its own key.
func checkThreadKey(it map[string]types.AttributeValue) error {
	if str(it, "pk") != threadPK(str(it, "practiceId"), str(it, "id")) || str(it, "sk") != "META" {
		return integrityError("thread")
	}
	return nil
}

// checkMessageKey verifies that a message item sits under its own key in
// the partition of thread tid of practice pid.
func checkMessageKey(pid, tid string, it map[string]types.AttributeValue) error {
	if str(it, "pk") != threadPK(pid, tid) || str(it, "sk") != messageSK(str(it, "id")) {
		return integrityError("message")
	}
	return nil
}
