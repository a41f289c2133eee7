package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/campaigns"
	"github.com/carepost/carepost/shared/carepost"
)

func init() {
	commands["campaign"] = command{summary: "reminder campaigns: import, start, status, preview, pause, resume, cancel, list", run: runCampaign}
}

// errUsage is returned for bad arguments (after the usage is printed).
var errUsage = exitCode(2)

const campaignUsage = `usage:
  carepost campaign import FILE.csv --name NAME --template FILE [--accept-valid]
      FILE.csv: a header naming email, firstName and optionally patientId, then one recipient per line.
      template FILE: first line "Subject: ...", then the text; placeholders {{firstName}} {{practiceName}} {{unsubscribeUrl}}.
      Bad rows are listed with their line numbers; nothing is imported unless --accept-valid.
  carepost campaign start ID [--window-start RFC3339] [--window-end RFC3339] [--tz ZONE] [--quiet 21:00-08:00]
  carepost campaign status ID [--watch] [--interval 2s]
  carepost campaign preview ID [--limit 3]
  carepost campaign pause|resume|cancel ID
  carepost campaign list`

// chunkBytes keeps each upload well under the API's 64 KB body limit (a
// variable so tests can force many pieces).
var chunkBytes = 48 << 10

func runCampaign(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(out, campaignUsage)
		return errUsage
	}
	c, err := newAPIClient()
	if err != nil {
		return err
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "import":
		return campaignImport(ctx, c, rest, out)
	case "start":
		return campaignStart(ctx, c, rest, out)
	case "status":
		return campaignStatus(ctx, c, rest, out)
	case "preview":
		return campaignPreview(ctx, c, rest, out)
	case "pause", "resume", "cancel":
		id, _, err := oneID(flag.NewFlagSet(sub, flag.ContinueOnError), rest, out)
		if err != nil {
			return err
		}
		var v campaigns.View
		if err := c.do(ctx, "POST", "/v1/campaigns/"+url.PathEscape(id)+"/"+sub, nil, &v); err != nil {
			return err
		}
		fmt.Fprintf(out, "campaign %s is %s\n", v.ID, v.State)
		return nil
	case "list":
		var res struct{ Items []campaigns.View }
		if err := c.do(ctx, "GET", "/v1/campaigns", nil, &res); err != nil {
			return err
		}
		for _, v := range res.Items {
			fmt.Fprintf(out, "%s  %-10s %6d sent / %6d  %s\n", v.ID, v.State, v.Progress.Sent, v.Progress.Total, v.Name)
		}
		return nil
	}
	fmt.Fprintln(out, campaignUsage)
	return errUsage
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("import FILE --name X" as well as "import --name X FILE").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func oneID(fs *flag.FlagSet, args []string, out io.Writer) (string, []string, error) {
	fs.SetOutput(out)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return "", nil, errUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(out, campaignUsage)
		return "", nil, errUsage
	}
	return pos[0], pos, nil
}

// readTemplate reads "Subject: ..." then the text.
func readTemplate(path string) (carepost.CampaignTemplate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return carepost.CampaignTemplate{}, err
	}
	first, text, _ := strings.Cut(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	subject, ok := strings.CutPrefix(first, "Subject:")
	if !ok {
		return carepost.CampaignTemplate{}, fmt.Errorf("%s: the first line must be \"Subject: ...\"", path)
	}
	return carepost.CampaignTemplate{Subject: strings.TrimSpace(subject), Text: strings.TrimLeft(text, "\n")}, nil
}

// chunk is a piece of the CSV: the header line plus whole records, and the
// offset that turns its line numbers into the file's.
type chunk struct {
	text       string
	lineOffset int
}

// splitCSV cuts text at record boundaries (never inside a quoted field) into
// pieces of at most about max bytes, each starting with the header.
func splitCSV(text string, max int) ([]chunk, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.LazyQuotes = false
	if _, err := r.Read(); err != nil {
		return nil, errors.New("the CSV has no header line")
	}
	headerEnd := int(r.InputOffset())
	header := text[:headerEnd]
	if !strings.HasSuffix(header, "\n") {
		header += "\n"
	}
	var chunks []chunk
	start, startLine := headerEnd, 2
	prev := headerEnd
	for {
		_, err := r.Read()
		line, _ := r.FieldPos(0)
		off := int(r.InputOffset())
		if err == io.EOF {
			break
		}
		if off-start > max && prev > start {
			chunks = append(chunks, chunk{text: header + text[start:prev], lineOffset: startLine - 2})
			start, startLine = prev, line
		}
		prev = off
		var pe *csv.ParseError
		if errors.As(err, &pe) && pe.Err == csv.ErrQuote {
			break // the server reports it; the rest goes in one piece
		}
	}
	chunks = append(chunks, chunk{text: header + text[start:], lineOffset: startLine - 2})
	return chunks, nil
}

