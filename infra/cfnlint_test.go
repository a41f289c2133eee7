package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cfnLint runs the pinned cfn-lint (make test-infra installs it into
// .local/infra-venv and sets CAREPOST_CFN_LINT) on a template file.
func cfnLint(t *testing.T, template []byte) (string, error) {
	t.Helper()
	bin := os.Getenv("CAREPOST_CFN_LINT")
	if bin == "" {
		t.Skip("CAREPOST_CFN_LINT is not set: run `make test-infra`, which installs the pinned cfn-lint and sets it")
	}
	p := filepath.Join(t.TempDir(), "cptest.template.json")
	if err := os.WriteFile(p, template, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--config-file", ".cfnlintrc.yaml", "--", p).CombinedOutput()
	return string(out), err
}

// TestTemplatePassesCfnLint: the synthesized stack passes cfn-lint with the
// one ignored check of .cfnlintrc.yaml.
func TestTemplatePassesCfnLint(t *testing.T) {
	raw, err := json.Marshal(template.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	if out, err := cfnLint(t, raw); err != nil {
		t.Fatalf("cfn-lint refused the synthesized template: %v\n%s", err, out)
	}
}

// TestCfnLintRefusesABrokenTemplate shows the check above can fail: a
// queue with a property CloudFormation does not have.
func TestCfnLintRefusesABrokenTemplate(t *testing.T) {
	broken := `{"Resources":{"Q":{"Type":"AWS::SQS::Queue","Properties":{"VisibilityTimeout":30,"NoSuchProperty":true}}}}`
	out, err := cfnLint(t, []byte(broken))
	if err == nil {
		t.Fatalf("cfn-lint accepted a queue with an unknown property:\n%s", out)
	}
	if !strings.Contains(out, "NoSuchProperty") {
		t.Errorf("cfn-lint failed without naming the bad property:\n%s", out)
	}
}
