package campaigns

import (
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/linkkeys"
)

// Limits on an audience list.
const (
	MaxFirstName = 100
	MaxEmail     = 254
	MaxPatientID = 64
)

// Columns an audience CSV may have. Any other column is refused: a list
// must not carry more patient data than the e-mail needs (no diagnoses,
// no dates of birth).
var Columns = []string{"email", "firstName", "patientId"}

// Row is one good row of an audience CSV.
type Row struct {
	Line      int    `json:"line"`
	PatientID string `json:"patientId,omitempty"`
	FirstName string `json:"-"`
	Email     string `json:"-"`
}

// BadRow is a refused row: its line number in the file and why. The reason
// never repeats the row's content.
type BadRow struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ParseCSV reads an audience list: a header naming the columns (email and
// firstName required, patientId optional, any order, case-insensitive),
// then one recipient per row. lineOffset is added to every line number (for
// a file uploaded in pieces). It returns the good rows and the bad ones; an
// error means the file as a whole is unusable (no header, unknown column).
func ParseCSV(text string, lineOffset int) ([]Row, []BadRow, error) {
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\uFEFF")))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, nil, carepost.FieldError(carepost.CodeValidation, "csv", "the CSV is empty; the first line must name the columns (email,firstName[,patientId])")
	}
	if err != nil {
		return nil, nil, carepost.FieldError(carepost.CodeValidation, "csv", "line %d: the header is not valid CSV", lineOffset+1)
	}
	col := map[string]int{}
	for i, h := range header {
		name := canonicalColumn(h)
		if name == "" {
			return nil, nil, carepost.FieldError(carepost.CodeValidation, "csv", "line %d: column %d is not one of email, firstName, patientId (lists may not carry other data)", lineOffset+1, i+1)
		}
		if _, dup := col[name]; dup {
			return nil, nil, carepost.FieldError(carepost.CodeValidation, "csv", "line %d: column %s appears twice", lineOffset+1, name)
		}
		col[name] = i
	}
	for _, need := range []string{"email", "firstName"} {
		if _, ok := col[need]; !ok {
			return nil, nil, carepost.FieldError(carepost.CodeValidation, "csv", "line %d: the header has no %s column", lineOffset+1, need)
		}
	}
	var rows []Row
	var bad []BadRow
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		line += lineOffset
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine + lineOffset
			}
			bad = append(bad, BadRow{Line: line, Reason: "not valid CSV (check the quotes)"})
			if pe != nil && pe.Err == csv.ErrQuote {
				// The rest of the file cannot be trusted after a broken quote.
				return rows, bad, nil
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) != len(header) {
			bad = append(bad, BadRow{Line: line, Reason: "wrong number of fields"})
			continue
		}
		row := Row{Line: line, Email: strings.TrimSpace(rec[col["email"]]), FirstName: strings.TrimSpace(rec[col["firstName"]])}
		if i, ok := col["patientId"]; ok {
			row.PatientID = strings.TrimSpace(rec[i])
		}
		if reason := checkRow(row); reason != "" {
			bad = append(bad, BadRow{Line: line, Reason: reason})
			continue
		}
		norm := linkkeys.NormalizeEmail(row.Email)
		if first, dup := seen[norm]; dup {
			bad = append(bad, BadRow{Line: line, Reason: "duplicate e-mail address (first on line " + strconv.Itoa(first) + ")"})
			continue
		}
		seen[norm] = line
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func canonicalColumn(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
	h = strings.NewReplacer("_", "", "-", "", " ", "").Replace(h)
	switch h {
	case "email", "emailaddress":
		return "email"
	case "firstname", "givenname":
		return "firstName"
	case "patientid":
		return "patientId"
	}
	return ""
}

func checkRow(r Row) string {
	switch {
	case r.Email == "":
		return "email is empty"
	case !ValidEmail(r.Email):
		return "email is not a valid address"
	case r.FirstName == "":
		return "firstName is empty"
	case !utf8.ValidString(r.FirstName):
		return "firstName is not valid UTF-8"
	case utf8.RuneCountInString(r.FirstName) > MaxFirstName:
		return "firstName is longer than 100 characters"
	case strings.ContainsAny(r.FirstName, "<>{}\r\n"):
		return "firstName contains characters that are not allowed (< > { })"
	case r.PatientID != "" && !validID(r.PatientID):
		return "patientId may only hold letters, digits, - and _ (at most 64)"
	}
	return ""
}

// ValidEmail is a plausibility check: one @ with text on both sides, a dot
// in the domain, no spaces or control characters, at most 254 characters.
func ValidEmail(s string) bool {
	if len(s) > MaxEmail || strings.Count(s, "@") != 1 {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || len(domain) < 3 || !strings.Contains(domain[1:len(domain)-1], ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`<>(),;:"[]\`, r) {
			return false
		}
	}
	return true
}

func validID(s string) bool {
	if len(s) == 0 || len(s) > MaxPatientID {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
