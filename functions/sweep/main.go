// Command sweep is the scheduled sweep Lambda function (EventBridge
// Scheduler, every 5 minutes): overdue threads, unacknowledged pages, lost
// triage events, return digests. All logic lives in shared/triage.
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
	s, ok := a.Schedule("sweep")
	if !ok {
		log.Fatal("the sweep is not wired")
	}
	lambda.Start(s.Run)
}
