// Package outreach sends clinician-initiated messages to many patients at
// once (a result letter, a follow-up, education with links): one thread per
// patient, opened through the messaging core exactly as a single clinician
// message is, so every recipient sees only their own thread and can reply to
// it. Nothing anywhere lists who else received the message; the answer
// carries counts only.
package outreach

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/httpapi"
	"github.com/carepost/carepost/shared/messaging"
)

// Limits of one bulk send. Larger audiences belong in a campaign (queued,
// rate-limited); this call opens threads synchronously.
const (
	MaxRecipients = 250
	MaxLinks      = 5
	workers       = 4
)

// Categories a bulk message may have.
var Categories = []carepost.Category{carepost.CategoryResult, carepost.CategoryFollowUp, carepost.CategoryEducation, carepost.CategoryAdministrative}

// Store reads patient profiles (package dynamo).
type Store interface {
	Patient(ctx context.Context, pid, patid string) (carepost.PatientRecord, error)
}

// Threads opens threads and records audit events (the messaging core).
type Threads interface {
	Open(ctx context.Context, r messaging.Request, in messaging.OpenInput) (messaging.PostResult, error)
	RecordAudit(ctx context.Context, p carepost.Principal, action, patientID, object, outcome string) error
}

// Service implements bulk sends.
type Service struct {
	Store   Store
	Threads Threads
}

// Link is a link to education material.
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// BulkInput is one message for many patients.
type BulkInput struct {
	Category   carepost.Category `json:"category"`
	Subject    string            `json:"subject"`
	Body       string            `json:"body"`
	Links      []Link            `json:"links,omitempty"`
	PatientIDs []string          `json:"patientIds"`
}

// BulkResult counts what happened; it never names a recipient.
type BulkResult struct {
	Requested int `json:"requested"` // distinct patient ids
	Sent      int `json:"sent"`      // threads opened (or found opened by an earlier try)
	Skipped   int `json:"skipped"`   // unknown or disabled patients
	Failed    int `json:"failed"`    // could not be opened now; retry with the same Idempotency-Key
}

func validLink(l Link) error {
	if strings.TrimSpace(l.Title) == "" || utf8.RuneCountInString(l.Title) > 80 || strings.ContainsAny(l.Title, "\r\n") {
		return carepost.FieldError(carepost.CodeValidation, "links.title", "a link needs a title of at most 80 characters on one line")
	}
	u, err := url.Parse(l.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(l.URL) > 500 || strings.ContainsAny(l.URL, " \r\n") {
		return carepost.FieldError(carepost.CodeValidation, "links.url", "links must be https URLs without credentials, at most 500 characters")
	}
	return nil
}

// text returns the message text with the links appended.
func (in BulkInput) text() string {
	if len(in.Links) == 0 {
		return in.Body
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(in.Body, "\n"))
	b.WriteString("\n\n")
	for _, l := range in.Links {
		b.WriteString(strings.TrimSpace(l.Title) + ": " + l.URL + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *Service) validate(p carepost.Principal, in *BulkInput) error {
	if !p.Role.IsClinical() || p.PracticeID == "" {
		return carepost.Errorf(carepost.CodeForbidden, "only clinicians and nurses send bulk messages")
	}
	if !slices.Contains(Categories, in.Category) {
		return carepost.FieldError(carepost.CodeValidation, "category", "category must be result, follow_up, education or administrative")
	}
	if strings.TrimSpace(in.Subject) == "" || utf8.RuneCountInString(in.Subject) > messaging.MaxSubject {
		return carepost.FieldError(carepost.CodeValidation, "subject", "subject is required, at most %d characters", messaging.MaxSubject)
	}
	if strings.TrimSpace(in.Body) == "" {
		return carepost.FieldError(carepost.CodeValidation, "body", "body is required")
	}
	if len(in.Links) > MaxLinks {
		return carepost.FieldError(carepost.CodeValidation, "links", "at most %d links", MaxLinks)
	}
	for _, l := range in.Links {
		if err := validLink(l); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	var ids []string
	for _, id := range in.PatientIDs {
		if id == "" || len(id) > 64 || strings.ContainsAny(id, "# \t\r\n") {
			return carepost.FieldError(carepost.CodeValidation, "patientIds", "patient ids are 1 to 64 characters without spaces or #")
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || len(ids) > MaxRecipients {
		return carepost.FieldError(carepost.CodeValidation, "patientIds", "send to 1 to %d patients at once (use a campaign for more)", MaxRecipients)
	}
	in.PatientIDs = ids
	if utf8.RuneCountInString(in.text()) > messaging.MaxBody {
		return carepost.FieldError(carepost.CodeValidation, "body", "body and links are longer than %d characters", messaging.MaxBody)
	}
	return nil
}

// Send opens one thread per patient. Each thread's ids derive from the
// request's Idempotency-Key and the patient, so a retried request opens no
// second thread for anyone.
func (s *Service) Send(ctx context.Context, r messaging.Request, in BulkInput) (BulkResult, error) {
	p := r.Principal
	if err := s.validate(p, &in); err != nil {
		return BulkResult{}, err
	}
	res := BulkResult{Requested: len(in.PatientIDs)}
	body := in.text()
	var mu sync.Mutex
	var firstErr error
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pid := range jobs {
				outcome, err := s.sendOne(ctx, r, in, body, pid)
				mu.Lock()
				switch outcome {
				case "sent":
					res.Sent++
				case "skipped":
					res.Skipped++
				default:
					res.Failed++
					if firstErr == nil {
						firstErr = err
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, pid := range in.PatientIDs {
		jobs <- pid
	}
	close(jobs)
	wg.Wait()
	if res.Sent == 0 && firstErr != nil {
		return BulkResult{}, firstErr // nothing went out: say why
	}
	h := sha256.Sum256([]byte(r.RequestHash))
	if err := s.Threads.RecordAudit(ctx, p, "message.bulk", "", "bulk/"+hex.EncodeToString(h[:8]), "ok"); err != nil {
		return res, err
	}
	return res, nil
}

func (s *Service) sendOne(ctx context.Context, r messaging.Request, in BulkInput, body, patientID string) (string, error) {
	rec, err := s.Store.Patient(ctx, r.Principal.PracticeID, patientID)
	if carepost.ErrorCode(err) == carepost.CodeNotFound || (err == nil && rec.Status == "disabled") {
		return "skipped", nil
	}
	if err != nil {
		return "failed", err
	}
	one := messaging.Request{Principal: r.Principal}
	h := sha256.Sum256([]byte(r.RequestHash + "\x00" + patientID))
	one.RequestHash = hex.EncodeToString(h[:])
	if r.IdempotencyKey != "" {
		one.IdempotencyKey = r.IdempotencyKey + ":bulk:" + patientID
	}
	if _, err = s.Threads.Open(ctx, one, messaging.OpenInput{PatientID: patientID, Category: in.Category, Subject: in.Subject, Body: body}); err != nil {
		return "failed", err
	}
	return "sent", nil
}

// Routes is the bulk endpoint.
func Routes(s *Service) []httpapi.Route {
	return []httpapi.Route{{Pattern: "POST /v1/messages/bulk", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in BulkInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		res, err := s.Send(r.Context(), c.Request, in)
		if err != nil {
			return err
		}
		return httpapi.Reply(w, http.StatusOK, res)
	}}}
}
