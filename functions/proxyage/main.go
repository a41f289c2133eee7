// Command proxyage is the daily scheduled Lambda function that narrows proxy
// grants given while a patient was a minor once the patient reaches the
// practice's proxy adult age. All logic lives in shared/admin.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/carepost/carepost/shared/app"
)

func main() {
	lambda.Start(app.FromEnv().MustSchedule("proxyage").Run)
}
