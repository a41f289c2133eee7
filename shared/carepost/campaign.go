package carepost

import "time"

// CampaignState is the life cycle of a reminder campaign:
//
//	draft -> scheduled -> running -> completed
//	            |  ^         |  ^
//	            v  |         v  |
//	           paused <------+--+        (any state but completed) -> cancelled
type CampaignState string

const (
	CampaignDraft     CampaignState = "draft"
	CampaignScheduled CampaignState = "scheduled" // waits for its send window
	CampaignRunning   CampaignState = "running"
	CampaignPaused    CampaignState = "paused"
	CampaignCancelled CampaignState = "cancelled"
	CampaignCompleted CampaignState = "completed"
)

// Final reports whether nothing more will be sent.
func (s CampaignState) Final() bool { return s == CampaignCancelled || s == CampaignCompleted }

// CampaignTemplate is the text of a campaign e-mail with placeholders
// ({{firstName}}, {{practiceName}}, {{unsubscribeUrl}}).
type CampaignTemplate struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// QuietHours is a daily interval, in the campaign's time zone, in which
// nothing is sent ("21:00" to "08:00" spans midnight).
type QuietHours struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// AudienceFilter selects a practice's patients (instead of a CSV list).
// Empty fields do not filter.
type AudienceFilter struct {
	Status     string   `json:"status,omitempty"`     // "active" (default), "invited", "any"
	MinAge     int      `json:"minAge,omitempty"`     // years, on the day the campaign is created
	MaxAge     int      `json:"maxAge,omitempty"`     //
	PatientIDs []string `json:"patientIds,omitempty"` // only these patients
}

// CampaignCounts are the progress counters of a campaign. Every recipient is
// in exactly one of queued (not handled yet), sending, sent, optedOut,
// skipped (suppressed address) or failed; delivered, bounced and complained
// are what SES reported later about sent ones.
type CampaignCounts struct {
	Total      int `json:"total"`
	Sending    int `json:"sending"`
	Sent       int `json:"sent"`
	Delivered  int `json:"delivered"`
	Bounced    int `json:"bounced"`
	Complained int `json:"complained"`
	OptedOut   int `json:"optedOut"`
	Skipped    int `json:"skipped"`
	Failed     int `json:"failed"`
}

// Queued is how many recipients have not been handled yet.
func (c CampaignCounts) Queued() int {
	return max(0, c.Total-c.Sending-c.Sent-c.OptedOut-c.Skipped-c.Failed)
}

// Campaign is a scheduler's reminder campaign. It holds no patient data:
// recipients (with their sealed contact details) are stored apart.
type Campaign struct {
	PracticeID  string           `json:"practiceId"`
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Template    CampaignTemplate `json:"template"`
	Audience    string           `json:"audience"` // "csv" or "filter"
	Filter      *AudienceFilter  `json:"filter,omitempty"`
	State       CampaignState    `json:"state"`
	WindowStart time.Time        `json:"windowStart,omitzero"`
	WindowEnd   time.Time        `json:"windowEnd,omitzero"`
	TimeZone    string           `json:"timeZone,omitempty"`
	Quiet       QuietHours       `json:"quietHours,omitzero"`
	CreatedBy   string           `json:"createdBy"`
	Created     time.Time        `json:"created"`
	Updated     time.Time        `json:"updated"`
	Started     time.Time        `json:"started,omitzero"`
	Finished    time.Time        `json:"finished,omitzero"`
	Counts      CampaignCounts   `json:"counts"`
	// NeedsFanout says recipients are waiting that are not on the queue
	// (a pause, quiet hours or a closed window dropped them).
	NeedsFanout bool      `json:"-"`
	FanoutLease time.Time `json:"-"`
	LastFanout  time.Time `json:"-"`
	Progress    time.Time `json:"-"` // last change of a counter
}

// CampaignChange is a conditional change of a campaign's state.
type CampaignChange struct {
	From        []CampaignState // applies only in one of these states (empty: any)
	To          CampaignState   // "" keeps the state
	Doc         *Campaign       // rewrite the settings (schedule)
	NeedsFanout *bool
	Started     time.Time // set when not zero
	Finished    time.Time // set when not zero
	Now         time.Time
}

// RecipientChange is a conditional change of a recipient's state: it
// applies only while the recipient is in From.
type RecipientChange struct {
	From          RecipientState
	To            RecipientState
	Claimed       time.Time // set when not zero (and the attempt counted)
	Sent          time.Time
	MailID        string
	Reason        string
	ClaimedBefore time.Time // when set, also requires claimed < ClaimedBefore (stale claims only)
}

// RecipientState is where one campaign recipient is. Transitions are
// conditional writes: pending -> sending happens once, before the e-mail is
// handed to SES, so no recipient is ever sent two copies.
type RecipientState string

const (
	RecipientPending  RecipientState = "pending"
	RecipientSending  RecipientState = "sending" // claimed; the send is in flight (or its sender died)
	RecipientSent     RecipientState = "sent"
	RecipientOptedOut RecipientState = "opted_out"
	RecipientSkipped  RecipientState = "skipped" // address suppressed (bounce, complaint)
	RecipientFailed   RecipientState = "failed"
)

// Recipient is one campaign recipient as stored; the contact is sealed
// (Binding Kind "campaign.recipient").
type Recipient struct {
	PracticeID    string         `json:"practiceId"`
	CampaignID    string         `json:"campaignId"`
	ID            string         `json:"id"` // keyed hash of campaign and address: one per address
	PatientID     string         `json:"patientId,omitempty"`
	Line          int            `json:"line,omitempty"` // CSV line it came from
	State         RecipientState `json:"state"`
	Attempts      int            `json:"attempts"`
	Claimed       time.Time      `json:"claimed,omitzero"`
	Sent          time.Time      `json:"sent,omitzero"`
	MailID        string         `json:"mailId,omitempty"`   // SES message id
	Reason        string         `json:"reason,omitempty"`   // failure code (never patient data)
	Delivery      string         `json:"delivery,omitempty"` // "delivered", "bounced", "complained"
	ContactSealed []byte         `json:"-"`
}

// RecipientContact is the sealed part of a recipient.
type RecipientContact struct {
	FirstName string `json:"firstName"`
	Email     string `json:"email"`
}

// AppointmentState is where an appointment is.
type AppointmentState string

const (
	AppointmentBooked    AppointmentState = "booked"
	AppointmentConfirmed AppointmentState = "confirmed"
	AppointmentCancelled AppointmentState = "cancelled"
)

// Appointment is a booked visit. Clinician and location are sealed (Binding
// Kind "appointment.details"): with the patient id they say who sees whom.
type Appointment struct {
	PracticeID  string           `json:"practiceId"`
	ID          string           `json:"id"`
	PatientID   string           `json:"patientId"`
	Time        time.Time        `json:"time"`
	Clinician   string           `json:"clinician,omitempty"`
	Location    string           `json:"location,omitempty"`
	State       AppointmentState `json:"state"`
	Reminded    []int            `json:"reminded,omitempty"` // offsets (hours) already reminded
	Created     time.Time        `json:"created"`
	Updated     time.Time        `json:"updated"`
	CancelledBy string           `json:"cancelledBy,omitempty"` // "patient-link" or a staff subject
}

// AppointmentRecord is an appointment as stored.
type AppointmentRecord struct {
	Appointment
	DetailsSealed []byte
}
