package reports

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// OwnerBacklog is one owner's active work.
type OwnerBacklog struct {
	Owner   string `json:"owner"`
	Name    string `json:"name,omitempty"`
	Active  int    `json:"active"`
	Overdue int    `json:"overdue"`
}

// Backlog is the backlog report: active threads now, and how many are past
// their due time.
type Backlog struct {
	At      time.Time      `json:"at"`
	Active  int            `json:"active"`
	Overdue int            `json:"overdue"`
	ByOwner []OwnerBacklog `json:"byOwner"`
}

// owners are the inboxes of a practice: its pools, its staff, its routing
// targets and the default front-desk pool.
func owners(pr carepost.Practice) []carepost.Owner {
	set := map[carepost.Owner]bool{carepost.PoolOwner("frontdesk"): true}
	for _, pl := range pr.Pools {
		set[carepost.PoolOwner(pl.Name)] = true
	}
	for sub := range pr.Staff {
		set[carepost.UserOwner(sub)] = true
	}
	for _, o := range pr.Routing {
		set[o] = true
	}
	if pr.OnCallPool != "" {
		set[carepost.PoolOwner(pr.OnCallPool)] = true
	}
	out := make([]carepost.Owner, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Backlog counts active and overdue threads per owner. It reads the active
// part of each owner's inbox index: work proportional to the backlog, not
// to the table.
func (s *Service) Backlog(ctx context.Context, p carepost.Principal) (Backlog, error) {
	pr, _, err := s.admin(ctx, p, "backlog")
	if err != nil {
		return Backlog{}, err
	}
	now := s.Now().UTC()
	b := Backlog{At: now, ByOwner: []OwnerBacklog{}}
	for _, o := range owners(pr) {
		ob := OwnerBacklog{Owner: string(o)}
		if sub, ok := o.User(); ok {
			ob.Name = pr.Staff[sub].Name
		}
		var after map[string]string
		for {
			page, err := s.Store.Inbox(ctx, p.PracticeID, o, carepost.InboxFilter{}, after, 100)
			if err != nil {
				return Backlog{}, err
			}
			for _, t := range page.Items {
				if t.Status == carepost.StatusClosed {
					continue
				}
				ob.Active++
				if t.Overdue || (!t.Due.IsZero() && t.Due.Before(now)) {
					ob.Overdue++
				}
			}
			if page.Next == nil {
				break
			}
			after = page.Next
		}
		if ob.Active > 0 {
			b.ByOwner = append(b.ByOwner, ob)
		}
		b.Active += ob.Active
		b.Overdue += ob.Overdue
	}
	return b, s.audit(ctx, p, "backlog")
}

// SecureMessaging is the Meaningful Use measure for a period: of the unique
// patients seen in the period, how many sent at least one secure message in
// it.
//
// "Seen" is the union of two sources: patient ids the practice uploaded
// for the period's days (POST /v1/reports/patients-seen, from its practice
// management system), and patients with an appointment in the period that
// was not cancelled and whose time has passed. "Sent a message" is a
// message written by the patient or their proxy (a new thread or a reply) on
// any day of the period.
type SecureMessaging struct {
	Period              Period  `json:"period"`
	PatientsSeen        int     `json:"patientsSeen"`
	SeenFromUploads     int     `json:"seenFromUploads"`
	SeenFromAppointment int     `json:"seenFromAppointments"`
	PatientsWhoMessaged int     `json:"patientsWhoMessaged"`
	Share               float64 `json:"share"`
	Threshold           float64 `json:"threshold"`
	Meets               bool    `json:"meets"`
}

// SecureMessaging computes the measure.
func (s *Service) SecureMessaging(ctx context.Context, p carepost.Principal, from, to string) (SecureMessaging, error) {
	_, per, stats, err := s.days(ctx, p, from, to, "secure-messaging")
	if err != nil {
		return SecureMessaging{}, err
	}
	seen, uploaded, senders := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, d := range stats {
		for _, id := range d.Seen {
			seen[id], uploaded[id] = true, true
		}
		for _, id := range d.Senders {
			senders[id] = true
		}
	}
	start, end := per.Bounds()
	now := s.Now()
	if end.After(now) {
		end = now // an appointment still ahead is not a visit yet
	}
	fromAppt := map[string]bool{}
	var after map[string]string
	for start.Before(end) {
		page, err := s.Store.AppointmentsBetween(ctx, p.PracticeID, start, end, after, 500)
		if err != nil {
			return SecureMessaging{}, err
		}
		for _, a := range page.Items {
			if a.State != carepost.AppointmentCancelled && a.PatientID != "" {
				seen[a.PatientID], fromAppt[a.PatientID] = true, true
			}
		}
		if page.Next == nil {
			break
		}
		after = page.Next
	}
	r := SecureMessaging{Period: per, PatientsSeen: len(seen), SeenFromUploads: len(uploaded), SeenFromAppointment: len(fromAppt), Threshold: MUThreshold}
	for id := range seen {
		if senders[id] {
			r.PatientsWhoMessaged++
		}
	}
	if r.PatientsSeen > 0 {
		r.Share = float64(r.PatientsWhoMessaged) / float64(r.PatientsSeen)
	}
	r.Meets = r.Share > MUThreshold
	return r, nil
}

// SeenInput uploads the patients seen on one day.
type SeenInput struct {
	Day        string   `json:"day"`
	PatientIDs []string `json:"patientIds"`
}

// RecordSeen adds patients to a day's "seen" set (idempotent: a set).
func (s *Service) RecordSeen(ctx context.Context, p carepost.Principal, in SeenInput) (map[string]int, error) {
	if _, _, err := s.admin(ctx, p, "patients-seen"); err != nil {
		return nil, err
	}
	if _, err := time.Parse(time.DateOnly, in.Day); err != nil {
		return nil, carepost.FieldError(carepost.CodeValidation, "day", "day must be a date (YYYY-MM-DD)")
	}
	if len(in.PatientIDs) == 0 || len(in.PatientIDs) > MaxSeenPerCall {
		return nil, carepost.FieldError(carepost.CodeValidation, "patientIds", "send 1 to %d patient ids", MaxSeenPerCall)
	}
	for _, id := range in.PatientIDs {
		if id == "" || len(id) > 64 || strings.ContainsAny(id, "# \t\r\n") {
			return nil, carepost.FieldError(carepost.CodeValidation, "patientIds", "patient ids are 1 to 64 characters without spaces or #")
		}
	}
	if err := s.Store.AddDayStats(ctx, p.PracticeID, in.Day, carepost.DayDelta{Seen: in.PatientIDs}); err != nil {
		return nil, err
	}
	if s.Audit != nil {
		if err := s.Audit.RecordAudit(ctx, p, "report.patients_seen", "", "report/patients-seen/"+in.Day, "ok"); err != nil {
			return nil, err
		}
	}
	return map[string]int{"received": len(in.PatientIDs)}, nil
}

// Reminders is the reminder report: delivery of campaign e-mails and
// confirmation of appointment reminders in a period.
type Reminders struct {
	Period    Period `json:"period"`
	Campaigns struct {
		Campaigns    int     `json:"campaigns"` // started in the period
		Sent         int     `json:"sent"`
		Delivered    int     `json:"delivered"`
		Bounced      int     `json:"bounced"`
		Complained   int     `json:"complained"`
		OptedOut     int     `json:"optedOut"`
		DeliveryRate float64 `json:"deliveryRate"` // delivered / sent
	} `json:"campaigns"`
	Appointments struct {
		Appointments     int     `json:"appointments"` // in the period
		Reminded         int     `json:"reminded"`     // got at least one reminder
		Confirmed        int     `json:"confirmed"`    // reminded and confirmed
		Cancelled        int     `json:"cancelled"`    // reminded and cancelled
		ConfirmationRate float64 `json:"confirmationRate"`
	} `json:"appointments"`
}

// maxCampaignPages bounds the campaign listing (25 a page).
const maxCampaignPages = 40

// Reminders reads the campaigns' counters (kept by the campaign sender and
// the SES event handler) and the period's appointments.
func (s *Service) Reminders(ctx context.Context, p carepost.Principal, from, to string) (Reminders, error) {
	_, loc, err := s.admin(ctx, p, "reminders")
	if err != nil {
		return Reminders{}, err
	}
	per, err := ParsePeriod(from, to, s.Now(), loc)
	if err != nil {
		return Reminders{}, err
	}
	start, end := per.Bounds()
	var r Reminders
	r.Period = per
	var after map[string]string
	for range maxCampaignPages {
		page, err := s.Store.Campaigns(ctx, p.PracticeID, after, 25)
		if err != nil {
			return r, err
		}
		for _, c := range page.Items {
			if c.Started.IsZero() || c.Started.Before(start) || !c.Started.Before(end) {
				continue
			}
			r.Campaigns.Campaigns++
			r.Campaigns.Sent += c.Counts.Sent
			r.Campaigns.Delivered += c.Counts.Delivered
			r.Campaigns.Bounced += c.Counts.Bounced
			r.Campaigns.Complained += c.Counts.Complained
			r.Campaigns.OptedOut += c.Counts.OptedOut
		}
		if page.Next == nil {
			break
		}
		after = page.Next
	}
	if r.Campaigns.Sent > 0 {
		r.Campaigns.DeliveryRate = float64(r.Campaigns.Delivered) / float64(r.Campaigns.Sent)
	}
	after = nil
	for {
		page, err := s.Store.AppointmentsBetween(ctx, p.PracticeID, start, end, after, 500)
		if err != nil {
			return r, err
		}
		for _, a := range page.Items {
			r.Appointments.Appointments++
			if len(a.Reminded) == 0 {
				continue
			}
			r.Appointments.Reminded++
			switch a.State {
			case carepost.AppointmentConfirmed:
				r.Appointments.Confirmed++
			case carepost.AppointmentCancelled:
				r.Appointments.Cancelled++
			}
		}
		if page.Next == nil {
			break
		}
		after = page.Next
	}
	if r.Appointments.Reminded > 0 {
		r.Appointments.ConfirmationRate = float64(r.Appointments.Confirmed) / float64(r.Appointments.Reminded)
	}
	return r, s.audit(ctx, p, "reminders")
}
