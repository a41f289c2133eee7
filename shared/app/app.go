// Package app is the composition root: it builds every adapter once per
// process from the configuration and the AWS clients and wires them into the
// domain services. Lambda mains (functions/*) and the dev stack
// (cmd/carepost-dev) call it; nothing else does.
package app

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/carepost/carepost/shared/auditlog"
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/awsclients"
	"github.com/carepost/carepost/shared/campaigns"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/config"
	"github.com/carepost/carepost/shared/dynamo"
	"github.com/carepost/carepost/shared/httpapi"
	"github.com/carepost/carepost/shared/kmsenvelope"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/sesmail"
	"github.com/carepost/carepost/shared/sqsqueue"
	"github.com/carepost/carepost/shared/triage"
)

// App holds the adapters and services of one process.
type App struct {
	Config    config.Config
	Clients   awsclients.Clients
	Log       *slog.Logger
	Store     *dynamo.Store
	Envelope  *kmsenvelope.Envelope
	AuditLog  *auditlog.Log
	Publisher *sqsqueue.Publisher
	Mailer    *sesmail.Mailer
	Messaging *messaging.Service
	Auth      httpapi.Authenticator
	// Routes are added by the feature packages' wiring (see routes.go).
	Routes []httpapi.Route
	// MailboxCheck, when set, reports whether the mail service is up (the
	// dev stack checks the SES emulator's store).
	MailboxCheck func(ctx context.Context) error
	// Directory manages staff and patient accounts (Cognito in AWS, the
	// local directory in the dev stack); nil when not configured.
	Directory auth.Directory
	// Triage is the triage worker, the sweep and the page and absence use
	// cases (wired in triage.go).
	Triage *triage.Service

	// Campaigns is the campaigns service (tests drive its schedule).
	Campaigns *campaigns.Service

	workers   []Worker
	schedules []Schedule
}

// New builds the app. Auth may be nil, in which case a JWKS verifier is
// built from the configuration.
func New(cfg config.Config, clients awsclients.Clients, authn httpapi.Authenticator, dir auth.Directory) *App {
	a := &App{Config: cfg, Clients: clients, Log: slog.New(slog.NewJSONHandler(os.Stderr, nil)), Directory: dir}
	a.Store = dynamo.New(clients.DynamoDB, cfg.Table)
	a.Envelope = kmsenvelope.New(clients.KMS, kmsenvelope.Options{KeyID: cfg.KeyID, MaxAge: 5 * time.Minute, MaxMessages: 1000})
	a.AuditLog = auditlog.New(clients.DynamoDB, cfg.Table)
	a.Publisher = &sqsqueue.Publisher{SQS: clients.SQS, Queues: map[string]string{
		carepost.QueueTriage: cfg.TriageQueueURL, carepost.QueueNotify: cfg.NotifyQueueURL, carepost.QueueCampaign: cfg.CampaignQueueURL,
	}}
	a.Mailer = &sesmail.Mailer{SES: clients.SES, From: cfg.Sender, ConfigSet: cfg.ConfigSet}
	a.Messaging = messaging.New(a.Store, a.Envelope, auditAdapter{a.AuditLog}, a.Publisher)
	if authn == nil {
		authn = auth.NewVerifier(auth.VerifierConfig{JWKSURL: cfg.JWKSURL, Issuer: cfg.Issuer, Audience: cfg.Audience})
	}
	a.Auth = authn
	a.wireFeatures()
	return a
}

// API returns the HTTP API handler.
func (a *App) API() http.Handler {
	srv := &httpapi.Server{
		Messaging:   a.Messaging,
		Auth:        a.Auth,
		Idempotency: a.Store,
		Health:      a.Health,
		PatientLog:  patientAudit{log: a.AuditLog, audit: auditAdapter{a.AuditLog}},
		OpenAPI:     httpapi.OpenAPI(),
		Log:         a.Log,
		Extra:       a.Routes,
	}
	return srv.Handler()
}

// Health reports each dependency — the table, the data key, the three
// queues, the mail service and, when configured, the attachments bucket — as
// "up" or "down". The checks run at once, so a slow dependency costs the
// caller one timeout, not one per check; the cause of a "down" goes to the
// log only (it may name resources), never into the answer.
func (a *App) Health(ctx context.Context) map[string]string {
	checks := map[string]func(context.Context) error{
		"table": func(ctx context.Context) error {
			_, err := a.Clients.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(a.Config.Table)})
			return err
		},
		"key": func(ctx context.Context) error {
			_, err := a.Clients.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(a.Config.KeyID)})
			return err
		},
		"mail": a.sesCheck,
	}
	if a.MailboxCheck != nil {
		checks["mail"] = a.MailboxCheck
	}
	for name, url := range map[string]string{"queue.triage": a.Config.TriageQueueURL, "queue.notify": a.Config.NotifyQueueURL, "queue.campaign": a.Config.CampaignQueueURL} {
		checks[name] = func(ctx context.Context) error {
			_, err := a.Clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
			return err
		}
	}
	if a.Config.Bucket != "" {
		checks["bucket"] = func(ctx context.Context) error {
			_, err := a.Clients.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(a.Config.Bucket)})
			return err
		}
	}
	res := make(map[string]string, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, check := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			state := "up"
			if err := check(ctx); err != nil {
				state = "down"
				a.Log.Warn("dependency down", "dependency", name, "cause", err.Error())
			}
			mu.Lock()
			res[name] = state
			mu.Unlock()
		}()
	}
	wg.Wait()
	return res
}
