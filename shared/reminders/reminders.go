// Package reminders keeps appointments and sends their reminders: imported
// one by one or from a CSV, reminded at the practice's offsets (72 and 24
// hours before, by default) by a scheduled job, each reminder carrying
// signed, expiring confirm and cancel links that need no login. A cancel
// frees the slot and e-mails the front-desk pool (no health data).
//
// Who sees whom, and where, is patient data: the clinician and location are
// sealed (Binding Kind "appointment.details") and never put in an e-mail.
// Each reminder goes out at most once (a conditional mark before sending).
package reminders

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/linkkeys"
	"github.com/carepost/carepost/shared/messaging"
	"github.com/carepost/carepost/shared/notify"
)

// DefaultOffsets are the reminder offsets when a practice sets none.
var DefaultOffsets = []int{72, 24}

// Link purposes.
const (
	PurposeConfirm = "appointment-confirm"
	PurposeCancel  = "appointment-cancel"
)

// Store is what reminders need (implemented by dynamo.Store).
type Store interface {
	Practice(ctx context.Context, practiceID string) (carepost.Practice, error)
	Practices(ctx context.Context) ([]string, error)
	Patient(ctx context.Context, practiceID, patientID string) (carepost.PatientRecord, error)
	PutAppointment(ctx context.Context, a carepost.AppointmentRecord) error
	Appointment(ctx context.Context, practiceID, appointmentID string) (carepost.AppointmentRecord, error)
	AppointmentsBetween(ctx context.Context, practiceID string, from, to time.Time, after map[string]string, limit int) (carepost.Page[carepost.AppointmentRecord], error)
	ChangeAppointmentState(ctx context.Context, practiceID, appointmentID string, from []carepost.AppointmentState, to carepost.AppointmentState, by string, now time.Time) error
	MarkReminded(ctx context.Context, practiceID, appointmentID string, offset int, also []int) (bool, error)
	Suppression(ctx context.Context, practiceID, addrHash string) ([]string, error)
}

