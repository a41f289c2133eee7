package notify

import (
	"regexp"
	"slices"
	"strings"
)

// Template is a system e-mail. Its placeholders are filled only with values
// that are not patient data: the practice's name, a pool's name, links, and
// (for appointment reminders, sent to the patient's own address) the visit's
// date and time. Never a condition, a medication, a result, a clinician or
// their specialty, a location, a subject or message text: the templates test
// proves it for every template here and every e-mail the tests send.
type Template struct {
	Name    string
	Subject string
	Text    string
	// Vars are the placeholders the template may use.
	Vars []string
}

// The system e-mails.
var (
	// MessageWaiting goes to a patient or proxy when the practice writes.
	MessageWaiting = Template{
		Name:    "message.waiting",
		Subject: "New secure message from {{practiceName}}",
		Text: "You have a new secure message from {{practiceName}}. Sign in to read it: {{link}}\n\n" +
			"For your privacy this e-mail does not contain the message. Do not reply to this e-mail.\n" +
			"To stop these e-mails, change your notification settings after signing in.\n",
		Vars: []string{"practiceName", "link"},
	}
	// WorkWaiting goes to the members of a pool that asked for notices.
	WorkWaiting = Template{
		Name:    "work.waiting",
		Subject: "New work in the {{pool}} inbox",
		Text:    "There is new work in the {{pool}} inbox at {{practiceName}}. Sign in to see it: {{link}}\n",
		Vars:    []string{"pool", "practiceName", "link"},
	}
	// AppointmentReminder goes to a patient before a visit.
	AppointmentReminder = Template{
		Name:    "appointment.reminder",
		Subject: "Appointment reminder from {{practiceName}}",
		Text: "This is a reminder from {{practiceName}} of your appointment on {{when}}.\n\n" +
			"Confirm: {{confirmUrl}}\nCancel: {{cancelUrl}}\n\nSign in for details: {{link}}\n\n" +
			"To stop reminder e-mails: {{unsubscribeUrl}}\n",
		Vars: []string{"practiceName", "when", "confirmUrl", "cancelUrl", "link", "unsubscribeUrl"},
	}
	// AppointmentCancelled tells the front desk a slot came free.
	AppointmentCancelled = Template{
		Name:    "appointment.cancelled",
		Subject: "An appointment was cancelled",
		Text:    "A patient cancelled an appointment through a reminder link; the slot on {{when}} is free again. Sign in to see it: {{link}}\n",
		Vars:    []string{"when", "link"},
	}
)

// Templates lists every system e-mail (the templates test walks it).
var Templates = []Template{MessageWaiting, WorkWaiting, AppointmentReminder, AppointmentCancelled}

var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]*)\s*\}\}`)

// Placeholders returns the placeholder names used in s, in order.
func Placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// Render fills the template's placeholders; a placeholder without a value
// renders empty (templates are checked by the tests, not at run time).
func (t Template) Render(vars map[string]string) (subject, text string) {
	fill := func(s string) string {
		return placeholder.ReplaceAllStringFunc(s, func(m string) string {
			name := placeholder.FindStringSubmatch(m)[1]
			if !slices.Contains(t.Vars, name) {
				return ""
			}
			return oneLine(vars[name])
		})
	}
	return fill(t.Subject), fill(t.Text)
}

// oneLine keeps a value from adding lines (or headers) to a message.
func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
