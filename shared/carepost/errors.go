package carepost

import (
	"errors"
	"fmt"
)

// Code is the machine-readable error code a client sees in
// {"error":{"code":...,"message":...}}. The set is small on purpose; the HTTP
// adapter maps each code to exactly one status.
type Code string

const (
	CodeInvalid             Code = "invalid_request"      // 400: malformed JSON, wrong type, unknown field
	CodeUnauthenticated     Code = "unauthenticated"      // 401: no or bad bearer token
	CodeForbidden           Code = "forbidden"            // 403: authenticated but the role may not do this
	CodeConsentRequired     Code = "consent_required"     // 403: messaging agreement not accepted
	CodeNotFound            Code = "not_found"            // 404: missing, or not visible to the caller
	CodeConflict            Code = "conflict"             // 409: lost a race (claim), or wrong state
	CodeTooLarge            Code = "payload_too_large"    // 413
	CodeUnsupportedMedia    Code = "unsupported_media"    // 415
	CodeValidation          Code = "validation_failed"    // 422: well-formed but semantically wrong
	CodeIdempotencyMismatch Code = "idempotency_mismatch" // 422: same Idempotency-Key, different body
	CodeRateLimited         Code = "rate_limited"         // 429
	CodeInternal            Code = "internal"             // 500
	CodeUnavailable         Code = "unavailable"          // 503: a dependency is down or throttling
)

// Error is the one error type of the domain. Message and Field are safe to
// show to a client and to log: they never contain patient data. Err is the
// wrapped cause for operators (logged, never returned to clients).
type Error struct {
	Code      Code
	Message   string
	Field     string         // the offending input field, if any ("body.systolic")
	Details   map[string]any // extra machine-readable data (e.g. the consent text to accept)
	Transient bool           // retrying later may succeed (throttling, timeouts)
	Err       error
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with a formatted, PHI-free message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError reports a problem with one input field.
func FieldError(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a cause to a coded error.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// Unavailable marks err as a transient dependency failure.
func Unavailable(err error, what string) *Error {
	return &Error{Code: CodeUnavailable, Message: what + " is temporarily unavailable; retry later", Err: err, Transient: true}
}

// NotFound is the single answer for "missing" and "not yours".
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found"}
}

// ErrorCode returns the code of err, CodeInternal for foreign errors and ""
// for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsTransient reports whether err is worth retrying.
func IsTransient(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Transient
}
