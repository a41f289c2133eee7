package app

import (
	"github.com/carepost/carepost/shared/attachments"
	"github.com/carepost/carepost/shared/quickreplies"
	"github.com/carepost/carepost/shared/s3objects"
)

// wireRecords adds inbox productivity and record keeping (issue 7): quick
// replies, attachments (linked to the uploader's next message through the
// messaging hook), clinician-initiated bulk messages, e-visit time, FHIR
// export, reports with the per-day aggregates kept on the write path, and
// the retention job with legal holds.
func (a *App) wireRecords() {
	qr := quickreplies.New(a.Store, a.Messaging, a.Envelope)
	a.Routes = append(a.Routes, quickreplies.Routes(qr)...)

	att := attachments.New(a.Store, s3objects.New(a.Clients.S3, a.Config.Bucket, a.Config.KeyID), a.Messaging)
	a.Messaging.Attachments = att
	a.Routes = append(a.Routes, attachments.Routes(att)...)
}
