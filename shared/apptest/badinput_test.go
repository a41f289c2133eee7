package apptest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
)

func reading(value any) map[string]any {
	return map[string]any{"type": "measurement_report", "fields": map[string]any{"readings": []any{
		map[string]any{"type": "temperature", "value": value, "unit": "Cel", "takenAt": "2026-01-02T08:00:00Z"}}}}
}

// TestBadInput sends malformed and invalid requests: each gets the right
// 4xx with {"error":{"code","message"}} naming the field at fault, and
// nothing is written.
func TestBadInput(t *testing.T) {
	h := apptest.New(t)
	h.Accept(t, "patient")
	thread := h.Open(t, "patient", map[string]any{"category": "question", "subject": "s", "body": "b"})
	patient := h.Token(carepost.RolePatient)
	nurse := h.Token(carepost.RoleNurse)

	// A real cursor of the patient's own listing, for the replay cases.
	h.Open(t, "patient", map[string]any{"category": "question", "subject": "s2", "body": "b2"})
	var page struct{ Cursor string }
	h.Must(t, patient, "GET", "/v1/threads?limit=1", nil, http.StatusOK, &page)
	if page.Cursor == "" {
		t.Fatal("no cursor from a one-item page of two threads")
	}

	// An inbox cursor of the unfiltered listing: the urgent thread comes
	// first, so the cursor points into the urgent part of the index.
	h.Open(t, "patient", map[string]any{"category": "question", "subject": "s3", "body": "I have crushing chest pain"})
	var inbox struct{ Cursor string }
	h.Must(t, nurse, "GET", "/v1/inbox?pool=nurses&limit=1", nil, http.StatusOK, &inbox)
	if inbox.Cursor == "" {
		t.Fatal("no cursor from a one-item inbox page")
	}

	open := func(extra map[string]any) map[string]any {
		m := map[string]any{"category": "question", "subject": "a subject", "body": "a body"}
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	reply := "/v1/threads/" + thread.ThreadID + "/messages"
	cases := []struct {
		name, token, method, path string
		body                      any
		headers                   map[string]string
		status                    int
		code, field               string
	}{
		{"body over 64 KB", patient, "POST", "/v1/threads", open(map[string]any{"body": strings.Repeat("a", 70<<10)}), nil, 413, "payload_too_large", ""},
		{"unknown field", patient, "POST", "/v1/threads", open(map[string]any{"colour": "red"}), nil, 400, "invalid_request", "colour"},
		{"unknown field in a reply", patient, "POST", reply, map[string]any{"body": "x", "bcc": "someone"}, nil, 400, "invalid_request", "bcc"},
		{"wrong type", patient, "POST", "/v1/threads", open(map[string]any{"subject": 5}), nil, 400, "invalid_request", "subject"},
		{"wrong type of a nested field", patient, "POST", "/v1/threads", map[string]any{"form": map[string]any{"type": "measurement_report", "fields": []any{}}}, nil, 400, "invalid_request", "form.fields"},
		{"wrong type in a reply", patient, "POST", reply, map[string]any{"body": true}, nil, 400, "invalid_request", "body"},
		{"missing body", patient, "POST", "/v1/threads", open(map[string]any{"body": nil}), nil, 422, "validation_failed", "body"},
		{"missing category", patient, "POST", "/v1/threads", open(map[string]any{"category": nil}), nil, 422, "validation_failed", "category"},
		{"unknown category", patient, "POST", "/v1/threads", open(map[string]any{"category": "gossip"}), nil, 422, "validation_failed", "category"},
		{"text over 10,000 characters", patient, "POST", "/v1/threads", open(map[string]any{"body": strings.Repeat("é", 10001)}), nil, 422, "validation_failed", "body"},
		{"reply over 10,000 characters", patient, "POST", reply, map[string]any{"body": strings.Repeat("x", 10001)}, nil, 422, "validation_failed", "body"},
		{"subject over 120 characters", patient, "POST", "/v1/threads", open(map[string]any{"subject": strings.Repeat("s", 121)}), nil, 422, "validation_failed", "subject"},
		{"implausible measurement", patient, "POST", "/v1/threads", map[string]any{"form": reading(60)}, nil, 422, "validation_failed", "form.fields.readings[0].value"},
		{"unknown form type", patient, "POST", "/v1/threads", map[string]any{"form": map[string]any{"type": "horoscope", "fields": map[string]any{}}}, nil, 422, "validation_failed", "form.type"},
		{"form contradicts the category", patient, "POST", "/v1/threads", map[string]any{"category": "billing", "form": reading(37)}, nil, 422, "validation_failed", "category"},
		{"not JSON", patient, "POST", "/v1/threads", `{"category": "question",`, nil, 400, "invalid_request", ""},
		{"data after the object", patient, "POST", "/v1/threads", `{"category":"question","subject":"s","body":"b"} {}`, nil, 400, "invalid_request", ""},
		{"empty body", patient, "POST", "/v1/threads", "", nil, 400, "invalid_request", ""},
		{"an array instead of an object", patient, "POST", "/v1/threads", `[1,2]`, nil, 400, "invalid_request", "body"},
		{"wrong content type", patient, "POST", "/v1/threads", "category=question", map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media", ""},
		{"garbage cursor", patient, "GET", "/v1/threads?cursor=not-a-cursor", nil, nil, 400, "invalid_request", "cursor"},
		{"forged cursor", patient, "GET", "/v1/threads?cursor=" + flip(page.Cursor), nil, nil, 400, "invalid_request", "cursor"},
		{"cursor of another caller", nurse, "GET", "/v1/threads?patientId=" + apptest.PatientA1 + "&cursor=" + page.Cursor, nil, nil, 400, "invalid_request", "cursor"},
		{"cursor of another listing", nurse, "GET", "/v1/inbox?pool=nurses&cursor=" + page.Cursor, nil, nil, 400, "invalid_request", "cursor"},
		{"inbox cursor with another priority filter", nurse, "GET", "/v1/inbox?pool=nurses&priority=routine&cursor=" + inbox.Cursor, nil, nil, 400, "invalid_request", "cursor"},
		{"inbox cursor of the active list on the closed list", nurse, "GET", "/v1/inbox?pool=nurses&closed=true&cursor=" + inbox.Cursor, nil, nil, 400, "invalid_request", "cursor"},
		{"negative limit", patient, "GET", "/v1/threads?limit=-1", nil, nil, 400, "invalid_request", "limit"},
		{"unknown priority", nurse, "GET", "/v1/inbox?pool=nurses&priority=whenever", nil, nil, 422, "validation_failed", "priority"},
		{"unknown status", nurse, "GET", "/v1/inbox?pool=nurses&status=lost", nil, nil, 422, "validation_failed", "status"},
		{"Idempotency-Key with a space", patient, "POST", reply, map[string]any{"body": "x"}, map[string]string{"Idempotency-Key": "a b"}, 400, "invalid_request", "Idempotency-Key"},
		{"no token", "", "GET", "/v1/threads", nil, nil, 401, "unauthenticated", ""},
		{"bad token", "not.a.jwt", "GET", "/v1/threads", nil, nil, 401, "unauthenticated", ""},
		{"unknown endpoint", patient, "GET", "/v1/nothing-here", nil, nil, 404, "not_found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.Counts(t)
			r := h.Request(t, tc.token, tc.method, tc.path, tc.body, tc.headers)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d; body %.300s", r.Status, tc.status, r.Body)
			}
			code, _, field := apptest.ErrorOf(t, r.Body)
			if code != tc.code || field != tc.field {
				t.Errorf("error code %q field %q, want %q %q", code, field, tc.code, tc.field)
			}
			if strings.Contains(string(r.Body), "ééé") || strings.Contains(string(r.Body), "aaaa") {
				t.Errorf("the error echoes the input")
			}
			after := h.Counts(t)
			for kind, n := range after {
				if kind != "audit" && n != before[kind] {
					t.Errorf("%s items: %d after a refused request, %d before", kind, n, before[kind])
				}
			}
		})
	}

	// The limits are inclusive: exactly 10,000 characters and 120 pass.
	h.Must(t, patient, "POST", "/v1/threads", open(map[string]any{"subject": strings.Repeat("s", 120), "body": strings.Repeat("é", 10000)}), http.StatusCreated, nil)
	h.Must(t, patient, "POST", "/v1/threads", map[string]any{"form": reading(37.2)}, http.StatusCreated, nil)
}

// flip changes one character of a cursor while keeping it valid base64url.
func flip(c string) string {
	b := []byte(c)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
