package apptest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/app"
	"github.com/carepost/carepost/shared/apptest"
)

type healthAnswer struct {
	Status       string            `json:"status"`
	Dependencies map[string]string `json:"dependencies"`
}

func health(t *testing.T, url string) (int, healthAnswer, string) {
	t.Helper()
	resp, err := http.Get(url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	var h healthAnswer
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, h, string(raw)
}

// TestHealthReportsEachDependency: GET /health, without a token, names
// every dependency; all up is 200, one down is 503 naming it, and the
// answer never carries the cause (resource names, errors).
func TestHealthReportsEachDependency(t *testing.T) {
	h := apptest.New(t)
	want := []string{"bucket", "key", "mail", "queue.campaign", "queue.notify", "queue.triage", "table"}

	st, ans, raw := health(t, h.URL)
	var names []string
	for name, state := range ans.Dependencies {
		names = append(names, name)
		if state != "up" {
			t.Errorf("%s is %q on a healthy stack", name, state)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("dependencies %v, want %v", names, want)
	}
	if st != http.StatusOK || ans.Status != "up" {
		t.Errorf("healthy stack: %d %s", st, raw)
	}

	// The same app with a table and a queue that do not exist.
	cfg := h.App.Config
	cfg.Table = "no-such-table-" + secret("t")[:8]
	cfg.NotifyQueueURL = strings.TrimSuffix(cfg.NotifyQueueURL, "/") + "-missing"
	broken := app.New(cfg, h.App.Clients, h.App.Auth, nil)
	broken.Log = h.App.Log
	broken.MailboxCheck = h.App.MailboxCheck
	srv := httptest.NewServer(broken.API())
	defer srv.Close()
	st, ans, raw = health(t, srv.URL)
	if st != http.StatusServiceUnavailable || ans.Status != "down" {
		t.Errorf("broken stack: %d %s, want 503 and status down", st, raw)
	}
	for name, wantState := range map[string]string{"table": "down", "queue.notify": "down", "key": "up", "queue.triage": "up", "mail": "up", "bucket": "up"} {
		if got := ans.Dependencies[name]; got != wantState {
			t.Errorf("%s = %q, want %q", name, got, wantState)
		}
	}
	if strings.Contains(raw, cfg.Table) || strings.Contains(raw, "missing") {
		t.Errorf("the health answer names the failing resources: %s", raw)
	}
}
