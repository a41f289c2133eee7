package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/testenv"
)

func TestSplitPatientCSVKeepsFileLines(t *testing.T) {
	var b strings.Builder
	b.WriteString("firstName,lastName,birthDate,email\n")
	for i := 1; i <= 9; i++ {
		if i == 4 {
			b.WriteString("\n") // a blank line
		}
		if i == 6 {
			fmt.Fprintf(&b, "\"Multi\nLine\",L%d,1990-01-01,m%d@x.test\n", i, i) // a record over two lines
			continue
		}
		fmt.Fprintf(&b, "F%d,L%d,1990-01-01,m%d@x.test\n", i, i, i)
	}
	text := b.String()
	chunks, err := splitPatientCSV(text, 3, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(chunks), 3; got != want {
		t.Fatalf("chunks = %d, want %d", got, want)
	}
	// Each chunk, read the way the API reads it, must give the file's lines.
	fileLine := map[string]int{}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	for {
		rec, err := r.Read()
		if err != nil {
			break
		}
		line, _ := r.FieldPos(0)
		fileLine[rec[1]] = line
	}
	rows := 0
	for _, ch := range chunks {
		cr := csv.NewReader(strings.NewReader(ch.text))
		cr.FieldsPerRecord = -1
		if h, _ := cr.Read(); h[0] != "firstName" {
			t.Fatalf("chunk without the header: %q", ch.text)
		}
		for {
			rec, err := cr.Read()
			if err != nil {
				break
			}
			if len(rec) == 1 {
				continue
			}
			rows++
			line, _ := cr.FieldPos(0)
			if got, want := line+ch.firstLine-1, fileLine[rec[1]]; got != want {
				t.Errorf("%s: chunk says line %d, the file has it on %d", rec[1], got, want)
			}
		}
	}
	if rows != 9 {
		t.Errorf("rows across chunks = %d, want 9", rows)
	}
	if _, err := splitPatientCSV("", 10, 100); err == nil {
		t.Error("an empty file was accepted")
	}
}

func TestParseHours(t *testing.T) {
	h, err := parseHours("mon-fri=08:00-17:00, sat=09:00-12:00")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(h), 6; got != want {
		t.Fatalf("intervals = %d, want %d", got, want)
	}
	if h[5]["day"] != 6 || h[5]["open"] != "09:00" || h[0]["day"] != 1 || h[0]["close"] != "17:00" {
		t.Errorf("parsed %v", h)
	}
	for _, bad := range []string{"mon=08:00", "fri-mon=08:00-17:00", "someday=08:00-09:00"} {
		if _, err := parseHours(bad); err == nil {
			t.Errorf("parseHours(%q) accepted", bad)
		}
	}
}

// TestCLIAgainstTheAPI runs the commands against the real API on the
// emulators: practice init, staff invite, patients import with a progress
// bar and line-numbered problems, in chunks.
func TestCLIAgainstTheAPI(t *testing.T) {
	h := apptest.New(t)
	ctx := context.Background()
	run := testenv.RandomHex(4)
	t.Setenv("CAREPOST_API", h.URL)
	t.Setenv("CAREPOST_TOKEN", h.Token(carepost.RoleAdmin))
	var progress bytes.Buffer
	adminOut = &progress
	t.Cleanup(func() { adminOut = os.Stderr })
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := commands[args[0]].run(ctx, args[1:], &out)
		return out.String(), err
	}

	if out, err := cli("practice", "init", "--name", "CLI Clinic", "--timezone", "America/Denver", "--hours", "mon-fri=07:00-16:00",
		"--pool", "frontdesk", "--pool", "nurses", "--pool", "billing", "--pool", "oncall", "--route", "prescription=pool:nurses", "--route", "billing=pool:billing"); err != nil {
		t.Fatalf("practice init: %v (%s)", err, out)
	}
	if _, err := cli("practice", "init", "--route", "prescription=pool:pharmacy"); err == nil || !strings.Contains(err.Error(), "routing.prescription") {
		t.Fatalf("a route to a missing pool: %v, want a 422 naming routing.prescription", err)
	}
	if out, err := cli("staff", "invite", "--email", "cli-"+run+"@a.test", "--name", "Cli Nurse", "--role", "nurse"); err != nil || !strings.Contains(out, "invited") {
		t.Fatalf("staff invite: %v (%s)", err, out)
	}

	var csvText strings.Builder
	csvText.WriteString("firstName,lastName,birthDate,email\n")
	for i := 1; i <= 25; i++ {
		birth := "1960-01-01"
		if i == 10 {
			birth = "1960-13-01" // line 11
		}
		fmt.Fprintf(&csvText, "Cli%d,Patient,%s,cli%d-%s@m.test\n", i, birth, i, run)
	}
	file := filepath.Join(t.TempDir(), "patients.csv")
	if err := os.WriteFile(file, []byte(csvText.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := cli("patients", "import", file, "--rows", "7")
	if got, want := err, error(exitCode(1)); got != want {
		t.Fatalf("check: %v, want exit status 1 for a bad row (%s)", err, out)
	}
	if !strings.Contains(out, "line 11: error (birthDate)") || !strings.Contains(out, "24 ready to import") {
		t.Fatalf("check output:\n%s", out)
	}
	out, _ = cli("patients", "import", file, "--commit", "--rows", "7")
	if !strings.Contains(out, "25 rows: 24 imported, 1 with errors, 0 duplicates") {
		t.Fatalf("import output:\n%s", out)
	}
	if p := progress.String(); !strings.Contains(p, "importing [") || !strings.Contains(p, "25/25 rows") || !strings.Contains(p, "7/25 rows") {
		t.Fatalf("progress bar output: %q", p)
	}
	out, _ = cli("patients", "import", file, "--commit")
	if !strings.Contains(out, "0 imported, 1 with errors, 24 duplicates") {
		t.Fatalf("re-import output:\n%s", out)
	}
	var page struct{ Items []any }
	h.Must(t, h.Token(carepost.RoleAdmin), "GET", "/v1/patients?limit=100", nil, http.StatusOK, &page)
	if got, want := len(page.Items), 24; got != want {
		t.Fatalf("patients after the CLI import = %d, want %d", got, want)
	}
	if out, err := cli("staff", "list"); err != nil || !strings.Contains(out, "cli-"+run+"@a.test") {
		t.Fatalf("staff list: %v\n%s", err, out)
	}
}
