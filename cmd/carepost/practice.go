package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

func init() {
	commands["practice"] = command{summary: "set up and show the practice: init, show, agreement; operators: create, list, suspend, resume",
		run: adminGroup("practice", map[string]adminVerb{
			"init": practiceInit, "show": practiceShow, "agreement": practiceAgreement,
			"create": practiceCreate, "list": practiceList,
			"suspend": func(ctx context.Context, c *apiClient, a []string, out io.Writer) error {
				return practiceSuspend(ctx, c, a, out, true)
			},
			"resume": func(ctx context.Context, c *apiClient, a []string, out io.Writer) error {
				return practiceSuspend(ctx, c, a, out, false)
			},
		})}
}

var weekdays = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

// parseHours reads "mon-fri=08:00-17:00,sat=09:00-12:00" into the API's
// opening hours (the API validates the times).
func parseHours(spec string) ([]map[string]any, error) {
	var out []map[string]any
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		days, span, ok := strings.Cut(part, "=")
		open, close, ok2 := strings.Cut(span, "-")
		if !ok || !ok2 {
			return nil, fmt.Errorf("--hours: %q is not DAY[-DAY]=HH:MM-HH:MM", part)
		}
		from, to, _ := strings.Cut(strings.ToLower(days), "-")
		if to == "" {
			to = from
		}
		a, okA := weekdays[from[:min(3, len(from))]]
		b, okB := weekdays[to[:min(3, len(to))]]
		if !okA || !okB || b < a {
			return nil, fmt.Errorf("--hours: %q does not name days like mon-fri or sat", days)
		}
		for d := a; d <= b; d++ {
			out = append(out, map[string]any{"day": d, "open": open, "close": close})
		}
	}
	return out, nil
}

// parsePool reads "name" or "name=SUB1+SUB2" (members by subject).
func parsePool(spec string) map[string]any {
	name, members, _ := strings.Cut(spec, "=")
	p := map[string]any{"name": strings.TrimSpace(name), "members": []string{}}
	if members != "" {
		p["members"] = strings.Split(members, "+")
	}
	return p
}

// practiceInit sets the practice up in one call: every setting given is
// sent in one PUT /v1/practice, validated as a whole by the API.
func practiceInit(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	fs := adminFlags("practice init")
	name := fs.String("name", "", "practice name")
	tz := fs.String("timezone", "", "IANA time zone, e.g. America/New_York")
	hours := fs.String("hours", "", "opening hours, e.g. mon-fri=08:00-17:00,sat=09:00-12:00")
	holidays := fs.String("holidays", "", "closed days, e.g. 2026-12-25,2027-01-01")
	var pools, routes, turnaround repeated
	fs.Var(&pools, "pool", "a pool: NAME or NAME=SUBJECT+SUBJECT (repeatable; replaces all pools)")
	fs.Var(&routes, "route", "a routing rule CATEGORY=pool:NAME or CATEGORY=user:SUBJECT (repeatable; replaces all rules)")
	fs.Var(&turnaround, "turnaround", "a target CATEGORY=HOURS in business hours (repeatable)")
	onCallPhone := fs.String("oncall-phone", "", "the on-call phone number")
	onCallPool := fs.String("oncall-pool", "", "the pool paged for urgent messages")
	retention := fs.Int("retention-days", 0, "how long messages are kept")
	adultAge := fs.Int("proxy-adult-age", 0, "age at which a minor's proxies are narrowed")
	file := fs.String("file", "", "a JSON file of settings (the PUT /v1/practice body); flags override it")
	agreement := fs.String("agreement", "", "a text file: publish it as a new messaging agreement version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body := map[string]any{}
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &body); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	}
	set := func(k string, v any, present bool) {
		if present {
			body[k] = v
		}
	}
	set("name", *name, *name != "")
	set("timeZone", *tz, *tz != "")
	if *hours != "" {
		h, err := parseHours(*hours)
		if err != nil {
			return err
		}
		body["hours"] = h
	}
	set("holidays", strings.Split(*holidays, ","), *holidays != "")
	if len(pools) > 0 {
		var ps []map[string]any
		for _, p := range pools {
			ps = append(ps, parsePool(p))
		}
		body["pools"] = ps
	}
	if len(routes) > 0 {
		r := map[string]string{}
		for _, spec := range routes {
			c, o, ok := strings.Cut(spec, "=")
			if !ok {
				return fmt.Errorf("--route %q is not CATEGORY=OWNER", spec)
			}
			r[c] = o
		}
		body["routing"] = r
	}
	if len(turnaround) > 0 {
		t := map[string]int{}
		for _, spec := range turnaround {
			var c string
			var h int
			if n, err := fmt.Sscanf(strings.Replace(spec, "=", " ", 1), "%s %d", &c, &h); n != 2 || err != nil {
				return fmt.Errorf("--turnaround %q is not CATEGORY=HOURS", spec)
			}
			t[c] = h
		}
		body["turnaroundHours"] = t
	}
	set("onCallPhone", *onCallPhone, *onCallPhone != "")
	set("onCallPool", *onCallPool, *onCallPool != "")
	set("retentionDays", *retention, *retention != 0)
	set("proxyAdultAge", *adultAge, *adultAge != 0)
	if len(body) == 0 && *agreement == "" {
		return fmt.Errorf("nothing to set: give at least one setting (see carepost practice init -h)")
	}
	if len(body) > 0 {
		var p map[string]any
		if err := c.do(ctx, "PUT", "/v1/practice", body, &p); err != nil {
			return err
		}
		fmt.Fprintf(out, "practice %v saved (%d settings)\n", p["id"], len(body))
	}
	if *agreement != "" {
		return publishAgreement(ctx, c, out, *agreement)
	}
	return nil
}

