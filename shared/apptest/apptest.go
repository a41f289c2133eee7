// Package apptest builds a whole CarePost App on the local emulators for
// integration tests and drives it over HTTP, as a client would.
//
//	h := apptest.New(t)                       // fresh table, key, queues; two practices
//	h.Accept(t, "patient")                    // accept the messaging agreement
//	st, body := h.Do(t, h.Token(carepost.RolePatient), "POST", "/v1/threads", map[string]any{...}, nil)
//
// New seeds two practices, PracticeA and PracticeB (settings from
// shared/demo), with one user per role in A, a few extra users (a second
// patient, a read-only proxy, a second nurse) and a patient, a nurse, a
// clinician, a front-desk user and an admin in B. Users are named; see
// Names. Tokens are minted by a local issuer whose JWKS is served by an
// httptest server, and verified by the same auth.Verifier the product uses.
//
// Nothing here runs outside tests. Helpers that fail call t.Fatal, so they
// must be called from the test's goroutine (use DoE from other goroutines).
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/carepost/carepost/shared/app"
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/config"
	"github.com/carepost/carepost/shared/demo"
	"github.com/carepost/carepost/shared/testenv"
)

// The seeded practices and patients.
const (
	PracticeA = "clinic-a"
	PracticeB = "clinic-b"
	PatientA1 = "pat-a1" // "patient" in A; the proxies act for this one
	PatientA2 = "pat-a2" // "patient2" in A
	PatientB1 = "pat-b1" // "b/patient" in B
	Audience  = "carepost-test"
)

// Names of the seeded users. In practice A the user named after a role has
// that role ("patient", "proxy", "frontdesk", "nurse", "clinician",
// "admin", "scheduler", "operator"); "proxy" has a read-write grant for
// PatientA1, "proxy-ro" a read-only one. Users of practice B are prefixed
// "b/".
var Names = []string{
	"patient", "patient2", "proxy", "proxy-ro", "frontdesk", "nurse", "nurse2", "clinician", "admin", "scheduler", "operator",
	"b/patient", "b/frontdesk", "b/nurse", "b/clinician", "b/admin",
}

// Harness is one App on a throw-away stack, served over HTTP.
type Harness struct {
	Stack  testenv.Stack
	App    *app.App
	Server *httptest.Server // the API
	URL    string           // Server.URL
	Issuer *auth.LocalIssuer
	Dir    *auth.LocalDirectory

	mu     sync.Mutex
	users  map[string]auth.User
	tokens map[string]string
}

// Options adjust a harness.
type Options struct {
	// DynamoDB, if set, replaces the app's DynamoDB client (e.g. with
	// Meter.Instrument). The harness's own helpers keep the plain client.
	DynamoDB func(*dynamodb.Client) *dynamodb.Client
}

// New builds the harness. The servers and the stack are closed when the
// test ends.
func New(t testing.TB) *Harness { return NewWith(t, Options{}) }

// NewWith is New with options.
func NewWith(t testing.TB, opt Options) *Harness {
	t.Helper()
	st := testenv.NewStack(t)
	clients := st.Clients
	if opt.DynamoDB != nil {
		clients.DynamoDB = opt.DynamoDB(clients.DynamoDB)
	}

	// The verifier fetches the JWKS over HTTP, as it does from Cognito.
	var idpHandler http.Handler = http.NotFoundHandler()
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { idpHandler.ServeHTTP(w, r) }))
	t.Cleanup(idp.Close)
	issuer := idp.URL + "/local-idp"
	iss, err := auth.NewLocalIssuer(auth.LocalIssuerConfig{Issuer: issuer, Audience: Audience})
	if err != nil {
		t.Fatal(err)
	}
	idpHandler = iss.Handler()
	dir := auth.NewLocalDirectory(auth.LocalDirectoryConfig{Issuer: iss, PasswordIterations: 1})
	verifier := auth.NewVerifier(auth.VerifierConfig{JWKSURL: iss.JWKSURL(), Issuer: issuer, Audience: Audience, Revoked: dir.Revoked})

	out := st.Outputs
	cfg := config.Config{
		Table: out.Table, KeyID: out.KeyID, TriageQueueURL: out.TriageQueueURL, NotifyQueueURL: out.NotifyQueueURL,
		CampaignQueueURL: out.CampaignQueueURL, Sender: st.Resources.SenderIdentity, Bucket: out.Bucket, BucketKeyID: out.BucketKeyID,
		JWKSURL: iss.JWKSURL(), Issuer: issuer, Audience: Audience, PublicURL: "http://127.0.0.1", SESRate: 50,
	}
	a := app.New(cfg, clients, verifier, dir)
	a.Messaging.Patients = seededPatients{store: a.Messaging.Patients}
	a.Log = slog.New(slog.NewTextHandler(logWriter(), &slog.HandlerOptions{Level: slog.LevelError}))
	if mailbox := os.Getenv("CAREPOST_MAILBOX_URL"); mailbox != "" {
		// The SES emulator has no GetAccount; its store answering is "up".
		a.MailboxCheck = func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, "GET", mailbox+"/store?since=0", nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("mailbox answered %d", resp.StatusCode)
			}
			return nil
		}
	}
	srv := httptest.NewServer(a.API())
	t.Cleanup(srv.Close)

	h := &Harness{Stack: st, App: a, Server: srv, URL: srv.URL, Issuer: iss, Dir: dir, users: map[string]auth.User{}, tokens: map[string]string{}}
	h.seed(t)
	return h
}

