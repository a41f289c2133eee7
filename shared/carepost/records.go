package carepost

import "time"

// Record keeping and inbox productivity (issue 7): quick replies,
// attachments, e-visit time, legal holds and the per-day aggregates the
// reports read. The packages quickreplies, attachments, evisit, reports,
// aggregates and retention hold the use cases; package dynamo stores these.

// QuickReply is a saved reply template. Its text is written by staff and is
// not patient data (placeholders stand for the patient's details); it is
// stored in the clear. Rendering fills the placeholders for one thread and
// is never stored.
type QuickReply struct {
	PracticeID string    `json:"-"`
	ID         string    `json:"id"`
	Scope      string    `json:"scope"`           // "practice" or "personal"
	Owner      string    `json:"owner,omitempty"` // the staff subject of a personal template
	Title      string    `json:"title"`
	Text       string    `json:"text"`
	UpdatedBy  string    `json:"updatedBy"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
}

// Quick reply scopes.
const (
	ScopePractice = "practice"
	ScopePersonal = "personal"
)

// AttachmentState is where an uploaded file is: an upload URL was handed
// out (requested), the object was checked (ready), or it belongs to a
// message (linked).
type AttachmentState string

const (
	AttachmentRequested AttachmentState = "requested"
	AttachmentReady     AttachmentState = "ready"
	AttachmentLinked    AttachmentState = "linked"
)

// Attachment is a file in the attachments bucket. Its object key holds ids
// only (ObjectKey); a file name a user chose is never stored.
type Attachment struct {
	PracticeID   string          `json:"-"`
	ThreadID     string          `json:"threadId"`
	ID           string          `json:"id"`
	State        AttachmentState `json:"state"`
	UploaderID   string          `json:"uploaderId"`
	UploaderRole Role            `json:"uploaderRole"`
	ContentType  string          `json:"contentType"`
	Size         int64           `json:"size"`
	MessageID    string          `json:"messageId,omitempty"`
	Created      time.Time       `json:"created"`
	UploadBy     time.Time       `json:"uploadBy"` // the upload URL's expiry
	Completed    time.Time       `json:"completed,omitzero"`
}

// ObjectKey is the attachment's key in the bucket: practice, thread and
// attachment ids, nothing a user typed.
func (a Attachment) ObjectKey() string { return AttachmentPrefix(a.PracticeID, a.ThreadID) + a.ID }

// AttachmentPrefix is the key prefix of a thread's attachments.
func AttachmentPrefix(practiceID, threadID string) string {
	return "att/" + practiceID + "/" + threadID + "/"
}

// AttachmentChange moves an attachment from one state to another; it
// applies only while the stored state is From (and, when FromMessage is
// set, while the stored message id is empty or equal to it).
type AttachmentChange struct {
	From        AttachmentState
	To          AttachmentState
	Size        int64     // set when > 0
	Completed   time.Time // set when not zero
	MessageID   string    // set when not empty
	FromMessage string
}

// TimeEntry is time a staff member spent on a thread (e-visit billing).
type TimeEntry struct {
	ID      string    `json:"id"`
	StaffID string    `json:"staffId"`
	Role    Role      `json:"role"`
	Minutes int       `json:"minutes"`
	At      time.Time `json:"at"`     // when the work was done
	Logged  time.Time `json:"logged"` // when it was recorded
}

// LegalHold keeps a thread from deletion by the retention job.
type LegalHold struct {
	On  bool      `json:"on"`
	By  string    `json:"by"`
	At  time.Time `json:"at"`
	Set bool      `json:"-"` // a hold record exists
}

// DayStats are one practice's aggregates for one day (in the practice's
// time zone), kept by the write path so a report reads one item per day.
// Samples are durations in seconds, by dimension: "all", "pool:<name>",
// "user:<subject>".
type DayStats struct {
	Day             string             `json:"day"` // YYYY-MM-DD
	Opened          int                `json:"opened"`
	OpenedByStaff   int                `json:"openedByStaff"`
	PatientMessages int                `json:"patientMessages"`
	StaffMessages   int                `json:"staffMessages"`
	Closed          int                `json:"closed"`
	FirstResponse   map[string][]int64 `json:"-"`
	TimeToClose     map[string][]int64 `json:"-"`
	Senders         []string           `json:"-"` // patients who sent a message that day
	Seen            []string           `json:"-"` // patients the practice reported as seen that day
	EVisits         []string           `json:"-"` // threads whose e-visit window started that day
}

// DayDelta is a change to a day's aggregates: counters are added, samples
// appended, ids added to the sets.
type DayDelta struct {
	Opened, OpenedByStaff, PatientMessages, StaffMessages, Closed int
	FirstResponse                                                 map[string]int64
	TimeToClose                                                   map[string]int64
	Senders, Seen, EVisits                                        []string
}

// Empty reports whether d changes nothing.
func (d DayDelta) Empty() bool {
	return d.Opened == 0 && d.OpenedByStaff == 0 && d.PatientMessages == 0 && d.StaffMessages == 0 && d.Closed == 0 &&
		len(d.FirstResponse) == 0 && len(d.TimeToClose) == 0 && len(d.Senders) == 0 && len(d.Seen) == 0 && len(d.EVisits) == 0
}

// ClosedEntry is one entry of a practice's closed-thread index: the thread
// was written in state closed on Day (its Updated day, UTC). The retention
// job reads the entries older than the retention period.
type ClosedEntry struct {
	Day      string
	ThreadID string
}
