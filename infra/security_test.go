package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestEncryptionAtRestEverywhere(t *testing.T) {
	storageKey, opsKey := logicalID(stack.storageKey), logicalID(stack.opsKey)
	mustMatch(t, "table SSE with the storage CMK", func() {
		template.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"SSESpecification": map[string]any{
				"SSEEnabled": true, "SSEType": "KMS",
				"KMSMasterKeyId": map[string]any{"Fn::GetAtt": []any{storageKey, "Arn"}},
			},
		})
	})
	mustMatch(t, "attachments SSE-KMS with the storage CMK, per object (no bucket key, so the object's encryption context reaches KMS)", func() {
		template.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
				"BucketKeyEnabled": false,
				"ServerSideEncryptionByDefault": map[string]any{
					"SSEAlgorithm":   "aws:kms",
					"KMSMasterKeyID": map[string]any{"Fn::GetAtt": []any{storageKey, "Arn"}},
				},
			}}},
		})
	})
	tests := []struct {
		typ, prop, key string
	}{
		{"AWS::SQS::Queue", "KmsMasterKeyId", opsKey},
		{"AWS::Logs::LogGroup", "KmsKeyId", opsKey},
		{"AWS::SNS::Topic", "KmsMasterKeyId", opsKey},
		{"AWS::Backup::BackupVault", "EncryptionKeyArn", storageKey},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			ids := ofType(tt.typ)
			if len(ids) == 0 {
				t.Fatalf("no %s in the template", tt.typ)
			}
			for _, id := range ids {
				if got := refs(tmpl.Resources[id].Properties[tt.prop]); !slices.Contains(got, tt.key) {
					t.Errorf("%s %s: %s = %v, want the key %s", tt.typ, id, tt.prop, got, tt.key)
				}
			}
		})
	}
	t.Run("buckets", func(t *testing.T) {
		// The one bucket without KMS is the S3 access-log bucket (S3 can
		// only deliver access logs to SSE-S3 buckets; no PHI in them).
		for _, id := range ofType("AWS::S3::Bucket") {
			algo := tmpl.Resources[id].Properties["BucketEncryption"].(map[string]any)["ServerSideEncryptionConfiguration"].([]any)[0].(map[string]any)["ServerSideEncryptionByDefault"].(map[string]any)["SSEAlgorithm"]
			want := "aws:kms"
			if id == logicalID(stack.accessLogBucket) {
				want = "AES256"
			}
			if algo != want {
				t.Errorf("bucket %s: SSEAlgorithm = %v, want %s", id, algo, want)
			}
		}
	})
	t.Run("key rotation", func(t *testing.T) {
		ids := ofType("AWS::KMS::Key")
		if got, want := len(ids), 3; got != want {
			t.Errorf("KMS keys = %d, want %d (data, storage, ops)", got, want)
		}
		for _, id := range ids {
			if got := tmpl.Resources[id].Properties["EnableKeyRotation"]; got != true {
				t.Errorf("key %s: EnableKeyRotation = %v", id, got)
			}
			if got, want := tmpl.Resources[id].DeletionPolicy, "Retain"; got != want {
				t.Errorf("key %s: DeletionPolicy = %q, want %q", id, got, want)
			}
		}
	})
}

func TestTLSOnlyResourcePolicies(t *testing.T) {
	tests := []struct {
		policyType, targetProp, targetType string
	}{
		{"AWS::SQS::QueuePolicy", "Queues", "AWS::SQS::Queue"},
		{"AWS::S3::BucketPolicy", "Bucket", "AWS::S3::Bucket"},
		{"AWS::SNS::TopicPolicy", "Topics", "AWS::SNS::Topic"},
	}
	for _, tt := range tests {
		t.Run(tt.targetType, func(t *testing.T) {
			covered := map[string]bool{}
			for _, id := range ofType(tt.policyType) {
				p := tmpl.Resources[id].Properties
				for _, st := range statementsOf(p["PolicyDocument"]) {
					cond, _ := st.Conditions["Bool"].(map[string]any)
					if st.Effect == "Deny" && cond["aws:SecureTransport"] == "false" {
						for _, r := range refs(p[tt.targetProp]) {
							covered[r] = true
						}
					}
				}
			}
			for _, id := range ofType(tt.targetType) {
				if !covered[id] {
					t.Errorf("%s %s has no policy denying requests without TLS", tt.targetType, id)
				}
			}
		})
	}
}

