// Package campaigns runs schedulers' reminder campaigns: a template with
// placeholders, an audience (a CSV list or a filter over the practice's
// patients), a send window in the practice's time zone with quiet hours;
// fan-out of the recipients onto SQS in SendMessageBatch calls; a sender that
// keeps to the account's SES rate; one-click unsubscribe.
//
// Each recipient gets at most one e-mail, whatever happens to queues and
// processes: before an e-mail is handed to SES the sender moves the
// recipient from "pending" to "sending" with a conditional write, and only
// the writer that won that write sends. If the sender dies between that
// write and SES's answer, nobody can know whether the e-mail went out; such a
// recipient is never retried (at most once, by choice: a patient reminded
// twice is a worse failure than one reminder lost) and is recorded as
// failed with reason "unknown" once its claim is stale.
//
// Recipients' contact details are sealed at rest (Binding Kind
// "campaign.recipient", bound to the campaign and recipient ids). Queue
// messages, logs, errors and counters carry ids only.
package campaigns

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/linkkeys"
	"github.com/carepost/carepost/shared/messaging"
)

// Store is the persistence the campaigns need (implemented by dynamo.Store).
type Store interface {
	Practice(ctx context.Context, practiceID string) (carepost.Practice, error)
	Practices(ctx context.Context) ([]string, error)
	Patient(ctx context.Context, practiceID, patientID string) (carepost.PatientRecord, error)
	ListPatients(ctx context.Context, practiceID string, after map[string]string, limit int) (carepost.Page[carepost.PatientRecord], error)
	SetPatientCampaignOptOut(ctx context.Context, practiceID, patientID string, optOut bool) error

	PutCampaign(ctx context.Context, c carepost.Campaign) error
	Campaign(ctx context.Context, practiceID, campaignID string) (carepost.Campaign, error)
	Campaigns(ctx context.Context, practiceID string, after map[string]string, limit int) (carepost.Page[carepost.Campaign], error)
	ChangeCampaign(ctx context.Context, practiceID, campaignID string, ch carepost.CampaignChange) (carepost.Campaign, error)
	AddCampaignCounts(ctx context.Context, practiceID, campaignID string, delta carepost.CampaignCounts) error
	SetCampaignCounts(ctx context.Context, practiceID, campaignID string, c carepost.CampaignCounts) error
	AcquireFanout(ctx context.Context, practiceID, campaignID string, now time.Time, lease time.Duration) (carepost.Campaign, bool, error)
	RenewFanout(ctx context.Context, practiceID, campaignID string, now time.Time, lease time.Duration) error
	ReleaseFanout(ctx context.Context, practiceID, campaignID string, now time.Time) error

	PutRecipient(ctx context.Context, r carepost.Recipient) error
	Recipient(ctx context.Context, practiceID, campaignID, recipientID string) (carepost.Recipient, error)
	Recipients(ctx context.Context, practiceID, campaignID string, state carepost.RecipientState, idsOnly bool, after map[string]string, limit int) (carepost.Page[carepost.Recipient], error)
	ChangeRecipient(ctx context.Context, practiceID, campaignID, recipientID string, ch carepost.RecipientChange) error

	Suppress(ctx context.Context, practiceID, addrHash, reason string, at time.Time) error
	Suppression(ctx context.Context, practiceID, addrHash string) ([]string, error)
}

// Service is the campaigns use cases.
type Service struct {
	Store     Store
	Sealer    carepost.Sealer
	Keys      *linkkeys.Keys
	Audit     carepost.AuditLog
	Queue     *Queue
	PublicURL string
	Log       *slog.Logger
	Now       func() time.Time
	NewID     func() string
}

const schema = 1

func (s *Service) now() time.Time { return s.Now().UTC() }

// RecipientBinding is what a recipient's contact is sealed under.
func RecipientBinding(pid, cid, rid string) carepost.Binding {
	return carepost.Binding{PracticeID: pid, Kind: "campaign.recipient", ThreadID: cid, MessageID: rid, Schema: schema}
}

