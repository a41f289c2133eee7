package quickreplies

import (
	"errors"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/carepost"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		code       carepost.Code // "" when valid
		mention    string        // the error message must name this
	}{
		{"plain", "Thanks for your message.", "", ""},
		{"known", "Hi {{patientFirstName}}, {{clinicianSignature}}", "", ""},
		{"spaces inside braces", "Hi {{ patientFirstName }}", "", ""},
		{"all known", "{{patientFirstName}}{{patientLastName}}{{clinicianName}}{{clinicianSignature}}{{practiceName}}{{practicePhone}}{{nextAvailableDate}}{{today}}", "", ""},
		{"unknown", "Hi {{patientSSN}}", carepost.CodeValidation, "{{patientSSN}}"},
		{"unknown case", "Hi {{PatientFirstName}}", carepost.CodeValidation, "{{PatientFirstName}}"},
		{"empty", "Hi {{}}", carepost.CodeValidation, "unknown placeholder"},
		{"unclosed", "Hi {{patientFirstName", carepost.CodeValidation, "not closed"},
		{"odd name not echoed", "Hi {{<script>}}", carepost.CodeValidation, "unknown placeholder;"},
		{"single braces are text", "Use {curly} braces", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(tc.text)
			if got, want := carepost.ErrorCode(err), tc.code; got != want {
				t.Fatalf("code %q, want %q (%v)", got, want, err)
			}
			if err == nil {
				return
			}
			var e *carepost.Error
			if !errors.As(err, &e) {
				t.Fatalf("not a carepost.Error: %v", err)
			}
			if e.Field != "text" {
				t.Errorf("field %q, want text", e.Field)
			}
			if !strings.Contains(e.Message, tc.mention) {
				t.Errorf("message %q does not mention %q", e.Message, tc.mention)
			}
			if strings.Contains(e.Message, "<script>") {
				t.Errorf("message echoes unsafe input: %q", e.Message)
			}
		})
	}
}

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		values     map[string]string
		want       string
		missing    string
	}{
		{"fills", "Hi {{patientFirstName}}, see you {{nextAvailableDate}}. {{clinicianSignature}}",
			map[string]string{"patientFirstName": "Ann", "nextAvailableDate": "Monday", "clinicianSignature": "Dr B"}, "Hi Ann, see you Monday. Dr B", ""},
		{"repeated", "{{patientFirstName}} {{patientFirstName}}", map[string]string{"patientFirstName": "Ann"}, "Ann Ann", ""},
		{"missing renders empty and is listed once", "Hi {{patientFirstName}}{{patientFirstName}}!", map[string]string{}, "Hi !", "patientFirstName"},
		{"no placeholders", "Plain text", nil, "Plain text", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			segs, err := parse(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			got, missing := render(segs, tc.values)
			if got != tc.want {
				t.Errorf("render = %q, want %q", got, tc.want)
			}
			if g, w := strings.Join(missing, ","), tc.missing; g != w {
				t.Errorf("missing = %q, want %q", g, w)
			}
		})
	}
}

// FuzzParse: parsing never panics, and a template that parses renders back
// to itself when each placeholder's value is its own {{name}}.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"Hi {{patientFirstName}}", "{{", "}}", "{{}}", "a{{ today }}b", "{{{{today}}}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		segs, err := parse(text)
		if err != nil {
			return
		}
		values := map[string]string{}
		for n := range Placeholders {
			values[n] = "{{" + n + "}}"
		}
		got, _ := render(segs, values)
		if strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(normalize(text), " ", "") {
			t.Fatalf("round trip %q -> %q", text, got)
		}
	})
}

// normalize removes the spaces allowed inside braces.
func normalize(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return b.String() + s
		}
		j := strings.Index(s[i+2:], "}}")
		b.WriteString(s[:i] + "{{" + strings.TrimSpace(s[i+2:i+2+j]) + "}}")
		s = s[i+2+j+2:]
	}
}
