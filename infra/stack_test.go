package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/resources"
)

func TestQueuesFromResourcesWithDLQs(t *testing.T) {
	byName := map[string]cfnResource{}
	idByName := map[string]string{}
	for _, id := range ofType("AWS::SQS::Queue") {
		name, _ := tmpl.Resources[id].Properties["QueueName"].(string)
		byName[name] = tmpl.Resources[id]
		idByName[name] = id
	}
	for _, q := range stack.rs.Queues() {
		t.Run(q.Name, func(t *testing.T) {
			main, ok := byName[q.Name]
			if !ok {
				t.Fatalf("queue %s missing; have %v", q.Name, sortedKeys(byName))
			}
			if _, ok := byName[q.DLQName]; !ok {
				t.Fatalf("dead-letter queue %s missing", q.DLQName)
			}
			redrive, _ := main.Properties["RedrivePolicy"].(map[string]any)
			if got := refs(redrive["deadLetterTargetArn"]); !slices.Equal(got, []string{idByName[q.DLQName]}) {
				t.Errorf("redrive target = %v, want %s", got, idByName[q.DLQName])
			}
			n, _ := redrive["maxReceiveCount"].(float64)
			if got, want := int(n), q.MaxReceiveCount; got != want || got < 5 {
				t.Errorf("maxReceiveCount = %d, want %d (and at least 5)", got, want)
			}
			if got, want := main.Properties["VisibilityTimeout"], float64(q.VisibilityTimeout.Seconds()); got != want {
				t.Errorf("VisibilityTimeout = %v, want %v", got, want)
			}
			if got, want := main.Properties["MessageRetentionPeriod"], float64(q.Retention.Seconds()); got != want {
				t.Errorf("MessageRetentionPeriod = %v, want %v", got, want)
			}
			if got, want := byName[q.DLQName].Properties["MessageRetentionPeriod"], float64(q.DLQRetention.Seconds()); got != want {
				t.Errorf("DLQ MessageRetentionPeriod = %v, want %v", got, want)
			}
		})
	}
	// Every queue is either a main queue with a DLQ or a dead-letter queue.
	for name, r := range byName {
		if strings.HasSuffix(name, "-dlq") {
			continue
		}
		if r.Properties["RedrivePolicy"] == nil {
			t.Errorf("queue %s has no dead-letter queue", name)
		}
	}
}

func TestEventSourceMappingsReportBatchItemFailures(t *testing.T) {
	ids := ofType("AWS::Lambda::EventSourceMapping")
	if got, want := len(ids), len(stack.rs.Queues()); got != want {
		t.Fatalf("event source mappings = %d, want %d", got, want)
	}
	mustMatch(t, "every mapping reports batch item failures", func() {
		template.AllResourcesProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
			"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
		})
	})
	for _, q := range stack.rs.Queues() {
		t.Run(q.Consumer, func(t *testing.T) {
			qid := logicalID(stack.queues[q.Consumer])
			var found *cfnResource
			for _, id := range ids {
				r := tmpl.Resources[id]
				if slices.Contains(refs(r.Properties["EventSourceArn"]), qid) {
					found = &r
				}
			}
			if found == nil {
				t.Fatalf("no mapping reads %s", q.Name)
			}
			if got, want := refs(found.Properties["FunctionName"]), logicalID(stack.functions[q.Consumer]); !slices.Equal(got, []string{want}) {
				t.Errorf("consumer = %v, want %s", got, want)
			}
			if got, want := found.Properties["BatchSize"], float64(q.BatchSize); got != want {
				t.Errorf("BatchSize = %v, want %v", got, want)
			}
			var window any
			if q.MaxBatchingWindow > 0 {
				window = q.MaxBatchingWindow.Seconds()
			}
			if got := found.Properties["MaximumBatchingWindowInSeconds"]; got != window {
				t.Errorf("MaximumBatchingWindowInSeconds = %v, want %v", got, window)
			}
			if !slices.Contains(found.DependsOn, logicalID(stack.policies[q.Consumer])) {
				t.Errorf("mapping does not wait for the consumer's policy (DependsOn %v)", found.DependsOn)
			}
			// Function timeout is a sixth of the visibility timeout.
			fn := tmpl.Resources[logicalID(stack.functions[q.Consumer])]
			if got, want := fn.Properties["Timeout"], q.VisibilityTimeout.Seconds()/6; got != want {
				t.Errorf("function Timeout = %v, want %v", got, want)
			}
		})
	}
}

