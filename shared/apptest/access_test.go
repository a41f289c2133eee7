package apptest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/testenv"
)

// accessMatrix is every core endpoint × every role × the object it is aimed
// at → the status the caller must get. Columns are apptest user names:
// "proxy" holds a read-write grant for the patient, "proxy-ro" a read-only
// one. Targets:
//
//	own             a thread of the patient (category question: clinical)
//	own-admin       a thread of the patient in an administrative category (appointment)
//	confidential    a thread the patient marked confidential
//	other-patient   a thread of another patient of the same practice
//	other-practice  a thread of a patient of another practice
//
// For endpoints that name a patient instead of a thread, own / other-patient
// / other-practice are PatientA1 / PatientA2 / PatientB1. Reopen is aimed at
// closed threads, every other thread endpoint at open ones.
//
// Notes on single cells:
//   - POST /v1/threads other-practice by staff is 404: staff name patients by
//     id, and an id that is not registered in the caller's practice answers
//     exactly like one nobody has (see TestStaffOpenNeedsRegisteredPatient).
//   - GET /v1/patients/{id}/audit and GET /v1/threads by an admin or staff for
//     another practice's patient id are 200 with an empty list: the query runs
//     in the caller's practice, where that id has nothing.
const accessMatrix = `
method path                                      target          patient proxy proxy-ro frontdesk nurse clinician admin scheduler operator
GET    /v1/threads/{id}                          own             200     200   200      404       200   200       200   404       404
GET    /v1/threads/{id}                          own-admin       200     200   200      200       200   200       200   404       404
GET    /v1/threads/{id}                          confidential    200     404   404      404       200   200       200   404       404
GET    /v1/threads/{id}                          other-patient   404     404   404      404       200   200       200   404       404
GET    /v1/threads/{id}                          other-practice  404     404   404      404       404   404       404   404       404
POST   /v1/threads/{id}/messages                 own             201     201   403      404       201   201       403   404       404
POST   /v1/threads/{id}/messages                 own-admin       201     201   403      201       201   201       403   404       404
POST   /v1/threads/{id}/messages                 confidential    201     404   404      404       201   201       403   404       404
POST   /v1/threads/{id}/messages                 other-patient   404     404   404      404       201   201       403   404       404
POST   /v1/threads/{id}/messages                 other-practice  404     404   404      404       404   404       404   404       404
POST   /v1/threads/{id}/messages/{mid}/retract   own             201     403   403      404       403   403       403   404       404
POST   /v1/threads/{id}/messages/{mid}/retract   own-admin       201     403   403      403       403   403       403   404       404
POST   /v1/threads/{id}/messages/{mid}/retract   confidential    201     404   404      404       403   403       403   404       404
POST   /v1/threads/{id}/messages/{mid}/retract   other-patient   404     404   404      404       403   403       403   404       404
POST   /v1/threads/{id}/messages/{mid}/retract   other-practice  404     404   404      404       404   404       404   404       404
POST   /v1/threads/{id}/read                     own             200     200   200      404       200   200       200   404       404
POST   /v1/threads/{id}/read                     own-admin       200     200   200      200       200   200       200   404       404
POST   /v1/threads/{id}/read                     confidential    200     404   404      404       200   200       200   404       404
POST   /v1/threads/{id}/read                     other-patient   404     404   404      404       200   200       200   404       404
POST   /v1/threads/{id}/read                     other-practice  404     404   404      404       404   404       404   404       404
POST   /v1/threads/{id}/claim                    own             403     403   403      404       200   200       403   403       403
POST   /v1/threads/{id}/claim                    own-admin       403     403   403      200       200   200       403   403       403
POST   /v1/threads/{id}/claim                    confidential    403     403   403      404       200   200       403   403       403
POST   /v1/threads/{id}/claim                    other-patient   403     403   403      404       200   200       403   403       403
POST   /v1/threads/{id}/claim                    other-practice  403     403   403      404       404   404       404   403       403
POST   /v1/threads/{id}/assign                   own             403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/assign                   own-admin       403     403   403      200       200   200       200   403       403
POST   /v1/threads/{id}/assign                   confidential    403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/assign                   other-patient   403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/assign                   other-practice  403     403   403      404       404   404       404   403       403
POST   /v1/threads/{id}/forward                  own             403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/forward                  own-admin       403     403   403      200       200   200       200   403       403
POST   /v1/threads/{id}/forward                  confidential    403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/forward                  other-patient   403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/forward                  other-practice  403     403   403      404       404   404       404   403       403
POST   /v1/threads/{id}/close                    own             403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/close                    own-admin       403     403   403      200       200   200       200   403       403
POST   /v1/threads/{id}/close                    confidential    403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/close                    other-patient   403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/close                    other-practice  403     403   403      404       404   404       404   403       403
POST   /v1/threads/{id}/reopen                   own             403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/reopen                   own-admin       403     403   403      200       200   200       200   403       403
POST   /v1/threads/{id}/reopen                   confidential    403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/reopen                   other-patient   403     403   403      404       200   200       200   403       403
POST   /v1/threads/{id}/reopen                   other-practice  403     403   403      404       404   404       404   403       403
POST   /v1/threads                               own             201     201   403      201       201   201       403   403       403
POST   /v1/threads                               other-patient   404     404   404      201       201   201       403   403       403
POST   /v1/threads                               other-practice  404     404   404      404       404   404       403   403       403
GET    /v1/threads                               own             200     200   200      200       200   200       200   404       404
GET    /v1/threads                               other-patient   404     404   404      200       200   200       200   404       404
GET    /v1/threads                               other-practice  404     404   404      200       200   200       200   404       404
GET    /v1/inbox                                 -               403     403   403      200       200   200       200   403       403
GET    /v1/consent                               own             200     200   200      403       403   403       403   403       403
GET    /v1/consent                               other-patient   404     404   404      403       403   403       403   403       403
GET    /v1/consent                               other-practice  404     404   404      403       403   403       403   403       403
POST   /v1/consent                               own             200     200   200      403       403   403       403   403       403
POST   /v1/consent                               other-patient   404     404   404      403       403   403       403   403       403
POST   /v1/consent                               other-practice  404     404   404      403       403   403       403   403       403
GET    /v1/patients/{id}/audit                   own             200     404   404      404       404   404       200   404       404
GET    /v1/patients/{id}/audit                   other-patient   404     404   404      404       404   404       200   404       404
GET    /v1/patients/{id}/audit                   other-practice  404     404   404      404       404   404       200   404       404
`

