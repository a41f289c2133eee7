package campaigns

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/notify"
)

// Placeholders a campaign template may use.
var Placeholders = []string{"firstName", "practiceName", "unsubscribeUrl"}

// Template limits.
const (
	MaxSubject  = 150
	MaxText     = 10000
	MaxName     = 100
	footerIntro = "\n\n--\nTo stop these e-mails from {{practiceName}}: {{unsubscribeUrl}}\n"
)

// ValidateTemplate checks a campaign template: a one-line subject, a text,
// and no placeholder but the known ones (a typo such as {{fristName}} is a
// 422, not an e-mail with a hole in it).
func ValidateTemplate(t carepost.CampaignTemplate) error {
	switch {
	case strings.TrimSpace(t.Subject) == "":
		return carepost.FieldError(carepost.CodeValidation, "template.subject", "the subject is empty")
	case utf8.RuneCountInString(t.Subject) > MaxSubject:
		return carepost.FieldError(carepost.CodeValidation, "template.subject", "the subject is longer than %d characters", MaxSubject)
	case strings.ContainsAny(t.Subject, "\r\n"):
		return carepost.FieldError(carepost.CodeValidation, "template.subject", "the subject must be one line")
	case strings.TrimSpace(t.Text) == "":
		return carepost.FieldError(carepost.CodeValidation, "template.text", "the text is empty")
	case utf8.RuneCountInString(t.Text) > MaxText:
		return carepost.FieldError(carepost.CodeValidation, "template.text", "the text is longer than %d characters", MaxText)
	case !utf8.ValidString(t.Subject + t.Text):
		return carepost.FieldError(carepost.CodeValidation, "template", "the template is not valid UTF-8")
	}
	for field, s := range map[string]string{"template.subject": t.Subject, "template.text": t.Text} {
		for _, p := range notify.Placeholders(s) {
			if !slices.Contains(Placeholders, p) {
				return carepost.FieldError(carepost.CodeValidation, field, "unknown placeholder {{%s}}; use {{firstName}}, {{practiceName}} or {{unsubscribeUrl}}", p)
			}
		}
		// A lone "{{" that is not a placeholder is most likely a typo.
		if strings.Count(s, "{{") != len(notify.Placeholders(s)) {
			return carepost.FieldError(carepost.CodeValidation, field, "a {{ is not closed as a placeholder such as {{firstName}}")
		}
	}
	if slices.Contains(notify.Placeholders(t.Subject), "unsubscribeUrl") {
		return carepost.FieldError(carepost.CodeValidation, "template.subject", "{{unsubscribeUrl}} belongs in the text, not the subject")
	}
	return nil
}

// render fills a campaign template. The unsubscribe link is appended when
// the text does not place it itself.
func render(t carepost.CampaignTemplate, vars map[string]string) (subject, text string) {
	body := t.Text
	if !slices.Contains(notify.Placeholders(body), "unsubscribeUrl") {
		body = strings.TrimRight(body, "\n") + footerIntro
	}
	tmpl := notify.Template{Name: "campaign", Subject: t.Subject, Text: body, Vars: Placeholders}
	return tmpl.Render(vars)
}
