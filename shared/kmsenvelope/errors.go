package kmsenvelope

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"

	"github.com/carepost/carepost/shared/carepost"
)

// ErrIntegrity is wrapped by every error that says stored data is not what
// was sealed: errors.Is(err, ErrIntegrity).
var ErrIntegrity = errors.New("kmsenvelope: integrity check failed")

// integrityMessage is what a client and the log see; the reason and cause
// are for operators and never hold data, keys or bound fields.
const integrityMessage = "stored data failed its integrity check"

func integrityError(reason string, cause error) *carepost.Error {
	err := fmt.Errorf("%w: %s", ErrIntegrity, reason)
	if cause != nil {
		err = fmt.Errorf("%w: %s: %w", ErrIntegrity, reason, cause)
	}
	return &carepost.Error{Code: carepost.CodeInternal, Message: integrityMessage, Err: err}
}

// kmsError classifies a KMS failure. On Decrypt, a refusal of the wrapped
// key itself — it was altered, it was made for another practice (the
// encryption context differs), or it names a key this service may not use —
// is an integrity failure. Throttling, KMS-side faults and network errors
// are transient. Anything else (a disabled key, a missing permission to
// generate keys) is an internal error for operators.
func kmsError(err error, decrypting bool) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		// Network failure, timeout or cancelled context: no answer from KMS.
		return carepost.Unavailable(err, "the encryption key service")
	}
	switch ae.ErrorCode() {
	case "InvalidCiphertextException", "IncorrectKeyException":
		if decrypting {
			return integrityError("KMS refused the wrapped key", err)
		}
	case "AccessDeniedException":
		// Real KMS answers a blob of a key we may not use with this; moto
		// also answers a blob whose key-id bytes were altered with it.
		if decrypting {
			return integrityError("KMS refused the wrapped key", err)
		}
	case "ThrottlingException", "LimitExceededException", "KMSInternalException",
		"DependencyTimeoutException", "KeyUnavailableException", "ServiceUnavailableException":
		return carepost.Unavailable(err, "the encryption key service")
	}
	if ae.ErrorFault() == smithy.FaultServer {
		return carepost.Unavailable(err, "the encryption key service")
	}
	return carepost.Wrap(carepost.CodeInternal, err, "the encryption key service refused the request")
}
