package main

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/carepost/carepost/shared/resources"
)

// CarePostStack is the whole deployment of one practice (or one hosted
// operator): API, functions, data, keys, queues, mail, alarms.
//
// Three KMS keys, so that holding one grant never reads another kind of data:
//   - data: envelope encryption of message bodies, form payloads and contact
//     details by the application (resources.KeyAlias). Its key policy names
//     the function roles that may use it; account administrators may manage
//     it but not use it.
//   - storage: server-side encryption of the table and the attachments
//     bucket. Roles may use it only through DynamoDB or S3 (kms:ViaService).
//   - ops: logs, queues, the alarm topic and the async dead-letter queue
//     (no PHI by design, encrypted anyway).
type CarePostStack struct {
	awscdk.Stack

	cfg Config
	rs  resources.Stack

	dataKey, storageKey, opsKey awskms.Key

	table           awsdynamodb.Table
	bucket          awss3.Bucket
	accessLogBucket awss3.Bucket
	queues          map[string]awssqs.Queue // by consumer name
	dlqs            map[string]awssqs.Queue // by consumer name
	asyncDLQ        awssqs.Queue
	alarmTopic      awssns.Topic
	sesTopic        awssns.Topic
	functions       map[string]awslambda.Function
	roles           map[string]awsiam.Role
	policies        map[string]awsiam.ManagedPolicy
	specs           []FunctionSpec
	auth            *authParts
	api             apiParts
	mail            *mailParts
	apiEndpoint     *string
}

// StackProps configures NewCarePostStack.
type StackProps struct {
	awscdk.StackProps
	Config Config
}

// NewCarePostStack builds the stack. It panics (through jsii) on invalid
// construct settings; Config must have been validated.
func NewCarePostStack(scope constructs.Construct, id string, props *StackProps) *CarePostStack {
	cfg := props.Config
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("CarePost secure patient messaging (" + cfg.Prefix + ")")
	}
	s := &CarePostStack{
		Stack:     awscdk.NewStack(scope, jsii.String(id), &sp),
		cfg:       cfg,
		rs:        resources.For(cfg.Prefix, cfg.Sender),
		queues:    map[string]awssqs.Queue{},
		dlqs:      map[string]awssqs.Queue{},
		functions: map[string]awslambda.Function{},
		roles:     map[string]awsiam.Role{},
		policies:  map[string]awsiam.ManagedPolicy{},
	}
	s.specs = Functions(s.rs)
	awscdk.Tags_Of(s.Stack).Add(jsii.String("app"), jsii.String("carepost"), nil)
	awscdk.Tags_Of(s.Stack).Add(jsii.String("carepost:stage"), jsii.String(cfg.Prefix), nil)

	s.buildKeys()
	s.buildTable()
	s.buildBucket()
	s.buildQueues()
	s.buildAlarmTopic()
	s.auth = s.buildAuth()
	s.mail = s.buildMail()
	s.buildRoles()
	s.apiEndpoint = s.buildAPIShell()
	s.buildFunctions()
	s.buildDataKeyPolicy()
	s.buildTriggers()
	s.buildAlarms()
	s.buildOutputs()
	return s
}

func (s *CarePostStack) arn(service, resource string) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":" + service + ":"),
		awscdk.Aws_REGION(), jsii.String(":"), awscdk.Aws_ACCOUNT_ID(), jsii.String(":" + resource),
	})
}

func (s *CarePostStack) serviceHost(service string) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(service + "."), awscdk.Aws_REGION(), jsii.String(".amazonaws.com")})
}

// --- keys -------------------------------------------------------------------

