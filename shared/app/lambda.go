package app

import (
	"context"
	"log"

	"github.com/carepost/carepost/shared/awsclients"
	"github.com/carepost/carepost/shared/config"
)

// FromEnv builds the app of a Lambda function from its environment: the
// configuration variables (all problems listed at once), the AWS clients
// and, when a user pool is configured, the Cognito directory. It exits the
// process on failure, which fails the function's cold start visibly.
func FromEnv() *App {
	cfg, err := config.Load()
	if err != nil {
		log.Fatal(err)
	}
	clients, err := awsclients.Load(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	return New(cfg, clients, nil, CognitoDirectory(cfg, clients))
}

// MustWorker returns the named queue worker or exits.
func (a *App) MustWorker(name string) Worker {
	w, ok := a.Worker(name)
	if !ok {
		log.Fatalf("worker %q is not wired in shared/app", name)
	}
	return w
}

// MustSchedule returns the named scheduled job or exits.
func (a *App) MustSchedule(name string) Schedule {
	s, ok := a.Schedule(name)
	if !ok {
		log.Fatalf("schedule %q is not wired in shared/app", name)
	}
	return s
}
