package notify

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// safeVars are the only values a system e-mail may carry: none of them is
// patient data (the appointment time goes only to the patient's own
// address, and to staff without the patient's identity).
var safeVars = []string{"practiceName", "link", "pool", "when", "confirmUrl", "cancelUrl", "unsubscribeUrl"}

// healthWords must never be in a template's fixed text: it would tell a
// reader of the mailbox something about the person's health.
var healthWords = regexp.MustCompile(`(?i)\b(medication|medicine|prescription|refill|result|lab|test|diagnos\w*|condition|symptom\w*|clinician|doctor|dr\.|specialt\w*|oncolog\w*|psychiatr\w*|hiv|pregnan\w*|cancer|therapy)\b`)

func TestTemplatesCarryNoPatientData(t *testing.T) {
	for _, tmpl := range Templates {
		t.Run(tmpl.Name, func(t *testing.T) {
			for _, v := range tmpl.Vars {
				if !slices.Contains(safeVars, v) {
					t.Errorf("template may carry %q, which is not on the safe list", v)
				}
			}
			for _, p := range append(Placeholders(tmpl.Subject), Placeholders(tmpl.Text)...) {
				if !slices.Contains(tmpl.Vars, p) {
					t.Errorf("placeholder {{%s}} is not declared in Vars", p)
				}
			}
			for _, part := range []string{tmpl.Subject, tmpl.Text} {
				fixed := regexp.MustCompile(`\{\{[^}]*\}\}`).ReplaceAllString(part, "")
				if m := healthWords.FindString(fixed); m != "" {
					t.Errorf("fixed text contains %q", m)
				}
			}
			vars := map[string]string{}
			for _, v := range tmpl.Vars {
				vars[v] = "<" + v + ">"
			}
			// Undeclared values (what a careless caller might pass) never render.
			vars["diagnosis"], vars["subject"], vars["body"] = "SECRET-DIAGNOSIS", "SECRET-SUBJECT", "SECRET-BODY"
			subject, text := tmpl.Render(vars)
			if strings.Contains(subject+text, "SECRET") || strings.Contains(subject+text, "{{") {
				t.Errorf("rendered mail leaks or keeps a placeholder: %q / %q", subject, text)
			}
			if strings.ContainsAny(subject, "\r\n") {
				t.Errorf("subject is not one line: %q", subject)
			}
		})
	}
}

func TestRenderKeepsValuesOnOneLine(t *testing.T) {
	s, _ := MessageWaiting.Render(map[string]string{"practiceName": "Clinic\r\nBcc: x@y.test", "link": "l"})
	if strings.ContainsAny(s, "\r\n") {
		t.Fatalf("a value broke the subject line: %q", s)
	}
}
