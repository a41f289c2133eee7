// Command campaign is the campaign sender Lambda function (SQS event source
// mapping with ReportBatchItemFailures, reserved concurrency 1 so its SES
// rate limiter, CAREPOST_SES_RATE, is the account's). All logic lives in
// shared/campaigns.
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
	w, ok := a.Worker("campaign")
	if !ok {
		log.Fatal("campaign is not wired")
	}
	lambda.Start(w.Handle)
}