func (s *Service) authorize(ctx context.Context, p carepost.Principal, action, object string) error {
	if (p.Role == carepost.RoleScheduler || p.Role == carepost.RoleAdmin) && p.PracticeID != "" {
		return nil
	}
	if err := s.audit(ctx, p, action, object, "denied"); err != nil {
		return err
	}
	return carepost.Errorf(carepost.CodeForbidden, "campaigns need the scheduler or admin role")
}

func (s *Service) audit(ctx context.Context, p carepost.Principal, action, object, outcome string) error {
	if s.Audit == nil {
		return nil
	}
	if err := s.Audit.Record(ctx, carepost.AuditEvent{PracticeID: p.PracticeID, Actor: p.Subject, ActorRole: p.Role, SourceIP: p.SourceIP,
		Action: action, Object: object, Outcome: outcome, Time: s.now()}); err != nil {
		return carepost.Unavailable(err, "the audit log")
	}
	return nil
}

// Audience is where a campaign's recipients come from: exactly one of CSV
// (the file's text) and Filter.
type Audience struct {
	CSV    *string                  `json:"csv,omitempty"`
	Filter *carepost.AudienceFilter `json:"filter,omitempty"`
}

// CreateInput creates a campaign.
type CreateInput struct {
	Name     string                    `json:"name"`
	Template carepost.CampaignTemplate `json:"template"`
	Audience Audience                  `json:"audience"`
	// AcceptValid imports the good rows of a CSV with bad ones; without it
	// any bad row refuses the whole request (nothing is created).
	AcceptValid bool `json:"acceptValid,omitempty"`
	// LineOffset is added to reported line numbers (a file sent in pieces).
	LineOffset int `json:"lineOffset,omitempty"`
}

// ImportResult says what an upload did.
type ImportResult struct {
	Campaign View     `json:"campaign"`
	Imported int      `json:"imported"`
	BadRows  []BadRow `json:"badRows"`
}

// View is a campaign as the API shows it.
type View struct {
	carepost.Campaign
	Progress Progress `json:"progress"`
}

// Progress is what a scheduler watches while a campaign runs.
type Progress struct {
	Total      int `json:"total"`
	Queued     int `json:"queued"`  // not handled yet
	Sending    int `json:"sending"` // claimed, e-mail in flight
	Sent       int `json:"sent"`
	Delivered  int `json:"delivered"`
	Bounced    int `json:"bounced"`
	Complained int `json:"complained"`
	OptedOut   int `json:"optedOut"`
	Skipped    int `json:"skipped"` // address suppressed after a bounce or complaint
	Failed     int `json:"failed"`
	Unsent     int `json:"unsent"` // left over when the campaign was cancelled or its window closed
}

func viewOf(c carepost.Campaign) View {
	n := c.Counts
	p := Progress{Total: n.Total, Queued: n.Queued(), Sending: n.Sending, Sent: n.Sent, Delivered: n.Delivered, Bounced: n.Bounced,
		Complained: n.Complained, OptedOut: n.OptedOut, Skipped: n.Skipped, Failed: n.Failed}
	if c.State.Final() {
		p.Unsent, p.Queued = p.Queued, 0
	}
	return View{Campaign: c, Progress: p}
}

func invalidName(name string) error {
	if strings.TrimSpace(name) == "" || len([]rune(name)) > MaxName || strings.ContainsAny(name, "\r\n") {
		return carepost.FieldError(carepost.CodeValidation, "name", "name must be one line of 1 to %d characters", MaxName)
	}
	return nil
}