// awsRequiredWildcards are the only IAM statements (by Sid) that may have
// Resource "*", each because AWS offers no resource-level permission for the
// action, with the condition key that narrows it ("" when AWS offers none).
// Not here on purpose: cloudwatch:PutMetricData (the sweep publishes its
// metric in embedded metric format through its own log group) and X-Ray's
// PutTraceSegments (tracing is off). Key policies are checked apart: there
// "*" means the key itself.
var awsRequiredWildcards = map[string]string{
	// The API's /health reads the SES account's sending status;
	// ses:GetAccount has no resource type and no condition keys.
	"HealthSESAccount": "",
}

func TestNoWildcardResources(t *testing.T) {
	check := func(where string, stmts []statement) {
		for _, st := range stmts {
			for _, a := range st.Actions {
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("%s: statement %q grants every action (%s)", where, st.Sid, a)
				}
			}
			if st.Effect != "Allow" || !slices.Contains(st.Resources, any("*")) {
				continue
			}
			cond, ok := awsRequiredWildcards[st.Sid]
			if !ok {
				t.Errorf("%s: statement %q allows %v on Resource \"*\"", where, st.Sid, st.Actions)
				continue
			}
			if len(st.Actions) != 1 {
				t.Errorf("%s: statement %q on Resource \"*\" must grant the single action it is excepted for, got %v", where, st.Sid, st.Actions)
			}
			if !strings.Contains(strings.Join(conditionKeys(st.Conditions), " "), cond) {
				t.Errorf("%s: statement %q on Resource \"*\" lacks its narrowing condition %s", where, st.Sid, cond)
			}
		}
	}
	for _, typ := range []string{"AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"} {
		for _, id := range ofType(typ) {
			check(id, statementsOf(tmpl.Resources[id].Properties["PolicyDocument"]))
		}
	}
	for _, id := range ofType("AWS::IAM::Role") {
		for _, p := range list(tmpl.Resources[id].Properties["Policies"]) {
			check(id+" inline", statementsOf(p.(map[string]any)["PolicyDocument"]))
		}
	}
	// Resource policies of queues, buckets and topics name their resource.
	for _, typ := range []string{"AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy"} {
		for _, id := range ofType(typ) {
			for _, st := range statementsOf(tmpl.Resources[id].Properties["PolicyDocument"]) {
				if slices.Contains(st.Resources, any("*")) {
					t.Errorf("%s: statement %q has Resource \"*\"", id, st.Sid)
				}
			}
		}
	}
	// Key policies: in a key policy "*" means "this key" (AWS syntax), but
	// no statement may open the key to every principal.
	for _, id := range ofType("AWS::KMS::Key") {
		for _, st := range statementsOf(tmpl.Resources[id].Properties["KeyPolicy"]) {
			if p, ok := st.Principal.(map[string]any); ok && p["AWS"] == "*" {
				t.Errorf("key %s: statement %q allows every AWS principal", id, st.Sid)
			}
			if st.Principal == "*" {
				t.Errorf("key %s: statement %q allows every principal", id, st.Sid)
			}
		}
	}
}

func conditionKeys(c map[string]any) []string {
	var out []string
	for _, v := range c {
		if m, ok := v.(map[string]any); ok {
			for k := range m {
				out = append(out, k)
			}
		}
	}
	return out
}

