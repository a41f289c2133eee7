package app

import (
	"context"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/linkkeys"
	"github.com/carepost/carepost/shared/notify"
	"github.com/carepost/carepost/shared/resources"
)

// wireNotify adds the notification worker (functions/notify): "a new secure
// message is waiting" e-mails to patients and proxies, "new work" e-mails to
// pools that asked for them.
func (a *App) wireNotify() {
	n := a.notifier()
	a.workers = append(a.workers, Worker{Name: "notify", QueueURL: a.Config.NotifyQueueURL, BatchSize: resources.For("", "").Notify.BatchSize, Handle: n.Handle})
}

func (a *App) linkKeys() *linkkeys.Keys { return linkkeys.New(a.Store, a.Envelope) }

func (a *App) notifier() *notify.Notifier {
	return &notify.Notifier{
		Store: a.Store, Proxies: a.Store, Emails: a.accountEmail, Sealer: a.Envelope, Keys: a.linkKeys(),
		Mailer: a.Mailer, PublicURL: a.Config.PublicURL, Log: a.Log, Now: nowUTC,
	}
}

// SESEvents returns the handler of the SES configuration set's bounce,
// complaint and delivery events (functions/sesevents, fed by SNS).
func (a *App) SESEvents() *notify.SESEvents {
	return &notify.SESEvents{Store: a.Store, Keys: a.linkKeys(), Sealer: a.Envelope, Audit: auditAdapter{a.AuditLog}, Log: a.Log, Now: nowUTC}
}

// accountEmail is the e-mail of an enabled account of the practice, from
// the identity provider (staff for pool notices, proxies for message
// notices).
func (a *App) accountEmail(ctx context.Context, practiceID, subject string) (string, bool, error) {
	if a.Directory == nil {
		return "", false, nil
	}
	u, err := a.Directory.GetUser(ctx, subject)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if u.PracticeID != practiceID || u.Disabled {
		return "", false, nil
	}
	return u.Email, true, nil
}
