package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbackup"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/carepost/carepost/shared/resources"
)

// Alarm thresholds.
const (
	queueAgeAlarmSeconds = 15 * 60 // a triage or notify message waiting 15 min
	api5xxPerFiveMinutes = 5
)

// buildAlarms sends every alarm (and its recovery) to the on-call topic.
func (s *CarePostStack) buildAlarms() {
	s.alarmTopic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(s.cfg.OnCallEmail), nil))
	action := awscloudwatchactions.NewSnsAction(s.alarmTopic)
	five := awscdk.Duration_Minutes(jsii.Number(5))
	alarm := func(id, description string, metric awscloudwatch.IMetric, threshold float64, cmp awscloudwatch.ComparisonOperator, periods float64, missing awscloudwatch.TreatMissingData) {
		a := awscloudwatch.NewAlarm(s.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(description),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: cmp,
			EvaluationPeriods:  jsii.Number(periods),
			TreatMissingData:   missing,
		})
		a.AddAlarmAction(action)
		a.AddOkAction(action)
	}
	atLeast := awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	notBreaching := awscloudwatch.TreatMissingData_NOT_BREACHING

	for _, f := range s.specs {
		fn := s.functions[f.Name]
		alarm(title(f.Name)+"ErrorsAlarm", "CarePost "+f.Name+" function errors",
			fn.MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), 1, atLeast, 1, notBreaching)
		alarm(title(f.Name)+"ThrottlesAlarm", "CarePost "+f.Name+" function throttled",
			fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), 1, atLeast, 1, notBreaching)
	}
	for _, consumer := range sortedKeys(s.dlqs) {
		alarm(title(consumer)+"DLQAlarm", "Messages in the CarePost "+consumer+" dead-letter queue",
			s.dlqs[consumer].MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}),
			1, atLeast, 1, notBreaching)
	}
	alarm("AsyncDLQAlarm", "Failed asynchronous CarePost invocations (sweep, SES events)",
		s.asyncDLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}),
		1, atLeast, 1, notBreaching)
	for _, consumer := range []string{s.rs.Triage.Consumer, s.rs.Notify.Consumer} {
		alarm(title(consumer)+"QueueAgeAlarm", "CarePost "+consumer+" queue is falling behind",
			s.queues[consumer].MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}),
			queueAgeAlarmSeconds, atLeast, 1, notBreaching)
	}
	alarm("Api5xxAlarm", "CarePost API server errors",
		s.api.api.MetricServerError(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}),
		api5xxPerFiveMinutes, atLeast, 1, notBreaching)
	alarm("OverdueUrgentAlarm", "Urgent patient messages past their acknowledgement deadline",
		awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String(resources.MetricNamespace),
			MetricName:    jsii.String(resources.MetricOverdueUrgent),
			DimensionsMap: &map[string]*string{resources.MetricDimensionTable: s.table.TableName()},
			Period:        five,
			Statistic:     jsii.String("Maximum"),
		}), 1, atLeast, 1, notBreaching)
	// The sweep pages escalations: if it stops running, say so.
	alarm("SweepNotRunningAlarm", "The CarePost sweep has not run for 15 minutes",
		s.functions[FnSweep].MetricInvocations(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}),
		1, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, 3, awscloudwatch.TreatMissingData_BREACHING)
}

// backupRetentionDays is how long the daily AWS Backup copies are kept.
// Point-in-time recovery already covers any second of the last 35 days;
// DynamoDB backups are full copies billed per GB, so a week of independent
// vault copies (which survive a deleted table) is the cost-aware addition.
const backupRetentionDays = 7

// buildBackup adds daily AWS Backup recovery points of the table on top of
// point-in-time recovery.
func (s *CarePostStack) buildBackup() {
	vault := awsbackup.NewBackupVault(s.Stack, jsii.String("BackupVault"), &awsbackup.BackupVaultProps{
		BackupVaultName: jsii.String(s.rs.Prefix + "-backups"),
		EncryptionKey:   s.storageKey,
		RemovalPolicy:   awscdk.RemovalPolicy_RETAIN,
	})
	plan := awsbackup.NewBackupPlan(s.Stack, jsii.String("BackupPlan"), &awsbackup.BackupPlanProps{
		BackupPlanName: jsii.String(s.rs.Prefix + "-daily"),
		BackupVault:    vault,
		BackupPlanRules: &[]awsbackup.BackupPlanRule{awsbackup.NewBackupPlanRule(&awsbackup.BackupPlanRuleProps{
			RuleName:           jsii.String("daily"),
			ScheduleExpression: awsevents.Schedule_Cron(&awsevents.CronOptions{Hour: jsii.String("5"), Minute: jsii.String("0")}),
			DeleteAfter:        awscdk.Duration_Days(jsii.Number(backupRetentionDays)),
		})},
	})
	role := awsiam.NewRole(s.Stack, jsii.String("BackupRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("backup.amazonaws.com"), nil),
		Description: jsii.String("AWS Backup of the CarePost table"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSBackupServiceRolePolicyForBackup")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSBackupServiceRolePolicyForRestores")),
		},
	})
	keyPolicy := awsiam.NewManagedPolicy(s.Stack, jsii.String("BackupKeyPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("AWS Backup may use the storage key through DynamoDB and Backup"),
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("StorageKeyForBackups"),
			Actions:   jsii.Strings("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt*", "kms:DescribeKey", "kms:CreateGrant"),
			Resources: &[]*string{s.storageKey.KeyArn()},
			Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": []*string{
				s.serviceHost("dynamodb"), s.serviceHost("backup"),
			}}},
		})},
		Roles: &[]awsiam.IRole{role},
	})
	sel := plan.AddSelection(jsii.String("Table"), &awsbackup.BackupSelectionOptions{
		Resources:                  &[]awsbackup.BackupResource{awsbackup.BackupResource_FromDynamoDbTable(s.table)},
		Role:                       role,
		DisableDefaultBackupPolicy: jsii.Bool(true),
	})
	sel.Node().AddDependency(keyPolicy)
}

// buildOutputs prints what the operator needs after a deploy.
func (s *CarePostStack) buildOutputs() {
	out := func(id, desc string, v *string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String("Out"+id), &awscdk.CfnOutputProps{Value: v, Description: jsii.String(desc)})
	}
	out("ApiUrl", "Base URL of the CarePost API", s.apiEndpoint)
	out("UserPoolId", "Cognito user pool (invite the first admin with the AWS CLI, see README)", s.auth.pool.UserPoolId())
	out("UserPoolClientId", "Cognito app client of the web front end", s.auth.client.UserPoolClientId())
	out("AttachmentBucket", "S3 bucket of attachments", s.bucket.BucketName())
	out("TableName", "DynamoDB table", s.table.TableName())
	out("DataKeyArn", "KMS key of envelope encryption", s.dataKey.KeyArn())
	out("AlarmTopicArn", "SNS topic of the alarms (confirm the e-mail subscription)", s.alarmTopic.TopicArn())
	id := s.mail.identity
	for i, rec := range [][2]*string{
		{id.DkimDnsTokenName1(), id.DkimDnsTokenValue1()},
		{id.DkimDnsTokenName2(), id.DkimDnsTokenValue2()},
		{id.DkimDnsTokenName3(), id.DkimDnsTokenValue3()},
	} {
		out("DkimRecord"+string(rune('1'+i)), "DNS record to add for SES DKIM of "+s.cfg.PracticeDomain,
			awscdk.Fn_Join(jsii.String(" "), &[]*string{rec[0], jsii.String("CNAME"), rec[1]}))
	}
}
