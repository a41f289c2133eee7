package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/carepost/carepost/shared/carepost"
)

// statusOf is the one table mapping domain error codes to HTTP statuses.
var statusOf = map[carepost.Code]int{
	carepost.CodeInvalid:             http.StatusBadRequest,
	carepost.CodeUnauthenticated:     http.StatusUnauthorized,
	carepost.CodeForbidden:           http.StatusForbidden,
	carepost.CodeConsentRequired:     http.StatusForbidden,
	carepost.CodeNotFound:            http.StatusNotFound,
	carepost.CodeConflict:            http.StatusConflict,
	carepost.CodeTooLarge:            http.StatusRequestEntityTooLarge,
	carepost.CodeUnsupportedMedia:    http.StatusUnsupportedMediaType,
	carepost.CodeValidation:          http.StatusUnprocessableEntity,
	carepost.CodeIdempotencyMismatch: http.StatusUnprocessableEntity,
	carepost.CodeRateLimited:         http.StatusTooManyRequests,
	carepost.CodeInternal:            http.StatusInternalServerError,
	carepost.CodeUnavailable:         http.StatusServiceUnavailable,
}

// ErrorBody is the shape of every error: {"error":{"code":...,"message":...}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is safe to show: a code, a PHI-free message, the field at fault.
type ErrorDetail struct {
	Code    carepost.Code  `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field,omitempty"`
	Details map[string]any `json:"details,omitempty"`
}

func errorResponse(err error) (int, ErrorBody) {
	var e *carepost.Error
	if !errors.As(err, &e) {
		e = &carepost.Error{Code: carepost.CodeInternal}
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	msg := e.Message
	if status >= 500 && e.Code != carepost.CodeUnavailable {
		msg = "internal error; it has been logged"
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return status, ErrorBody{Error: ErrorDetail{Code: e.Code, Message: msg, Field: e.Field, Details: e.Details}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
