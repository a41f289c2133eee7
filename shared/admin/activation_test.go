package admin_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/testenv"
)

// TestConcurrentActivationsOneWins: the same code sent eight times at
// once (a double click, two devices) activates the patient once; the
// others are told to wait (409) or that the code is used (422), and the
// password that works is the winner's, never one a losing request set.
func TestConcurrentActivationsOneWins(t *testing.T) {
	since := time.Now().Add(-time.Second)
	h := apptest.New(t)
	front := h.Token(carepost.RoleFrontDesk)
	run := testenv.RandomHex(4)
	addr := "race-" + run + "@m.test"
	var ref struct{ ID string }
	h.Must(t, front, "POST", "/v1/patients", map[string]any{"firstName": "Rae", "lastName": "Race", "birthDate": "1981-06-07", "email": addr, "invite": true}, http.StatusCreated, &ref)
	code := activationCode.FindStringSubmatch(mailTo(t, since, addr).Body.Text)
	if code == nil {
		t.Fatal("no activation code in the invitation")
	}

	const n = 8
	status := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status[i], _ = h.Do(t, "", "POST", "/v1/public/activate", map[string]any{"practiceId": apptest.PracticeA, "code": code[1], "birthDate": "1981-06-07", "password": fmt.Sprintf("password number %d", i)}, nil)
		}()
	}
	wg.Wait()
	winner := -1
	for i, st := range status {
		switch st {
		case http.StatusOK:
			if winner >= 0 {
				t.Fatalf("two activations succeeded: %v", status)
			}
			winner = i
		case http.StatusConflict, http.StatusUnprocessableEntity:
		default:
			t.Errorf("activation %d: %d, want 200, 409 or 422", i, st)
		}
	}
	if winner < 0 {
		t.Fatalf("no activation succeeded: %v", status)
	}
	sub, ok := h.Dir.SubjectForEmail(addr)
	if !ok {
		t.Fatal("no account for the activated patient")
	}
	for i := range n {
		_, err := h.Dir.IssueToken(sub, fmt.Sprintf("password number %d", i))
		if i == winner && err != nil {
			t.Errorf("the winner's password does not sign in: %v", err)
		}
		if i != winner && err == nil {
			t.Errorf("losing request %d set the password (statuses %v)", i, status)
		}
	}
	var view struct{ Status string }
	h.Must(t, front, "GET", "/v1/patients/"+ref.ID, nil, http.StatusOK, &view)
	if view.Status != "active" {
		t.Errorf("patient status %q, want active", view.Status)
	}
}
