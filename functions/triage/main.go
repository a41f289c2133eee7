// Command triage is the triage worker Lambda function (SQS event source
// mapping with ReportBatchItemFailures). All logic lives in shared/triage.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/carepost/carepost/shared/app"
)

func main() {
	lambda.Start(app.FromEnv().MustWorker("triage").Handle)
}