// Create validates and stores a campaign (state draft) with its audience.
func (s *Service) Create(ctx context.Context, p carepost.Principal, in CreateInput) (ImportResult, error) {
	if err := s.authorize(ctx, p, "campaign.create", "campaign/new"); err != nil {
		return ImportResult{}, err
	}
	if err := invalidName(in.Name); err != nil {
		return ImportResult{}, err
	}
	if err := ValidateTemplate(in.Template); err != nil {
		return ImportResult{}, err
	}
	if (in.Audience.CSV == nil) == (in.Audience.Filter == nil) {
		return ImportResult{}, carepost.FieldError(carepost.CodeValidation, "audience", "give exactly one of audience.csv and audience.filter")
	}
	var rows []Row
	var bad []BadRow
	if in.Audience.CSV != nil {
		var err error
		if rows, bad, err = ParseCSV(*in.Audience.CSV, in.LineOffset); err != nil {
			return ImportResult{}, err
		}
		if len(bad) > 0 && !in.AcceptValid {
			return ImportResult{}, badRowsError(bad)
		}
	} else if err := validFilter(in.Audience.Filter); err != nil {
		return ImportResult{}, err
	}
	practice, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return ImportResult{}, err
	}
	now := s.now()
	c := carepost.Campaign{PracticeID: p.PracticeID, ID: s.NewID(), Name: strings.TrimSpace(in.Name), Template: in.Template,
		Audience: "csv", State: carepost.CampaignDraft, TimeZone: practice.TimeZone, CreatedBy: p.Subject, Created: now, Updated: now}
	if in.Audience.Filter != nil {
		c.Audience, c.Filter = "filter", in.Audience.Filter
	}
	if err := s.Store.PutCampaign(ctx, c); err != nil {
		return ImportResult{}, err
	}
	if err := s.audit(ctx, p, "campaign.create", "campaign/"+c.ID, "ok"); err != nil {
		return ImportResult{}, err
	}
	if in.Audience.Filter != nil {
		if rows, err = s.filterRows(ctx, p.PracticeID, *in.Audience.Filter, now); err != nil {
			return ImportResult{}, err
		}
	}
	imported, dups, err := s.importRows(ctx, c, rows)
	if err != nil {
		return ImportResult{}, err
	}
	bad = append(bad, dups...)
	c.Counts.Total = imported
	return ImportResult{Campaign: viewOf(c), Imported: imported, BadRows: nonNil(bad)}, nil
}

func nonNil(b []BadRow) []BadRow {
	if b == nil {
		return []BadRow{}
	}
	slices.SortFunc(b, func(x, y BadRow) int { return x.Line - y.Line })
	return b
}

// badRowsError is the 422 for a list with bad rows: every bad row with its
// line and reason, so the whole file can be fixed in one go.
func badRowsError(bad []BadRow) error {
	e := carepost.FieldError(carepost.CodeValidation, "audience.csv", "%d rows are not valid; fix them or send acceptValid to import only the good rows", len(bad))
	e.Details = map[string]any{"badRows": nonNil(bad)}
	return e
}

// AppendInput adds rows to a draft campaign's list.
type AppendInput struct {
	CSV         string `json:"csv"`
	AcceptValid bool   `json:"acceptValid,omitempty"`
	LineOffset  int    `json:"lineOffset,omitempty"`
}

// Append adds a piece of a CSV list to a draft campaign (files larger than
// one request are sent in pieces, each with its own header line).
func (s *Service) Append(ctx context.Context, p carepost.Principal, cid string, in AppendInput) (ImportResult, error) {
	if err := s.authorize(ctx, p, "campaign.update", "campaign/"+safeID(cid)); err != nil {
		return ImportResult{}, err
	}
	c, err := s.Store.Campaign(ctx, p.PracticeID, cid)
	if err != nil {
		return ImportResult{}, err
	}
	if c.State != carepost.CampaignDraft || c.Audience != "csv" {
		return ImportResult{}, carepost.Errorf(carepost.CodeConflict, "recipients can only be added to a draft campaign with a CSV audience")
	}
	rows, bad, err := ParseCSV(in.CSV, in.LineOffset)
	if err != nil {
		return ImportResult{}, err
	}
	if len(bad) > 0 && !in.AcceptValid {
		return ImportResult{}, badRowsError(bad)
	}
	if err := s.audit(ctx, p, "campaign.update", "campaign/"+c.ID, "ok"); err != nil {
		return ImportResult{}, err
	}
	imported, dups, err := s.importRows(ctx, c, rows)
	if err != nil {
		return ImportResult{}, err
	}
	c.Counts.Total += imported
	return ImportResult{Campaign: viewOf(c), Imported: imported, BadRows: nonNil(append(bad, dups...))}, nil
}