func (s *CarePostStack) buildKeys() {
	// The data key's policy is completed by buildDataKeyPolicy once the
	// function roles exist; here: administration without use.
	dataPolicy := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{})
	dataPolicy.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("KeyAdministrationWithoutUse"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
		Actions: jsii.Strings("kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
			"kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
			"kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand"),
		// In a key policy "*" means "this key".
		Resources: jsii.Strings("*"),
	}))
	s.dataKey = awskms.NewKey(s.Stack, jsii.String("DataKey"), &awskms.KeyProps{
		Alias:             jsii.String(s.rs.KeyAlias),
		Description:       jsii.String("CarePost envelope encryption of message bodies, forms, attachments metadata and contact details"),
		EnableKeyRotation: jsii.Bool(true),
		Policy:            dataPolicy,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
	})
	s.storageKey = awskms.NewKey(s.Stack, jsii.String("StorageKey"), &awskms.KeyProps{
		Alias:             jsii.String(s.rs.StorageKeyAlias),
		Description:       jsii.String("CarePost server-side encryption of the table, its backups and the attachments bucket"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
	})
	s.opsKey = awskms.NewKey(s.Stack, jsii.String("OpsKey"), &awskms.KeyProps{
		Alias:             jsii.String("alias/" + s.rs.Prefix + "-ops"),
		Description:       jsii.String("CarePost encryption of logs, queues and the alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
	})
	// CloudWatch Logs encrypts each log group of this account and region.
	s.opsKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(s.serviceHost("logs"), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnLike": map[string]any{"kms:EncryptionContext:aws:logs:arn": s.arn("logs", "log-group:*")},
		},
	}), jsii.Bool(false))
	// SES publishes bounce, complaint and delivery events to the encrypted
	// events topic.
	s.opsKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("SESEventsToTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("ses.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
	}), jsii.Bool(false))
	// CloudWatch alarms publish to the encrypted alarm topic.
	s.opsKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsToTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
	}), jsii.Bool(false))
}

// buildDataKeyPolicy lets exactly the roles that Access names use the data
// key, and only with an encryption context (the application binds practice,
// thread and message into it; a call without one is refused).
func (s *CarePostStack) buildDataKeyPolicy() {
	var encrypters, decrypters []awsiam.IPrincipal
	for _, f := range s.specs {
		switch f.Access.DataKey {
		case KeyEncryptDecrypt:
			encrypters = append(encrypters, s.roles[f.Name])
		case KeyDecrypt:
			decrypters = append(decrypters, s.roles[f.Name])
		}
	}
	withContext := &map[string]any{"Null": map[string]any{"kms:EncryptionContextKeys": "false"}}
	if len(encrypters) > 0 {
		s.dataKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("EncryptDecryptWithContext"),
			Principals: &encrypters,
			Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
			Resources:  jsii.Strings("*"),
			Conditions: withContext,
		}), jsii.Bool(false))
	}
	var describers []awsiam.IPrincipal
	for _, f := range s.specs {
		if f.Access.Health {
			describers = append(describers, s.roles[f.Name])
		}
	}
	if len(describers) > 0 {
		// The health check reads the key's state; no use of the key.
		s.dataKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("DescribeForHealthCheck"),
			Principals: &describers,
			Actions:    jsii.Strings("kms:DescribeKey"),
			Resources:  jsii.Strings("*"),
		}), jsii.Bool(false))
	}
	if len(decrypters) > 0 {
		s.dataKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("DecryptWithContext"),
			Principals: &decrypters,
			Actions:    jsii.Strings("kms:Decrypt"),
			Resources:  jsii.Strings("*"),
			Conditions: withContext,
		}), jsii.Bool(false))
	}
}

// --- data -------------------------------------------------------------------

