package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/httpapi"
)

type fakeAuth struct{}

func (fakeAuth) Verify(_ context.Context, bearer string) (carepost.Principal, error) {
	return carepost.Principal{Subject: bearer, Role: carepost.RolePatient, PracticeID: "p1", PatientID: "pat"}, nil
}

// memIdempotency is carepost.Idempotency in memory.
type memIdempotency struct {
	mu   sync.Mutex
	recs map[string]*idemRec
}

type idemRec struct {
	hash string
	done *carepost.StoredResponse
}

var _ carepost.Idempotency = (*memIdempotency)(nil)

func (m *memIdempotency) Begin(_ context.Context, pid, sub, key, hash string, _ time.Time) (*carepost.StoredResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := pid + "/" + sub + "/" + key
	r, ok := m.recs[k]
	switch {
	case !ok:
		m.recs[k] = &idemRec{hash: hash}
		return nil, nil
	case r.hash != hash:
		return nil, carepost.Errorf(carepost.CodeIdempotencyMismatch, "mismatch")
	case r.done == nil:
		return nil, &carepost.Error{Code: carepost.CodeConflict, Message: "in progress", Transient: true}
	}
	return r.done, nil
}

func (m *memIdempotency) Complete(_ context.Context, pid, sub, key string, r carepost.StoredResponse) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[pid+"/"+sub+"/"+key].done = &r
	return nil
}

func (m *memIdempotency) Abandon(_ context.Context, pid, sub, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, pid+"/"+sub+"/"+key)
	return nil
}

// TestIdempotencyStoresFinalAnswersOnly: an answer that tells the client to
// retry (a transient conflict, rate limiting, a 5xx) is not kept as the
// answer to the key, so the retry with the same key runs again; a final
// 4xx is kept and replayed.
func TestIdempotencyStoresFinalAnswersOnly(t *testing.T) {
	for _, tc := range []struct {
		name       string
		first      error
		wantSecond int
		replayed   bool
	}{
		{"transient conflict", &carepost.Error{Code: carepost.CodeConflict, Message: "the thread changed; retry", Transient: true}, http.StatusCreated, false},
		{"rate limited", carepost.Errorf(carepost.CodeRateLimited, "slow down"), http.StatusCreated, false},
		{"unavailable", carepost.Unavailable(context.DeadlineExceeded, "the database"), http.StatusCreated, false},
		{"final conflict", carepost.Errorf(carepost.CodeConflict, "the thread is already claimed"), http.StatusConflict, true},
		{"validation", carepost.FieldError(carepost.CodeValidation, "body", "body is required"), http.StatusUnprocessableEntity, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			srv := &httpapi.Server{Auth: fakeAuth{}, Idempotency: &memIdempotency{recs: map[string]*idemRec{}}, Extra: []httpapi.Route{{
				Pattern: "POST /v1/flaky",
				Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
					calls++
					if calls == 1 {
						return tc.first
					}
					w.WriteHeader(http.StatusCreated)
					_, err := w.Write([]byte(`{"ok":true}`))
					return err
				},
			}}}
			ts := httptest.NewServer(srv.Handler())
			defer ts.Close()
			post := func() *http.Response {
				req, _ := http.NewRequest("POST", ts.URL+"/v1/flaky", strings.NewReader(`{}`))
				req.Header.Set("Authorization", "Bearer sub-1")
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", "k1")
				resp, err := ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp
			}
			post()
			second := post()
			if got := second.StatusCode; got != tc.wantSecond {
				t.Errorf("retry with the same key: %d, want %d", got, tc.wantSecond)
			}
			if got := second.Header.Get("Idempotent-Replayed") == "true"; got != tc.replayed {
				t.Errorf("retry replayed the stored answer: %v, want %v", got, tc.replayed)
			}
		})
	}
}