// importRows stores recipients (16 writes in flight) and counts them. A
// row whose address is already in the campaign comes back as a bad row.
func (s *Service) importRows(ctx context.Context, c carepost.Campaign, rows []Row) (int, []BadRow, error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var dups []BadRow
	var firstErr error
	imported := 0
	work := make(chan Row)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				err := s.putRecipient(ctx, c, r)
				mu.Lock()
				switch {
				case err == nil:
					imported++
				case carepost.ErrorCode(err) == carepost.CodeConflict:
					dups = append(dups, BadRow{Line: r.Line, Reason: "duplicate e-mail address (already in this campaign)"})
				case firstErr == nil:
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, r := range rows {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop {
			break
		}
		work <- r
	}
	close(work)
	wg.Wait()
	// Count what was stored even if a later row failed: the counters must
	// match the recipients.
	if imported > 0 {
		if err := s.Store.AddCampaignCounts(context.WithoutCancel(ctx), c.PracticeID, c.ID, carepost.CampaignCounts{Total: imported}); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return imported, dups, firstErr
}

func (s *Service) putRecipient(ctx context.Context, c carepost.Campaign, r Row) error {
	rid, err := s.Keys.Hash(ctx, c.PracticeID, "recipient", c.ID+"\x00"+linkkeys.NormalizeEmail(r.Email))
	if err != nil {
		return err
	}
	b, _ := json.Marshal(carepost.RecipientContact{FirstName: r.FirstName, Email: strings.TrimSpace(r.Email)})
	sealed, err := s.Sealer.Seal(ctx, RecipientBinding(c.PracticeID, c.ID, rid), b)
	if err != nil {
		return err
	}
	return s.Store.PutRecipient(ctx, carepost.Recipient{PracticeID: c.PracticeID, CampaignID: c.ID, ID: rid, PatientID: r.PatientID,
		Line: r.Line, State: carepost.RecipientPending, ContactSealed: sealed})
}

func validFilter(f *carepost.AudienceFilter) error {
	switch f.Status {
	case "", "active", "invited", "any":
	default:
		return carepost.FieldError(carepost.CodeValidation, "audience.filter.status", "status must be active, invited or any")
	}
	if f.MinAge < 0 || f.MaxAge < 0 || f.MinAge > 150 || f.MaxAge > 150 || (f.MaxAge > 0 && f.MaxAge < f.MinAge) {
		return carepost.FieldError(carepost.CodeValidation, "audience.filter", "minAge and maxAge must be between 0 and 150, minAge <= maxAge")
	}
	if len(f.PatientIDs) > 10000 {
		return carepost.FieldError(carepost.CodeValidation, "audience.filter.patientIds", "at most 10000 patient ids")
	}
	for _, id := range f.PatientIDs {
		if !validID(id) {
			return carepost.FieldError(carepost.CodeValidation, "audience.filter.patientIds", "patient ids may only hold letters, digits, - and _")
		}
	}
	return nil
}

// filterRows picks the practice's patients that match f and have an
// e-mail address.
func (s *Service) filterRows(ctx context.Context, pid string, f carepost.AudienceFilter, now time.Time) ([]Row, error) {
	status := f.Status
	if status == "" {
		status = "active"
	}
	var rows []Row
	var after map[string]string
	for {
		page, err := s.Store.ListPatients(ctx, pid, after, 500)
		if err != nil {
			return nil, err
		}
		for _, rec := range page.Items {
			if (status != "any" && rec.Status != status) || (len(f.PatientIDs) > 0 && !slices.Contains(f.PatientIDs, rec.ID)) {
				continue
			}
			pt, err := messaging.OpenPatient(ctx, s.Sealer, rec)
			if err != nil {
				return nil, err
			}
			if pt.Contact.Email == "" || !ValidEmail(pt.Contact.Email) {
				continue
			}
			if f.MinAge > 0 || f.MaxAge > 0 {
				age, ok := ageOn(pt.Contact.BirthDate, now)
				if !ok || age < f.MinAge || (f.MaxAge > 0 && age > f.MaxAge) {
					continue
				}
			}
			first := pt.Contact.FirstName
			if first == "" {
				first = "patient"
			}
			rows = append(rows, Row{PatientID: rec.ID, FirstName: first, Email: pt.Contact.Email})
		}
		if page.Next == nil {
			return rows, nil
		}
		after = page.Next
	}
}

func ageOn(birth string, now time.Time) (int, bool) {
	b, err := time.Parse("2006-01-02", birth)
	if err != nil {
		return 0, false
	}
	age := now.Year() - b.Year()
	if now.YearDay() < b.YearDay() {
		age--
	}
	return age, true
}

// Get returns a campaign with its progress; exact recounts the recipients
// first (the counters are exact unless a process died mid-update).
func (s *Service) Get(ctx context.Context, p carepost.Principal, cid string, exact bool) (View, error) {
	if err := s.authorize(ctx, p, "campaign.read", "campaign/"+safeID(cid)); err != nil {
		return View{}, err
	}
	c, err := s.Store.Campaign(ctx, p.PracticeID, cid)
	if err != nil {
		return View{}, err
	}
	if exact {
		if c.Counts, err = s.Recount(ctx, p.PracticeID, cid); err != nil {
			return View{}, err
		}
	}
	return viewOf(c), nil
}

// List lists the practice's campaigns, newest first.
func (s *Service) List(ctx context.Context, p carepost.Principal) ([]View, error) {
	if err := s.authorize(ctx, p, "campaign.list", "campaigns"); err != nil {
		return nil, err
	}
	page, err := s.Store.Campaigns(ctx, p.PracticeID, nil, 100)
	if err != nil {
		return nil, err
	}
	out := []View{}
	for _, c := range page.Items {
		out = append(out, viewOf(c))
	}
	return out, nil
}

// Recount counts the recipients by state and stores the counts.
func (s *Service) Recount(ctx context.Context, pid, cid string) (carepost.CampaignCounts, error) {
	var n carepost.CampaignCounts
	var after map[string]string
	for {
		page, err := s.Store.Recipients(ctx, pid, cid, "", true, after, 1000)
		if err != nil {
			return n, err
		}
		for _, r := range page.Items {
			n.Total++
			switch r.State {
			case carepost.RecipientSending:
				n.Sending++
			case carepost.RecipientSent:
				n.Sent++
			case carepost.RecipientOptedOut:
				n.OptedOut++
			case carepost.RecipientSkipped:
				n.Skipped++
			case carepost.RecipientFailed:
				n.Failed++
			}
			for _, d := range strings.Split(r.Delivery, ",") {
				switch d {
				case "delivered":
					n.Delivered++
				case "bounced":
					n.Bounced++
				case "complained":
					n.Complained++
				}
			}
		}
		if page.Next == nil {
			break
		}
		after = page.Next
	}
	return n, s.Store.SetCampaignCounts(ctx, pid, cid, n)
}

// PreviewMail is one rendered e-mail of a preview.
type PreviewMail struct {
	RecipientID string `json:"recipientId"`
	Line        int    `json:"line,omitempty"`
	To          string `json:"to"`
	Subject     string `json:"subject"`
	Text        string `json:"text"`
}

// Preview renders the e-mails of the first n recipients; nothing is sent.
// The unsubscribe link is a stand-in (a real one would unsubscribe the
// patient if the scheduler clicked it).
func (s *Service) Preview(ctx context.Context, p carepost.Principal, cid string, n int) ([]PreviewMail, error) {
	if err := s.authorize(ctx, p, "campaign.preview", "campaign/"+safeID(cid)); err != nil {
		return nil, err
	}
	if n <= 0 || n > 20 {
		n = 3
	}
	c, err := s.Store.Campaign(ctx, p.PracticeID, cid)
	if err != nil {
		return nil, err
	}
	practice, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return nil, err
	}
	// The first n by line of the list (recipients are stored by a hash).
	var first []carepost.Recipient
	var after map[string]string
	for {
		page, err := s.Store.Recipients(ctx, p.PracticeID, cid, "", true, after, 1000)
		if err != nil {
			return nil, err
		}
		first = append(first, page.Items...)
		slices.SortFunc(first, func(a, b carepost.Recipient) int { return a.Line - b.Line })
		first = first[:min(n, len(first))]
		if page.Next == nil {
			break
		}
		after = page.Next
	}
	if err := s.audit(ctx, p, "campaign.preview", "campaign/"+c.ID, "ok"); err != nil {
		return nil, err
	}
	out := []PreviewMail{}
	for _, ref := range first {
		r, err := s.Store.Recipient(ctx, p.PracticeID, cid, ref.ID)
		if err != nil {
			return nil, err
		}
		contact, err := s.openContact(ctx, r)
		if err != nil {
			return nil, err
		}
		subj, text := render(c.Template, map[string]string{"firstName": contact.FirstName, "practiceName": practice.Name,
			"unsubscribeUrl": strings.TrimRight(s.PublicURL, "/") + "/v1/public/unsubscribe/(link for this recipient)"})
		out = append(out, PreviewMail{RecipientID: r.ID, Line: r.Line, To: contact.Email, Subject: subj, Text: text})
	}
	slices.SortFunc(out, func(a, b PreviewMail) int { return a.Line - b.Line })
	return out, nil
}

func (s *Service) openContact(ctx context.Context, r carepost.Recipient) (carepost.RecipientContact, error) {
	var c carepost.RecipientContact
	b, err := s.Sealer.Open(ctx, RecipientBinding(r.PracticeID, r.CampaignID, r.ID), r.ContactSealed)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, carepost.Wrap(carepost.CodeInternal, err, "stored recipient is malformed")
	}
	return c, nil
}