// logWriter sends the app's error log to stderr when CAREPOST_TEST_LOG=1;
// otherwise it is dropped (tests that provoke 500s would be noisy).
func logWriter() io.Writer {
	if os.Getenv("CAREPOST_TEST_LOG") == "1" {
		return os.Stderr
	}
	return io.Discard
}

func (h *Harness) seed(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	rw := []carepost.Grant{{PatientID: PatientA1, Scope: carepost.ProxyScope{Read: true, Write: true}}}
	ro := []carepost.Grant{{PatientID: PatientA1, Scope: carepost.ProxyScope{Read: true}}}
	type seedUser struct {
		name    string
		role    carepost.Role
		patient string
		grants  []carepost.Grant
	}
	for _, pr := range []struct {
		id, prefix string
		users      []seedUser
	}{
		{PracticeA, "", []seedUser{
			{"patient", carepost.RolePatient, PatientA1, nil}, {"patient2", carepost.RolePatient, PatientA2, nil},
			{"proxy", carepost.RoleProxy, "", rw}, {"proxy-ro", carepost.RoleProxy, "", ro},
			{"frontdesk", carepost.RoleFrontDesk, "", nil}, {"nurse", carepost.RoleNurse, "", nil}, {"nurse2", carepost.RoleNurse, "", nil},
			{"clinician", carepost.RoleClinician, "", nil}, {"admin", carepost.RoleAdmin, "", nil},
			{"scheduler", carepost.RoleScheduler, "", nil}, {"operator", carepost.RoleOperator, "", nil},
		}},
		{PracticeB, "b/", []seedUser{
			{"b/patient", carepost.RolePatient, PatientB1, nil}, {"b/frontdesk", carepost.RoleFrontDesk, "", nil},
			{"b/nurse", carepost.RoleNurse, "", nil}, {"b/clinician", carepost.RoleClinician, "", nil}, {"b/admin", carepost.RoleAdmin, "", nil},
		}},
	} {
		staff := map[string]carepost.StaffRef{}
		byRole := map[carepost.Role]string{}
		for _, su := range pr.users {
			u := h.AddUser(t, su.name, auth.User{Role: su.role, PracticeID: pr.id, PatientID: su.patient, Grants: su.grants})
			if su.role.IsStaff() {
				staff[u.Subject] = carepost.StaffRef{Name: "Test " + su.name, Role: su.role}
			}
			if _, dup := byRole[su.role]; !dup {
				byRole[su.role] = u.Subject
			}
		}
		p := demo.Practice(staff, byRole)
		p.ID, p.Name = pr.id, "Practice "+pr.id
		if err := h.App.Store.PutPractice(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := h.App.Store.PutAgreement(ctx, pr.id, demo.AgreementText, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// AddUser creates a user in the directory under name (operators get no
// practice). Staff added after New are not in the practice's staff list
// (assign/forward targets); pool membership is not checked by the API.
func (h *Harness) AddUser(t testing.TB, name string, u auth.User) auth.User {
	t.Helper()
	if u.Role == carepost.RoleOperator {
		u.PracticeID = ""
	}
	if u.Email == "" {
		u.Email = strings.NewReplacer("/", ".").Replace(name) + "@users.test"
	}
	if u.Name == "" {
		u.Name = "Test " + name
	}
	created, err := h.Dir.CreateUser(context.Background(), u, "")
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	h.mu.Lock()
	h.users[name] = created
	h.mu.Unlock()
	return created
}

// User returns the seeded user called name.
func (h *Harness) User(t testing.TB, name string) auth.User {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	u, ok := h.users[name]
	if !ok {
		t.Fatalf("apptest: no user %q (see apptest.Names)", name)
	}
	return u
}

// Subject returns the subject (user id) of the user called name.
func (h *Harness) Subject(t testing.TB, name string) string { return h.User(t, name).Subject }

// Token returns a bearer token of practice A's user with that role (the
// read-write proxy for RoleProxy).
func (h *Harness) Token(role carepost.Role) string {
	return h.tokenFor(string(role))
}

// TokenFor returns a bearer token of the user called name.
func (h *Harness) TokenFor(t testing.TB, name string) string {
	t.Helper()
	h.User(t, name)
	return h.tokenFor(name)
}

func (h *Harness) tokenFor(name string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if tok, ok := h.tokens[name]; ok {
		return tok
	}
	u, ok := h.users[name]
	if !ok {
		panic("apptest: no user " + name)
	}
	tok, err := h.Issuer.Mint(u, time.Hour)
	if err != nil {
		panic("apptest: mint token: " + err.Error())
	}
	h.tokens[name] = tok
	return tok
}

// Response is an API answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// DoE sends one request and returns the answer. body is nil (no body), a
// []byte or string (sent as is) or anything else (sent as JSON). headers
// are added as given; token "" sends no Authorization header. It is safe to
// call from any goroutine.
func (h *Harness) DoE(token, method, path string, body any, headers map[string]string) (Response, error) {
	var rd io.Reader
	var sent []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		sent = b
	case string:
		sent = []byte(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return Response{}, err
		}
		sent = j
	}
	if sent != nil {
		rd = bytes.NewReader(sent)
		// What goes into a thread must never come out in an e-mail: the
		// suite's mail scan (testenv.NoteThreadText) checks every one.
		if method == "POST" && (strings.HasPrefix(path, "/v1/threads") || strings.HasPrefix(path, "/v1/messages")) {
			testenv.NoteThreadJSON(sent)
		}
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		return Response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := h.Server.Client().Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}

// Do is DoE that fails the test on a transport error.
func (h *Harness) Do(t testing.TB, token, method, path string, body any, headers map[string]string) (int, []byte) {
	t.Helper()
	r := h.Request(t, token, method, path, body, headers)
	return r.Status, r.Body
}

// Request is Do returning the headers too.
func (h *Harness) Request(t testing.TB, token, method, path string, body any, headers map[string]string) Response {
	t.Helper()
	r, err := h.DoE(token, method, path, body, headers)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// Must sends a request, checks the status and decodes the JSON answer into
// out (when out is not nil).
func (h *Harness) Must(t testing.TB, token, method, path string, body any, want int, out any) {
	t.Helper()
	st, b := h.Do(t, token, method, path, body, nil)
	if st != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, st, want, b)
	}
	if out != nil {
		Decode(t, b, out)
	}
}

// Decode unmarshals a JSON body or fails the test.
func Decode(t testing.TB, b []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// Get returns the value at a dotted path ("thread.id", "items.0.id") of a
// JSON body, formatted with %v; "" when absent.
func Get(t testing.TB, body []byte, path string) string {
	t.Helper()
	var v any
	Decode(t, body, &v)
	for _, part := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[part]
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i < 0 || i >= len(c) {
				return ""
			}
			v = c[i]
		default:
			return ""
		}
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// ErrorOf decodes the {"error":{...}} shape strictly; it fails the test when
// the body has any other shape, or misses the code or message.
func ErrorOf(t testing.TB, body []byte) (code, message, field string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Field   string         `json:"field"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not an error body of the shape {\"error\":{\"code\",\"message\"}}: %s (%v)", body, err)
	}
	return e.Error.Code, e.Error.Message, e.Error.Field
}

// Accept makes the user called name accept the current messaging agreement
// (for the patient it acts for: itself, or a proxy's first grant).
func (h *Harness) Accept(t testing.TB, name string) {
	t.Helper()
	u := h.User(t, name)
	patient := u.PatientID
	if u.Role == carepost.RoleProxy && len(u.Grants) > 0 {
		patient = u.Grants[0].PatientID
	}
	tok := h.TokenFor(t, name)
	var st struct {
		Agreement carepost.Agreement `json:"agreement"`
	}
	h.Must(t, tok, "GET", "/v1/consent?patientId="+patient, nil, http.StatusOK, &st)
	h.Must(t, tok, "POST", "/v1/consent", map[string]any{"version": st.Agreement.Version, "patientId": patient}, http.StatusOK, nil)
}

// Opened is what Open returns: the ids of a new thread and its message.
type Opened struct {
	ThreadID, MessageID string
}

// Open opens a thread as the user called name (who must have accepted the
// agreement if a patient or proxy) and returns its ids. in is the JSON body.
func (h *Harness) Open(t testing.TB, name string, in map[string]any) Opened {
	t.Helper()
	var res struct {
		Thread  struct{ ID string }
		Message struct{ ID string }
	}
	h.Must(t, h.TokenFor(t, name), "POST", "/v1/threads", in, http.StatusCreated, &res)
	return Opened{ThreadID: res.Thread.ID, MessageID: res.Message.ID}
}
