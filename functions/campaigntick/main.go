// Command campaigntick is the campaigns' scheduled job (EventBridge Scheduler,
// every minute): starts campaigns whose window opened, fans out waiting
// recipients, settles claims of dead senders, completes campaigns. All
// logic lives in shared/campaigns.
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
	w, ok := a.Schedule("campaigntick")
	if !ok {
		log.Fatal("campaigntick is not wired")
	}
	lambda.Start(w.Run)
}
