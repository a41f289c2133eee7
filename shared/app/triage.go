package app

import (
	"os"
	"time"

	"github.com/carepost/carepost/shared/httpapi"
	"github.com/carepost/carepost/shared/resources"
	"github.com/carepost/carepost/shared/triage"
)

// SweepEvery is how often the sweep runs in AWS (EventBridge Scheduler);
// the dev stack ticks faster.
const SweepEvery = 5 * time.Minute

// wireTriage adds the triage worker (functions/triage), the sweep
// (functions/sweep) and the acknowledge and absence routes.
func (a *App) wireTriage() {
	t := &triage.Service{
		Store: a.Store, Messaging: a.Messaging, Mailer: a.Mailer, Publisher: a.Publisher,
		AppURL: a.Config.PublicURL, Log: a.Log, MetricTable: a.Config.Table,
	}
	if os.Getenv("AWS_LAMBDA_FUNCTION_NAME") != "" {
		// In Lambda the sweep's log line in embedded metric format is the
		// OverdueUrgentMessages metric the stack alarms on.
		t.Metrics = os.Stdout
	}
	a.Triage = t
	a.workers = append(a.workers, Worker{Name: "triage", QueueURL: a.Config.TriageQueueURL, BatchSize: resources.For("", "").Triage.BatchSize, Handle: t.Handle})
	a.schedules = append(a.schedules, Schedule{Name: "sweep", Every: SweepEvery, Run: t.Run})
	a.Routes = append(a.Routes, httpapi.TriageRoutes(t)...)
}
