// Package bootstrap creates CarePost's resources on the local emulators (or
// LocalStack) from the one definition in package resources. Every step is
// idempotent: running it against resources that exist changes nothing. In
// AWS the CDK stack (infra/) creates the same resources from the same
// definition; this package is never used there.
package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/carepost/carepost/shared/awsclients"
	"github.com/carepost/carepost/shared/resources"
)

// Outputs are the identifiers a running stack needs (what CDK outputs in AWS).
type Outputs struct {
	Table            string
	KeyID            string // key ARN
	TriageQueueURL   string
	NotifyQueueURL   string
	CampaignQueueURL string
	DLQURLs          map[string]string // queue name -> its DLQ URL
	Bucket           string
	BucketKeyID      string // ARN of the storage key, the bucket's default encryption (CAREPOST_BUCKET_KEY_ID)
}

// Ensure creates every resource of stack that does not exist yet.
func Ensure(ctx context.Context, c awsclients.Clients, stack resources.Stack, log io.Writer) (Outputs, error) {
	if log == nil {
		log = io.Discard
	}
	out := Outputs{DLQURLs: map[string]string{}}
	fmt.Fprintf(log, "==> table %s\n", stack.Table.Name)
	if err := EnsureTable(ctx, c.DynamoDB, stack.Table); err != nil {
		return out, err
	}
	out.Table = stack.Table.Name
	fmt.Fprintf(log, "==> KMS key %s\n", stack.KeyAlias)
	key, err := EnsureKey(ctx, c.KMS, stack.KeyAlias)
	if err != nil {
		return out, err
	}
	out.KeyID = key
	fmt.Fprintf(log, "==> KMS key %s\n", stack.StorageKeyAlias)
	storageKey, err := EnsureKey(ctx, c.KMS, stack.StorageKeyAlias)
	if err != nil {
		return out, err
	}
	out.BucketKeyID = storageKey
	for _, q := range stack.Queues() {
		fmt.Fprintf(log, "==> queue %s (DLQ after %d receives)\n", q.Name, q.MaxReceiveCount)
		url, dlq, err := EnsureQueue(ctx, c.SQS, q)
		if err != nil {
			return out, err
		}
		out.DLQURLs[q.Name] = dlq
		switch q {
		case stack.Triage:
			out.TriageQueueURL = url
		case stack.Notify:
			out.NotifyQueueURL = url
		case stack.Campaign:
			out.CampaignQueueURL = url
		}
	}
	fmt.Fprintf(log, "==> bucket %s (versioned: %v, SSE-KMS under %s)\n", stack.AttachmentBucket.Name, stack.AttachmentBucket.Versioned, stack.StorageKeyAlias)
	if err := EnsureBucket(ctx, c.S3, stack.AttachmentBucket, storageKey); err != nil {
		return out, err
	}
	out.Bucket = stack.AttachmentBucket.Name
	return out, nil
}

// TableInput is the CreateTable request for t (also used by tests that make
// throw-away tables).
func TableInput(t resources.Table) *dynamodb.CreateTableInput {
	attrs := map[string]bool{t.PartitionKey: true, t.SortKey: true}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(t.Name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(t.PartitionKey), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(t.SortKey), KeyType: ddbtypes.KeyTypeRange},
		},
	}
	for _, ix := range t.Indexes {
		attrs[ix.PartitionKey], attrs[ix.SortKey] = true, true
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []ddbtypes.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: ddbtypes.KeyTypeRange},
			},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		})
	}
	for _, name := range []string{t.PartitionKey, t.SortKey} {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(name), AttributeType: ddbtypes.ScalarAttributeTypeS})
		delete(attrs, name)
	}
	for _, ix := range t.Indexes {
		for _, name := range []string{ix.PartitionKey, ix.SortKey} {
			if attrs[name] {
				in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(name), AttributeType: ddbtypes.ScalarAttributeTypeS})
				delete(attrs, name)
			}
		}
	}
	return in
}

