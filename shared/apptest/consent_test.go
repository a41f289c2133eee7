package apptest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/demo"
)

// consentError is the 403 consent_required answer: the agreement to accept
// travels in the error's details.
type consentError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details struct {
			Agreement struct {
				Version int       `json:"version"`
				Text    string    `json:"text"`
				Created time.Time `json:"created"`
			} `json:"agreement"`
		} `json:"details"`
	} `json:"error"`
}

type consentStatus struct {
	Agreement struct {
		Version int    `json:"version"`
		Text    string `json:"text"`
	} `json:"agreement"`
	Accepted  bool   `json:"accepted"`
	PatientID string `json:"patientId"`
}

// TestConsentRequiredStampedAndAskedAgain: without acceptance a patient's
// message is refused with 403 consent_required carrying the agreement's text
// and version, and nothing is written; after acceptance every message
// carries the accepted version, in the answer and in the stored item; when
// the admin publishes a new version the patient (and a proxy, who accepts
// for itself) is asked again, with the new text, until they accept it.
func TestConsentRequiredStampedAndAskedAgain(t *testing.T) {
	h := apptest.New(t)
	patient := h.TokenFor(t, "patient")
	question := map[string]any{"category": "question", "subject": "knee", "body": "my knee hurts"}

	// requireConsent sends a patient-side write and checks it is refused
	// for the agreement version want, writing nothing.
	requireConsent := func(what, user, path string, body any, want int, text string) {
		t.Helper()
		before := h.Counts(t)
		st, b := h.Do(t, h.TokenFor(t, user), "POST", path, body, nil)
		apptest.ErrorOf(t, b)
		var e consentError
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s: error body %s: %v", what, b, err)
		}
		if st != http.StatusForbidden || e.Error.Code != "consent_required" {
			t.Errorf("%s: %d %s, want 403 consent_required", what, st, e.Error.Code)
		}
		if got := e.Error.Details.Agreement; got.Version != want || got.Text != text {
			t.Errorf("%s: the error offers agreement version %d (%d characters), want version %d (%d characters)", what, got.Version, len(got.Text), want, len(text))
		}
		after := h.Counts(t)
		for _, kind := range []string{"thread", "message", "consent"} {
			if after[kind] != before[kind] {
				t.Errorf("%s: the refusal wrote %s items (%d, was %d)", what, kind, after[kind], before[kind])
			}
		}
	}
	status := func(user, patientID string) consentStatus {
		t.Helper()
		var s consentStatus
		h.Must(t, h.TokenFor(t, user), "GET", "/v1/consent?patientId="+patientID, nil, http.StatusOK, &s)
		return s
	}
	stamp := func(threadID, messageID string) (answer int, stored int64) {
		t.Helper()
		d := readThread(t, h, "nurse", threadID)
		m, ok := d.message(messageID)
		if !ok {
			t.Fatalf("message %s not in thread %s", messageID, threadID)
		}
		it := h.GetItem(t, apptest.ThreadPK(apptest.PracticeA, threadID), apptest.MessageSK(messageID))
		return m.ConsentVersion, apptest.N(it, "consentVersion")
	}

	// 1. No acceptance yet: asked to accept version 1, for a new thread and
	// for a reply to a thread the practice opened.
	if s := status("patient", apptest.PatientA1); s.Accepted || s.Agreement.Version != 1 || s.Agreement.Text != demo.AgreementText {
		t.Fatalf("consent status before acceptance: accepted %v version %d", s.Accepted, s.Agreement.Version)
	}
	requireConsent("open before acceptance", "patient", "/v1/threads", question, 1, demo.AgreementText)
	result := h.Open(t, "clinician", map[string]any{"patientId": apptest.PatientA1, "category": "result", "subject": "Your result", "body": "Normal."})
	requireConsent("reply before acceptance", "patient", "/v1/threads/"+result.ThreadID+"/messages", map[string]any{"body": "thanks"}, 1, demo.AgreementText)
	if a, s := stamp(result.ThreadID, result.MessageID); a != 0 || s != 0 {
		t.Errorf("a practice message carries consent version %d (stored %d); the stamp is the patient's", a, s)
	}

	// 2. Accepted: messages carry version 1.
	h.Must(t, patient, "POST", "/v1/consent", map[string]any{"version": 1}, http.StatusOK, nil)
	if s := status("patient", apptest.PatientA1); !s.Accepted || s.Agreement.Version != 1 {
		t.Fatalf("consent status after acceptance: accepted %v version %d", s.Accepted, s.Agreement.Version)
	}
	first := h.Open(t, "patient", question)
	reply1 := post(t, h, "patient", "/v1/threads/"+result.ThreadID+"/messages", map[string]any{"body": "thanks"})
	for _, m := range []apptest.Opened{first, {ThreadID: result.ThreadID, MessageID: reply1.Message.ID}} {
		if a, s := stamp(m.ThreadID, m.MessageID); a != 1 || s != 1 {
			t.Errorf("message %s: consent version %d (stored %d), want 1", m.MessageID, a, s)
		}
	}
	h.Accept(t, "proxy") // the proxy accepts version 1 for itself
	byProxy := post(t, h, "proxy", "/v1/threads/"+first.ThreadID+"/messages", map[string]any{"body": "from her daughter"})
	if a, s := stamp(first.ThreadID, byProxy.Message.ID); a != 1 || s != 1 {
		t.Errorf("proxy's message: consent version %d (stored %d), want 1", a, s)
	}

	// 3. A new version: asked again, with the new text, until accepted.
	newText := demo.AgreementText + "\n\nNew in version 2: replies within two business days."
	var published struct {
		Version int    `json:"version"`
		Text    string `json:"text"`
	}
	h.Must(t, h.TokenFor(t, "admin"), "PUT", "/v1/practice/agreement", map[string]any{"text": newText}, http.StatusOK, &published)
	if published.Version != 2 || published.Text != newText {
		t.Fatalf("published version %d, want 2 with the new text", published.Version)
	}
	if s := status("patient", apptest.PatientA1); s.Accepted || s.Agreement.Version != 2 || s.Agreement.Text != newText {
		t.Errorf("consent status after a new version: accepted %v version %d", s.Accepted, s.Agreement.Version)
	}
	requireConsent("open after a new version", "patient", "/v1/threads", question, 2, newText)
	requireConsent("reply after a new version", "patient", "/v1/threads/"+first.ThreadID+"/messages", map[string]any{"body": "again"}, 2, newText)
	requireConsent("retraction after a new version", "patient", "/v1/threads/"+result.ThreadID+"/messages/"+reply1.Message.ID+"/retract", map[string]any{"body": "thank you!"}, 2, newText)
	requireConsent("proxy after a new version", "proxy", "/v1/threads/"+first.ThreadID+"/messages", map[string]any{"body": "again"}, 2, newText)

	// Accepting the old version is refused with the current one offered.
	st, b := h.Do(t, patient, "POST", "/v1/consent", map[string]any{"version": 1}, nil)
	var stale consentError
	apptest.Decode(t, b, &stale)
	if st != http.StatusConflict || stale.Error.Code != "conflict" || stale.Error.Details.Agreement.Version != 2 {
		t.Errorf("accepting the old version: %d %s offering version %d, want 409 conflict offering 2", st, stale.Error.Code, stale.Error.Details.Agreement.Version)
	}
	requireConsent("open after accepting the old version", "patient", "/v1/threads", question, 2, newText)

	h.Must(t, patient, "POST", "/v1/consent", map[string]any{"version": 2}, http.StatusOK, nil)
	reply2 := post(t, h, "patient", "/v1/threads/"+first.ThreadID+"/messages", map[string]any{"body": "again"})
	if a, s := stamp(first.ThreadID, reply2.Message.ID); a != 2 || s != 2 {
		t.Errorf("message after accepting version 2: consent version %d (stored %d), want 2", a, s)
	}
	if a, s := stamp(first.ThreadID, first.MessageID); a != 1 || s != 1 {
		t.Errorf("the earlier message's stamp changed to %d (stored %d), want 1", a, s)
	}
	// The patient's acceptance is not the proxy's.
	requireConsent("proxy after the patient accepted version 2", "proxy", "/v1/threads/"+first.ThreadID+"/messages", map[string]any{"body": "again"}, 2, newText)
	if s := status("proxy", apptest.PatientA1); s.Accepted || s.Agreement.Version != 2 {
		t.Errorf("the proxy's consent status: accepted %v version %d, want not accepted, 2", s.Accepted, s.Agreement.Version)
	}
}