// coreRoutes are the routes the matrix must cover (every core endpoint).
var coreRoutes = []string{
	"GET /v1/threads/{id}", "POST /v1/threads/{id}/messages", "POST /v1/threads/{id}/messages/{mid}/retract",
	"POST /v1/threads/{id}/read", "POST /v1/threads/{id}/claim", "POST /v1/threads/{id}/assign",
	"POST /v1/threads/{id}/forward", "POST /v1/threads/{id}/close", "POST /v1/threads/{id}/reopen",
	"POST /v1/threads", "GET /v1/threads", "GET /v1/inbox", "GET /v1/consent", "POST /v1/consent",
	"GET /v1/patients/{id}/audit",
}

type matrixRow struct {
	method, path, target string
	want                 map[string]int // by user name
}

func parseMatrix(t *testing.T) []matrixRow {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(accessMatrix), "\n")
	head := strings.Fields(lines[0])
	users := head[3:]
	var rows []matrixRow
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != len(head) {
			t.Fatalf("matrix row has %d columns, want %d: %q", len(f), len(head), l)
		}
		r := matrixRow{method: f[0], path: f[1], target: f[2], want: map[string]int{}}
		for i, u := range users {
			n, err := strconv.Atoi(f[3+i])
			if err != nil {
				t.Fatalf("bad status %q in %q", f[3+i], l)
			}
			r.want[u] = n
		}
		rows = append(rows, r)
	}
	return rows
}

// thread is one thread made for the matrix, with what must never reach a
// caller who may not see it.
type thread struct {
	practice, patient, category, owner string
	confidential                       bool
	id, firstMessage                   string
	secrets                            []string // ids, subject and body texts
}

// mayRead is the visibility rule restated independently of the code under
// test (PRODUCT.md section 3): the leak check uses it.
func mayRead(u auth.User, th *thread) bool {
	if u.PracticeID == "" || u.PracticeID != th.practice {
		return false
	}
	switch u.Role {
	case carepost.RolePatient:
		return u.PatientID == th.patient
	case carepost.RoleProxy:
		for _, g := range u.Grants {
			if g.PatientID == th.patient && g.Scope.Read && !th.confidential {
				return true
			}
		}
		return false
	case carepost.RoleFrontDesk:
		admin := []string{"appointment", "forms", "billing", "referral", "administrative"}
		return slices.Contains(admin, th.category) || th.owner == "user:"+u.Subject
	case carepost.RoleNurse, carepost.RoleClinician, carepost.RoleAdmin:
		return true
	}
	return false
}

func secret(kind string) string { return kind + "-" + testenv.RandomHex(6) }

