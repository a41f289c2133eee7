// Package resources is the one definition of every AWS resource CarePost
// uses: the table with its keys, indexes and TTL attribute; the queues with
// their dead-letter queues and redrive policies; the KMS key aliases; the SES
// sender identity and configuration set; the attachments bucket with its
// versioning and default encryption.
//
// Both the CDK stack (infra/) and the local bootstrap (shared/bootstrap) read
// these values, so local and cloud never drift. The package imports nothing
// but the standard library so that the infra module can depend on it cheaply.
package resources

import "time"

// Names are prefixed per deployment ("carepost" by default, or a stage name)
// so two stacks can share an account.
const DefaultPrefix = "carepost"

// KeyAttr describes one key attribute (all CarePost keys are strings).
type KeyAttr struct {
	Name string
}

// Index is a global secondary index with an ALL projection.
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
	// Purpose says which queries use it.
	Purpose string
}

// Table is the single DynamoDB table.
type Table struct {
	Name         string
	PartitionKey string
	SortKey      string
	TTLAttribute string
	Indexes      []Index
}

// Queue is an SQS queue with its dead-letter queue.
type Queue struct {
	Name              string
	DLQName           string
	VisibilityTimeout time.Duration
	MaxReceiveCount   int           // after this many receives a message moves to the DLQ
	Retention         time.Duration // for the main queue
	DLQRetention      time.Duration
	BatchSize         int           // Lambda event source mapping batch size
	MaxBatchingWindow time.Duration // Lambda event source mapping window
	Consumer          string        // the function (functions/<name>) that consumes it
}

// Bucket is an S3 bucket. Its default encryption is SSE-KMS under the
// storage key (Stack.StorageKeyAlias), with an S3 Bucket Key only if
// BucketKey says so.
type Bucket struct {
	// Name is the local bucket's name. In AWS the name is generated (S3
	// names are global) and reaches the functions as CAREPOST_BUCKET.
	Name string
	// Versioned: an overwrite or a DeleteObject keeps the earlier data as a
	// noncurrent version (and a delete marker), so whoever deletes a file
	// for good must delete every version of it.
	Versioned bool
	// NoncurrentExpiry is how long a noncurrent version is kept before the
	// lifecycle rule removes it.
	NoncurrentExpiry time.Duration
	// BucketKey turns on S3 Bucket Keys. Off for attachments: with a bucket
	// key KMS sees only the bucket's ARN as encryption context, and the
	// practice / thread / attachment context of each upload binds nothing.
	BucketKey bool
}

// Stack is every named resource of one deployment.
type Stack struct {
	Prefix           string
	Table            Table
	Triage           Queue  // new patient messages -> triage worker
	Notify           Queue  // "new message waiting" e-mails -> notify worker
	Campaign         Queue  // campaign recipients -> campaign sender
	KeyAlias         string // the data key: envelope encryption by the application
	StorageKeyAlias  string // the storage key: server-side encryption of the table and the bucket
	SenderIdentity   string // SES identity (domain or address) mail is sent from
	ConfigurationSet string // SES configuration set publishing bounce/complaint events
	AttachmentBucket Bucket
}

// Index names, used by the store adapter.
const (
	IndexByPatient = "gsi1" // a patient's threads, newest activity first
	IndexInbox     = "gsi2" // a pool's or person's inbox, by priority then due time
)

// Attribute names of the table.
const (
	AttrPK     = "pk"
	AttrSK     = "sk"
	AttrGSI1PK = "gsi1pk"
	AttrGSI1SK = "gsi1sk"
	AttrGSI2PK = "gsi2pk"
	AttrGSI2SK = "gsi2sk"
	AttrTTL    = "ttl"
)

// For returns the resource definitions for a deployment prefix and sender
// identity (e.g. "mail.example-clinic.org" or "no-reply@example.org").
func For(prefix, sender string) Stack {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if sender == "" {
		sender = "no-reply@carepost.local"
	}
	q := func(name, consumer string, visibility time.Duration, batch int, window time.Duration) Queue {
		return Queue{
			Name:              prefix + "-" + name,
			DLQName:           prefix + "-" + name + "-dlq",
			VisibilityTimeout: visibility,
			MaxReceiveCount:   5,
			Retention:         4 * 24 * time.Hour,
			DLQRetention:      14 * 24 * time.Hour,
			BatchSize:         batch,
			MaxBatchingWindow: window,
			Consumer:          consumer,
		}
	}
	return Stack{
		Prefix: prefix,
		Table: Table{
			Name:         prefix + "-data",
			PartitionKey: AttrPK,
			SortKey:      AttrSK,
			TTLAttribute: AttrTTL,
			Indexes: []Index{
				{Name: IndexByPatient, PartitionKey: AttrGSI1PK, SortKey: AttrGSI1SK, Purpose: "threads of one patient; audit events of one patient"},
				{Name: IndexInbox, PartitionKey: AttrGSI2PK, SortKey: AttrGSI2SK, Purpose: "inbox of a pool or person ordered by status, priority, due time"},
			},
		},
		// Visibility timeouts are six times the function timeout, as AWS
		// recommends for event source mappings.
		Triage:           q("triage", "triage", 3*time.Minute, 10, 0),
		Notify:           q("notify", "notify", 3*time.Minute, 10, 5*time.Second),
		Campaign:         q("campaign", "campaign", 6*time.Minute, 10, 1*time.Second),
		KeyAlias:         "alias/" + prefix + "-data",
		StorageKeyAlias:  "alias/" + prefix + "-storage",
		SenderIdentity:   sender,
		ConfigurationSet: prefix + "-mail",
		AttachmentBucket: Bucket{Name: prefix + "-attachments", Versioned: true, NoncurrentExpiry: 30 * 24 * time.Hour},
	}
}

// Queues returns every queue of the stack.
func (s Stack) Queues() []Queue { return []Queue{s.Triage, s.Notify, s.Campaign} }
