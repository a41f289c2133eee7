package bootstrap_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/carepost/carepost/shared/bootstrap"
	"github.com/carepost/carepost/shared/testenv"
)

// Ensure against the emulators creates everything from the one definition,
// and a second run changes nothing and returns the same identifiers.
func TestEnsureIsIdempotent(t *testing.T) {
	st := testenv.NewStack(t)
	ctx := context.Background()
	again, err := bootstrap.Ensure(ctx, st.Clients, st.Resources, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := again.KeyID, st.Outputs.KeyID; got != want {
		t.Errorf("second run key = %q, want %q", got, want)
	}
	if got, want := again.BucketKeyID, st.Outputs.BucketKeyID; got != want {
		t.Errorf("second run bucket key = %q, want %q", got, want)
	}
	if st.Outputs.BucketKeyID == st.Outputs.KeyID {
		t.Errorf("the bucket is encrypted under the data key %q; want the storage key", st.Outputs.KeyID)
	}
	if got, want := again.TriageQueueURL, st.Outputs.TriageQueueURL; got != want {
		t.Errorf("second run triage queue = %q, want %q", got, want)
	}
	d, err := st.Clients.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(st.Outputs.Table)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(d.Table.GlobalSecondaryIndexes), len(st.Resources.Table.Indexes); got != want {
		t.Errorf("table has %d GSIs, want %d", got, want)
	}
	ttl, err := st.Clients.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(st.Outputs.Table)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(ttl.TimeToLiveDescription.AttributeName), st.Resources.Table.TTLAttribute; got != want {
		t.Errorf("TTL attribute = %q, want %q", got, want)
	}
	attrs, err := st.Clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(st.Outputs.TriageQueueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["RedrivePolicy"] == "" {
		t.Errorf("triage queue has no redrive policy: %v", attrs.Attributes)
	}

	// The bucket is versioned, as in AWS, so that tests see what a plain
	// DeleteObject leaves behind; its default encryption is the storage key.
	v, err := st.Clients.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(st.Outputs.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Status, s3types.BucketVersioningStatusEnabled; !st.Resources.AttachmentBucket.Versioned || got != want {
		t.Errorf("bucket versioning = %q (defined versioned: %v), want %q", got, st.Resources.AttachmentBucket.Versioned, want)
	}
	enc, err := st.Clients.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(st.Outputs.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	rules := enc.ServerSideEncryptionConfiguration.Rules
	if len(rules) != 1 || rules[0].ApplyServerSideEncryptionByDefault == nil {
		t.Fatalf("bucket encryption rules %+v", rules)
	}
	def := rules[0].ApplyServerSideEncryptionByDefault
	if got, want := def.SSEAlgorithm, s3types.ServerSideEncryptionAwsKms; got != want {
		t.Errorf("default encryption %q, want %q", got, want)
	}
	if got, want := aws.ToString(def.KMSMasterKeyID), st.Outputs.BucketKeyID; got != want {
		t.Errorf("default encryption key %q, want the storage key %q", got, want)
	}
	if aws.ToBool(rules[0].BucketKeyEnabled) {
		t.Errorf("S3 Bucket Keys are on: the objects' encryption context would not reach KMS")
	}
}