func campaignImport(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("campaign import", flag.ContinueOnError)
	fs.SetOutput(out)
	name := fs.String("name", "", "campaign name")
	tmplPath := fs.String("template", "", "template file: \"Subject: ...\" then the text")
	acceptValid := fs.Bool("accept-valid", false, "import the good rows even if some rows are bad")
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) != 1 || *name == "" || *tmplPath == "" {
		fmt.Fprintln(out, campaignUsage)
		return errUsage
	}
	tmpl, err := readTemplate(*tmplPath)
	if err != nil {
		return err
	}
	if err := campaigns.ValidateTemplate(tmpl); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	raw, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	text := strings.TrimPrefix(string(raw), "\uFEFF")
	// Check the whole file first, with the rules the API applies, so a bad
	// row at the end stops the import before anything is stored.
	rows, bad, err := campaigns.ParseCSV(text, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	fmt.Fprintf(out, "%s: %d recipients, %d bad rows\n", pos[0], len(rows), len(bad))
	printBadRows(out, bad)
	if len(bad) > 0 && !*acceptValid {
		return fmt.Errorf("nothing imported: %d bad rows; fix them, or run again with --accept-valid to import the %d good rows", len(bad), len(rows))
	}
	if len(rows) == 0 {
		return errors.New("no recipients to import")
	}
	chunks, err := splitCSV(text, chunkBytes)
	if err != nil {
		return err
	}
	var res campaigns.ImportResult
	err = c.do(ctx, "POST", "/v1/campaigns", map[string]any{
		"name": *name, "template": tmpl, "audience": map[string]any{"csv": chunks[0].text},
		"acceptValid": *acceptValid, "lineOffset": chunks[0].lineOffset,
	}, &res)
	if err != nil {
		return explain(out, err)
	}
	id, imported, refused := res.Campaign.ID, res.Imported, res.BadRows
	bar := newBar(out, "uploading", len(rows))
	bar.set(imported)
	for _, ch := range chunks[1:] {
		var more campaigns.ImportResult
		if err := c.do(ctx, "POST", "/v1/campaigns/"+id+"/recipients", map[string]any{"csv": ch.text, "acceptValid": *acceptValid, "lineOffset": ch.lineOffset}, &more); err != nil {
			bar.done()
			fmt.Fprintf(out, "campaign %s is incomplete (%d recipients stored); cancel it with: carepost campaign cancel %s\n", id, imported, id)
			return explain(out, err)
		}
		imported += more.Imported
		refused = append(refused, more.BadRows...)
		bar.set(imported)
	}
	bar.done()
	if extra := onlyNew(refused, bad); len(extra) > 0 {
		fmt.Fprintln(out, "refused by the server:")
		printBadRows(out, extra)
	}
	fmt.Fprintf(out, "campaign %s created (draft): %d recipients imported, %d rows refused\n", id, imported, len(refused))
	fmt.Fprintf(out, "next: carepost campaign preview %s; then carepost campaign start %s\n", id, id)
	return nil
}

// onlyNew returns the refused rows the local check had not reported
// (duplicates of rows already in the campaign).
func onlyNew(server, local []campaigns.BadRow) []campaigns.BadRow {
	seen := map[int]bool{}
	for _, b := range local {
		seen[b.Line] = true
	}
	var out []campaigns.BadRow
	for _, b := range server {
		if !seen[b.Line] {
			out = append(out, b)
		}
	}
	return out
}

func printBadRows(out io.Writer, bad []campaigns.BadRow) {
	for _, b := range bad {
		fmt.Fprintf(out, "  line %d: %s\n", b.Line, b.Reason)
	}
}

// explain prints the bad rows of a 422 and returns the error.
func explain(out io.Writer, err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		if rows, ok := ae.Details["badRows"].([]any); ok {
			for _, r := range rows {
				if m, ok := r.(map[string]any); ok {
					fmt.Fprintf(out, "  line %v: %v\n", m["line"], m["reason"])
				}
			}
		}
	}
	return err
}

func campaignStart(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("campaign start", flag.ContinueOnError)
	start := fs.String("window-start", "", "when sending may begin (RFC 3339; default now)")
	end := fs.String("window-end", "", "when sending must stop (RFC 3339)")
	tz := fs.String("tz", "", "time zone of the quiet hours (default the practice's)")
	quiet := fs.String("quiet", "", "quiet hours HH:MM-HH:MM in that zone, e.g. 21:00-08:00")
	id, _, err := oneID(fs, args, out)
	if err != nil {
		return err
	}
	body := map[string]any{}
	for name, v := range map[string]string{"windowStart": *start, "windowEnd": *end} {
		if v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return fmt.Errorf("--%s: use RFC 3339, e.g. 2026-03-01T09:00:00-05:00", map[string]string{"windowStart": "window-start", "windowEnd": "window-end"}[name])
			}
			body[name] = t
		}
	}
	if *tz != "" {
		body["timeZone"] = *tz
	}
	if *quiet != "" {
		from, to, ok := strings.Cut(*quiet, "-")
		if !ok {
			return errors.New("--quiet: use HH:MM-HH:MM")
		}
		body["quietHours"] = map[string]string{"start": from, "end": to}
	}
	var v campaigns.View
	if err := c.do(ctx, "POST", "/v1/campaigns/"+url.PathEscape(id)+"/schedule", body, &v); err != nil {
		return err
	}
	fmt.Fprintf(out, "campaign %s is %s: %d recipients\n", v.ID, v.State, v.Progress.Total)
	return nil
}

