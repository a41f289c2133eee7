package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Suppression is one HIPAA Security rule the stack deliberately does not
// meet on some resources, with the reason an auditor reads.
type Suppression struct {
	Rule   string
	Reason string
	// On returns the constructs it applies to (with their children).
	On func(s *CarePostStack) []constructs.IConstruct
}

// hipaa prefixes cdk-nag's HIPAA Security rule ids.
const hipaa = "HIPAA.Security-"

// Suppressions is the complete list of accepted deviations from the cdk-nag
// HIPAA Security pack. Anything not listed here fails `cdk synth` and the
// tests.
var Suppressions = []Suppression{
	{
		Rule: hipaa + "LambdaInsideVPC",
		Reason: "The functions reach only AWS service APIs (DynamoDB, KMS, SQS, SES, S3, Cognito) over TLS with IAM " +
			"authentication and hold no network-reachable resources; a VPC would add NAT or interface endpoints " +
			"(about 50-100 USD a month) without protecting any data path.",
		On: functionsWhere(func(FunctionSpec, Config) bool { return true }),
	},
	{
		Rule: hipaa + "LambdaConcurrency",
		Reason: "Reserved concurrency is set where it protects a dependency (the campaign sender and the SES rate). " +
			"Elsewhere it would carve the account's concurrency pool (new accounts have 10) without protecting " +
			"anything: the API is throttled at API Gateway, notify's event source mapping is capped by MaxConcurrency, " +
			"triage and SES events are light, and the scheduled jobs run once per period.",
		On: functionsWhere(func(f FunctionSpec, c Config) bool {
			return f.Name != FnCampaign || c.CampaignConcurrency == 0
		}),
	},
	{
		Rule: hipaa + "LambdaDLQ",
		Reason: "A function dead-letter queue applies to asynchronous invocations only. The API is invoked " +
			"synchronously (errors return to the client); queue consumers fail messages back to their SQS queue, " +
			"whose redrive policy moves them to that queue's dead-letter queue (alarmed).",
		On: functionsWhere(func(f FunctionSpec, _ Config) bool { return !f.Access.AsyncDLQ }),
	},
	{
		Rule: hipaa + "S3BucketReplicationEnabled",
		Reason: "Attachments are versioned, encrypted and retained; cross-region replication would double storage " +
			"and put PHI in a second region for a small practice's recovery objective. Operators who need it add a " +
			"replication rule to a bucket in their chosen region.",
		On: func(s *CarePostStack) []constructs.IConstruct {
			return []constructs.IConstruct{s.bucket, s.accessLogBucket}
		},
	},
	{
		Rule: hipaa + "S3DefaultEncryptionKMS",
		Reason: "S3 server access logs can only be delivered to a bucket with S3-managed encryption (SSE-S3); " +
			"the records hold opaque object keys and request metadata, no PHI.",
		On: func(s *CarePostStack) []constructs.IConstruct { return []constructs.IConstruct{s.accessLogBucket} },
	},
}

func functionsWhere(match func(FunctionSpec, Config) bool) func(*CarePostStack) []constructs.IConstruct {
	return func(s *CarePostStack) []constructs.IConstruct {
		var out []constructs.IConstruct
		for _, f := range s.specs {
			if match(f, s.cfg) {
				out = append(out, s.functions[f.Name])
			}
		}
		return out
	}
}

// ApplyCompliance runs the cdk-nag HIPAA Security pack on the stack at
// synth, with the suppressions above.
func ApplyCompliance(s *CarePostStack) {
	for _, sup := range Suppressions {
		for _, c := range sup.On(s) {
			cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{{
				Id:     jsii.String(sup.Rule),
				Reason: jsii.String(sup.Reason),
			}}, jsii.Bool(true))
		}
	}
	awscdk.Aspects_Of(s.Stack).Add(cdknag.NewHIPAASecurityChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}