func TestCampaignConcurrencyProtectsSESRate(t *testing.T) {
	fn := tmpl.Resources[logicalID(stack.functions[FnCampaign])]
	if got, want := fn.Properties["ReservedConcurrentExecutions"], float64(testConfig.CampaignConcurrency); got != want {
		t.Errorf("campaign ReservedConcurrentExecutions = %v, want %v", got, want)
	}
	env := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	// 14 msg/s shared by 2 campaign + 2 notify copies + 1 share for pages.
	if got, want := env["CAREPOST_SES_RATE"], "2.80"; got != want {
		t.Errorf("CAREPOST_SES_RATE = %v, want %v", got, want)
	}
}

func TestTableFromResources(t *testing.T) {
	rt := stack.rs.Table
	var gsis []any
	for _, ix := range rt.Indexes {
		gsis = append(gsis, map[string]any{
			"IndexName": ix.Name,
			"KeySchema": []any{
				map[string]any{"AttributeName": ix.PartitionKey, "KeyType": "HASH"},
				map[string]any{"AttributeName": ix.SortKey, "KeyType": "RANGE"},
			},
			"Projection": map[string]any{"ProjectionType": "ALL"},
		})
	}
	mustMatch(t, "table", func() {
		template.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": map[string]any{
				"TableName":   rt.Name,
				"BillingMode": "PAY_PER_REQUEST",
				"KeySchema": []any{
					map[string]any{"AttributeName": rt.PartitionKey, "KeyType": "HASH"},
					map[string]any{"AttributeName": rt.SortKey, "KeyType": "RANGE"},
				},
				"GlobalSecondaryIndexes":           gsis,
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"DeletionProtectionEnabled":        true,
				"TimeToLiveSpecification":          map[string]any{"AttributeName": rt.TTLAttribute, "Enabled": true},
			},
		})
	})
	mustMatch(t, "daily backups kept a week", func() {
		template.HasResourceProperties(jsii.String("AWS::Backup::BackupPlan"), map[string]any{
			"BackupPlan": assertions.Match_ObjectLike(&map[string]any{"BackupPlanRule": []any{assertions.Match_ObjectLike(&map[string]any{
				"Lifecycle":          map[string]any{"DeleteAfterDays": backupRetentionDays},
				"ScheduleExpression": "cron(0 5 * * ? *)",
			})}}),
		})
	})
	mustMatch(t, "table in a backup plan", func() {
		template.HasResourceProperties(jsii.String("AWS::Backup::BackupSelection"), map[string]any{
			"BackupSelection": assertions.Match_ObjectLike(&map[string]any{
				"Resources": assertions.Match_ArrayWith(&[]any{map[string]any{"Fn::GetAtt": []any{logicalID(stack.table), "Arn"}}}),
			}),
		})
	})
}

