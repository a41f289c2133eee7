package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunStartsEverythingAndCtrlCStopsIt is issue 2's acceptance for
// `make run`, on ports of its own: the banner names the API, the mailbox and
// a token recipe with a user per role; /health shows every dependency up;
// a demo user's token works; Ctrl-C (SIGINT) stops the API and every
// emulator, leaving no process and no open port behind.
func TestRunStartsEverythingAndCtrlCStopsIt(t *testing.T) {
	const base, api = 18400, "127.0.0.1:18480"
	ports := []int{base, base + 1, base + 2, base + 3, 18480}
	for _, p := range ports {
		if listening(p) {
			t.Fatalf("port %d is in use before the test; stop what holds it", p)
		}
	}
	bin := filepath.Join(t.TempDir(), "carepost-dev")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "run", "-addr", api, "-base", fmt.Sprint(base))
	// A clean environment: no endpoints of the test emulators.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "CAREPOST_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	banner := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if !sent && strings.Contains(sc.Text(), "Press Ctrl-C") {
				banner <- b.String()
				sent = true
			}
		}
		if !sent {
			banner <- b.String()
		}
		exited <- cmd.Wait()
	}()
	defer func() { _ = cmd.Process.Kill() }()

	var text string
	select {
	case text = <-banner:
	case <-time.After(3 * time.Minute):
		t.Fatalf("no banner after 3 minutes; stderr:\n%s", stderr.String())
	}
	if !strings.Contains(text, "CarePost is running.") {
		t.Fatalf("run stopped before the banner:\n%s\nstderr:\n%s", text, stderr.String())
	}
	for _, want := range []string{"http://" + api, "http://" + api + "/health", fmt.Sprintf("Mailbox       http://127.0.0.1:%d", base+3), "/local-idp/token"} {
		if !strings.Contains(text, want) {
			t.Errorf("the banner lacks %q:\n%s", want, text)
		}
	}
	users := map[string][2]string{}
	for _, m := range regexp.MustCompile(`(?m)^  (\w+)\s+(\S+@\S+)\s+(\S+)$`).FindAllStringSubmatch(text, -1) {
		users[m[1]] = [2]string{m[2], m[3]}
	}
	for _, role := range []string{"patient", "proxy", "frontdesk", "nurse", "clinician", "admin", "scheduler"} {
		if _, ok := users[role]; !ok {
			t.Errorf("the banner has no demo %s:\n%s", role, text)
		}
	}

	var health struct {
		Status       string
		Dependencies map[string]string
	}
	getJSON(t, "http://"+api+"/health", "", &health)
	if health.Status != "up" || len(health.Dependencies) < 6 {
		t.Errorf("health = %+v, want every dependency up", health)
	}
	for name, state := range health.Dependencies {
		if state != "up" {
			t.Errorf("%s is %s", name, state)
		}
	}
	p := users["patient"]
	resp, err := http.Post("http://"+api+"/local-idp/token", "application/json", strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, p[0], p[1])))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.Token == "" {
		t.Fatalf("no token for the demo patient (%d)", resp.StatusCode)
	}
	var consent map[string]any
	getJSON(t, "http://"+api+"/v1/consent", tok.Token, &consent)
	if consent["agreement"] == nil {
		t.Errorf("the demo patient's consent answer has no agreement: %v", consent)
	}

	// Ctrl-C.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("run exited with %v after Ctrl-C; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not stop within a minute of Ctrl-C")
	}
	for _, p := range ports {
		if listening(p) {
			t.Errorf("port %d still open after Ctrl-C", p)
		}
	}
	for _, p := range ports[:4] {
		if left := processesMentioning(fmt.Sprint(p)); len(left) > 0 {
			t.Errorf("processes left after Ctrl-C: %v", left)
		}
	}
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 300*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}

func getJSON(t *testing.T, url, token string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %d, not JSON: %v", url, resp.StatusCode, err)
	}
}

// processesMentioning lists the command lines of running processes that
// contain s (the emulators carry their port on the command line).
func processesMentioning(s string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil || len(b) == 0 {
			continue
		}
		line := strings.ReplaceAll(string(bytes.TrimRight(b, "\x00")), "\x00", " ")
		if strings.Contains(line, s) && !strings.Contains(line, "go test") && !strings.Contains(line, ".test") {
			out = append(out, line)
		}
	}
	return out
}