func campaignStatus(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("campaign status", flag.ContinueOnError)
	watch := fs.Bool("watch", false, "follow the campaign until it ends")
	interval := fs.Duration("interval", 2*time.Second, "how often --watch asks")
	id, _, err := oneID(fs, args, out)
	if err != nil {
		return err
	}
	path := "/v1/campaigns/" + url.PathEscape(id)
	var v campaigns.View
	if !*watch {
		if err := c.do(ctx, "GET", path+"?exact=true", nil, &v); err != nil {
			return err
		}
		printSummary(out, v)
		return nil
	}
	bar := newBar(out, "sending", 0)
	for {
		if err := c.do(ctx, "GET", path, nil, &v); err != nil {
			bar.done()
			return err
		}
		p := v.Progress
		bar.total = p.Total
		bar.suffix = fmt.Sprintf("%s  queued %d  failed %d  opted out %d", v.State, p.Queued, p.Failed, p.OptedOut)
		bar.set(p.Total - p.Queued - p.Sending)
		if v.State.Final() {
			break
		}
		select {
		case <-ctx.Done():
			bar.done()
			return ctx.Err()
		case <-time.After(*interval):
		}
	}
	bar.done()
	if err := c.do(ctx, "GET", path+"?exact=true", nil, &v); err != nil {
		return err
	}
	printSummary(out, v)
	return nil
}

func printSummary(out io.Writer, v campaigns.View) {
	p := v.Progress
	fmt.Fprintf(out, "campaign %s %q: %s\n", v.ID, v.Name, v.State)
	fmt.Fprintf(out, "  total %d  queued %d  sending %d  sent %d  delivered %d  bounced %d  complained %d  opted out %d  skipped %d  failed %d  unsent %d\n",
		p.Total, p.Queued, p.Sending, p.Sent, p.Delivered, p.Bounced, p.Complained, p.OptedOut, p.Skipped, p.Failed, p.Unsent)
	if !v.Started.IsZero() && !v.Finished.IsZero() {
		d := v.Finished.Sub(v.Started)
		fmt.Fprintf(out, "  ran %s", d.Round(time.Second))
		if s := d.Seconds(); s > 0 {
			fmt.Fprintf(out, " (%.1f e-mails/s)", float64(p.Sent)/s)
		}
		fmt.Fprintln(out)
	}
}

func campaignPreview(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("campaign preview", flag.ContinueOnError)
	limit := fs.Int("limit", 3, "how many recipients (at most 20)")
	id, _, err := oneID(fs, args, out)
	if err != nil {
		return err
	}
	var res struct{ Items []campaigns.PreviewMail }
	if err := c.do(ctx, "GET", "/v1/campaigns/"+url.PathEscape(id)+"/preview?limit="+strconv.Itoa(*limit), nil, &res); err != nil {
		return err
	}
	for _, m := range res.Items {
		fmt.Fprintf(out, "--- line %d, to %s\nSubject: %s\n\n%s\n", m.Line, m.To, m.Subject, m.Text)
	}
	return nil
}

// bar draws a progress bar: redrawn in place on a terminal, one line per
// change of at least 10% otherwise (logs stay short).
type bar struct {
	out      io.Writer
	label    string
	total    int
	cur      int
	suffix   string
	tty      bool
	lastPct  int
	drawn    bool
	lastLine string
}

func newBar(out io.Writer, label string, total int) *bar {
	b := &bar{out: out, label: label, total: total, lastPct: -100}
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

func (b *bar) set(n int) {
	b.cur = n
	pct := 0
	if b.total > 0 {
		pct = min(100, n*100/b.total)
	}
	const width = 30
	fill := pct * width / 100
	line := fmt.Sprintf("%s [%s%s] %3d%% %d/%d  %s", b.label, strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, n, b.total, b.suffix)
	switch {
	case b.tty:
		fmt.Fprintf(b.out, "\r%s\033[K", line)
		b.drawn = true
	case pct-b.lastPct >= 10 || (pct == 100 && b.lastPct != 100):
		fmt.Fprintln(b.out, line)
		b.lastPct = pct
	}
	b.lastLine = line
}

func (b *bar) done() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.out)
	}
}