func TestFunctionsRuntimeLogsAndEnvironment(t *testing.T) {
	wantEnv := []string{
		"CAREPOST_AUDIENCE", "CAREPOST_BUCKET", "CAREPOST_BUCKET_KEY_ID", "CAREPOST_CAMPAIGN_QUEUE_URL", "CAREPOST_CONFIG_SET", "CAREPOST_ISSUER",
		"CAREPOST_JWKS_URL", "CAREPOST_KEY_ID", "CAREPOST_NOTIFY_QUEUE_URL", "CAREPOST_PUBLIC_URL", "CAREPOST_SENDER",
		"CAREPOST_SES_RATE", "CAREPOST_TABLE", "CAREPOST_TRIAGE_QUEUE_URL", "CAREPOST_USER_POOL_ID",
	}
	if got, want := len(ofType("AWS::Lambda::Function")), len(stack.specs); got != want {
		t.Errorf("functions = %d, want %d", got, want)
	}
	logGroups := map[string]string{}
	for _, f := range stack.specs {
		t.Run(f.Name, func(t *testing.T) {
			p := tmpl.Resources[logicalID(stack.functions[f.Name])].Properties
			for k, want := range map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap", "Architectures": []any{"arm64"}} {
				got, _ := json.Marshal(p[k])
				w, _ := json.Marshal(want)
				if string(got) != string(w) {
					t.Errorf("%s = %s, want %s", k, got, w)
				}
			}
			env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
			if got := sortedKeys(env); !slices.Equal(got, wantEnv) {
				t.Errorf("environment = %v, want %v", got, wantEnv)
			}
			if got, want := env["CAREPOST_CONFIG_SET"], stack.rs.ConfigurationSet; got != want {
				t.Errorf("CAREPOST_CONFIG_SET = %v, want %v", got, want)
			}
			if got, want := env["CAREPOST_SENDER"], testConfig.Sender; got != want {
				t.Errorf("CAREPOST_SENDER = %v, want %v", got, want)
			}
			if got, want := refs(env["CAREPOST_BUCKET"]), logicalID(stack.bucket); !slices.Equal(got, []string{want}) {
				t.Errorf("CAREPOST_BUCKET refers to %v, want the generated name of %s", got, want)
			}
			if got, want := refs(env["CAREPOST_KEY_ID"]), logicalID(stack.dataKey); !slices.Equal(got, []string{want}) {
				t.Errorf("CAREPOST_KEY_ID refers to %v, want %s", got, want)
			}
			// Uploads name the bucket's own key: the storage key of its
			// default encryption, as an ARN (what S3 reports for an object).
			if got, want := env["CAREPOST_BUCKET_KEY_ID"], any(map[string]any{"Fn::GetAtt": []any{logicalID(stack.storageKey), "Arn"}}); !reflect.DeepEqual(got, want) {
				t.Errorf("CAREPOST_BUCKET_KEY_ID = %v, want the ARN of the storage key %v", got, want)
			}
			lg := refs(p["LoggingConfig"])
			if len(lg) != 1 || tmpl.Resources[lg[0]].Type != "AWS::Logs::LogGroup" {
				t.Fatalf("LoggingConfig = %v, want the function's own log group", p["LoggingConfig"])
			}
			if other, dup := logGroups[lg[0]]; dup {
				t.Errorf("log group shared with %s", other)
			}
			logGroups[lg[0]] = f.Name
			if got, want := tmpl.Resources[lg[0]].Properties["RetentionInDays"], float64(testConfig.LogRetentionDays); got != want {
				t.Errorf("log retention = %v, want %v", got, want)
			}
			if !allows(rolePermissions(functionRoleID(f.Name)), "logs:PutLogEvents", lg[0]) {
				t.Errorf("role may not write its own log group")
			}
		})
	}
	// The bucket's name is generated (S3 names are global).
	if name, ok := tmpl.Resources[logicalID(stack.bucket)].Properties["BucketName"]; ok {
		t.Errorf("attachment bucket has a fixed name %v", name)
	}
}

func TestAsyncFunctionsHaveDeadLetterQueue(t *testing.T) {
	for _, f := range stack.specs {
		p := tmpl.Resources[logicalID(stack.functions[f.Name])].Properties
		got := refs(p["DeadLetterConfig"])
		if f.Access.AsyncDLQ {
			if !slices.Equal(got, []string{logicalID(stack.asyncDLQ)}) {
				t.Errorf("%s DeadLetterConfig = %v, want the async DLQ", f.Name, got)
			}
		} else if len(got) != 0 {
			t.Errorf("%s has a function DLQ %v it cannot use", f.Name, got)
		}
	}
}

func TestAlarmsGoToOnCall(t *testing.T) {
	topic := logicalID(stack.alarmTopic)
	mustMatch(t, "on-call e-mail subscription", func() {
		template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "email", "Endpoint": testConfig.OnCallEmail,
			"TopicArn": map[string]any{"Ref": topic},
		})
	})
	type key struct{ namespace, metric string }
	count := map[key]int{}
	for _, id := range ofType("AWS::CloudWatch::Alarm") {
		p := tmpl.Resources[id].Properties
		if got := refs(p["AlarmActions"]); !slices.Equal(got, []string{topic}) {
			t.Errorf("alarm %s actions = %v, want the on-call topic", id, got)
		}
		ns, _ := p["Namespace"].(string)
		m, _ := p["MetricName"].(string)
		count[key{ns, m}]++
	}
	tests := []struct {
		k    key
		want int
	}{
		{key{"AWS/Lambda", "Errors"}, len(stack.specs)},
		{key{"AWS/Lambda", "Throttles"}, len(stack.specs)},
		{key{"AWS/Lambda", "Invocations"}, 1}, // the sweep stopped
		{key{"AWS/SQS", "ApproximateNumberOfMessagesVisible"}, len(stack.rs.Queues()) + 1},
		{key{"AWS/SQS", "ApproximateAgeOfOldestMessage"}, 2},
		{key{"AWS/ApiGateway", "5xx"}, 1},
		{key{resources.MetricNamespace, resources.MetricOverdueUrgent}, 1},
	}
	for _, tt := range tests {
		if got := count[tt.k]; got != tt.want {
			t.Errorf("alarms on %s/%s = %d, want %d", tt.k.namespace, tt.k.metric, got, tt.want)
		}
	}
	mustMatch(t, "overdue urgent alarm per table", func() {
		template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace":  resources.MetricNamespace,
			"MetricName": resources.MetricOverdueUrgent,
			"Dimensions": []any{map[string]any{"Name": resources.MetricDimensionTable, "Value": map[string]any{"Ref": logicalID(stack.table)}}},
			"Threshold":  1,
		})
	})
}

