// Command proxyage is the daily scheduled Lambda function that narrows proxy
// grants given while a patient was a minor once the patient reaches the
// practice's proxy adult age. All logic lives in shared/admin.
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
	s, ok := a.Schedule("proxyage")
	if !ok {
		log.Fatal("the proxy-age job is not wired")
	}
	lambda.Start(s.Run)
}
