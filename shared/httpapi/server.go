// Package httpapi is CarePost's HTTP adapter: routes under /v1, bearer-token
// authentication, Idempotency-Key handling for every POST, strict JSON
// decoding and one error shape. Handlers are thin: parse, call the domain,
// map the result. It is one http.Handler, served in Lambda through
// aws-lambda-go-api-proxy and locally through the same API Gateway event path.
//
// It logs method, route, status, error code and duration only: never bodies,
// query strings, tokens or anything else that may hold patient data.
package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

// Authenticator turns a bearer token into a principal (package auth).
type Authenticator interface {
	Verify(ctx context.Context, bearer string) (carepost.Principal, error)
}

// Auditor lists audit events for "who read my messages".
type Auditor interface {
	ListPatient(ctx context.Context, p carepost.Principal, patientID, cursor string, limit int) (any, error)
}

// Server holds the dependencies of the API.
type Server struct {
	Messaging   *messaging.Service
	Auth        Authenticator
	Idempotency carepost.Idempotency
	Health      func(ctx context.Context) map[string]string
	PatientLog  Auditor
	OpenAPI     []byte
	Log         *slog.Logger
	Now         func() time.Time
	// Extra lets other packages (campaigns, administration) add routes
	// with the same middleware.
	Extra []Route
}

// Route is an extra authenticated route.
type Route struct {
	Pattern string // "POST /v1/campaigns"
	Handle  func(w http.ResponseWriter, r *http.Request, c *Call) error
	Public  bool // no bearer token (signed links)
}

// Call is what a handler gets: the principal and the decoded request.
type Call struct {
	Principal carepost.Principal
	Body      []byte
	Request   messaging.Request
}

// Decode strictly decodes the body into v.
func (c *Call) Decode(v any) error { return decodeStrict(c.Body, v) }

// Handler returns the API as one http.Handler.
func (s *Server) Handler() http.Handler {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("GET /v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.OpenAPI)
	})
	s.routes(mux)
	for _, rt := range s.Extra {
		if rt.Public {
			mux.Handle(rt.Pattern, s.public(rt.Handle))
		} else {
			mux.Handle(rt.Pattern, s.authed(rt.Handle))
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, ErrorBody{Error: ErrorDetail{Code: carepost.CodeNotFound, Message: "no such endpoint"}})
	})
	return s.logged(mux)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	deps := map[string]string{}
	if s.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		deps = s.Health(ctx)
	}
	status, code := "up", http.StatusOK
	for _, v := range deps {
		if v != "up" {
			status, code = "down", http.StatusServiceUnavailable
		}
	}
	writeJSON(w, code, map[string]any{"status": status, "dependencies": deps})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	code   string
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		defer func() {
			if v := recover(); v != nil {
				s.Log.Error("panic in handler", "route", r.Pattern)
				writeJSON(sw, http.StatusInternalServerError, ErrorBody{Error: ErrorDetail{Code: carepost.CodeInternal, Message: "internal error; it has been logged"}})
			}
			s.Log.Info("request", "method", r.Method, "route", r.Pattern, "status", sw.status, "code", sw.code, "ms", time.Since(start).Milliseconds())
		}()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(sw, r)
	})
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := errorResponse(err)
	if sw, ok := w.(*statusWriter); ok {
		sw.code = string(body.Error.Code)
	}
	if status >= 500 {
		// The cause is for operators; domain errors carry no PHI.
		s.Log.Error("request failed", "route", r.Pattern, "code", body.Error.Code, "cause", err.Error())
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, body)
}

func (s *Server) public(h func(http.ResponseWriter, *http.Request, *Call) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := h(w, r, &Call{Body: body}); err != nil {
			s.fail(w, r, err)
		}
	})
}

// authed authenticates, reads the body, and for POSTs applies the
// Idempotency-Key protocol: a retry with the same key and body gets the
// stored response; the same key with another body is a 422; a request whose
// key is in flight waits briefly for it.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *Call) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="carepost"`)
			s.fail(w, r, carepost.Errorf(carepost.CodeUnauthenticated, "send a bearer token in the Authorization header"))
			return
		}
		p, err := s.Auth.Verify(r.Context(), bearer)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="carepost", error="invalid_token"`)
			s.fail(w, r, err)
			return
		}
		p.SourceIP = sourceIP(r)
		body, err := readBody(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sum := sha256.Sum256([]byte(r.Method + " " + r.URL.Path + "\n" + string(body)))
		c := &Call{Principal: p, Body: body, Request: messaging.Request{Principal: p, RequestHash: hex.EncodeToString(sum[:])}}
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || key == "" || s.Idempotency == nil {
			if err := h(w, r, c); err != nil {
				s.fail(w, r, err)
			}
			return
		}
		if len(key) > 128 || strings.ContainsAny(key, " \t\r\n#") {
			s.fail(w, r, carepost.FieldError(carepost.CodeInvalid, "Idempotency-Key", "Idempotency-Key must be at most 128 characters without spaces or #"))
			return
		}
		c.Request.IdempotencyKey = key
		pid := p.PracticeID
		if pid == "" {
			pid = "operator"
		}
		var stored *carepost.StoredResponse
		for attempt := 0; ; attempt++ {
			stored, err = s.Idempotency.Begin(r.Context(), pid, p.Subject, key, c.Request.RequestHash, s.Now())
			if err == nil || carepost.ErrorCode(err) != carepost.CodeConflict || attempt >= 40 {
				break
			}
			time.Sleep(time.Duration(50+attempt*10) * time.Millisecond) // the first request is still running
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if stored != nil {
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(stored.Status)
			_, _ = w.Write(stored.Body)
			return
		}
		rec := &recorder{header: http.Header{}, status: 200}
		herr := h(rec, r, c)
		if herr != nil {
			status, body := errorResponse(herr)
			if status >= 500 || status == http.StatusTooManyRequests || carepost.IsTransient(herr) {
				// Let the client's retry run again: an answer that says
				// "retry" must not become the stored answer to the key.
				_ = s.Idempotency.Abandon(context.WithoutCancel(r.Context()), pid, p.Subject, key)
				s.fail(w, r, herr)
				return
			}
			rec.header.Set("Content-Type", "application/json")
			rec.status = status
			rec.body = mustJSON(body)
		}
		if err := s.Idempotency.Complete(context.WithoutCancel(r.Context()), pid, p.Subject, key, carepost.StoredResponse{Status: rec.status, Body: rec.body}); err != nil {
			s.Log.Error("idempotency record not completed", "route", r.Pattern, "cause", err.Error())
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		if sw, ok := w.(*statusWriter); ok && herr != nil {
			sw.code = string(carepost.ErrorCode(herr))
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body)
	})
}

type recorder struct {
	header http.Header
	status int
	body   []byte
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(s int)           { r.status = s }
func (r *recorder) Write(b []byte) (int, error) { r.body = append(r.body, b...); return len(b), nil }

func bearerToken(h string) (string, bool) {
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	t := strings.TrimSpace(h[len(prefix):])
	return t, t != ""
}

func queryInt(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, carepost.FieldError(carepost.CodeInvalid, name, "%s must be a non-negative integer", name)
	}
	return n, nil
}