func TestHTTPAPIRoutesAndAuthorizer(t *testing.T) {
	authorizers := ofType("AWS::ApiGatewayV2::Authorizer")
	if len(authorizers) != 1 {
		t.Fatalf("authorizers = %v, want one", authorizers)
	}
	mustMatch(t, "JWT authorizer on the user pool and client", func() {
		template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), map[string]any{
			"AuthorizerType": "JWT",
			"IdentitySource": []any{"$request.header.Authorization"},
			"JwtConfiguration": map[string]any{
				"Audience": []any{map[string]any{"Ref": logicalID(stack.auth.client)}},
				"Issuer":   assertions.Match_AnyValue(),
			},
		})
	})
	routes := map[string]map[string]any{}
	for _, id := range ofType("AWS::ApiGatewayV2::Route") {
		p := tmpl.Resources[id].Properties
		routes[p["RouteKey"].(string)] = p
	}
	tests := []struct {
		key  string
		auth string
	}{
		{"ANY /v1/{proxy+}", "JWT"},
		{"ANY /v1/public/{proxy+}", "NONE"},
		{"GET /v1/openapi.json", "NONE"},
		{"GET /health", "NONE"},
	}
	if got, want := len(routes), len(tests); got != want {
		t.Errorf("routes = %v, want %d", sortedKeys(routes), want)
	}
	for _, tt := range tests {
		r, ok := routes[tt.key]
		if !ok {
			t.Errorf("route %q missing", tt.key)
			continue
		}
		if got := r["AuthorizationType"]; got != tt.auth {
			t.Errorf("route %q AuthorizationType = %v, want %s", tt.key, got, tt.auth)
		}
		if tt.auth == "JWT" && !slices.Equal(refs(r["AuthorizerId"]), authorizers) {
			t.Errorf("route %q authorizer = %v", tt.key, r["AuthorizerId"])
		}
	}
	mustMatch(t, "CORS for the practice's web origin", func() {
		template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), map[string]any{
			"CorsConfiguration": assertions.Match_ObjectLike(&map[string]any{
				"AllowOrigins":  []any{"https://" + testConfig.PracticeDomain},
				"AllowHeaders":  assertions.Match_ArrayWith(&[]any{"authorization", "idempotency-key"}),
				"ExposeHeaders": assertions.Match_ArrayWith(&[]any{"idempotent-replayed"}),
			}),
		})
	})
	stage := tmpl.Resources[logicalID(stack.api.stage)].Properties
	if got := stage["DefaultRouteSettings"]; got == nil {
		t.Errorf("stage has no default throttling")
	}
	settings, _ := stage["RouteSettings"].(map[string]any)
	for _, tt := range tests {
		if tt.auth == "NONE" && settings[tt.key] == nil {
			t.Errorf("unauthenticated route %q has no throttling of its own", tt.key)
		}
	}
	logs, _ := stage["AccessLogSettings"].(map[string]any)
	dest := refs(logs["DestinationArn"])
	if len(dest) != 1 || tmpl.Resources[dest[0]].Properties["KmsKeyId"] == nil {
		t.Errorf("access logs go to %v, want an encrypted log group", dest)
	}
	format, _ := logs["Format"].(string)
	for _, leak := range []string{"$context.path", "$context.requestOverride", "querystring"} {
		if strings.Contains(format, leak) {
			t.Errorf("access log format logs %s (signed links carry tokens there)", leak)
		}
	}
}

