// Command retention is the daily retention Lambda function (EventBridge
// Scheduler): it deletes closed threads past each practice's retention
// period, with their attachments, except under legal hold. All logic lives
// in shared/retention.
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
	s, ok := a.Schedule("retention")
	if !ok {
		log.Fatal("retention is not wired")
	}
	lambda.Start(s.Run)
}