type matrix struct {
	h       *apptest.Harness
	threads []*thread
	shared  map[string]*thread // target/state -> thread reused by non-mutating cells
	seen    []seenResponse
}

type seenResponse struct {
	user, cell string
	body       []byte
}

var targetOwner = map[string]string{"own": "patient", "own-admin": "patient", "confidential": "patient", "other-patient": "patient2", "other-practice": "b/patient"}
var targetPatient = map[string]string{"own": apptest.PatientA1, "other-patient": apptest.PatientA2, "other-practice": apptest.PatientB1}

// newThread opens a thread of the given target kind as its patient (and
// closes it when closed).
func (m *matrix) newThread(t *testing.T, target string, closed bool) *thread {
	t.Helper()
	opener := targetOwner[target]
	u := m.h.User(t, opener)
	th := &thread{practice: u.PracticeID, patient: u.PatientID, category: "question", confidential: target == "confidential"}
	if target == "own-admin" {
		th.category = "appointment"
	}
	subj, body := secret("subject"), secret("body")
	var res struct {
		Thread  struct{ ID, Owner string }
		Message struct{ ID string }
	}
	m.h.Must(t, m.h.TokenFor(t, opener), "POST", "/v1/threads",
		map[string]any{"category": th.category, "subject": subj, "body": body, "confidential": th.confidential}, http.StatusCreated, &res)
	th.id, th.firstMessage, th.owner = res.Thread.ID, res.Message.ID, res.Thread.Owner
	th.secrets = []string{th.id, th.firstMessage, subj, body}
	if closed {
		closer := "nurse"
		if th.practice == apptest.PracticeB {
			closer = "b/nurse"
		}
		m.h.Must(t, m.h.TokenFor(t, closer), "POST", "/v1/threads/"+th.id+"/close", nil, http.StatusOK, nil)
	}
	m.threads = append(m.threads, th)
	return th
}

