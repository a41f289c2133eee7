// Command notify is the notification worker Lambda function (SQS event source
// mapping with ReportBatchItemFailures): "a new secure message is waiting"
// e-mails without health data. All logic lives in shared/notify.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/carepost/carepost/shared/app"
)

func main() {
	lambda.Start(app.FromEnv().MustWorker("notify").Handle)
}
