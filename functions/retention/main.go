// Command retention is the daily retention Lambda function (EventBridge
// Scheduler): it deletes closed threads past each practice's retention
// period, with their attachments, except under legal hold. All logic lives
// in shared/retention.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/carepost/carepost/shared/app"
)

func main() {
	lambda.Start(app.FromEnv().MustSchedule("retention").Run)
}
