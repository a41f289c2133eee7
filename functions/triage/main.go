// Command triage is the triage worker Lambda function (SQS event source
// mapping with ReportBatchItemFailures). All logic lives in shared/triage.
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
	w, ok := a.Worker("triage")
	if !ok {
		log.Fatal("the triage worker is not wired")
	}
	lambda.Start(w.Handle)
}