// Service is the appointment and reminder use cases.
type Service struct {
	Store    Store
	Sealer   carepost.Sealer
	Keys     *linkkeys.Keys
	Mailer   carepost.Mailer
	Notifier *notify.Notifier // e-mails the front desk on a cancel
	Audit    carepost.AuditLog
	// UnsubscribeURL makes the one-click opt-out link (campaigns.Service).
	UnsubscribeURL func(ctx context.Context, practiceID string, fields []string) (string, error)
	PublicURL      string
	Log            *slog.Logger
	Now            func() time.Time
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func detailsBinding(a carepost.Appointment) carepost.Binding {
	return carepost.Binding{PracticeID: a.PracticeID, Kind: "appointment.details", MessageID: a.ID, Time: a.Created, Schema: 1}
}

type details struct {
	Clinician string `json:"clinician,omitempty"`
	Location  string `json:"location,omitempty"`
}

func (s *Service) authorize(ctx context.Context, p carepost.Principal, action, object string) error {
	switch p.Role {
	case carepost.RoleScheduler, carepost.RoleFrontDesk, carepost.RoleAdmin:
		if p.PracticeID != "" {
			return nil
		}
	}
	if err := s.audit(ctx, p, action, "", object, "denied"); err != nil {
		return err
	}
	return carepost.Errorf(carepost.CodeForbidden, "appointments need the scheduler, front desk or admin role")
}

func (s *Service) audit(ctx context.Context, p carepost.Principal, action, patientID, object, outcome string) error {
	if s.Audit == nil {
		return nil
	}
	if err := s.Audit.Record(ctx, carepost.AuditEvent{PracticeID: p.PracticeID, Actor: p.Subject, ActorRole: p.Role, SourceIP: p.SourceIP,
		Action: action, PatientID: patientID, Object: object, Outcome: outcome, Time: s.now()}); err != nil {
		return carepost.Unavailable(err, "the audit log")
	}
	return nil
}

// Input is one appointment to import.
type Input struct {
	ID        string `json:"id,omitempty"` // the practice system's id; derived from patient and time when empty
	PatientID string `json:"patientId"`
	Time      string `json:"time"` // RFC 3339, or "2006-01-02 15:04" in the practice's time zone
	Clinician string `json:"clinician,omitempty"`
	Location  string `json:"location,omitempty"`
}

// View is an appointment as the API shows it to staff.
type View struct {
	carepost.Appointment
}

// BadRow is a refused CSV row (line number and a reason without content).
type BadRow struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ImportResult says what an import did.
type ImportResult struct {
	Imported int      `json:"imported"`
	BadRows  []BadRow `json:"badRows"`
}

// check validates in (practice loc for local times) and returns the
// appointment or a reason.
func (s *Service) check(ctx context.Context, pid string, loc *time.Location, in Input, now time.Time) (carepost.Appointment, string, error) {
	a := carepost.Appointment{PracticeID: pid, ID: strings.TrimSpace(in.ID), PatientID: strings.TrimSpace(in.PatientID),
		Clinician: strings.TrimSpace(in.Clinician), Location: strings.TrimSpace(in.Location), State: carepost.AppointmentBooked, Created: now, Updated: now}
	if !validID(a.PatientID) {
		return a, "patientId is missing or not an id", nil
	}
	if a.ID != "" && !validID(a.ID) {
		return a, "id may only hold letters, digits, - and _ (at most 64)", nil
	}
	t, ok := parseTime(strings.TrimSpace(in.Time), loc)
	if !ok {
		return a, "time is not RFC 3339 or YYYY-MM-DD HH:MM", nil
	}
	if !t.After(now) {
		return a, "time is in the past", nil
	}
	if t.After(now.AddDate(2, 0, 0)) {
		return a, "time is more than two years ahead", nil
	}
	a.Time = t.UTC()
	for _, v := range []string{a.Clinician, a.Location} {
		if utf8.RuneCountInString(v) > 100 || strings.ContainsAny(v, "\r\n") || !utf8.ValidString(v) {
			return a, "clinician and location must be one line of at most 100 characters", nil
		}
	}
	if _, err := s.Store.Patient(ctx, pid, a.PatientID); err != nil {
		if carepost.ErrorCode(err) == carepost.CodeNotFound {
			return a, "no patient with this patientId", nil
		}
		return a, "", err
	}
	if a.ID == "" {
		h, err := s.Keys.Hash(ctx, pid, "appointment", a.PatientID+"\x00"+a.Time.Format(time.RFC3339))
		if err != nil {
			return a, "", err
		}
		a.ID = "a" + h[:24]
	}
	return a, "", nil
}

func parseTime(v string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Service) location(p carepost.Practice) *time.Location {
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

func (s *Service) put(ctx context.Context, a carepost.Appointment) error {
	b, _ := json.Marshal(details{Clinician: a.Clinician, Location: a.Location})
	sealed, err := s.Sealer.Seal(ctx, detailsBinding(a), b)
	if err != nil {
		return err
	}
	rec := carepost.AppointmentRecord{Appointment: a, DetailsSealed: sealed}
	rec.Clinician, rec.Location = "", ""
	return s.Store.PutAppointment(ctx, rec)
}

// Create imports one appointment.
func (s *Service) Create(ctx context.Context, p carepost.Principal, in Input) (View, error) {
	if err := s.authorize(ctx, p, "appointment.create", "appointments"); err != nil {
		return View{}, err
	}
	practice, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return View{}, err
	}
	a, reason, err := s.check(ctx, p.PracticeID, s.location(practice), in, s.now())
	if err != nil {
		return View{}, err
	}
	if reason != "" {
		return View{}, carepost.Errorf(carepost.CodeValidation, "%s", reason)
	}
	if err := s.audit(ctx, p, "appointment.create", a.PatientID, "appointment/"+a.ID, "ok"); err != nil {
		return View{}, err
	}
	if err := s.put(ctx, a); err != nil {
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			return View{}, carepost.FieldError(carepost.CodeConflict, "id", "this appointment exists already")
		}
		return View{}, err
	}
	return idsOnly(a), nil
}

// idsOnly is what a POST answers: answers to POSTs are kept for idempotent
// retries, so they carry ids and states, never the sealed details.
func idsOnly(a carepost.Appointment) View {
	a.Clinician, a.Location = "", ""
	return View{a}
}

