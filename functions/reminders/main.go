// Command reminders is the appointment reminders' scheduled job
// (EventBridge Scheduler, every 15 minutes). All logic lives in
// shared/reminders.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/carepost/carepost/shared/app"
)

func main() {
	lambda.Start(app.FromEnv().MustSchedule("reminders").Run)
}
