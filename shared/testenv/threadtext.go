package testenv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The suite-wide mail scan. Every text a test puts into a thread through
// the API (subjects, bodies, typed-request values: what PRODUCT.md calls
// patient data from the thread) is noted in the file CAREPOST_THREAD_TEXT_LOG
// names; after every package's tests, `make test` runs `carepost-dev
// mailscan`, which reads everything the SES emulator captured during the run
// and fails if any e-mail — notification, page, escalation, digest,
// reminder, campaign, invitation — carries one of those texts.

// ThreadTextLogVar names the file the texts are noted in.
const ThreadTextLogVar = "CAREPOST_THREAD_TEXT_LOG"

// MinNotedText is the shortest text worth noting: shorter ones ("ok",
// "first") would match ordinary words of any e-mail.
const MinNotedText = 12

var noteMu sync.Mutex

// NoteThreadText notes texts a test put into a thread. Without
// CAREPOST_THREAD_TEXT_LOG (a test run by hand) it does nothing.
func NoteThreadText(texts ...string) {
	path := os.Getenv(ThreadTextLogVar)
	if path == "" {
		return
	}
	var b strings.Builder
	for _, s := range texts {
		if s = strings.TrimSpace(s); len(s) >= MinNotedText {
			j, _ := json.Marshal(s)
			b.Write(j)
			b.WriteByte('\n')
		}
	}
	if b.Len() == 0 {
		return
	}
	noteMu.Lock()
	defer noteMu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		panic(fmt.Sprintf("testenv: note thread text: %v", err))
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		panic(fmt.Sprintf("testenv: note thread text: %v", err))
	}
}

// NoteThreadJSON notes the thread texts in a JSON request body: the string
// values of "subject", "body" and "text", and every string inside "form".
// A body that is not JSON notes nothing.
func NoteThreadJSON(body []byte) {
	var texts []string
	var walk func(v any, inForm bool)
	walk = func(v any, inForm bool) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				switch s, ok := x.(string); {
				case ok && (inForm || k == "subject" || k == "body" || k == "text"):
					texts = append(texts, s)
				default:
					walk(x, inForm || k == "form")
				}
			}
		case []any:
			for _, x := range v {
				walk(x, inForm)
			}
		}
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		walk(v, false)
	}
	NoteThreadText(texts...)
}

// ReadThreadTexts reads the noted texts, without duplicates.
func ReadThreadTexts(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		var s string
		if line == "" || json.Unmarshal([]byte(line), &s) != nil || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}

// FetchMailbox reads what the SES emulator at base captured since the Unix
// time since.
func FetchMailbox(base string, since int64) ([]Mail, error) {
	resp, err := http.Get(base + "/store?since=" + strconv.FormatInt(since, 10))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var store struct {
		Emails []Mail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		return nil, fmt.Errorf("decode SES emulator store: %w", err)
	}
	return store.Emails, nil
}

// Leak is a thread text found in an e-mail.
type Leak struct {
	To      []string
	Subject string
	Text    string
}

// ThreadTextLeaks returns every e-mail that carries a thread text (case
// and runs of white space ignored), in the subject, the text or the HTML
// body.
func ThreadTextLeaks(mails []Mail, texts []string) []Leak {
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }
	needles := make([]string, 0, len(texts))
	for _, t := range texts {
		if n := norm(t); len(n) >= MinNotedText {
			needles = append(needles, n)
		}
	}
	var out []Leak
	for _, m := range mails {
		hay := norm(m.Subject + "\n" + m.Body.Text + "\n" + m.Body.HTML + "\n" + m.RawData)
		for i, n := range needles {
			if strings.Contains(hay, n) {
				out = append(out, Leak{To: m.Destination.To, Subject: m.Subject, Text: texts[i]})
			}
		}
	}
	return out
}