func (s *CarePostStack) buildTable() {
	t := s.rs.Table
	s.table = awsdynamodb.NewTable(s.Stack, jsii.String("Table"), &awsdynamodb.TableProps{
		TableName:     jsii.String(t.Name),
		PartitionKey:  &awsdynamodb.Attribute{Name: jsii.String(t.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:       &awsdynamodb.Attribute{Name: jsii.String(t.SortKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:   awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:    awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey: s.storageKey,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
			RecoveryPeriodInDays:       jsii.Number(35),
		},
		TimeToLiveAttribute: jsii.String(t.TTLAttribute),
		DeletionProtection:  jsii.Bool(true),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
	})
	for _, ix := range t.Indexes {
		s.table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(ix.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
			SortKey:        &awsdynamodb.Attribute{Name: jsii.String(ix.SortKey), Type: awsdynamodb.AttributeType_STRING},
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	s.buildBackup()
}

func (s *CarePostStack) buildBucket() {
	retention := awscdk.Duration_Days(jsii.Number(float64(s.cfg.LogRetentionDays)))
	// S3 server access logs can only be delivered to a bucket encrypted with
	// S3-managed keys; the records hold object keys (opaque ids), no PHI.
	s.accessLogBucket = awss3.NewBucket(s.Stack, jsii.String("AccessLogBucket"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(true),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                          jsii.String("expire-access-logs"),
			Expiration:                  retention,
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(1)),
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// The functions get the storage key's ARN as CAREPOST_BUCKET_KEY_ID:
	// upload URLs name it and completing an upload checks it. Versioned:
	// whoever deletes a file for good (retention, a refused upload) deletes
	// every version (shared/s3objects).
	att := s.rs.AttachmentBucket
	s.bucket = awss3.NewBucket(s.Stack, jsii.String("AttachmentBucket"), &awss3.BucketProps{
		// No BucketName: S3 names are global; CAREPOST_BUCKET carries the
		// generated one.
		Encryption:    awss3.BucketEncryption_KMS,
		EncryptionKey: s.storageKey,
		// No S3 Bucket Key (resources.Bucket.BucketKey): the practice /
		// thread / attachment context that upload URLs sign reaches KMS.
		// Attachments are few; a KMS request per object costs little.
		BucketKeyEnabled:       jsii.Bool(att.BucketKey),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(att.Versioned),
		ServerAccessLogsBucket: s.accessLogBucket,
		ServerAccessLogsPrefix: jsii.String("attachments/"),
		LifecycleRules: &[]*awss3.LifecycleRule{
			{Id: jsii.String("abort-incomplete-uploads"), AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1))},
			{Id: jsii.String("expire-noncurrent-versions"), NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(att.NoncurrentExpiry.Hours() / 24))},
		},
		Cors: &[]*awss3.CorsRule{{
			AllowedMethods: &[]awss3.HttpMethods{awss3.HttpMethods_PUT, awss3.HttpMethods_GET},
			AllowedOrigins: jsii.Strings("https://" + s.cfg.PracticeDomain),
			AllowedHeaders: jsii.Strings("content-type", "content-length", "content-md5", "x-amz-*"),
			ExposedHeaders: jsii.Strings("etag"),
			MaxAge:         jsii.Number(3000),
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}

// --- queues -----------------------------------------------------------------

func (s *CarePostStack) buildQueues() {
	for _, q := range s.rs.Queues() {
		dlq := awssqs.NewQueue(s.Stack, jsii.String(title(q.Consumer)+"DLQ"), &awssqs.QueueProps{
			QueueName:           jsii.String(q.DLQName),
			RetentionPeriod:     seconds(q.DLQRetention.Seconds()),
			Encryption:          awssqs.QueueEncryption_KMS,
			EncryptionMasterKey: s.opsKey,
			DataKeyReuse:        awscdk.Duration_Hours(jsii.Number(1)),
			EnforceSSL:          jsii.Bool(true),
		})
		s.dlqs[q.Consumer] = dlq
		s.queues[q.Consumer] = awssqs.NewQueue(s.Stack, jsii.String(title(q.Consumer)+"Queue"), &awssqs.QueueProps{
			QueueName:              jsii.String(q.Name),
			VisibilityTimeout:      seconds(q.VisibilityTimeout.Seconds()),
			RetentionPeriod:        seconds(q.Retention.Seconds()),
			ReceiveMessageWaitTime: awscdk.Duration_Seconds(jsii.Number(20)),
			Encryption:             awssqs.QueueEncryption_KMS,
			EncryptionMasterKey:    s.opsKey,
			DataKeyReuse:           awscdk.Duration_Hours(jsii.Number(1)),
			EnforceSSL:             jsii.Bool(true),
			DeadLetterQueue:        &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(float64(q.MaxReceiveCount))},
		})
	}
	// Failed asynchronous invocations (the sweep, SES events) land here.
	s.asyncDLQ = awssqs.NewQueue(s.Stack, jsii.String("AsyncDLQ"), &awssqs.QueueProps{
		QueueName:           jsii.String(s.rs.Prefix + "-async-dlq"),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(14)),
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: s.opsKey,
		DataKeyReuse:        awscdk.Duration_Hours(jsii.Number(1)),
		EnforceSSL:          jsii.Bool(true),
	})
}

func (s *CarePostStack) buildAlarmTopic() {
	s.alarmTopic = awssns.NewTopic(s.Stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("CarePost alarms (" + s.cfg.Prefix + ")"),
		MasterKey:   s.opsKey,
		EnforceSSL:  jsii.Bool(true),
	})
}

// --- functions --------------------------------------------------------------

// buildRoles creates one role and one customer-managed policy per function
// from the access matrix. Policies are attached by the policy (not listed
// on the role), so the data key's policy can name the roles without a
// dependency cycle; functions and event source mappings depend on their
// policy explicitly.
func (s *CarePostStack) buildRoles() {
	for _, f := range s.specs {
		role := awsiam.NewRole(s.Stack, jsii.String(title(f.Name)+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("CarePost " + f.Name + " function"),
		})
		s.roles[f.Name] = role
	}
}

func (s *CarePostStack) statementsFor(f FunctionSpec, logGroup awslogs.LogGroup) []awsiam.PolicyStatement {
	st := func(sid string, actions []string, resources []*string, conditions map[string]any) awsiam.PolicyStatement {
		p := &awsiam.PolicyStatementProps{Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: &resources}
		if conditions != nil {
			p.Conditions = &conditions
		}
		return awsiam.NewPolicyStatement(p)
	}
	viaService := func(services ...string) map[string]any {
		hosts := make([]*string, len(services))
		for i, svc := range services {
			hosts[i] = s.serviceHost(svc)
		}
		return map[string]any{"StringEquals": map[string]any{"kms:ViaService": hosts}}
	}
	a := f.Access
	out := []awsiam.PolicyStatement{
		st("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, []*string{logGroup.LogGroupArn()}, nil),
	}
	if a.Table {
		out = append(out,
			st("TableItems", []string{
				"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
				"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
				"dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
			}, []*string{s.table.TableArn(), awscdk.Fn_Join(jsii.String(""), &[]*string{s.table.TableArn(), jsii.String("/index/*")})}, nil),
		)
	}
	storageVia := []string{}
	if a.Table {
		storageVia = append(storageVia, "dynamodb")
	}
	if a.Attachments {
		storageVia = append(storageVia, "s3")
		out = append(out, st("AttachmentObjects", []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion"},
			[]*string{s.bucket.ArnForObjects(jsii.String("*"))}, nil))
		// HeadBucket (the health check) needs s3:ListBucket, and without it
		// a HEAD of an upload that has not arrived yet answers 403, not
		// 404 (completing too early would be a 500, not a 409).
		out = append(out, st("AttachmentBucket", []string{"s3:ListBucket"}, []*string{s.bucket.BucketArn()}, nil))
	}
	if a.PurgeAttachments {
		out = append(out, st("AttachmentPurge", []string{"s3:DeleteObject", "s3:DeleteObjectVersion"}, []*string{s.bucket.ArnForObjects(jsii.String("att/*"))}, nil))
	}
	if a.Attachments || a.PurgeAttachments {
		// Deleting for good in the versioned bucket: list the versions and
		// delete each by version id (s3:DeleteObjectVersion), delete markers
		// too; only under att/, where attachments live.
		out = append(out, st("AttachmentVersions", []string{"s3:ListBucketVersions"}, []*string{s.bucket.BucketArn()},
			map[string]any{"StringLike": map[string]any{"s3:prefix": "att/*"}}))
	}
	if len(storageVia) > 0 {
		out = append(out, st("StorageKeyThroughService",
			[]string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt*", "kms:DescribeKey"},
			[]*string{s.storageKey.KeyArn()}, viaService(storageVia...)))
	}
	var sqsKey bool
	if a.Consumes != "" {
		sqsKey = true
		out = append(out, st("ConsumeQueue",
			[]string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"},
			[]*string{s.queues[a.Consumes].QueueArn()}, nil))
	}
	if len(a.SendTo) > 0 || a.AsyncDLQ {
		sqsKey = true
		var arns []*string
		for _, q := range a.SendTo {
			arns = append(arns, s.queues[q].QueueArn())
		}
		if a.AsyncDLQ {
			arns = append(arns, s.asyncDLQ.QueueArn())
		}
		out = append(out, st("SendToQueues", []string{"sqs:SendMessage"}, arns, nil))
	}
	if sqsKey {
		out = append(out, st("QueueKeyThroughSQS", []string{"kms:Decrypt", "kms:GenerateDataKey"},
			[]*string{s.opsKey.KeyArn()}, viaService("sqs")))
	}
	if a.SendMail {
		// Resource identity/* rather than the domain alone: in the SES
		// sandbox the recipient's identity is authorized too. The From
		// address is pinned by the condition.
		out = append(out, st("SendMailAsPractice", []string{"ses:SendEmail"},
			[]*string{s.arn("ses", "identity/*"), s.arn("ses", "configuration-set/"+s.rs.ConfigurationSet)},
			map[string]any{"StringEquals": map[string]any{"ses:FromAddress": s.cfg.Sender}}))
	}
	if a.Health {
		var queues []*string
		for _, q := range sortedKeys(s.queues) {
			queues = append(queues, s.queues[q].QueueArn())
		}
		out = append(out,
			st("HealthTable", []string{"dynamodb:DescribeTable"}, []*string{s.table.TableArn()}, nil),
			st("HealthQueues", []string{"sqs:GetQueueAttributes"}, queues, nil),
			// AWS exception: ses:GetAccount reads the account's sending
			// status and has no resource type; nothing narrower exists.
			st("HealthSESAccount", []string{"ses:GetAccount"}, []*string{jsii.String("*")}, nil),
		)
	}
	if a.UserAdmin {
		out = append(out, st("ManageUsers", userAdminActions, []*string{s.auth.pool.UserPoolArn()}, nil))
	} else if a.UserRead {
		out = append(out, st("ReadUsers", userReadActions, []*string{s.auth.pool.UserPoolArn()}, nil))
	}
	return out
}

// Cognito actions: exactly the calls of shared/auth/cognitodir.
var (
	userReadActions  = []string{"cognito-idp:AdminGetUser", "cognito-idp:AdminListGroupsForUser"}
	userAdminActions = append([]string{
		"cognito-idp:AdminCreateUser", "cognito-idp:AdminDeleteUser", "cognito-idp:AdminDisableUser",
		"cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminRemoveUserFromGroup",
		"cognito-idp:AdminUpdateUserAttributes", "cognito-idp:AdminSetUserPassword", "cognito-idp:AdminUserGlobalSignOut",
	}, userReadActions...)
)

func (s *CarePostStack) environment() *map[string]*string {
	pool := s.auth.pool.UserPoolId()
	issuer := awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://cognito-idp."), awscdk.Aws_REGION(), jsii.String(".amazonaws.com/"), pool})
	publicURL := jsii.String(s.cfg.PublicURL)
	if s.cfg.PublicURL == "" {
		publicURL = s.apiEndpoint
	}
	return &map[string]*string{
		"CAREPOST_TABLE":              s.table.TableName(),
		"CAREPOST_KEY_ID":             s.dataKey.KeyArn(),
		"CAREPOST_TRIAGE_QUEUE_URL":   s.queues[s.rs.Triage.Consumer].QueueUrl(),
		"CAREPOST_NOTIFY_QUEUE_URL":   s.queues[s.rs.Notify.Consumer].QueueUrl(),
		"CAREPOST_CAMPAIGN_QUEUE_URL": s.queues[s.rs.Campaign.Consumer].QueueUrl(),
		"CAREPOST_SENDER":             jsii.String(s.cfg.Sender),
		"CAREPOST_CONFIG_SET":         jsii.String(s.rs.ConfigurationSet),
		"CAREPOST_BUCKET":             s.bucket.BucketName(),
		"CAREPOST_BUCKET_KEY_ID":      s.storageKey.KeyArn(),
		"CAREPOST_JWKS_URL":           awscdk.Fn_Join(jsii.String(""), &[]*string{issuer, jsii.String("/.well-known/jwks.json")}),
		"CAREPOST_ISSUER":             issuer,
		"CAREPOST_AUDIENCE":           s.auth.client.UserPoolClientId(),
		"CAREPOST_USER_POOL_ID":       pool,
		"CAREPOST_PUBLIC_URL":         publicURL,
		"CAREPOST_SES_RATE":           jsii.String(strconv.FormatFloat(sesRatePerCopy(s.cfg.SESRate, s.cfg.CampaignConcurrency), 'f', 2, 64)),
	}
}

func (s *CarePostStack) buildFunctions() {
	env := s.environment()
	for _, f := range s.specs {
		logGroup := awslogs.NewLogGroup(s.Stack, jsii.String(title(f.Name)+"Logs"), &awslogs.LogGroupProps{
			Retention:     retentionEnum[s.cfg.LogRetentionDays],
			EncryptionKey: s.opsKey,
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		})
		role := s.roles[f.Name]
		policy := awsiam.NewManagedPolicy(s.Stack, jsii.String(title(f.Name)+"Policy"), &awsiam.ManagedPolicyProps{
			Description: jsii.String("Least privilege of the CarePost " + f.Name + " function (infra/access.go)"),
			Statements:  ptr(s.statementsFor(f, logGroup)),
			Roles:       &[]awsiam.IRole{role},
		})
		s.policies[f.Name] = policy
		props := &awslambda.FunctionProps{
			Description:  jsii.String(f.Description),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: awslambda.Architecture_ARM_64(),
			Handler:      jsii.String("bootstrap"),
			Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(s.cfg.BuildDir, f.Name)), nil),
			MemorySize:   jsii.Number(float64(f.MemoryMB)),
			Timeout:      seconds(f.Timeout.Seconds()),
			Role:         role,
			LogGroup:     logGroup,
			Environment:  env,
		}
		if f.Name == FnCampaign && s.cfg.CampaignConcurrency > 0 {
			props.ReservedConcurrentExecutions = jsii.Number(float64(s.cfg.CampaignConcurrency))
		}
		fn := awslambda.NewFunction(s.Stack, jsii.String(title(f.Name)+"Function"), props)
		fn.Node().AddDependency(policy)
		if f.Access.AsyncDLQ {
			// Set on the L1 resource: the L2 prop would add an inline policy
			// to the role, and the role's only policy is the managed one.
			cfn := fn.Node().DefaultChild().(awslambda.CfnFunction)
			cfn.SetDeadLetterConfig(&awslambda.CfnFunction_DeadLetterConfigProperty{TargetArn: s.asyncDLQ.QueueArn()})
			// A scheduled run that fails is not retried (the next run
			// supersedes it); an SES event is retried twice. What still
			// fails lands in the async DLQ (alarmed).
			retries := 2.0
			if f.Trigger == TriggerSchedule {
				retries = 0
			}
			awslambda.NewEventInvokeConfig(s.Stack, jsii.String(title(f.Name)+"InvokeConfig"), &awslambda.EventInvokeConfigProps{
				Function:      fn,
				RetryAttempts: jsii.Number(retries),
				MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
			})
		}
		s.functions[f.Name] = fn
	}
}

// queueSpec returns the resource definition of the queue consumer reads.
func (s *CarePostStack) queueSpec(consumer string) resources.Queue {
	for _, q := range s.rs.Queues() {
		if q.Consumer == consumer {
			return q
		}
	}
	panic("no queue is consumed by " + consumer)
}

// --- helpers ----------------------------------------------------------------

func seconds(v float64) awscdk.Duration { return awscdk.Duration_Seconds(jsii.Number(v)) }

func ptr[T any](v []T) *[]T { return &v }

// title turns "sesevents" into "Sesevents" for construct ids.
func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// retentionEnum maps CloudWatch Logs retention periods to the CDK enum.
var retentionEnum = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}
