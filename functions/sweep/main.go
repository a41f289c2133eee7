// Command sweep is the scheduled sweep Lambda function (EventBridge
// Scheduler, every 5 minutes): overdue threads, unacknowledged pages, lost
// triage events, return digests. All logic lives in shared/triage.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/carepost/carepost/shared/app"
)

func main() {
	lambda.Start(app.FromEnv().MustSchedule("sweep").Run)
}