// TestFunctionsTouchOnlyWhatTheyNeed checks the access boundaries that
// matter, by hand, independent of the access matrix.
func TestFunctionsTouchOnlyWhatTheyNeed(t *testing.T) {
	q := func(consumer string) string { return logicalID(stack.queues[consumer]) }
	tests := []struct {
		fn, action, target string
		want               bool
	}{
		{FnNotify, "sqs:SendMessage", q(FnCampaign), false},
		{FnNotify, "sqs:SendMessage", q(FnTriage), false},
		{FnNotify, "sqs:ReceiveMessage", q(FnNotify), true},
		{FnNotify, "sqs:ReceiveMessage", q(FnCampaign), false},
		{FnNotify, "ses:SendEmail", "", true},
		{FnNotify, "s3:GetObject", "", false},
		{FnNotify, "cognito-idp:AdminGetUser", logicalID(stack.auth.pool), true},
		{FnNotify, "cognito-idp:AdminCreateUser", "", false},
		{FnNotify, "cognito-idp:AdminUpdateUserAttributes", "", false},
		{FnTriage, "cognito-idp:AdminCreateUser", "", false},
		{FnTriage, "cognito-idp:AdminAddUserToGroup", "", false},
		{FnTriage, "cognito-idp:AdminGetUser", "", false},
		{FnTriage, "s3:GetObject", "", false},
		{FnTriage, "sqs:SendMessage", q(FnNotify), true},
		{FnTriage, "sqs:SendMessage", q(FnCampaign), false},
		{FnCampaign, "sqs:SendMessage", q(FnNotify), false},
		{FnCampaign, "sqs:SendMessage", q(FnTriage), false},
		{FnCampaign, "sqs:SendMessage", q(FnCampaign), true},
		{FnCampaign, "cognito-idp:AdminCreateUser", "", false},
		{FnCampaign, "s3:PutObject", "", false},
		{FnTick, "sqs:SendMessage", q(FnCampaign), true},
		{FnTick, "sqs:SendMessage", q(FnNotify), false},
		{FnTick, "ses:SendEmail", "", false},
		{FnTick, "sqs:ReceiveMessage", "", false},
		{FnReminders, "ses:SendEmail", "", true},
		{FnReminders, "cognito-idp:AdminGetUser", "", true},
		{FnReminders, "cognito-idp:AdminCreateUser", "", false},
		{FnReminders, "sqs:SendMessage", q(FnNotify), false},
		{FnReminders, "sqs:SendMessage", q(FnCampaign), false},
		{FnProxyAge, "cognito-idp:AdminUpdateUserAttributes", logicalID(stack.auth.pool), true},
		{FnProxyAge, "ses:SendEmail", "", false},
		{FnRetention, "s3:DeleteObject", logicalID(stack.bucket), true},
		// Every version and delete marker, not a marker over the data.
		{FnRetention, "s3:DeleteObjectVersion", logicalID(stack.bucket), true},
		{FnRetention, "s3:ListBucketVersions", logicalID(stack.bucket), true},
		{FnRetention, "s3:GetObject", "", false},
		{FnRetention, "s3:PutObject", "", false},
		{FnRetention, "cognito-idp:AdminGetUser", "", false},
		{FnRetention, "ses:SendEmail", "", false},
		{FnProxyAge, "sqs:SendMessage", q(FnTriage), false},
		{FnProxyAge, "s3:GetObject", "", false},
		{FnSweep, "sqs:SendMessage", q(FnTriage), true},
		{FnSweep, "sqs:SendMessage", q(FnCampaign), false},
		{FnSweep, "sqs:ReceiveMessage", "", false},
		{FnSweep, "cloudwatch:PutMetricData", "", false},
		{FnSweep, "s3:GetObject", "", false},
		{FnSweep, "cognito-idp:AdminGetUser", "", false},
		{FnSESEvents, "sqs:SendMessage", q(FnNotify), false},
		{FnSESEvents, "ses:SendEmail", "", false},
		{FnSESEvents, "s3:GetObject", "", false},
		{FnSESEvents, "cognito-idp:AdminGetUser", "", false},
		{FnSESEvents, "dynamodb:UpdateItem", logicalID(stack.table), true},
		{FnAPI, "cognito-idp:AdminCreateUser", logicalID(stack.auth.pool), true},
		{FnAPI, "cognito-idp:DeleteUserPool", "", false},
		{FnAPI, "cognito-idp:AdminInitiateAuth", "", false},
		{FnAPI, "s3:PutObject", logicalID(stack.bucket), true},
		{FnAPI, "s3:DeleteObject", logicalID(stack.bucket), true},
		{FnAPI, "s3:DeleteObjectVersion", logicalID(stack.bucket), true},
		{FnAPI, "s3:ListBucketVersions", logicalID(stack.bucket), true},
		// HeadBucket for /health, and 404 (not 403) for an upload not yet there.
		{FnAPI, "s3:ListBucket", logicalID(stack.bucket), true},
		{FnRetention, "s3:ListBucket", logicalID(stack.bucket), false},
		// Uploads are SSE-KMS under the storage key, which S3 uses for the API.
		{FnAPI, "kms:GenerateDataKey", logicalID(stack.storageKey), true},
		{FnAPI, "s3:PutBucketVersioning", "", false},
		{FnAPI, "s3:PutEncryptionConfiguration", "", false},
		{FnAPI, "s3:PutBucketPolicy", "", false},
		{FnAPI, "dynamodb:DescribeTable", logicalID(stack.table), true},
		{FnAPI, "ses:GetAccount", "", true},
		{FnNotify, "ses:GetAccount", "", false},
		{FnNotify, "dynamodb:DescribeTable", "", false},
		{FnAPI, "s3:DeleteBucket", "", false},
		{FnAPI, "ses:SendEmail", "", true},
		{FnAPI, "sqs:SendMessage", q(FnCampaign), true},
		{FnAPI, "sqs:ReceiveMessage", "", false},
		{FnAPI, "cloudwatch:PutMetricData", "", false},
	}
	for _, fn := range []string{FnAPI, FnTriage, FnNotify, FnCampaign, FnSweep, FnTick, FnReminders, FnProxyAge, FnRetention, FnSESEvents} {
		tests = append(tests, struct {
			fn, action, target string
			want               bool
		}{fn, "dynamodb:Scan", "", false}, struct {
			fn, action, target string
			want               bool
		}{fn, "dynamodb:DeleteTable", "", false}, struct {
			fn, action, target string
			want               bool
		}{fn, "iam:PassRole", "", false})
	}
	for _, tt := range tests {
		t.Run(tt.fn+" "+tt.action+" "+tt.target, func(t *testing.T) {
			if got := allows(rolePermissions(functionRoleID(tt.fn)), tt.action, tt.target); got != tt.want {
				t.Errorf("%s may %s on %q = %v, want %v", tt.fn, tt.action, tt.target, got, tt.want)
			}
		})
	}
}

