// Package testenv gives integration tests real AWS emulators: DynamoDB Local,
// moto (KMS, S3), the SQS and SES v2 emulators. `make test` starts them on the
// test ports and sets CAREPOST_EMULATORS=1 with the AWS_ENDPOINT_URL_*
// variables; a test that needs them and finds them missing fails with what to
// run, it never silently skips.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/carepost/carepost/shared/awsclients"
	"github.com/carepost/carepost/shared/bootstrap"
	"github.com/carepost/carepost/shared/resources"
)

// Clients returns AWS clients pointed at the emulators.
func Clients(t testing.TB) awsclients.Clients {
	t.Helper()
	if os.Getenv("CAREPOST_EMULATORS") != "1" {
		t.Fatal("this test needs the local AWS emulators: run `make test`, or `make emulators` in another shell and then `eval $(make -s test-env)` before `go test`")
	}
	c, err := awsclients.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Stack is a throw-away set of resources for one test.
type Stack struct {
	Clients   awsclients.Clients
	Resources resources.Stack
	Outputs   bootstrap.Outputs
}

// NewStack creates a fresh table, key, queues and bucket under a random
// prefix, so tests never see each other's data, and deletes the table and
// queues when the test ends.
func NewStack(t testing.TB) Stack {
	t.Helper()
	c := Clients(t)
	prefix := "t" + RandomHex(5)
	res := resources.For(prefix, "no-reply@clinic.test")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := bootstrap.Ensure(ctx, c, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = c.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(out.Table)})
		for _, u := range []string{out.TriageQueueURL, out.NotifyQueueURL, out.CampaignQueueURL} {
			_, _ = c.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
		}
		for _, u := range out.DLQURLs {
			_, _ = c.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
		}
	})
	return Stack{Clients: c, Resources: res, Outputs: out}
}

// RandomHex returns n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Mail is one e-mail captured by the SES emulator.
type Mail struct {
	From    string `json:"from"`
	Subject string `json:"subject"`
	Body    struct {
		Text string `json:"text"`
		HTML string `json:"html"`
	} `json:"body"`
	Destination struct {
		To  []string `json:"to"`
		Cc  []string `json:"cc"`
		Bcc []string `json:"bcc"`
	} `json:"destination"`
	At      int64  `json:"at"`
	RawData string `json:"rawData,omitempty"`
}

// Mailbox reads what the SES emulator captured since the given time.
func Mailbox(t testing.TB, since time.Time) []Mail {
	t.Helper()
	base := os.Getenv("CAREPOST_MAILBOX_URL")
	if base == "" {
		t.Fatal("CAREPOST_MAILBOX_URL is not set: run the test through `make test`")
	}
	resp, err := http.Get(base + "/store?since=" + strconv.FormatInt(since.Unix(), 10))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []Mail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatal(fmt.Errorf("decode SES emulator store: %w", err))
	}
	return store.Emails
}
