// Command infra is the CDK app of CarePost: `cdk synth` / `cdk deploy` run it
// (see cdk.json and infra.mk). It builds one stack per deployment prefix from
// the shared resource definitions (shared/resources) and the access matrix
// (access.go), and runs the cdk-nag HIPAA Security checks on it, so a
// non-compliant change fails synth.
//
// It must never hold secrets or practice data: everything a deployment
// chooses comes from CDK context (-c key=value).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/carepost/carepost/shared/resources"
)

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		jsii.Close()
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(&awscdk.AppProps{Context: featureFlags()})
	cfg, err := ConfigFromContext(contextReader(app))
	if err != nil {
		return err
	}
	if !filepath.IsAbs(cfg.BuildDir) {
		root, err := repoRoot()
		if err != nil {
			return err
		}
		cfg.BuildDir = filepath.Join(root, cfg.BuildDir)
	}
	if err := cfg.CheckBuild(Functions(resources.For(cfg.Prefix, cfg.Sender))); err != nil {
		return err
	}
	NewApp(app, cfg)
	app.Synth(nil)
	return nil
}

// NewApp adds the CarePost stack for cfg to app, with the compliance checks.
func NewApp(app awscdk.App, cfg Config) *CarePostStack {
	var env *awscdk.Environment
	if account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION"); account != "" && region != "" {
		env = &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
	}
	stack := NewCarePostStack(app, cfg.Prefix, &StackProps{
		StackProps: awscdk.StackProps{Env: env, StackName: jsii.String(cfg.Prefix)},
		Config:     cfg,
	})
	ApplyCompliance(stack)
	return stack
}

// contextReader returns a string reader of the app's context (values from
// -c are strings; values from cdk.json may be numbers).
func contextReader(app awscdk.App) func(string) string {
	return func(key string) string {
		v := app.Node().TryGetContext(jsii.String(key))
		switch v := v.(type) {
		case nil:
			return ""
		case string:
			return v
		case float64:
			return fmt.Sprint(int64(v))
		default:
			return fmt.Sprint(v)
		}
	}
}

// repoRoot is the directory of cdk.json (the app runs in infra/).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "cdk.json")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no cdk.json above %s", dir)
		}
	}
}

// featureFlags are the CDK feature flags this app relies on; they are set in
// code so that tests and `cdk synth` build the same template.
func featureFlags() *map[string]any {
	return &map[string]any{
		"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true, // log delivery by bucket policy, not ACLs
		"@aws-cdk/aws-s3:createDefaultLoggingPolicy":      true,
		"@aws-cdk/core:enablePartitionLiterals":           true,
		"@aws-cdk/aws-iam:minimizePolicies":               true,
		"@aws-cdk/aws-kms:aliasNameRef":                   true,
		"@aws-cdk/aws-lambda:recognizeLayerVersion":       true,
		"@aws-cdk/core:validateSnapshotRemovalPolicy":     true,
	}
}
