package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
)

func init() {
	commands["patients"] = command{summary: "patients: import FILE.csv, add, invite, list",
		run: adminGroup("patients", map[string]adminVerb{"import": patientsImport, "add": patientsAdd, "invite": patientsInvite, "list": patientsList})}
}

// importChunkBytes and importChunkRows keep each request well under the
// API's 64 KB body limit and its 1000-row limit.
const (
	importChunkBytes = 40 << 10
	importChunkRows  = 200
)

// patientChunk is a piece of the file: the header plus whole records,
// byte for byte, so line numbers stay those of the file.
type patientChunk struct {
	text      string
	firstLine int // file line of the chunk's header, as the API counts
	rows      int
}

// splitPatientCSV cuts a CSV file into chunks of at most maxRows records
// and about maxBytes, each starting with the header. It cuts only between
// records (a quoted field may span lines), using the reader's offsets.
func splitPatientCSV(text string, maxRows, maxBytes int) ([]patientChunk, error) {
	text = strings.TrimPrefix(text, "\ufeff")
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	if _, err := r.Read(); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty; it needs a header line")
		}
		return nil, fmt.Errorf("line 1: the header is not valid CSV")
	}
	headerEnd := int(r.InputOffset())
	header := text[:headerEnd]
	if !strings.HasSuffix(header, "\n") {
		header += "\n"
	}
	lineAt := func(off int) int { return strings.Count(text[:off], "\n") + 1 }
	var chunks []patientChunk
	start, rows := headerEnd, 0
	flush := func(end int) {
		if rows == 0 {
			return
		}
		// The API numbers the chunk's header as firstLine and its records
		// from there; the first record's file line is lineAt(start).
		chunks = append(chunks, patientChunk{text: header + text[start:end], firstLine: lineAt(start) - 1, rows: rows})
		start, rows = end, 0
	}
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return nil, err
		}
		if err != nil && pe.Err != csv.ErrFieldCount {
			// Unbalanced quotes: send the rest as is; the API reports the line.
			rows++
			flush(len(text))
			return chunks, nil
		}
		rows++
		end := int(r.InputOffset())
		if rows >= maxRows || end-start >= maxBytes {
			flush(end)
		}
	}
	flush(len(text))
	return chunks, nil
}

// progressBar draws "label [#####.....] n/total" on one terminal line.
type progressBar struct {
	w            io.Writer
	label        string
	total, width int
}

func (p *progressBar) set(n int) {
	if p.total <= 0 {
		return
	}
	filled := n * p.width / p.total
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d rows", p.label, strings.Repeat("#", filled), strings.Repeat(".", p.width-filled), n, p.total)
}

func (p *progressBar) done() { fmt.Fprintln(p.w) }

type importAnswer struct {
	Rows      int  `json:"rows"`
	Valid     int  `json:"valid"`
	Committed bool `json:"committed"`
	Imported  []struct {
		Line      int    `json:"line"`
		PatientID string `json:"patientId"`
	} `json:"imported"`
	Problems []struct {
		Line      int    `json:"line"`
		Field     string `json:"field"`
		Message   string `json:"message"`
		PatientID string `json:"patientId"`
		Duplicate bool   `json:"duplicate"`
	} `json:"problems"`
}

