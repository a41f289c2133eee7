// Command sesevents handles the SES configuration set's bounce, complaint
// and delivery events, delivered through SNS: it suppresses further mail to
// addresses that bounced or complained and marks the patient's record. All
// logic lives in shared/notify.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/carepost/carepost/shared/app"
	"github.com/carepost/carepost/shared/awsclients"
	"github.com/carepost/carepost/shared/config"
)

func main() {
	cfg, err := config.Load()
	if err != nil {
		log.Fatal(err)
	}
	clients, err := awsclients.Load(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	a := app.New(cfg, clients, nil, app.CognitoDirectory(cfg, clients))
	lambda.Start(a.SESEvents().Handle)
}
