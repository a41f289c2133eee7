package admin

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"

	"github.com/carepost/carepost/shared/carepost"
)

// ImportInput is one CSV chunk to enroll. The first record is the header:
// firstName, lastName, birthDate, email and optionally phone, in any order
// (case, spaces, dashes and underscores in names are ignored: "First Name",
// "first_name" work). Without Commit nothing is written: the rows are only
// checked. FirstLine is the file line number of this chunk's header, so a
// client that splits a big file reports lines of the whole file.
type ImportInput struct {
	CSV       string `json:"csv"`
	Commit    bool   `json:"commit,omitempty"`
	Invite    bool   `json:"invite,omitempty"`
	FirstLine int    `json:"firstLine,omitempty"`
}

// RowProblem is one row that was not imported. Message never quotes the
// row's values.
type RowProblem struct {
	Line      int    `json:"line"`
	Field     string `json:"field,omitempty"`
	Message   string `json:"message"`
	PatientID string `json:"patientId,omitempty"` // duplicates: the registered patient
	Duplicate bool   `json:"duplicate,omitempty"`
}

// ImportedRow is a row that became a patient.
type ImportedRow struct {
	Line      int    `json:"line"`
	PatientID string `json:"patientId"`
}

// ImportResult reports on every row: ids and line numbers only.
type ImportResult struct {
	Rows      int           `json:"rows"`
	Valid     int           `json:"valid"`
	Committed bool          `json:"committed"`
	Imported  []ImportedRow `json:"imported"`
	Problems  []RowProblem  `json:"problems"`
}

var csvColumns = map[string]string{
	"firstname": "firstName", "givenname": "firstName",
	"lastname": "lastName", "familyname": "lastName", "surname": "lastName",
	"birthdate": "birthDate", "dateofbirth": "birthDate", "dob": "birthDate",
	"email": "email", "emailaddress": "email",
	"phone": "phone", "phonenumber": "phone", "mobile": "phone",
}

type csvRow struct {
	line    int
	contact carepost.Contact
}

// parseCSV reads the chunk and reports, per line, what is wrong. It returns
// the well-formed rows.
func parseCSV(text string, firstLine int) ([]csvRow, []RowProblem, int, error) {
	if firstLine <= 0 {
		firstLine = 1
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\ufeff")))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, 0, carepost.FieldError(carepost.CodeValidation, "csv", "the CSV is empty; it needs a header line")
	}
	if err != nil {
		return nil, nil, 0, carepost.FieldError(carepost.CodeValidation, "csv", "line %d: the header is not valid CSV", firstLine)
	}
	index := map[string]int{}
	for i, h := range header {
		k := strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.TrimSpace(h)))
		if col, ok := csvColumns[k]; ok {
			if _, dup := index[col]; dup {
				return nil, nil, 0, carepost.FieldError(carepost.CodeValidation, "csv", "line %d: column %s appears twice", firstLine, col)
			}
			index[col] = i
		}
	}
	for _, col := range []string{"firstName", "lastName", "birthDate", "email"} {
		if _, ok := index[col]; !ok {
			return nil, nil, 0, carepost.FieldError(carepost.CodeValidation, "csv", "line %d: the header has no %s column", firstLine, col)
		}
	}
	var rows []csvRow
	var problems []RowProblem
	n := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine + firstLine - 1
			}
			n++
			problems = append(problems, RowProblem{Line: line, Message: "the line is not valid CSV"})
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				// A quoting error leaves the reader unsure where rows
				// start: stop rather than misreport later lines.
				problems[len(problems)-1].Message = "the line is not valid CSV; the rest of the file was not read"
				return rows, problems, n, nil
			}
			continue
		}
		line, _ := r.FieldPos(0)
		line += firstLine - 1
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		n++
		if n > MaxImportRows {
			return nil, nil, n, carepost.FieldError(carepost.CodeTooLarge, "csv", "at most %d rows per request; split the file", MaxImportRows)
		}
		get := func(col string) string {
			i, ok := index[col]
			if !ok || i >= len(rec) {
				return ""
			}
			return rec[i]
		}
		rows = append(rows, csvRow{line: line, contact: cleanContact(carepost.Contact{
			FirstName: get("firstName"), LastName: get("lastName"), BirthDate: get("birthDate"), Email: get("email"), Phone: get("phone"),
		})})
	}
	return rows, problems, n, nil
}

// ImportPatients checks a CSV chunk and, with Commit, enrolls its good rows
// (admins, front desk). Bad rows and duplicates (of registered patients or
// of an earlier row) are reported with their line numbers and never
// imported; good rows are imported even when others are bad, but only when
// the caller asked for it.
func (s *Service) ImportPatients(ctx context.Context, p carepost.Principal, in ImportInput) (ImportResult, error) {
	if err := s.require(ctx, p, "patient.import", enrollRoles...); err != nil {
		return ImportResult{}, err
	}
	rows, problems, n, err := parseCSV(in.CSV, in.FirstLine)
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Rows: n, Committed: in.Commit, Imported: []ImportedRow{}, Problems: problems}
	key, err := s.dedupKeyFor(ctx, p.PracticeID)
	if err != nil {
		return ImportResult{}, err
	}
	now := s.now()
	seen := map[string]int{} // dedup key -> line
	var good []csvRow
	for _, row := range rows {
		if err := ValidateContact(row.contact, now); err != nil {
			var ce *carepost.Error
			errors.As(err, &ce)
			res.Problems = append(res.Problems, RowProblem{Line: row.line, Field: ce.Field, Message: ce.Message})
			continue
		}
		dk := DedupKey(key, row.contact)
		if first, dup := seen[dk]; dup {
			res.Problems = append(res.Problems, RowProblem{Line: row.line, Duplicate: true, Message: "the same patient as line " + itoa(first)})
			continue
		}
		seen[dk] = row.line
		existing, found, err := s.Store.PatientByDedupKey(ctx, p.PracticeID, dk)
		if err != nil {
			return ImportResult{}, err
		}
		if found {
			res.Problems = append(res.Problems, RowProblem{Line: row.line, Duplicate: true, PatientID: existing.ID, Message: "already registered"})
			continue
		}
		good = append(good, row)
	}
	res.Valid = len(good)
	action := "patient.import.check"
	if in.Commit {
		action = "patient.import"
	}
	if err := s.audit(ctx, p, "", action, "", "practice/"+p.PracticeID+"/patients", "ok"); err != nil {
		return ImportResult{}, err
	}
	if !in.Commit {
		return res, nil
	}
	for _, row := range good {
		rec, err := s.register(ctx, p.PracticeID, row.contact, true)
		if err != nil {
			var ce *carepost.Error
			if errors.As(err, &ce) && ce.Code == carepost.CodeConflict {
				pid, _ := ce.Details["patientId"].(string)
				res.Problems = append(res.Problems, RowProblem{Line: row.line, Duplicate: true, PatientID: pid, Message: "already registered"})
				continue
			}
			// A dependency failed: report what was done so far; the
			// client retries the remaining rows (duplicates are skipped).
			return res, err
		}
		if err := s.audit(ctx, p, "", "patient.create", rec.ID, "patient/"+rec.ID, "ok"); err != nil {
			return res, err
		}
		res.Imported = append(res.Imported, ImportedRow{Line: row.line, PatientID: rec.ID})
		if in.Invite {
			if _, err := s.invite(ctx, p, rec, row.contact.Email); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}
