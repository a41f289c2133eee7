package main

// The CDK tests synthesize the stack once (TestMain) and read the template
// both through awscdk/v2/assertions and as plain JSON. jsii is not safe for
// concurrent use: no t.Parallel in this package, and `go test -p 1`.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/carepost/carepost/shared/resources"
)

// testConfig is the deployment every stack test synthesizes.
var testConfig = Config{
	Prefix:              "cptest",
	PracticeDomain:      "clinic.example",
	Sender:              "no-reply@clinic.example",
	OnCallEmail:         "on-call@clinic.example",
	LogRetentionDays:    365,
	SESRate:             14,
	CampaignConcurrency: 2,
}

// synthesized is the stack under test.
var (
	stack       *CarePostStack
	template    assertions.Template
	tmpl        cfnTemplate // the same template as Go values
	annotations assertions.Annotations
	outDir      string
)

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	code := func() int {
		dir, err := os.MkdirTemp("", "carepost-infra-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		cfg := testConfig
		cfg.BuildDir = filepath.Join(dir, "build")
		for _, f := range Functions(resources.For(cfg.Prefix, cfg.Sender)) {
			p := filepath.Join(cfg.BuildDir, f.Name, "bootstrap")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			// Distinct contents give each function its own asset, as in a
			// real build.
			if err := os.WriteFile(p, []byte("dummy bootstrap for "+f.Name), 0o755); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		if err := cfg.Validate(); err != nil {
			fmt.Fprintln(os.Stderr, "test config:", err)
			return 1
		}
		outDir = filepath.Join(dir, "cdk.out")
		ctx := *featureFlags()
		ctx["aws:cdk:bundling-stacks"] = []string{} // never bundle in tests
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outDir)})
		stack = NewApp(app, cfg)
		template = assertions.Template_FromStack(stack.Stack, nil)
		annotations = assertions.Annotations_FromStack(stack.Stack)
		raw, err := json.Marshal(template.ToJSON())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := json.Unmarshal(raw, &tmpl); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	jsii.Close()
	os.Exit(code)
}

// --- template helpers -------------------------------------------------------

type cfnTemplate struct {
	Resources map[string]cfnResource `json:"Resources"`
	Outputs   map[string]any         `json:"Outputs"`
}

type cfnResource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DeletionPolicy string         `json:"DeletionPolicy"`
	DependsOn      []string       `json:"DependsOn"`
}

// ofType returns the logical ids of every resource of type typ, sorted.
func ofType(typ string) []string {
	var ids []string
	for id, r := range tmpl.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// logicalID is the template id of a construct (or of its default child).
func logicalID(c constructs.IConstruct) string {
	if el, ok := c.(awscdk.CfnElement); ok {
		return *stack.Stack.GetLogicalId(el)
	}
	return *stack.Stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}

// refs lists the logical ids a value references (Ref, Fn::GetAtt, nested).
func refs(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["Ref"].(string); ok && !strings.HasPrefix(r, "AWS::") {
				out = append(out, r)
			}
			if ga, ok := v["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
				out = append(out, ga[0].(string))
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

// list turns a string-or-list policy field into a list.
func list(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// statement is one policy statement, flattened.
type statement struct {
	Sid        string
	Effect     string
	Actions    []string
	Resources  []any
	Principal  any
	Conditions map[string]any
}

func statementsOf(doc any) []statement {
	d, _ := doc.(map[string]any)
	var out []statement
	for _, s := range list(d["Statement"]) {
		m := s.(map[string]any)
		st := statement{Actions: strs(m["Action"]), Resources: list(m["Resource"]), Principal: m["Principal"]}
		st.Sid, _ = m["Sid"].(string)
		st.Effect, _ = m["Effect"].(string)
		st.Conditions, _ = m["Condition"].(map[string]any)
		out = append(out, st)
	}
	return out
}

// rolePermissions returns every statement that applies to a role: its
// inline policies, managed policies attached to it, and AWS::IAM::Policy
// resources naming it.
func rolePermissions(roleID string) []statement {
	var out []statement
	role := tmpl.Resources[roleID]
	for _, p := range list(role.Properties["Policies"]) {
		out = append(out, statementsOf(p.(map[string]any)["PolicyDocument"])...)
	}
	for _, typ := range []string{"AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"} {
		for _, id := range ofType(typ) {
			p := tmpl.Resources[id].Properties
			if slices.Contains(refs(p["Roles"]), roleID) {
				out = append(out, statementsOf(p["PolicyDocument"])...)
			}
		}
	}
	for _, arn := range list(role.Properties["ManagedPolicyArns"]) {
		for _, id := range refs(arn) {
			out = append(out, statementsOf(tmpl.Resources[id].Properties["PolicyDocument"])...)
		}
	}
	return out
}

// allows reports whether any Allow statement grants action on a resource
// referencing logical id target ("" matches any resource; Resource "*"
// matches any target).
func allows(stmts []statement, action, target string) bool {
	for _, s := range stmts {
		if s.Effect != "Allow" || !actionMatches(s.Actions, action) {
			continue
		}
		if target == "" || slices.Contains(s.Resources, any("*")) || slices.Contains(refs(s.Resources), target) {
			return true
		}
	}
	return false
}

func actionMatches(actions []string, action string) bool {
	for _, a := range actions {
		if a == "*" || strings.EqualFold(a, action) {
			return true
		}
		if strings.HasSuffix(a, "*") && strings.HasPrefix(strings.ToLower(action), strings.ToLower(strings.TrimSuffix(a, "*"))) {
			return true
		}
	}
	return false
}

// mustMatch runs an assertions call, turning its panic into a test error.
func mustMatch(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

func functionRoleID(name string) string { return logicalID(stack.roles[name]) }
