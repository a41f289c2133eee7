package fhir

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/httpapi"
	"github.com/carepost/carepost/shared/messaging"
)

// MaxThreads bounds one patient export (a larger record is exported thread
// by thread).
const MaxThreads = 200

// Store is what the export reads (package dynamo).
type Store interface {
	Practice(ctx context.Context, pid string) (carepost.Practice, error)
	Patient(ctx context.Context, pid, patid string) (carepost.PatientRecord, error)
	PatientThreads(ctx context.Context, pid, patid string, after map[string]string, limit int) (carepost.Page[carepost.ThreadRecord], error)
	ThreadAttachments(ctx context.Context, pid, tid string) ([]carepost.Attachment, error)
}

// Threads is the messaging core: authorization, opening, audit.
type Threads interface {
	ExportThread(ctx context.Context, p carepost.Principal, threadID, action string) (messaging.Transcript, error)
	OpenTranscript(ctx context.Context, t carepost.ThreadRecord) (messaging.Transcript, error)
	RecordAudit(ctx context.Context, p carepost.Principal, action, patientID, object, outcome string) error
}

// Service implements the exports.
type Service struct {
	Store   Store
	Threads Threads
	Sealer  carepost.Sealer
	BaseURL string
	Now     func() time.Time
}

// New returns a service with the real clock.
func New(store Store, threads Threads, sealer carepost.Sealer, baseURL string) *Service {
	return &Service{Store: store, Threads: threads, Sealer: sealer, BaseURL: baseURL, Now: time.Now}
}

// ExportAction is the audit action of an export.
const ExportAction = "thread.export"

// Thread exports one thread the caller may see (anyone else: not found).
func (s *Service) Thread(ctx context.Context, p carepost.Principal, threadID string) (Bundle, error) {
	tr, err := s.Threads.ExportThread(ctx, p, threadID, ExportAction)
	if err != nil {
		return Bundle{}, err
	}
	return s.build(ctx, p.PracticeID, tr.Thread.PatientID, []messaging.Transcript{tr})
}

// Patient exports every thread of a patient: for the patient themself and
// for nurses, clinicians and admins (who see all of a patient's threads).
// Anyone else gets not found, as for a patient that does not exist.
func (s *Service) Patient(ctx context.Context, p carepost.Principal, patientID string) (Bundle, error) {
	allowed := p.PracticeID != "" && patientID != "" &&
		((p.Role == carepost.RolePatient && p.PatientID == patientID) || p.Role.IsClinical() || p.Role == carepost.RoleAdmin)
	if !allowed {
		if err := s.Threads.RecordAudit(ctx, p, ExportAction, "", "patient/"+safeID(patientID), "denied"); err != nil {
			return Bundle{}, err
		}
		return Bundle{}, carepost.NotFound("patient")
	}
	now := s.Now()
	var trs []messaging.Transcript
	var after map[string]string
	for {
		page, err := s.Store.PatientThreads(ctx, p.PracticeID, patientID, after, 100)
		if err != nil {
			return Bundle{}, err
		}
		for _, t := range page.Items {
			if t.PracticeID != p.PracticeID || t.PatientID != patientID || !messaging.CanSee(p, t, now) {
				continue
			}
			if len(trs) == MaxThreads {
				return Bundle{}, carepost.Errorf(carepost.CodeValidation, "this patient has more than %d threads; export them one by one", MaxThreads)
			}
			tr, err := s.Threads.OpenTranscript(ctx, t)
			if err != nil {
				return Bundle{}, err
			}
			trs = append(trs, tr)
		}
		if page.Next == nil {
			break
		}
		after = page.Next
	}
	if len(trs) == 0 {
		if _, err := s.Store.Patient(ctx, p.PracticeID, patientID); err != nil {
			_ = s.Threads.RecordAudit(ctx, p, ExportAction, "", "patient/"+safeID(patientID), "not_found")
			return Bundle{}, err
		}
	}
	for _, tr := range trs {
		if err := s.Threads.RecordAudit(ctx, p, ExportAction, patientID, "thread/"+tr.Thread.ID, "ok"); err != nil {
			return Bundle{}, err
		}
	}
	sortTranscripts(trs)
	return s.build(ctx, p.PracticeID, patientID, trs)
}

func (s *Service) build(ctx context.Context, pid, patientID string, trs []messaging.Transcript) (Bundle, error) {
	practice, err := s.Store.Practice(ctx, pid)
	if err != nil {
		return Bundle{}, err
	}
	in := Input{BaseURL: s.BaseURL, Practice: practice, PatientID: patientID, Threads: trs, Attachments: map[string]carepost.Attachment{}, Now: s.Now().UTC()}
	rec, err := s.Store.Patient(ctx, pid, patientID)
	switch {
	case carepost.ErrorCode(err) == carepost.CodeNotFound:
	case err != nil:
		return Bundle{}, err
	default:
		pat, err := messaging.OpenPatient(ctx, s.Sealer, rec)
		if err != nil {
			return Bundle{}, err
		}
		in.Patient = &pat
	}
	for _, tr := range trs {
		atts, err := s.Store.ThreadAttachments(ctx, pid, tr.Thread.ID)
		if err != nil {
			return Bundle{}, err
		}
		for _, a := range atts {
			if a.State == carepost.AttachmentLinked {
				in.Attachments[a.ID] = a
			}
		}
	}
	return Build(in), nil
}

func safeID(id string) string {
	if len(id) == 0 || len(id) > 64 {
		return "invalid"
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return "invalid"
		}
	}
	return id
}

// Routes are the export endpoints. They answer application/fhir+json.
func Routes(s *Service) []httpapi.Route {
	write := func(w http.ResponseWriter, b Bundle) error {
		body, err := json.Marshal(b)
		if err != nil {
			return carepost.Wrap(carepost.CodeInternal, err, "export could not be encoded")
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, err = w.Write(append(body, '\n'))
		return err
	}
	return []httpapi.Route{
		{Pattern: "GET /v1/threads/{id}/fhir", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			b, err := s.Thread(r.Context(), c.Principal, r.PathValue("id"))
			if err != nil {
				return err
			}
			return write(w, b)
		}},
		{Pattern: "GET /v1/patients/{id}/fhir", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			b, err := s.Patient(r.Context(), c.Principal, r.PathValue("id"))
			if err != nil {
				return err
			}
			return write(w, b)
		}},
	}
}
