// Package awsclients builds the AWS SDK clients once per process with
// config.LoadDefaultConfig, so AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
// redirect every client to LocalStack or the local emulators with no code
// change.
package awsclients

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Clients holds one client per service.
type Clients struct {
	Config   aws.Config
	DynamoDB *dynamodb.Client
	KMS      *kms.Client
	SQS      *sqs.Client
	SES      *sesv2.Client
	S3       *s3.Client
	Cognito  *cognitoidentityprovider.Client
}

// Load reads the shared AWS configuration (region, credentials, endpoints)
// and builds every client. Throttling and timeouts are retried with
// exponential back-off by the SDK's standard retryer (up to 5 attempts).
func Load(ctx context.Context) (Clients, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 5 })
		}))
	if err != nil {
		return Clients{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return Clients{}, fmt.Errorf("load AWS configuration: no region; set AWS_REGION (e.g. us-east-1)")
	}
	return New(cfg), nil
}

func emulated(service string) bool {
	return os.Getenv("AWS_ENDPOINT_URL_"+service) != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
}

// New builds every client from cfg.
func New(cfg aws.Config) Clients {
	// S3 emulators (moto, LocalStack) serve buckets by path, not by virtual host.
	pathStyle := os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	return Clients{
		Config: cfg,
		// DynamoDB Local's error responses carry no valid CRC32; skip the
		// check (which only logs a warning) when talking to an emulator.
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = emulated("DYNAMODB") }),
		KMS:      kms.NewFromConfig(cfg),
		SQS:      sqs.NewFromConfig(cfg),
		SES:      sesv2.NewFromConfig(cfg),
		S3:       s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }),
		Cognito:  cognitoidentityprovider.NewFromConfig(cfg),
	}
}