// ScheduleInput sets when a campaign sends. A missing windowStart means
// now; timeZone defaults to the practice's.
type ScheduleInput struct {
	WindowStart *time.Time           `json:"windowStart,omitempty"`
	WindowEnd   *time.Time           `json:"windowEnd,omitempty"`
	TimeZone    string               `json:"timeZone,omitempty"`
	QuietHours  *carepost.QuietHours `json:"quietHours,omitempty"`
}

// Schedule moves a draft (or a scheduled campaign being re-planned) to
// scheduled, or straight to running when its window has begun.
func (s *Service) Schedule(ctx context.Context, p carepost.Principal, cid string, in ScheduleInput) (View, error) {
	if err := s.authorize(ctx, p, "campaign.schedule", "campaign/"+safeID(cid)); err != nil {
		return View{}, err
	}
	c, err := s.Store.Campaign(ctx, p.PracticeID, cid)
	if err != nil {
		return View{}, err
	}
	now := s.now()
	if c.Counts.Total == 0 {
		return View{}, carepost.Errorf(carepost.CodeValidation, "the campaign has no recipients")
	}
	doc := c
	doc.WindowStart = now
	if in.WindowStart != nil {
		doc.WindowStart = in.WindowStart.UTC()
	}
	doc.WindowEnd = time.Time{}
	if in.WindowEnd != nil {
		doc.WindowEnd = in.WindowEnd.UTC()
		if !doc.WindowEnd.After(doc.WindowStart) || !doc.WindowEnd.After(now) {
			return View{}, carepost.FieldError(carepost.CodeValidation, "windowEnd", "windowEnd must be after windowStart and in the future")
		}
	}
	if in.TimeZone != "" {
		doc.TimeZone = in.TimeZone
	}
	if doc.TimeZone == "" {
		doc.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(doc.TimeZone); err != nil {
		return View{}, carepost.FieldError(carepost.CodeValidation, "timeZone", "timeZone must be an IANA zone such as America/New_York")
	}
	doc.Quiet = carepost.QuietHours{}
	if in.QuietHours != nil {
		if _, ok := clock(in.QuietHours.Start); !ok {
			return View{}, carepost.FieldError(carepost.CodeValidation, "quietHours.start", "use HH:MM (24-hour clock)")
		}
		if _, ok := clock(in.QuietHours.End); !ok {
			return View{}, carepost.FieldError(carepost.CodeValidation, "quietHours.end", "use HH:MM (24-hour clock)")
		}
		doc.Quiet = *in.QuietHours
	}
	to := carepost.CampaignScheduled
	ch := carepost.CampaignChange{From: []carepost.CampaignState{carepost.CampaignDraft, carepost.CampaignScheduled}, Doc: &doc, Now: now}
	if !doc.WindowStart.After(now) {
		to, ch.Started = carepost.CampaignRunning, now
		t := true
		ch.NeedsFanout = &t
	}
	ch.To = to
	if err := s.audit(ctx, p, "campaign.schedule", "campaign/"+c.ID, "ok"); err != nil {
		return View{}, err
	}
	c, err = s.Store.ChangeCampaign(ctx, p.PracticeID, cid, ch)
	if err != nil {
		return View{}, err
	}
	if to == carepost.CampaignRunning {
		s.kick(ctx, c)
	}
	return viewOf(c), nil
}

// kick asks the sender to fan out now rather than at the next tick.
func (s *Service) kick(ctx context.Context, c carepost.Campaign) {
	if s.Queue == nil {
		return
	}
	if err := s.Queue.EnqueueFanout(ctx, c.PracticeID, c.ID); err != nil {
		// The schedule's tick fans out within a minute anyway.
		s.Log.Warn("campaign fan-out request not queued; the tick will do it", "practice", c.PracticeID, "campaign", c.ID, "cause", err.Error())
	}
}

// Pause stops sending; recipients not yet sent wait.
func (s *Service) Pause(ctx context.Context, p carepost.Principal, cid string) (View, error) {
	return s.change(ctx, p, cid, "campaign.pause", carepost.CampaignChange{
		From: []carepost.CampaignState{carepost.CampaignScheduled, carepost.CampaignRunning}, To: carepost.CampaignPaused})
}

// Resume continues a paused campaign.
func (s *Service) Resume(ctx context.Context, p carepost.Principal, cid string) (View, error) {
	if err := s.authorize(ctx, p, "campaign.resume", "campaign/"+safeID(cid)); err != nil {
		return View{}, err
	}
	c, err := s.Store.Campaign(ctx, p.PracticeID, cid)
	if err != nil {
		return View{}, err
	}
	now := s.now()
	t := true
	ch := carepost.CampaignChange{From: []carepost.CampaignState{carepost.CampaignPaused}, To: carepost.CampaignRunning, NeedsFanout: &t}
	if c.WindowStart.After(now) {
		ch.To = carepost.CampaignScheduled
	} else if c.Started.IsZero() {
		ch.Started = now
	}
	v, err := s.change(ctx, p, cid, "campaign.resume", ch)
	if err == nil && ch.To == carepost.CampaignRunning {
		s.kick(ctx, v.Campaign)
	}
	return v, err
}

// Cancel ends a campaign for good; what was not sent is never sent.
func (s *Service) Cancel(ctx context.Context, p carepost.Principal, cid string) (View, error) {
	return s.change(ctx, p, cid, "campaign.cancel", carepost.CampaignChange{
		From: []carepost.CampaignState{carepost.CampaignDraft, carepost.CampaignScheduled, carepost.CampaignRunning, carepost.CampaignPaused},
		To:   carepost.CampaignCancelled, Finished: s.now()})
}

func (s *Service) change(ctx context.Context, p carepost.Principal, cid, action string, ch carepost.CampaignChange) (View, error) {
	if err := s.authorize(ctx, p, action, "campaign/"+safeID(cid)); err != nil {
		return View{}, err
	}
	ch.Now = s.now()
	if err := s.audit(ctx, p, action, "campaign/"+safeID(cid), "ok"); err != nil {
		return View{}, err
	}
	c, err := s.Store.ChangeCampaign(ctx, p.PracticeID, cid, ch)
	if err != nil {
		return View{}, err
	}
	return viewOf(c), nil
}

// safeID keeps client-supplied ids out of the audit log unless they look
// like ids.
func safeID(id string) string {
	if !validID(id) {
		return "invalid"
	}
	return id
}