func TestCognitoPool(t *testing.T) {
	mustMatch(t, "user pool", func() {
		template.HasResource(jsii.String("AWS::Cognito::UserPool"), map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"MfaConfiguration":       "ON",
				"EnabledMfas":            []any{"SOFTWARE_TOKEN_MFA"},
				"AdminCreateUserConfig":  assertions.Match_ObjectLike(&map[string]any{"AllowAdminCreateUserOnly": true}),
				"DeletionProtection":     "ACTIVE",
				"UsernameConfiguration":  map[string]any{"CaseSensitive": false},
				"AccountRecoverySetting": map[string]any{"RecoveryMechanisms": []any{map[string]any{"Name": "verified_email", "Priority": 1}}},
				"Policies": assertions.Match_ObjectLike(&map[string]any{"PasswordPolicy": map[string]any{
					"MinimumLength": passwordMinLength, "RequireLowercase": true, "RequireUppercase": true,
					"RequireNumbers": true, "RequireSymbols": true, "TemporaryPasswordValidityDays": tempPasswordDays,
				}}),
			}),
		})
	})
	var groups []string
	for _, id := range ofType("AWS::Cognito::UserPoolGroup") {
		groups = append(groups, tmpl.Resources[id].Properties["GroupName"].(string))
	}
	sort.Strings(groups)
	var roles []string
	for _, r := range carepost.Roles {
		roles = append(roles, string(r))
	}
	sort.Strings(roles)
	if !slices.Equal(groups, roles) {
		t.Errorf("groups = %v, want one per role %v", groups, roles)
	}
	pool := tmpl.Resources[logicalID(stack.auth.pool)].Properties
	var custom []string
	for _, a := range list(pool["Schema"]) {
		m := a.(map[string]any)
		if m["AttributeDataType"] == "String" && m["Name"] != "email" && m["Name"] != "name" {
			custom = append(custom, m["Name"].(string))
		}
	}
	sort.Strings(custom)
	if want := []string{"grants", "patient_id", "practice_id"}; !slices.Equal(custom, want) {
		t.Errorf("custom attributes = %v, want %v", custom, want)
	}
	client := tmpl.Resources[logicalID(stack.auth.client)].Properties
	units, _ := client["TokenValidityUnits"].(map[string]any)
	if got, want := units["IdToken"], "minutes"; got != want {
		t.Fatalf("id token unit = %v, want %v", got, want)
	}
	if v, _ := client["IdTokenValidity"].(float64); v < 15 || v > 60 {
		t.Errorf("IdTokenValidity = %v minutes, want 15-60", v)
	}
	for _, a := range strs(client["WriteAttributes"]) {
		if strings.HasPrefix(a, "custom:") {
			t.Errorf("the web client may write %s; only the API may", a)
		}
	}
	if got := client["GenerateSecret"]; got != false {
		t.Errorf("GenerateSecret = %v, want false (browser client)", got)
	}
	if got := client["PreventUserExistenceErrors"]; got != "ENABLED" {
		t.Errorf("PreventUserExistenceErrors = %v", got)
	}
}

func TestSESConfiguration(t *testing.T) {
	mustMatch(t, "configuration set", func() {
		template.HasResourceProperties(jsii.String("AWS::SES::ConfigurationSet"), map[string]any{
			"Name":              stack.rs.ConfigurationSet,
			"DeliveryOptions":   map[string]any{"TlsPolicy": "REQUIRE"},
			"ReputationOptions": map[string]any{"ReputationMetricsEnabled": true},
		})
	})
	mustMatch(t, "event destination", func() {
		template.HasResourceProperties(jsii.String("AWS::SES::ConfigurationSetEventDestination"), map[string]any{
			"EventDestination": assertions.Match_ObjectLike(&map[string]any{
				"Enabled":            true,
				"MatchingEventTypes": assertions.Match_ArrayWith(&[]any{"bounce", "complaint", "delivery"}),
				"SnsDestination":     map[string]any{"TopicARN": map[string]any{"Ref": logicalID(stack.sesTopic)}},
			}),
		})
	})
	mustMatch(t, "domain identity", func() {
		template.HasResourceProperties(jsii.String("AWS::SES::EmailIdentity"), map[string]any{
			"EmailIdentity": testConfig.PracticeDomain,
		})
	})
	mustMatch(t, "SES events reach the sesevents function", func() {
		template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "lambda",
			"TopicArn": map[string]any{"Ref": logicalID(stack.sesTopic)},
			"Endpoint": map[string]any{"Fn::GetAtt": []any{logicalID(stack.functions[FnSESEvents]), "Arn"}},
		})
	})
	mustMatch(t, "SES may publish to the topic", func() {
		template.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), map[string]any{
			"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Action": "sns:Publish", "Principal": map[string]any{"Service": "ses.amazonaws.com"}}),
			})}),
			"Topics": []any{map[string]any{"Ref": logicalID(stack.sesTopic)}},
		})
	})
	// The topic is encrypted with the ops key, so SES must be able to use it.
	var sesMayUseKey bool
	for _, st := range statementsOf(tmpl.Resources[logicalID(stack.opsKey)].Properties["KeyPolicy"]) {
		if p, _ := st.Principal.(map[string]any); p["Service"] == "ses.amazonaws.com" && actionMatches(st.Actions, "kms:GenerateDataKey") {
			sesMayUseKey = true
		}
	}
	if !sesMayUseKey {
		t.Errorf("the ops key policy does not let SES encrypt events for the topic")
	}
}