// TestRolesMatchAccessMatrix checks every role against access.go, so the
// matrix stays the one statement of who may do what.
func TestRolesMatchAccessMatrix(t *testing.T) {
	table, bucket, pool := logicalID(stack.table), logicalID(stack.bucket), logicalID(stack.auth.pool)
	roleOwners := map[string]string{}
	for _, f := range stack.specs {
		t.Run(f.Name, func(t *testing.T) {
			roleID := functionRoleID(f.Name)
			if other, dup := roleOwners[roleID]; dup {
				t.Fatalf("%s shares its role with %s", f.Name, other)
			}
			roleOwners[roleID] = f.Name
			fn := tmpl.Resources[logicalID(stack.functions[f.Name])]
			if got := refs(fn.Properties["Role"]); !slices.Equal(got, []string{roleID}) {
				t.Errorf("function role = %v, want %s", got, roleID)
			}
			perms := rolePermissions(roleID)
			a := f.Access
			checks := []struct {
				what, action, target string
				want                 bool
			}{
				{"table", "dynamodb:PutItem", table, a.Table},
				{"attachments", "s3:PutObject", bucket, a.Attachments},
				{"attachment versions", "s3:DeleteObjectVersion", bucket, a.Attachments || a.PurgeAttachments},
				{"attachment versions", "s3:ListBucketVersions", bucket, a.Attachments || a.PurgeAttachments},
				{"attachments bucket", "s3:ListBucket", bucket, a.Attachments},
				{"user admin", "cognito-idp:AdminCreateUser", pool, a.UserAdmin},
				{"user admin", "cognito-idp:AdminSetUserPassword", pool, a.UserAdmin},
				{"user read", "cognito-idp:AdminGetUser", pool, a.UserAdmin || a.UserRead},
				{"mail", "ses:SendEmail", "", a.SendMail},
				{"async DLQ", "sqs:SendMessage", logicalID(stack.asyncDLQ), a.AsyncDLQ},
			}
			for _, q := range stack.rs.Queues() {
				qid := logicalID(stack.queues[q.Consumer])
				checks = append(checks,
					struct {
						what, action, target string
						want                 bool
					}{"send to " + q.Consumer, "sqs:SendMessage", qid, slices.Contains(a.SendTo, q.Consumer)},
					struct {
						what, action, target string
						want                 bool
					}{"consume " + q.Consumer, "sqs:ReceiveMessage", qid, a.Consumes == q.Consumer},
				)
			}
			for _, c := range checks {
				if got := allows(perms, c.action, c.target); got != c.want {
					t.Errorf("%s (%s): allowed = %v, want %v", c.what, c.action, got, c.want)
				}
			}
			// The data key: only through its key policy, and only as Access says.
			enc, dec := dataKeyPrincipals()
			if got, want := slices.Contains(enc, roleID), a.DataKey == KeyEncryptDecrypt; got != want {
				t.Errorf("data key GenerateDataKey: allowed = %v, want %v", got, want)
			}
			if got, want := slices.Contains(dec, roleID), a.DataKey != KeyNone; got != want {
				t.Errorf("data key Decrypt: allowed = %v, want %v", got, want)
			}
			if allows(perms, "kms:Decrypt", logicalID(stack.dataKey)) {
				t.Errorf("the role's IAM policy grants the data key; only the key policy may")
			}
		})
	}
}

