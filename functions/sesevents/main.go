// Command sesevents handles the SES configuration set's bounce, complaint
// and delivery events, delivered through SNS: it suppresses further mail to
// addresses that bounced or complained and marks the patient's record. All
// logic lives in shared/notify.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/carepost/carepost/shared/app"
)

func main() {
	lambda.Start(app.FromEnv().SESEvents().Handle)
}