// ImportInput is a CSV of appointments: columns patientId, time, and
// optionally clinician, location, id.
type ImportInput struct {
	CSV         string `json:"csv"`
	AcceptValid bool   `json:"acceptValid,omitempty"`
	LineOffset  int    `json:"lineOffset,omitempty"`
}

var columns = map[string]string{"patientid": "patientId", "time": "time", "clinician": "clinician", "location": "location", "id": "id"}

// Import imports a CSV. Any bad row refuses the whole file unless
// AcceptValid; an appointment imported before is reported, not doubled.
func (s *Service) Import(ctx context.Context, p carepost.Principal, in ImportInput) (ImportResult, error) {
	if err := s.authorize(ctx, p, "appointment.import", "appointments"); err != nil {
		return ImportResult{}, err
	}
	practice, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return ImportResult{}, err
	}
	loc, now := s.location(practice), s.now()
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(in.CSV, "\uFEFF")))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return ImportResult{}, carepost.FieldError(carepost.CodeValidation, "csv", "the first line must name the columns (patientId,time[,clinician,location,id])")
	}
	col := map[string]int{}
	for i, h := range header {
		name, ok := columns[strings.ToLower(strings.TrimSpace(strings.NewReplacer("_", "", " ", "").Replace(h)))]
		if !ok {
			return ImportResult{}, carepost.FieldError(carepost.CodeValidation, "csv", "column %d is not one of patientId, time, clinician, location, id", i+1)
		}
		col[name] = i
	}
	if _, ok := col["patientId"]; !ok {
		return ImportResult{}, carepost.FieldError(carepost.CodeValidation, "csv", "the header has no patientId column")
	}
	if _, ok := col["time"]; !ok {
		return ImportResult{}, carepost.FieldError(carepost.CodeValidation, "csv", "the header has no time column")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	type good struct {
		line int
		a    carepost.Appointment
	}
	var goods []good
	var bad []BadRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		line += in.LineOffset
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine + in.LineOffset
			}
			bad = append(bad, BadRow{Line: line, Reason: "not valid CSV (check the quotes)"})
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(header) {
			bad = append(bad, BadRow{Line: line, Reason: "wrong number of fields"})
			continue
		}
		a, reason, err := s.check(ctx, p.PracticeID, loc, Input{ID: get(rec, "id"), PatientID: get(rec, "patientId"), Time: get(rec, "time"),
			Clinician: get(rec, "clinician"), Location: get(rec, "location")}, now)
		if err != nil {
			return ImportResult{}, err
		}
		if reason != "" {
			bad = append(bad, BadRow{Line: line, Reason: reason})
			continue
		}
		goods = append(goods, good{line, a})
	}
	if len(bad) > 0 && !in.AcceptValid {
		e := carepost.FieldError(carepost.CodeValidation, "csv", "%d rows are not valid; fix them or send acceptValid to import only the good rows", len(bad))
		e.Details = map[string]any{"badRows": bad}
		return ImportResult{}, e
	}
	if err := s.audit(ctx, p, "appointment.import", "", "appointments", "ok"); err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{BadRows: bad}
	for _, g := range goods {
		err := s.put(ctx, g.a)
		switch {
		case err == nil:
			res.Imported++
		case carepost.ErrorCode(err) == carepost.CodeConflict:
			res.BadRows = append(res.BadRows, BadRow{Line: g.line, Reason: "this appointment was imported before"})
		default:
			return res, err
		}
	}
	if res.BadRows == nil {
		res.BadRows = []BadRow{}
	}
	slices.SortFunc(res.BadRows, func(a, b BadRow) int { return a.Line - b.Line })
	return res, nil
}

func (s *Service) open(ctx context.Context, rec carepost.AppointmentRecord) (carepost.Appointment, error) {
	a := rec.Appointment
	if len(rec.DetailsSealed) == 0 {
		return a, nil
	}
	b, err := s.Sealer.Open(ctx, detailsBinding(a), rec.DetailsSealed)
	if err != nil {
		return a, err
	}
	var d details
	if err := json.Unmarshal(b, &d); err != nil {
		return a, carepost.Wrap(carepost.CodeInternal, err, "stored appointment is malformed")
	}
	a.Clinician, a.Location = d.Clinician, d.Location
	return a, nil
}

