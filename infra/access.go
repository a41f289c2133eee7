package main

import (
	"time"

	"github.com/carepost/carepost/shared/resources"
)

// This file is the access matrix: which function may touch what. The stack
// turns each Access into one customer-managed IAM policy attached to that
// function's own role (and, for the data key, into the key policy), and the
// tests read the same matrix back out of the synthesized template. To give a
// function a new permission, change it here and nowhere else.

// KeyUse is what a function may do with the envelope-encryption data key.
type KeyUse int

const (
	KeyNone KeyUse = iota
	// KeyDecrypt: kms:Decrypt only (read encrypted bodies or contact details).
	KeyDecrypt
	// KeyEncryptDecrypt: kms:GenerateDataKey and kms:Decrypt (write and read).
	KeyEncryptDecrypt
)

// Trigger is how a function is invoked.
type Trigger int

const (
	TriggerAPI      Trigger = iota // HTTP API integration
	TriggerQueue                   // SQS event source mapping (Access.Consumes)
	TriggerSchedule                // EventBridge Scheduler (resources.Schedules)
	TriggerSESEvent                // SNS topic of the SES configuration set's events
)

// Access lists what a function's role allows. The zero value allows nothing
// beyond writing its own log group.
type Access struct {
	// Table: read and write items of the table and its indexes (no Scan,
	// no table management), through DynamoDB only for the table's key.
	Table bool
	// DataKey: use of the envelope-encryption key (resources.KeyAlias);
	// every request must carry an encryption context.
	DataKey KeyUse
	// Consumes is the queue the function's event source mapping reads.
	Consumes string
	// SendTo lists the queues (by consumer name) the function may send to.
	SendTo []string
	// SendMail: ses:SendEmail from the configured sender only.
	SendMail bool
	// Attachments: put, get (and head) and delete objects of the
	// attachments bucket: the API signs short-lived upload and download URLs
	// with its own role, checks an upload's type by its first bytes and
	// deletes refused uploads, every version of them (list the versions
	// under att/, delete by version id). Objects are SSE-KMS under the
	// bucket's storage key (CAREPOST_BUCKET_KEY_ID, the bucket's default
	// encryption), so S3 uses the storage key with the API's identity, and
	// only through S3 (kms:ViaService); the data key is never involved.
	Attachments bool
	// PurgeAttachments: list the versions of attachment objects under att/
	// and delete them by version id (the retention job deletes a thread's
	// files, with their noncurrent versions and delete markers, with the
	// thread). No KMS use: deleting needs no key.
	PurgeAttachments bool
	// UserAdmin: the Cognito admin calls of shared/auth/cognitodir on the
	// user pool (create, roll back, disable, set groups, grants and
	// passwords, sign out).
	UserAdmin bool
	// UserRead: read a user and their groups (AdminGetUser,
	// AdminListGroupsForUser), for the e-mail address of staff and proxies.
	UserRead bool
	// Health: the read-only calls of the API's /health check (DescribeTable,
	// DescribeKey on the data key, GetQueueAttributes, SES GetAccount; the
	// bucket's HeadBucket comes with Attachments).
	Health bool
	// AsyncDLQ: the function is invoked asynchronously and parks failed
	// events in the async dead-letter queue.
	AsyncDLQ bool
}

// FunctionSpec is one Lambda function (code in build/<Name>/bootstrap).
type FunctionSpec struct {
	Name        string
	Description string
	MemoryMB    int
	Timeout     time.Duration
	Trigger     Trigger
	Access      Access
}

// Function names (directories under functions/ and build/).
const (
	FnAPI       = "api"
	FnTriage    = "triage"
	FnNotify    = "notify"
	FnCampaign  = "campaign"
	FnSweep     = "sweep"
	FnSESEvents = "sesevents"
	FnTick      = "campaigntick"
	FnReminders = "reminders"
	FnProxyAge  = "proxyage"
	FnRetention = "retention"
)

