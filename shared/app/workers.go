package app

import (
	"context"
	"time"

	"github.com/carepost/carepost/shared/sqsqueue"
)

// Worker is an SQS-fed function: in AWS an event source mapping with
// ReportBatchItemFailures calls Handle; locally a sqsqueue.Poller does.
type Worker struct {
	Name      string // functions/<Name>
	QueueURL  string
	BatchSize int
	Handle    sqsqueue.Handler
}

// Schedule is a scheduled function: in AWS an EventBridge Scheduler rule
// invokes it; locally a ticker does.
type Schedule struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// Workers lists the queue consumers wired into this app.
func (a *App) Workers() []Worker { return a.workers }

// Schedules lists the scheduled jobs wired into this app.
func (a *App) Schedules() []Schedule { return a.schedules }

// Worker returns the named worker (for a Lambda main).
func (a *App) Worker(name string) (Worker, bool) {
	for _, w := range a.workers {
		if w.Name == name {
			return w, true
		}
	}
	return Worker{}, false
}

// Schedule returns the named scheduled job (for a Lambda main).
func (a *App) Schedule(name string) (Schedule, bool) {
	for _, s := range a.schedules {
		if s.Name == name {
			return s, true
		}
	}
	return Schedule{}, false
}
