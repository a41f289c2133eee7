package bootstrap_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
}