// EnsureTable creates the table with its indexes and TTL if it is missing.
func EnsureTable(ctx context.Context, db *dynamodb.Client, t resources.Table) error {
	_, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Name)})
	var nf *ddbtypes.ResourceNotFoundException
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &nf):
		return fmt.Errorf("describe table %s: %w (is DynamoDB reachable at AWS_ENDPOINT_URL_DYNAMODB?)", t.Name, err)
	}
	if _, err := db.CreateTable(ctx, TableInput(t)); err != nil {
		var inUse *ddbtypes.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s: %w", t.Name, err)
		}
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Name)}, 60e9); err != nil {
		return fmt.Errorf("wait for table %s: %w", t.Name, err)
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(t.Name),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(t.TTLAttribute), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("enable TTL on %s: %w", t.Name, err)
	}
	return nil
}

// EnsureKey returns the ARN of the key behind alias, creating both if needed.
func EnsureKey(ctx context.Context, k *kms.Client, alias string) (string, error) {
	d, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(alias)})
	if err == nil {
		return aws.ToString(d.KeyMetadata.Arn), nil
	}
	created, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("CarePost " + alias + " (local)")})
	if err != nil {
		return "", fmt.Errorf("create KMS key: %w (is KMS reachable at AWS_ENDPOINT_URL_KMS?)", err)
	}
	if _, err := k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: created.KeyMetadata.KeyId}); err != nil {
		return "", fmt.Errorf("create KMS alias %s: %w", alias, err)
	}
	return aws.ToString(created.KeyMetadata.Arn), nil
}

// EnsureQueue creates the DLQ and the queue with its redrive policy and
// returns both URLs. CreateQueue is idempotent for identical attributes.
func EnsureQueue(ctx context.Context, c *sqs.Client, q resources.Queue) (url, dlqURL string, err error) {
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(q.DLQName),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameMessageRetentionPeriod): strconv.Itoa(int(q.DLQRetention.Seconds()))},
	})
	if err != nil {
		return "", "", fmt.Errorf("create queue %s: %w (is SQS reachable at AWS_ENDPOINT_URL_SQS?)", q.DLQName, err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("read ARN of %s: %w", q.DLQName, err)
	}
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], q.MaxReceiveCount)
	main, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(q.Name),
		Attributes: map[string]string{
			string(sqstypes.QueueAttributeNameVisibilityTimeout):      strconv.Itoa(int(q.VisibilityTimeout.Seconds())),
			string(sqstypes.QueueAttributeNameMessageRetentionPeriod): strconv.Itoa(int(q.Retention.Seconds())),
			string(sqstypes.QueueAttributeNameRedrivePolicy):          redrive,
		},
	})
	if err != nil {
		return "", "", fmt.Errorf("create queue %s: %w", q.Name, err)
	}
	return aws.ToString(main.QueueUrl), aws.ToString(dlq.QueueUrl), nil
}

// EnsureBucket creates the attachments bucket if it is missing, and sets
// its versioning and its default encryption (SSE-KMS under keyARN, an S3
// Bucket Key as b.BucketKey says, as the CDK stack does) every time, so a bucket made by an
// older bootstrap is brought up to date. Both settings are idempotent puts.
// The noncurrent-version lifecycle rule is not set locally: no emulated time
// passes for it to act on.
func EnsureBucket(ctx context.Context, c *s3.Client, b resources.Bucket, keyARN string) error {
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.Name)}); err != nil {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b.Name)}); err != nil {
			return fmt.Errorf("create bucket %s: %w (is S3 reachable at AWS_ENDPOINT_URL_S3?)", b.Name, err)
		}
	}
	if b.Versioned {
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(b.Name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
		}); err != nil {
			return fmt.Errorf("enable versioning on %s: %w", b.Name, err)
		}
	}
	_, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(b.Name),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(keyARN)},
			BucketKeyEnabled:                   aws.Bool(b.BucketKey),
		}}},
	})
	if err != nil {
		return fmt.Errorf("set default encryption of %s: %w", b.Name, err)
	}
	return nil
}