func publishAgreement(ctx context.Context, c *apiClient, out io.Writer, path string) error {
	var text []byte
	var err error
	if path == "-" {
		text, err = io.ReadAll(os.Stdin)
	} else {
		text, err = os.ReadFile(path)
	}
	if err != nil {
		return err
	}
	var a struct{ Version int }
	if err := c.do(ctx, "PUT", "/v1/practice/agreement", map[string]string{"text": string(text)}, &a); err != nil {
		return err
	}
	fmt.Fprintf(out, "messaging agreement version %d published; patients accept it before their next message\n", a.Version)
	return nil
}

func practiceShow(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	var p any
	if err := c.do(ctx, "GET", "/v1/practice", nil, &p); err != nil {
		return err
	}
	return printJSON(out, p)
}

func practiceAgreement(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	if len(args) == 1 {
		return publishAgreement(ctx, c, out, args[0])
	}
	var a any
	if err := c.do(ctx, "GET", "/v1/practice/agreement", nil, &a); err != nil {
		return err
	}
	return printJSON(out, a)
}

func practiceCreate(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	fs := adminFlags("practice create")
	id := fs.String("id", "", "practice id (lower-case slug; generated when empty)")
	name := fs.String("name", "", "practice name")
	tz := fs.String("timezone", "America/New_York", "IANA time zone")
	adminName := fs.String("admin-name", "", "the first admin's name")
	adminEmail := fs.String("admin-email", "", "the first admin's e-mail (the invitation goes there)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ref struct{ ID, AdminSubject string }
	if err := c.do(ctx, "POST", "/v1/operator/practices", map[string]any{"id": *id, "name": *name, "timeZone": *tz,
		"admin": map[string]string{"name": *adminName, "email": *adminEmail}}, &ref); err != nil {
		return err
	}
	fmt.Fprintf(out, "practice %s created; its admin (%s) was invited by e-mail\n", ref.ID, ref.AdminSubject)
	return nil
}

func practiceList(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	var res struct {
		Items []struct {
			ID, Name, TimeZone string
			Suspended          bool
			Staff, Patients    int
		}
	}
	if err := c.do(ctx, "GET", "/v1/operator/practices", nil, &res); err != nil {
		return err
	}
	fmt.Fprintf(out, "%-24s %-30s %-20s %6s %8s %s\n", "ID", "NAME", "TIME ZONE", "STAFF", "PATIENTS", "STATE")
	for _, p := range res.Items {
		state := "active"
		if p.Suspended {
			state = "suspended"
		}
		fmt.Fprintf(out, "%-24s %-30s %-20s %6d %8d %s\n", p.ID, p.Name, p.TimeZone, p.Staff, p.Patients, state)
	}
	return nil
}

func practiceSuspend(ctx context.Context, c *apiClient, args []string, out io.Writer, suspend bool) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: carepost practice suspend|resume PRACTICE-ID")
	}
	if err := c.do(ctx, "POST", "/v1/operator/practices/"+args[0]+"/suspend", map[string]bool{"suspended": suspend}, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "practice %s %s\n", args[0], map[bool]string{true: "suspended", false: "resumed"}[suspend])
	return nil
}
