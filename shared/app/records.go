package app

import (
	"context"
	"time"

	"github.com/carepost/carepost/shared/aggregates"
	"github.com/carepost/carepost/shared/attachments"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/evisit"
	"github.com/carepost/carepost/shared/fhir"
	"github.com/carepost/carepost/shared/outreach"
	"github.com/carepost/carepost/shared/quickreplies"
	"github.com/carepost/carepost/shared/reports"
	"github.com/carepost/carepost/shared/retention"
	"github.com/carepost/carepost/shared/s3objects"
)

// wireRecords adds inbox productivity and record keeping (issue 7): quick
// replies, attachments (linked to the uploader's next message through the
// messaging hook), clinician-initiated bulk messages, e-visit time, FHIR
// export, reports with the per-day aggregates kept on the write path, and
// the retention job with legal holds.
func (a *App) wireRecords() {
	// Every thread and message write of the messaging core (API, triage's
	// system notes) also feeds the per-day aggregates and the closed-thread
	// index. Failures are logged with their code only (never data).
	a.Messaging.Store = aggregates.Wrap(a.Messaging.Store, a.Store, func(op string, err error) {
		a.Log.Warn("report aggregate not written", "op", op, "code", string(carepost.ErrorCode(err)))
	})
	a.Routes = append(a.Routes, reports.Routes(reports.New(a.Store, a.Messaging))...)

	qr := quickreplies.New(a.Store, a.Messaging, a.Envelope)
	a.Routes = append(a.Routes, quickreplies.Routes(qr)...)

	// Uploads are SSE-KMS under the bucket's own key (the stack's storage
	// key, CAREPOST_BUCKET_KEY_ID), never under the envelope key KeyID.
	bucket := s3objects.New(a.Clients.S3, a.Config.Bucket, a.Config.BucketKeyID)
	att := attachments.New(a.Store, bucket, a.Messaging)
	a.Messaging.Attachments = att
	a.Routes = append(a.Routes, attachments.Routes(att)...)

	a.Routes = append(a.Routes, evisit.Routes(evisit.New(a.Store, a.Messaging))...)
	a.Routes = append(a.Routes, fhir.Routes(fhir.New(a.Store, a.Messaging, a.Envelope, a.Config.PublicURL))...)
	a.Routes = append(a.Routes, outreach.Routes(&outreach.Service{Store: a.Store, Threads: a.Messaging})...)

	// Retention (functions/retention, daily): closed threads past the
	// practice's period, unless held; legal holds are set per thread here
	// and per practice in the settings.
	ret := retention.New(a.Store, bucket, a.Messaging)
	a.Routes = append(a.Routes, retention.Routes(ret)...)
	a.schedules = append(a.schedules, Schedule{Name: "retention", Every: 24 * time.Hour, Run: func(ctx context.Context) error {
		r, err := ret.Run(ctx)
		if r.Deleted+r.Held+r.OnHold > 0 || err != nil {
			a.Log.Info("retention", "practices", r.Practices, "deleted", r.Deleted, "held", r.Held, "practicesOnHold", r.OnHold, "items", r.Items, "objects", r.Objects)
		}
		return err
	}})
}