// dataKeyPrincipals returns the role ids the data key policy lets generate
// data keys and decrypt; both require an encryption context.
func dataKeyPrincipals() (encrypt, decrypt []string) {
	for _, st := range statementsOf(tmpl.Resources[logicalID(stack.dataKey)].Properties["KeyPolicy"]) {
		p, _ := st.Principal.(map[string]any)
		ids := refs(p["AWS"])
		if len(ids) == 0 || st.Effect != "Allow" {
			continue // the account root administers, and may not use, the key
		}
		null, _ := st.Conditions["Null"].(map[string]any)
		if null["kms:EncryptionContextKeys"] != "false" {
			continue
		}
		if actionMatches(st.Actions, "kms:GenerateDataKey") {
			encrypt = append(encrypt, ids...)
		}
		if actionMatches(st.Actions, "kms:Decrypt") {
			decrypt = append(decrypt, ids...)
		}
	}
	return encrypt, decrypt
}

// TestDataKeyUseNeedsRoleAndContext: only function roles may use the data
// key, and only with an encryption context; account administrators manage
// it without being able to use it.
func TestDataKeyUseNeedsRoleAndContext(t *testing.T) {
	uses := []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"}
	for _, st := range statementsOf(tmpl.Resources[logicalID(stack.dataKey)].Properties["KeyPolicy"]) {
		var used []string
		for _, u := range uses {
			if actionMatches(st.Actions, u) {
				used = append(used, u)
			}
		}
		if len(used) == 0 || st.Effect != "Allow" {
			continue
		}
		p, _ := st.Principal.(map[string]any)
		for _, id := range refs(p["AWS"]) {
			if tmpl.Resources[id].Type != "AWS::IAM::Role" {
				t.Errorf("statement %q lets %s (not a function role) %v", st.Sid, id, used)
			}
		}
		if len(refs(p["AWS"])) == 0 {
			t.Errorf("statement %q lets %v %v", st.Sid, st.Principal, used)
		}
		null, _ := st.Conditions["Null"].(map[string]any)
		if null["kms:EncryptionContextKeys"] != "false" {
			t.Errorf("statement %q allows %v without an encryption context", st.Sid, used)
		}
	}
}

