// Package quickreplies keeps saved reply templates (practice-wide ones that
// admins write, personal ones of each staff member) and renders one for a
// thread: placeholders such as {{patientFirstName}} or
// {{clinicianSignature}} are filled from that thread's patient, the caller
// and the practice settings, never from anything else.
//
// Template text is written by staff and is not patient data; it is stored in
// the clear. The rendered text is patient data: it is returned to the staff
// member (who sends it as a reply) and never stored or logged.
package quickreplies

import (
	"slices"
	"strings"

	"github.com/carepost/carepost/shared/carepost"
)

// Placeholders are the names a template may use, with what they stand for.
var Placeholders = map[string]string{
	"patientFirstName":   "the thread's patient's first name",
	"patientLastName":    "the thread's patient's last name",
	"clinicianName":      "the name of the staff member sending the reply",
	"clinicianSignature": "the signature of the staff member sending the reply (their name when they have none)",
	"practiceName":       "the practice's name",
	"practicePhone":      "the practice's phone number (settings: onCallPhone)",
	"nextAvailableDate":  "the next day the practice is open, after today",
	"today":              "today's date in the practice's time zone",
}

// segment is literal text or a placeholder.
type segment struct {
	text        string
	placeholder bool
}

// parse splits a template into literal text and placeholders. A placeholder
// is {{name}} (spaces inside the braces are allowed). An unknown name, an
// empty one or an unclosed "{{" is an error naming the field and the
// placeholder (template text is not patient data).
func parse(text string) ([]segment, error) {
	var out []segment
	rest := text
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				out = append(out, segment{text: rest})
			}
			return out, nil
		}
		if i > 0 {
			out = append(out, segment{text: rest[:i]})
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, carepost.FieldError(carepost.CodeValidation, "text", "a placeholder is not closed: write {{name}}")
		}
		name := strings.TrimSpace(rest[i+2 : i+2+j])
		if _, ok := Placeholders[name]; !ok {
			if !printableName(name) {
				return nil, carepost.FieldError(carepost.CodeValidation, "text", "unknown placeholder; known ones are %s", known())
			}
			return nil, &carepost.Error{Code: carepost.CodeValidation, Field: "text",
				Message: "unknown placeholder {{" + name + "}}; known ones are " + known(), Details: map[string]any{"placeholder": name}}
		}
		out = append(out, segment{text: name, placeholder: true})
		rest = rest[i+2+j+2:]
	}
}

// printableName limits what an error message may echo.
func printableName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

func known() string {
	names := make([]string, 0, len(Placeholders))
	for n := range Placeholders {
		names = append(names, "{{"+n+"}}")
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// render fills a parsed template; missing lists the placeholders that had no
// value (they render empty).
func render(segs []segment, values map[string]string) (text string, missing []string) {
	var b strings.Builder
	seen := map[string]bool{}
	for _, s := range segs {
		if !s.placeholder {
			b.WriteString(s.text)
			continue
		}
		v := values[s.text]
		if v == "" && !seen[s.text] {
			seen[s.text] = true
			missing = append(missing, s.text)
		}
		b.WriteString(v)
	}
	return b.String(), missing
}