func TestAccessMatrix(t *testing.T) {
	h := apptest.New(t)
	for _, name := range []string{"patient", "patient2", "proxy", "proxy-ro", "b/patient"} {
		h.Accept(t, name)
	}
	m := &matrix{h: h, shared: map[string]*thread{}}
	rows := parseMatrix(t)

	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.method+" "+r.path] = true
	}
	for _, route := range coreRoutes {
		if !covered[route] {
			t.Errorf("the access matrix misses %s", route)
		}
	}

	for _, target := range []string{"own", "own-admin", "confidential", "other-patient", "other-practice"} {
		m.shared[target+"/open"] = m.newThread(t, target, false)
		m.shared[target+"/closed"] = m.newThread(t, target, true)
	}
	before := map[*thread]apptest.Item{}
	for _, th := range m.shared {
		before[th] = h.GetItem(t, apptest.ThreadPK(th.practice, th.id), "META")
	}
	clinician := h.Subject(t, "clinician")

	for _, r := range rows {
		for _, user := range []string{"patient", "proxy", "proxy-ro", "frontdesk", "nurse", "clinician", "admin", "scheduler", "operator"} {
			want := r.want[user]
			name := fmt.Sprintf("%s %s %s as %s", r.method, r.path, r.target, user)
			var th *thread
			path := r.path
			var body any
			if strings.HasPrefix(r.path, "/v1/threads/{id}") {
				state := "open"
				if strings.HasSuffix(r.path, "/reopen") {
					state = "closed"
				}
				th = m.shared[r.target+"/"+state]
				if r.method == "POST" && want < 300 {
					th = m.newThread(t, r.target, state == "closed") // success changes the thread
				}
				path = strings.NewReplacer("{id}", th.id, "{mid}", th.firstMessage).Replace(r.path)
			}
			patient := targetPatient[r.target]
			switch r.method + " " + r.path {
			case "POST /v1/threads/{id}/messages", "POST /v1/threads/{id}/messages/{mid}/retract":
				body = map[string]any{"body": secret("reply")}
			case "POST /v1/threads/{id}/assign":
				body = map[string]any{"to": "pool:frontdesk"}
			case "POST /v1/threads/{id}/forward":
				body = map[string]any{"to": "user:" + clinician}
			case "POST /v1/threads":
				body = map[string]any{"patientId": patient, "category": "question", "subject": secret("subject"), "body": secret("body")}
			case "GET /v1/threads", "GET /v1/consent":
				path += "?patientId=" + patient
			case "POST /v1/consent":
				body = map[string]any{"version": 1, "patientId": patient}
			case "GET /v1/patients/{id}/audit":
				path = "/v1/patients/" + patient + "/audit"
			case "GET /v1/inbox":
				path += "?pool=nurses"
			}
			st, b := h.Do(t, h.TokenFor(t, user), r.method, path, body, nil)
			m.seen = append(m.seen, seenResponse{user: user, cell: name, body: b})
			if st != want {
				t.Errorf("%s: status %d, want %d; body %s", name, st, want, b)
				continue
			}
			if st >= 400 {
				apptest.ErrorOf(t, b)
			}
			if th != nil && st < 300 && !mayRead(h.User(t, user), th) {
				t.Errorf("%s: succeeded on a thread the visibility rule hides from %s", name, user)
			}
			// Register what a success created, for the leak check.
			switch {
			case st < 300 && r.path == "/v1/threads" && r.method == "POST":
				u := h.User(t, user)
				nt := &thread{practice: u.PracticeID, patient: patient, category: "question",
					id: apptest.Get(t, b, "thread.id"), owner: apptest.Get(t, b, "thread.owner")}
				bm := body.(map[string]any)
				nt.secrets = []string{nt.id, apptest.Get(t, b, "message.id"), bm["subject"].(string), bm["body"].(string)}
				m.threads = append(m.threads, nt)
			case st < 300 && th != nil && strings.Contains(r.path, "/messages"):
				th.secrets = append(th.secrets, apptest.Get(t, b, "message.id"), body.(map[string]any)["body"].(string))
			}
		}
	}

	// Zero leaks: no answer to anyone holds an id or a text of a thread
	// that caller may not see, whatever the endpoint and status.
	leaks := 0
	for _, s := range m.seen {
		u := h.User(t, s.user)
		for _, th := range m.threads {
			if mayRead(u, th) {
				continue
			}
			for _, sec := range th.secrets {
				if bytes.Contains(s.body, []byte(sec)) {
					leaks++
					t.Errorf("leak: %s: the answer contains %q of a thread %s may not see", s.cell, sec, s.user)
				}
			}
		}
	}
	t.Logf("%d cells, %d threads, %d leaks", len(m.seen), len(m.threads), leaks)

	// Refused calls changed nothing on the shared threads.
	for th, old := range before {
		now := h.GetItem(t, apptest.ThreadPK(th.practice, th.id), "META")
		for _, attr := range []string{"status", "owner", "lastMessageId", "gsi2pk", "gsi2sk"} {
			if got, want := apptest.S(now, attr), apptest.S(old, attr); got != want {
				t.Errorf("shared thread %s: %s changed from %q to %q by refused calls", th.id, attr, want, got)
			}
		}
		if got, want := apptest.N(now, "messageCount"), apptest.N(old, "messageCount"); got != want {
			t.Errorf("shared thread %s: messageCount changed from %d to %d by refused calls", th.id, want, got)
		}
	}
}

// TestProxyNeverSeesConfidential checks the listing, the thread and the
// inbox-free paths a proxy has: a confidential thread is absent from the
// list and answers 404, exactly like a missing thread.
func TestProxyNeverSeesConfidential(t *testing.T) {
	h := apptest.New(t)
	h.Accept(t, "patient")
	conf := h.Open(t, "patient", map[string]any{"category": "question", "subject": "private matter", "body": "only for my doctor", "confidential": true})
	open := h.Open(t, "patient", map[string]any{"category": "question", "subject": "refill", "body": "please renew"})
	for _, proxy := range []string{"proxy", "proxy-ro"} {
		tok := h.TokenFor(t, proxy)
		st, b := h.Do(t, tok, "GET", "/v1/threads?patientId="+apptest.PatientA1, nil, nil)
		if st != http.StatusOK {
			t.Fatalf("%s list: %d %s", proxy, st, b)
		}
		if !bytes.Contains(b, []byte(open.ThreadID)) {
			t.Errorf("%s list misses the ordinary thread", proxy)
		}
		if bytes.Contains(b, []byte(conf.ThreadID)) || bytes.Contains(b, []byte("private matter")) {
			t.Errorf("%s list shows the confidential thread: %s", proxy, b)
		}
		stConf, bConf := h.Do(t, tok, "GET", "/v1/threads/"+conf.ThreadID, nil, nil)
		stMissing, bMissing := h.Do(t, tok, "GET", "/v1/threads/"+strings.Repeat("0", 32), nil, nil)
		if stConf != http.StatusNotFound || stConf != stMissing || !bytes.Equal(bConf, bMissing) {
			t.Errorf("%s: confidential thread answers %d %s; a missing one %d %s; want the same 404", proxy, stConf, bConf, stMissing, bMissing)
		}
	}
}