func TestStorageKeyOnlyThroughServices(t *testing.T) {
	key := logicalID(stack.storageKey)
	for _, f := range stack.specs {
		for _, st := range rolePermissions(functionRoleID(f.Name)) {
			if !slices.Contains(refs(st.Resources), key) {
				continue
			}
			eq, _ := st.Conditions["StringEquals"].(map[string]any)
			if eq["kms:ViaService"] == nil {
				t.Errorf("%s: statement %q uses the storage key without kms:ViaService", f.Name, st.Sid)
			}
		}
	}
}

func TestHIPAASecurityPackHasNoUnsuppressedFindings(t *testing.T) {
	rule := assertions.Match_StringLikeRegexp(jsii.String("HIPAA\\.Security-.*"))
	for level, found := range map[string]any{
		"error":   annotations.FindError(jsii.String("*"), rule),
		"warning": annotations.FindWarning(jsii.String("*"), rule),
	} {
		msgs, _ := json.Marshal(found) // the construct path and the rule's message
		var list []struct {
			ID    string `json:"id"`
			Entry struct {
				Data any `json:"data"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(msgs, &list); err != nil {
			t.Fatalf("reading annotations: %v", err)
		}
		for _, m := range list {
			t.Errorf("unsuppressed cdk-nag %s at %s: %v", level, m.ID, m.Entry.Data)
		}
	}
}

// TestEverySuppressionIsUsed keeps the suppression list honest: a
// suppression that no longer suppresses anything must be removed.
func TestEverySuppressionIsUsed(t *testing.T) {
	matches, err := filepath.Glob(filepath.Join(outDir, "HIPAA.Security-*NagReport.csv"))
	if err != nil || len(matches) != 1 {
		t.Fatalf("cdk-nag report in %s: %v %v", outDir, matches, err)
	}
	f, err := os.Open(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	suppressed := map[string]int{}
	for _, r := range rows[1:] {
		if r[2] == "Suppressed" {
			suppressed[r[0]]++
			if strings.TrimSpace(r[3]) == "" {
				t.Errorf("%s on %s suppressed without a reason", r[0], r[1])
			}
		}
		if r[2] == "Non-Compliant" {
			t.Errorf("%s on %s is non-compliant", r[0], r[1])
		}
	}
	for _, s := range Suppressions {
		if suppressed[s.Rule] == 0 {
			t.Errorf("suppression %s suppresses nothing; remove it", s.Rule)
		}
		if len(s.Reason) < 40 {
			t.Errorf("suppression %s: reason %q is too thin to justify it", s.Rule, s.Reason)
		}
	}
}

// Listing versions (to delete a file for good in the versioned bucket) is
// allowed only under att/, where attachments live.
func TestAttachmentVersionListingOnlyUnderAtt(t *testing.T) {
	for _, f := range stack.specs {
		for _, st := range rolePermissions(functionRoleID(f.Name)) {
			if !actionMatches(st.Actions, "s3:ListBucketVersions") {
				continue
			}
			like, _ := st.Conditions["StringLike"].(map[string]any)
			if got, want := like["s3:prefix"], "att/*"; got != want {
				t.Errorf("%s: statement %q lists versions with s3:prefix %v, want %q", f.Name, st.Sid, got, want)
			}
		}
	}
}