func TestAttachmentBucket(t *testing.T) {
	mustMatch(t, "attachments bucket", func() {
		template.HasResource(jsii.String("AWS::S3::Bucket"), map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"PublicAccessBlockConfiguration": map[string]any{
					"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
				},
				// Versioned, as shared/resources says (and the local bucket is).
				"VersioningConfiguration": map[string]any{"Status": map[bool]string{true: "Enabled", false: "Suspended"}[stack.rs.AttachmentBucket.Versioned]},
				"LoggingConfiguration":    assertions.Match_ObjectLike(&map[string]any{"DestinationBucketName": map[string]any{"Ref": logicalID(stack.accessLogBucket)}}),
				"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
					assertions.Match_ObjectLike(&map[string]any{"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 1}}),
					assertions.Match_ObjectLike(&map[string]any{"NoncurrentVersionExpiration": map[string]any{"NoncurrentDays": stack.rs.AttachmentBucket.NoncurrentExpiry.Hours() / 24}}),
				})},
				"CorsConfiguration": map[string]any{"CorsRules": []any{assertions.Match_ObjectLike(&map[string]any{
					"AllowedMethods": assertions.Match_ArrayWith(&[]any{"PUT"}),
					"AllowedOrigins": []any{"https://" + testConfig.PracticeDomain},
				})}},
			}),
		})
	})
}

func TestSchedulesFromResources(t *testing.T) {
	byTarget := map[string]map[string]any{}
	for _, id := range ofType("AWS::Scheduler::Schedule") {
		p := tmpl.Resources[id].Properties
		for _, fid := range refs(p["Target"].(map[string]any)["Arn"]) {
			byTarget[fid] = p
		}
	}
	if got, want := len(byTarget), len(resources.Schedules()); got != want {
		t.Errorf("schedules = %d, want %d", got, want)
	}
	for _, sc := range resources.Schedules() {
		t.Run(sc.Function, func(t *testing.T) {
			fid := logicalID(stack.functions[sc.Function])
			p, ok := byTarget[fid]
			if !ok {
				t.Fatalf("no schedule invokes %s", sc.Function)
			}
			if got, want := p["ScheduleExpression"], rateExpression(sc.Every); got != want {
				t.Errorf("ScheduleExpression = %v, want %v", got, want)
			}
			role := refs(p["Target"].(map[string]any)["RoleArn"])
			if len(role) != 1 {
				t.Fatalf("scheduler role = %v", role)
			}
			perms := rolePermissions(role[0])
			for _, f := range stack.specs {
				if got, want := allows(perms, "lambda:InvokeFunction", logicalID(stack.functions[f.Name])), f.Name == sc.Function; got != want {
					t.Errorf("scheduler role may invoke %s = %v, want %v", f.Name, got, want)
				}
			}
		})
	}
	for _, tt := range []struct {
		every time.Duration
		want  string
	}{{time.Minute, "rate(1 minute)"}, {5 * time.Minute, "rate(5 minutes)"}, {15 * time.Minute, "rate(15 minutes)"}} {
		if got := rateExpression(tt.every); got != tt.want {
			t.Errorf("rateExpression(%v) = %q, want %q", tt.every, got, tt.want)
		}
	}
}

func TestOutputsForTheOperator(t *testing.T) {
	for _, name := range []string{"OutApiUrl", "OutUserPoolId", "OutUserPoolClientId", "OutAttachmentBucket", "OutDkimRecord1", "OutDkimRecord2", "OutDkimRecord3", "OutAlarmTopicArn"} {
		if _, ok := tmpl.Outputs[name]; !ok {
			t.Errorf("output %s missing", name)
		}
	}
}