// Get returns one appointment.
func (s *Service) Get(ctx context.Context, p carepost.Principal, aid string) (View, error) {
	if err := s.authorize(ctx, p, "appointment.read", "appointment/"+safeID(aid)); err != nil {
		return View{}, err
	}
	rec, err := s.Store.Appointment(ctx, p.PracticeID, aid)
	if err != nil {
		return View{}, err
	}
	if err := s.audit(ctx, p, "appointment.read", rec.PatientID, "appointment/"+rec.ID, "ok"); err != nil {
		return View{}, err
	}
	a, err := s.open(ctx, rec)
	return View{a}, err
}

// List returns the appointments between from and to (at most 500).
func (s *Service) List(ctx context.Context, p carepost.Principal, from, to time.Time) ([]View, error) {
	if err := s.authorize(ctx, p, "appointment.list", "appointments"); err != nil {
		return nil, err
	}
	if !to.After(from) || to.Sub(from) > 92*24*time.Hour {
		return nil, carepost.FieldError(carepost.CodeValidation, "to", "to must be after from, at most 92 days later")
	}
	if err := s.audit(ctx, p, "appointment.list", "", "appointments", "ok"); err != nil {
		return nil, err
	}
	out := []View{}
	var after map[string]string
	for len(out) < 500 {
		page, err := s.Store.AppointmentsBetween(ctx, p.PracticeID, from, to, after, 500-len(out))
		if err != nil {
			return nil, err
		}
		for _, rec := range page.Items {
			a, err := s.open(ctx, rec)
			if err != nil {
				return nil, err
			}
			out = append(out, View{a})
		}
		if page.Next == nil {
			break
		}
		after = page.Next
	}
	return out, nil
}

// CancelByStaff cancels an appointment from the practice side.
func (s *Service) CancelByStaff(ctx context.Context, p carepost.Principal, aid string) (View, error) {
	if err := s.authorize(ctx, p, "appointment.cancel", "appointment/"+safeID(aid)); err != nil {
		return View{}, err
	}
	rec, err := s.Store.Appointment(ctx, p.PracticeID, aid)
	if err != nil {
		return View{}, err
	}
	if err := s.audit(ctx, p, "appointment.cancel", rec.PatientID, "appointment/"+rec.ID, "ok"); err != nil {
		return View{}, err
	}
	if err := s.Store.ChangeAppointmentState(ctx, p.PracticeID, aid, []carepost.AppointmentState{carepost.AppointmentBooked, carepost.AppointmentConfirmed},
		carepost.AppointmentCancelled, p.Subject, s.now()); err != nil {
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			return View{}, carepost.Errorf(carepost.CodeConflict, "the appointment is cancelled already")
		}
		return View{}, err
	}
	rec, err = s.Store.Appointment(ctx, p.PracticeID, aid)
	return idsOnly(rec.Appointment), err
}

func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func safeID(id string) string {
	if !validID(id) {
		return "invalid"
	}
	return id
}

// patientEmail returns the patient's address when reminders may go to it.
func (s *Service) patientEmail(ctx context.Context, pid, patid string) (string, bool, error) {
	rec, err := s.Store.Patient(ctx, pid, patid)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if rec.Status == "disabled" || rec.CampaignOptOut || rec.EmailProblem != "" {
		return "", false, nil
	}
	p, err := messaging.OpenPatient(ctx, s.Sealer, rec)
	if err != nil {
		return "", false, err
	}
	if p.Contact.Email == "" {
		return "", false, nil
	}
	h, err := s.Keys.AddressHash(ctx, pid, p.Contact.Email)
	if err != nil {
		return "", false, err
	}
	reasons, err := s.Store.Suppression(ctx, pid, h)
	if err != nil {
		return "", false, err
	}
	if len(reasons) > 0 {
		return "", false, nil
	}
	return p.Contact.Email, true, nil
}