// patientsImport checks a CSV of patients and, with --commit, enrolls the
// good rows, in chunks, with a progress bar. Bad rows and duplicates are
// listed with their line numbers; they are never imported.
func patientsImport(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	fs := adminFlags("patients import")
	commit := fs.Bool("commit", false, "import the good rows (without it the file is only checked)")
	invite := fs.Bool("invite", false, "e-mail each imported patient an activation code")
	rows := fs.Int("rows", importChunkRows, "rows per request")
	fs.Usage = func() {
		fmt.Fprintln(adminOut, "usage: carepost patients import FILE.csv [--commit] [--invite]\n  header: firstName,lastName,birthDate,email[,phone] (YYYY-MM-DD birth dates)")
		fs.PrintDefaults()
	}
	var files []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return exitCode(2)
		}
		if fs.NArg() == 0 {
			break
		}
		files, args = append(files, fs.Arg(0)), fs.Args()[1:]
	}
	if len(files) != 1 || *rows < 1 || *rows > 1000 {
		fs.Usage()
		return exitCode(2)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return err
	}
	chunks, err := splitPatientCSV(string(b), *rows, importChunkBytes)
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	total := 0
	for _, ch := range chunks {
		total += ch.rows
	}
	label := "checking"
	if *commit {
		label = "importing"
	}
	bar := &progressBar{w: adminOut, label: label, total: total, width: 30}
	var sum importAnswer
	done := 0
	bar.set(0)
	for _, ch := range chunks {
		var a importAnswer
		if err := c.do(ctx, "POST", "/v1/patients/import", map[string]any{"csv": ch.text, "commit": *commit, "invite": *invite, "firstLine": ch.firstLine}, &a); err != nil {
			bar.done()
			if done > 0 && *commit {
				fmt.Fprintf(out, "%d rows were sent before the error; run the same command again: rows already imported are skipped as duplicates\n", done)
			}
			return err
		}
		sum.Rows += a.Rows
		sum.Valid += a.Valid
		sum.Imported = append(sum.Imported, a.Imported...)
		sum.Problems = append(sum.Problems, a.Problems...)
		done += ch.rows
		bar.set(done)
	}
	bar.done()
	sort.Slice(sum.Problems, func(i, j int) bool { return sum.Problems[i].Line < sum.Problems[j].Line })
	bad, dups := 0, 0
	for _, p := range sum.Problems {
		what := "error"
		if p.Duplicate {
			what, dups = "duplicate", dups+1
		} else {
			bad++
		}
		field := ""
		if p.Field != "" {
			field = " (" + p.Field + ")"
		}
		id := ""
		if p.PatientID != "" {
			id = " [patient " + p.PatientID + "]"
		}
		fmt.Fprintf(out, "line %d: %s%s: %s%s\n", p.Line, what, field, p.Message, id)
	}
	if *commit {
		fmt.Fprintf(out, "%d rows: %d imported, %d with errors, %d duplicates\n", sum.Rows, len(sum.Imported), bad, dups)
	} else {
		fmt.Fprintf(out, "%d rows: %d ready to import, %d with errors, %d duplicates; nothing was imported (add --commit)\n", sum.Rows, sum.Valid, bad, dups)
	}
	if bad > 0 {
		return exitCode(1)
	}
	return nil
}

func patientsAdd(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	fs := adminFlags("patients add")
	first := fs.String("first-name", "", "first name")
	last := fs.String("last-name", "", "last name")
	birth := fs.String("birth-date", "", "date of birth, YYYY-MM-DD")
	email := fs.String("email", "", "e-mail address")
	phone := fs.String("phone", "", "phone number (optional)")
	invite := fs.Bool("invite", false, "e-mail the activation code now")
	if err := fs.Parse(args); err != nil {
		return exitCode(2)
	}
	var ref struct{ ID, Status string }
	if err := c.do(ctx, "POST", "/v1/patients", map[string]any{"firstName": *first, "lastName": *last, "birthDate": *birth, "email": *email, "phone": *phone, "invite": *invite}, &ref); err != nil {
		return err
	}
	fmt.Fprintf(out, "patient %s registered (%s)\n", ref.ID, ref.Status)
	return nil
}

func patientsInvite(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	if len(args) != 1 {
		fmt.Fprintln(adminOut, "usage: carepost patients invite PATIENT-ID")
		return exitCode(2)
	}
	var ref struct{ ID, Status string }
	if err := c.do(ctx, "POST", "/v1/patients/"+url.PathEscape(args[0])+"/invite", nil, &ref); err != nil {
		return err
	}
	fmt.Fprintf(out, "activation e-mail sent to patient %s\n", ref.ID)
	return nil
}

func patientsList(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	cursor := ""
	fmt.Fprintf(out, "%-26s %-12s %-30s %-11s %s\n", "ID", "STATUS", "NAME", "BORN", "E-MAIL")
	for {
		var page struct {
			Items []struct {
				ID, Status string
				Contact    struct{ FirstName, LastName, BirthDate, Email string }
			}
			Cursor string
		}
		if err := c.do(ctx, "GET", "/v1/patients?limit=100&cursor="+url.QueryEscape(cursor), nil, &page); err != nil {
			return err
		}
		for _, p := range page.Items {
			fmt.Fprintf(out, "%-26s %-12s %-30s %-11s %s\n", p.ID, p.Status, p.Contact.FirstName+" "+p.Contact.LastName, p.Contact.BirthDate, p.Contact.Email)
		}
		if cursor = page.Cursor; cursor == "" {
			return nil
		}
	}
}
