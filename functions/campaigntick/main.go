// Command campaigntick is the campaigns' scheduled job (EventBridge Scheduler,
// every minute): starts campaigns whose window opened, fans out waiting
// recipients, settles claims of dead senders, completes campaigns. All
// logic lives in shared/campaigns.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/carepost/carepost/shared/app"
)

func main() {
	lambda.Start(app.FromEnv().MustSchedule("campaigntick").Run)
}