// Functions returns the function specs for a deployment. Queue consumers
// time out at a sixth of their queue's visibility timeout (AWS's advice for
// event source mappings), so the queue definition stays the one source.
//
// Every function may use the data key (GenerateDataKey and Decrypt with an
// encryption context): besides message bodies and contact details, each
// practice's link key (signed links, keyed address hashes; see
// shared/linkkeys) is sealed under it and made on first use by whichever
// function needs it first. The boundaries between functions are the queues,
// SES, the attachments bucket and Cognito.
func Functions(rs resources.Stack) []FunctionSpec {
	consumer := func(q resources.Queue, desc string, a Access) FunctionSpec {
		a.Consumes = q.Consumer
		return FunctionSpec{Name: q.Consumer, Description: desc, MemoryMB: 256, Timeout: q.VisibilityTimeout / 6, Trigger: TriggerQueue, Access: a}
	}
	scheduled := func(name, desc string, timeout time.Duration, a Access) FunctionSpec {
		a.AsyncDLQ = true
		return FunctionSpec{Name: name, Description: desc, MemoryMB: 256, Timeout: timeout, Trigger: TriggerSchedule, Access: a}
	}
	return []FunctionSpec{
		{
			// Requests of patients and staff: threads, attachments (signed
			// S3 URLs), staff invites and patient activation (Cognito and an
			// e-mail), campaigns and appointments (a cancel link tells the
			// front desk by e-mail).
			Name: FnAPI, Description: "CarePost HTTP API", MemoryMB: 512, Timeout: 15 * time.Second, Trigger: TriggerAPI,
			Access: Access{
				Table: true, DataKey: KeyEncryptDecrypt,
				SendTo:      []string{rs.Triage.Consumer, rs.Notify.Consumer, rs.Campaign.Consumer},
				SendMail:    true,
				Attachments: true, UserAdmin: true, Health: true,
			},
		},
		// Triage posts the sealed acknowledgement, pages the on-call pool by
		// e-mail (no health detail) and hands practice-side notices to notify.
		consumer(rs.Triage, "CarePost triage worker", Access{Table: true, DataKey: KeyEncryptDecrypt, SendTo: []string{rs.Notify.Consumer}, SendMail: true}),
		// Notify opens the recipient's address (patients: sealed contact
		// details; staff and proxies: Cognito) and sends a content-free
		// "a new message is waiting" e-mail.
		consumer(rs.Notify, "CarePost notification sender", Access{Table: true, DataKey: KeyEncryptDecrypt, SendMail: true, UserRead: true}),
		// Campaign sends each recipient's reminder at its share of the SES
		// rate (and re-queues what it cannot send yet).
		consumer(rs.Campaign, "CarePost campaign sender", Access{Table: true, DataKey: KeyEncryptDecrypt, SendTo: []string{rs.Campaign.Consumer}, SendMail: true}),
		// Overdue threads and unacknowledged pages (sealed notes and
		// escalation e-mails), lost triage events (re-queued), digests; the
		// overdue-urgent metric goes out in its log (embedded metric format).
		scheduled(FnSweep, "CarePost overdue sweep and page escalation", 2*time.Minute,
			Access{Table: true, DataKey: KeyEncryptDecrypt, SendTo: []string{rs.Triage.Consumer}, SendMail: true}),
		// Starts campaigns, fans recipients out onto the campaign queue in
		// batches, settles dead senders' claims, completes campaigns.
		scheduled(FnTick, "CarePost campaign tick", time.Minute,
			Access{Table: true, DataKey: KeyEncryptDecrypt, SendTo: []string{rs.Campaign.Consumer}}),
		// Appointment reminders due at their offsets (signed confirm/cancel
		// links), notices to the front desk.
		scheduled(FnReminders, "CarePost appointment reminders", 5*time.Minute,
			Access{Table: true, DataKey: KeyEncryptDecrypt, SendMail: true, UserRead: true}),
		// Narrows a minor's proxies when the patient comes of age: reads the
		// sealed birth date, rewrites the grants on the proxy's account.
		scheduled(FnProxyAge, "CarePost proxy coming-of-age job", 5*time.Minute,
			Access{Table: true, DataKey: KeyEncryptDecrypt, UserAdmin: true}),
		// Deletes closed threads past the practice's retention period (items
		// and attachment objects), except under legal hold; audited.
		scheduled(FnRetention, "CarePost retention job", 10*time.Minute,
			Access{Table: true, DataKey: KeyEncryptDecrypt, PurgeAttachments: true}),
		{
			// SES bounce/complaint/delivery events through SNS: suppress the
			// address (keyed hash under the practice's link key), mark the
			// patient's record, count campaign deliveries.
			Name: FnSESEvents, Description: "CarePost SES bounce, complaint and delivery events", MemoryMB: 256, Timeout: 30 * time.Second, Trigger: TriggerSESEvent,
			Access: Access{Table: true, DataKey: KeyEncryptDecrypt, AsyncDLQ: true},
		},
	}
}

// sesRatePerCopy is CAREPOST_SES_RATE: the e-mails per second one running
// copy of a sending function may send (the limiter of shared/campaigns is
// per process). The account's rate is split between the copies that can
// run at once: campaign's and notify's event source mappings (each limited
// to its concurrency) plus one share kept for the reminders job and the
// rare pages, escalations and invitations of the other functions.
func sesRatePerCopy(total, campaignCopies int) float64 {
	copies := mailSenderCopies + max(campaignCopies, mailSenderCopies) + 1
	return float64(total) / float64(copies)
}

// mailSenderCopies is the maximum concurrency of the notify queue's event
// source mapping (and of campaign's when its concurrency is unreserved).
const mailSenderCopies = 2
