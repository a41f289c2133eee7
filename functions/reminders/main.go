// Command reminders is the appointment reminders' scheduled job
// (EventBridge Scheduler, every 15 minutes). All logic lives in
// shared/reminders.
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
	w, ok := a.Schedule("reminders")
	if !ok {
		log.Fatal("reminders is not wired")
	}
	lambda.Start(w.Run)
}
