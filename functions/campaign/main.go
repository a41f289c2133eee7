// Command campaign is the campaign sender Lambda function (SQS event source
// mapping with ReportBatchItemFailures). Its SES rate limiter runs at
// CAREPOST_SES_RATE per running copy; the stack splits the account's rate
// between the copies that can run at once (see infra/access.go). All logic
// lives in shared/campaigns.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/carepost/carepost/shared/app"
)

func main() {
	lambda.Start(app.FromEnv().MustWorker("campaign").Handle)
}
