// Command notify is the notification worker Lambda function (SQS event source
// mapping with ReportBatchItemFailures): "a new secure message is waiting"
// e-mails without health data. All logic lives in shared/notify.
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
	w, ok := a.Worker("notify")
	if !ok {
		log.Fatal("notify is not wired")
	}
	lambda.Start(w.Handle)
}
