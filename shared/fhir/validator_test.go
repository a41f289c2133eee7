package fhir

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// validatorDir is where `make test` installs the FHIR validators
// (tools/fhir-validate/package.json and its lockfile).
func validatorScript(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	script := filepath.Join(dir, "tools", "fhir-validate", "validate.js")
	mods := os.Getenv("FHIR_VALIDATE_DIR")
	if mods == "" {
		mods = filepath.Join(dir, ".local", "fhir-validate")
	}
	if _, err := os.Stat(filepath.Join(mods, "node_modules", "@medplum", "core")); err != nil {
		t.Fatalf("the FHIR validators are not installed in %s: run `make test` (it installs tools/fhir-validate into .local/fhir-validate)", mods)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is needed to run the FHIR validators")
	}
	return script
}

// ValidationResult is the validators' answer.
type ValidationResult struct {
	Valid  bool `json:"valid"`
	Issues []struct {
		Validator string `json:"validator"`
		Path      string `json:"path"`
		Message   string `json:"message"`
	} `json:"issues"`
}

// Validate pipes FHIR resources to the validators (the official R4 JSON
// schema and Medplum's R4 StructureDefinition validator) in one run, and
// returns one result per resource.
func Validate(t testing.TB, resources ...[]byte) []ValidationResult {
	t.Helper()
	var in bytes.Buffer
	for _, r := range resources {
		var compact bytes.Buffer
		if err := json.Compact(&compact, r); err != nil {
			// Not JSON: send it on one line as is; the validator says so.
			compact.Reset()
			compact.Write(bytes.ReplaceAll(r, []byte("\n"), []byte(" ")))
		}
		in.Write(compact.Bytes())
		in.WriteByte('\n')
	}
	cmd := exec.Command("node", validatorScript(t), "--ndjson")
	cmd.Stdin = &in
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var results []ValidationResult
	dec := json.NewDecoder(&out)
	allValid := true
	for dec.More() {
		var r ValidationResult
		if jerr := dec.Decode(&r); jerr != nil {
			t.Fatalf("validator output (stderr %q): %v", errb.String(), jerr)
		}
		allValid = allValid && r.Valid
		results = append(results, r)
	}
	if len(results) != len(resources) {
		t.Fatalf("the validator answered %d times for %d resources (stderr %q, %v)", len(results), len(resources), errb.String(), err)
	}
	if (err == nil) != allValid {
		t.Fatalf("validator exit %v disagrees with its answers", err)
	}
	return results
}
