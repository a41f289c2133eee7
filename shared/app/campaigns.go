package app

import (
	"context"
	"time"

	"github.com/carepost/carepost/shared/campaignapi"
	"github.com/carepost/carepost/shared/campaigns"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/reminders"
	"github.com/carepost/carepost/shared/resources"
)

// Schedules of the campaign features (EventBridge Scheduler in AWS).
const (
	CampaignTickEvery = time.Minute
	RemindersEvery    = 15 * time.Minute
)

func nowUTC() time.Time { return time.Now().UTC() }

// wireCampaigns adds reminder campaigns and appointment reminders: the
// /v1/campaigns and /v1/appointments routes, the public link pages, the
// campaign sender (functions/campaign) with one SES rate limiter per process
// (CAREPOST_SES_RATE), the campaign tick (functions/campaigntick) and the
// reminders job (functions/reminders).
func (a *App) wireCampaigns() {
	keys := a.linkKeys()
	limiter := campaigns.NewLimiter(a.Config.SESRate, 0)
	cs := &campaigns.Service{
		Store: a.Store, Sealer: a.Envelope, Keys: keys, Audit: auditAdapter{a.AuditLog},
		Queue:     &campaigns.Queue{SQS: a.Clients.SQS, URL: a.Config.CampaignQueueURL},
		PublicURL: a.Config.PublicURL, Log: a.Log, Now: nowUTC, NewID: messaging.RandomID,
	}
	a.Campaigns = cs
	sender := &campaigns.Sender{Service: cs, Mailer: a.Mailer, Limiter: limiter, MaxAttempts: resources.For("", "").Campaign.MaxReceiveCount}
	rs := &reminders.Service{
		Store: a.Store, Sealer: a.Envelope, Keys: keys, Mailer: limitedMailer{a.Mailer, limiter}, Notifier: a.notifier(),
		Audit: auditAdapter{a.AuditLog}, UnsubscribeURL: cs.UnsubscribeURL, PublicURL: a.Config.PublicURL, Log: a.Log, Now: nowUTC,
	}
	a.workers = append(a.workers, Worker{Name: "campaign", QueueURL: a.Config.CampaignQueueURL, BatchSize: resources.For("", "").Campaign.BatchSize, Handle: sender.Handle})
	a.schedules = append(a.schedules,
		Schedule{Name: "campaigntick", Every: CampaignTickEvery, Run: cs.Tick},
		Schedule{Name: "reminders", Every: RemindersEvery, Run: rs.Tick},
	)
	a.Routes = append(a.Routes, campaignapi.Routes(cs, rs)...)
}

// limitedMailer sends through the process's SES rate limiter.
type limitedMailer struct {
	next    carepost.Mailer
	limiter *campaigns.Limiter
}

func (m limitedMailer) Send(ctx context.Context, mail carepost.Mail) (string, error) {
	if err := m.limiter.Wait(ctx); err != nil {
		return "", err
	}
	id, err := m.next.Send(ctx, mail)
	if carepost.IsTransient(err) {
		m.limiter.Backoff()
	}
	return id, err
}
