package admin

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

func validPractice() carepost.Practice {
	p := DefaultPractice("clinic-x", "Clinic X", "America/New_York")
	p.Staff = map[string]carepost.StaffRef{
		"nurse-1": {Name: "N", Role: carepost.RoleNurse},
		"doc-1":   {Name: "D", Role: carepost.RoleClinician},
		"gone-1":  {Name: "G", Role: carepost.RoleNurse, Disabled: true},
	}
	p.Pools[1].Members = []string{"nurse-1"}
	return p
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *carepost.Practice)
		field  string // "" valid
	}{
		{"default practice", func(p *carepost.Practice) {}, ""},
		{"routing to a missing pool", func(p *carepost.Practice) { p.Routing[carepost.CategoryPrescription] = carepost.PoolOwner("pharmacy") }, "routing.prescription"},
		{"routing to a clinician", func(p *carepost.Practice) { p.Routing[carepost.CategoryTestResult] = carepost.UserOwner("doc-1") }, ""},
		{"routing to a disabled member", func(p *carepost.Practice) { p.Routing[carepost.CategoryTestResult] = carepost.UserOwner("gone-1") }, "routing.test_result"},
		{"routing to a stranger", func(p *carepost.Practice) {
			p.Routing[carepost.CategoryTestResult] = carepost.UserOwner("other-practice-user")
		}, "routing.test_result"},
		{"routing owner without kind", func(p *carepost.Practice) { p.Routing[carepost.CategoryQuestion] = "nurses" }, "routing.question"},
		{"unknown category", func(p *carepost.Practice) { p.Routing["gossip"] = carepost.PoolOwner("nurses") }, "routing.gossip"},
		{"no frontdesk and a category without rule", func(p *carepost.Practice) {
			p.Pools = p.Pools[1:]
			p.OnCallPool = "nurses"
			for c, o := range p.Routing {
				if o == carepost.PoolOwner("frontdesk") {
					delete(p.Routing, c)
				}
			}
		}, "routing.appointment"},
		{"time zone that does not load", func(p *carepost.Practice) { p.TimeZone = "Mars/Olympus_Mons" }, "timeZone"},
		{"Local is not a practice zone", func(p *carepost.Practice) { p.TimeZone = "Local" }, "timeZone"},
		{"hours not HH:MM", func(p *carepost.Practice) { p.Hours[0].Open = "8:00" }, "hours[0].open"},
		{"hours 24:00", func(p *carepost.Practice) { p.Hours[0].Close = "24:00" }, "hours[0].close"},
		{"close before open", func(p *carepost.Practice) { p.Hours[2].Open, p.Hours[2].Close = "17:00", "08:00" }, "hours[2].close"},
		{"open equals close", func(p *carepost.Practice) { p.Hours[2].Open, p.Hours[2].Close = "09:00", "09:00" }, "hours[2].close"},
		{"overlapping intervals", func(p *carepost.Practice) {
			p.Hours = append(p.Hours, carepost.OpeningHours{Day: time.Monday, Open: "16:00", Close: "19:00"})
		}, "hours[5]"},
		{"split day", func(p *carepost.Practice) {
			p.Hours[0].Close = "12:00"
			p.Hours = append(p.Hours, carepost.OpeningHours{Day: time.Monday, Open: "13:00", Close: "17:00"})
		}, ""},
		{"day out of range", func(p *carepost.Practice) { p.Hours[0].Day = 7 }, "hours[0].day"},
		{"holiday not a date", func(p *carepost.Practice) { p.Holidays = []string{"2026-12-25", "12/31/2026"} }, "holidays[1]"},
		{"holiday impossible date", func(p *carepost.Practice) { p.Holidays = []string{"2026-02-30"} }, "holidays[0]"},
		{"turnaround zero", func(p *carepost.Practice) { p.Turnaround[carepost.CategoryBilling] = 0 }, "turnaroundHours.billing"},
		{"pool name with spaces", func(p *carepost.Practice) { p.Pools[0].Name = "front desk" }, "pools[0].name"},
		{"duplicate pool", func(p *carepost.Practice) { p.Pools = append(p.Pools, carepost.Pool{Name: "nurses"}) }, "pools[2].name"},
		{"pool member not staff", func(p *carepost.Practice) { p.Pools[0].Members = []string{"nurse-1", "someone"} }, "pools[0].members[1]"},
		{"lead outside pool", func(p *carepost.Practice) { p.Pools[1].Lead = "doc-1" }, "pools[1].lead"},
		{"on-call pool missing", func(p *carepost.Practice) { p.OnCallPool = "oncall" }, "onCallPool"},
		{"on-call phone", func(p *carepost.Practice) { p.OnCallPhone = "call me" }, "onCallPhone"},
		{"escalation to a missing pool", func(p *carepost.Practice) { p.EscalationChain = []carepost.Owner{carepost.PoolOwner("x")} }, "escalationChain[0]"},
		{"retention too short", func(p *carepost.Practice) { p.RetentionDays = 30 }, "retentionDays"},
		{"proxy adult age", func(p *carepost.Practice) { p.ProxyAdultAge = 40 }, "proxyAdultAge"},
		{"empty name", func(p *carepost.Practice) { p.Name = "" }, "name"},
		{"urgent term too short", func(p *carepost.Practice) { p.UrgentTerms = []string{"x"} }, "urgentTerms[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := validPractice()
			tc.change(&p)
			err := Validate(p)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want valid", err)
				}
				return
			}
			var ce *carepost.Error
			if err == nil || !asError(err, &ce) {
				t.Fatalf("Validate: %v, want a 422 on %s", err, tc.field)
			}
			if got, want := ce.Code, carepost.CodeValidation; got != want {
				t.Errorf("code = %s, want %s", got, want)
			}
			if got, want := ce.Field, tc.field; got != want {
				t.Errorf("field = %q, want %q (%s)", got, want, ce.Message)
			}
		})
	}
}

func asError(err error, target **carepost.Error) bool {
	e, ok := err.(*carepost.Error)
	*target = e
	return ok
}

func TestSettingsApplyKeepsAbsentFields(t *testing.T) {
	p := validPractice()
	tz := "Europe/Berlin"
	changed := Settings{TimeZone: &tz}.apply(&p)
	if got, want := strings.Join(changed, ","), "timeZone"; got != want {
		t.Errorf("changed = %s, want %s", got, want)
	}
	if got, want := p.TimeZone, tz; got != want {
		t.Errorf("TimeZone = %s, want %s", got, want)
	}
	if got, want := len(p.Hours), 5; got != want {
		t.Errorf("hours kept = %d, want %d", got, want)
	}
}

func TestDedupKey(t *testing.T) {
	k1, k2 := []byte("practice-one-key-0123456789abcdef"), []byte("practice-two-key-0123456789abcdef")
	c := carepost.Contact{FirstName: "Ada", LastName: "Lovelace", BirthDate: "1990-12-10", Email: "ada@example.test"}
	same := carepost.Contact{FirstName: "  ADA ", LastName: "lovelace", BirthDate: "1990-12-10", Email: "Ada@Example.test", Phone: "+1 555 0100"}
	other := c
	other.BirthDate = "1990-12-11"
	if got, want := DedupKey(k1, same), DedupKey(k1, c); got != want {
		t.Errorf("case and spacing changed the key")
	}
	if DedupKey(k1, other) == DedupKey(k1, c) {
		t.Errorf("a different birth date gave the same key")
	}
	if DedupKey(k2, c) == DedupKey(k1, c) {
		t.Errorf("two practices' keys gave the same hash")
	}
	// Fields are separated: moving letters between fields changes the key.
	shifted := c
	shifted.FirstName, shifted.LastName = "AdaL", "ovelace"
	if DedupKey(k1, shifted) == DedupKey(k1, c) {
		t.Errorf("field boundaries are not part of the key")
	}
	if k := DedupKey(k1, c); strings.Contains(strings.ToLower(k), "ada") || len(k) != 64 {
		t.Errorf("key %q is not an opaque 32-byte hex digest", k)
	}
}

func TestAgeOn(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tests := []struct {
		birth, on string
		want      int
	}{
		{"2008-06-15", "2026-06-14", 17},
		{"2008-06-15", "2026-06-15", 18},
		{"2008-02-29", "2026-02-28", 17},
		{"2008-02-29", "2026-03-01", 18},
		{"2000-01-01", "2000-01-01", 0},
	}
	for _, tc := range tests {
		got, ok := AgeOn(tc.birth, day(tc.on))
		if !ok || got != tc.want {
			t.Errorf("AgeOn(%s, %s) = %d, %v; want %d", tc.birth, tc.on, got, ok, tc.want)
		}
	}
	if _, ok := AgeOn("not a date", time.Now()); ok {
		t.Errorf("AgeOn accepted a malformed date")
	}
}

func TestNarrowScope(t *testing.T) {
	tests := []struct {
		name string
		in   carepost.ProxyScope
		want string // categories, or "-" when nothing is left
	}{
		{"everything", carepost.ProxyScope{Read: true, Write: true}, "appointment,billing,forms"},
		{"clinical only", carepost.ProxyScope{Read: true, Categories: []string{"question", "prescription"}}, "-"},
		{"mixed", carepost.ProxyScope{Read: true, Write: true, Categories: []string{"question", "billing"}}, "billing"},
	}
	for _, tc := range tests {
		got, ok := narrowScope(tc.in)
		if tc.want == "-" {
			if ok {
				t.Errorf("%s: kept %+v, want nothing", tc.name, got)
			}
			continue
		}
		if !ok || got.Write || !got.Read || strings.Join(got.Categories, ",") != tc.want {
			t.Errorf("%s: narrowScope = %+v, %v; want read-only %s", tc.name, got, ok, tc.want)
		}
	}
}

func TestParseCSVReportsLineNumbers(t *testing.T) {
	text := "First Name,last_name,DOB,Email,Phone\n" +
		"Ada,Lovelace,1990-12-10,ada@example.test,\n" +
		"\n" +
		"\"Grace\nMarie\",Hopper,1985-01-02,grace@example.test,+1 555 0101\n" +
		"Alan,Turing,1980-06-23,alan@example.test\n"
	rows, problems, n, err := parseCSV(text, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 3; got != want {
		t.Errorf("rows counted = %d, want %d", got, want)
	}
	if len(problems) != 0 {
		t.Errorf("problems = %+v", problems)
	}
	var lines []int
	for _, r := range rows {
		lines = append(lines, r.line)
	}
	if got, want := lines, []int{2, 4, 6}; !slices.Equal(got, want) {
		t.Errorf("lines = %v, want %v", got, want)
	}
	// A chunk of a bigger file reports the file's lines.
	rows, _, _, err = parseCSV("firstName,lastName,birthDate,email\nA,B,2000-01-01,a@b.test\n", 101)
	if err != nil || len(rows) != 1 || rows[0].line != 102 {
		t.Errorf("chunk line = %+v, %v; want line 102", rows, err)
	}
	for _, bad := range []string{"", "firstName,lastName,email\n", "firstName,firstname,lastName,birthDate,email\n"} {
		if _, _, _, err := parseCSV(bad, 1); carepost.ErrorCode(err) != carepost.CodeValidation {
			t.Errorf("parseCSV(%q) = %v, want a 422", bad, err)
		}
	}
}

func TestCodes(t *testing.T) {
	c := newCode()
	if got, want := len(c), 19; got != want {
		t.Fatalf("code %q has %d characters, want %d", c, got, want)
	}
	if got, want := codeHash("p1", strings.ToLower(strings.ReplaceAll(c, "-", " "))), codeHash("p1", c); got != want {
		t.Errorf("a code typed in lower case with spaces does not match")
	}
	if codeHash("p2", c) == codeHash("p1", c) {
		t.Errorf("the same code hashes alike in two practices")
	}
	if newCode() == c {
		t.Errorf("two codes are equal")
	}
}

func TestRemoveStaff(t *testing.T) {
	p := validPractice()
	p.Routing[carepost.CategoryTestResult] = carepost.UserOwner("doc-1")
	p.Pools[1].Members = []string{"nurse-1", "doc-1"}
	p.Pools[1].Lead = "doc-1"
	p.EscalationChain = []carepost.Owner{carepost.UserOwner("doc-1"), carepost.PoolOwner("nurses")}
	changed := removeStaff(&p, "doc-1")
	if got, want := strings.Join(changed, ","), "pools.nurses,routing.test_result,escalationChain"; got != want {
		t.Errorf("changed = %s, want %s", got, want)
	}
	if got, want := p.Routing[carepost.CategoryTestResult], carepost.PoolOwner("nurses"); got != want {
		t.Errorf("test_result routes to %s, want the on-call pool %s", got, want)
	}
	if err := Validate(p); err != nil {
		t.Errorf("settings after removal do not validate: %v", err)
	}
	if !p.Staff["doc-1"].Disabled {
		t.Errorf("staff entry not marked disabled")
	}
}

func TestValidateContact(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	good := carepost.Contact{FirstName: "Ada", LastName: "Lovelace", BirthDate: "1990-12-10", Email: "ada@example.test"}
	tests := []struct {
		name  string
		edit  func(c *carepost.Contact)
		field string
	}{
		{"good", func(c *carepost.Contact) {}, ""},
		{"no first name", func(c *carepost.Contact) { c.FirstName = " " }, "firstName"},
		{"birth date format", func(c *carepost.Contact) { c.BirthDate = "10/12/1990" }, "birthDate"},
		{"born tomorrow", func(c *carepost.Contact) { c.BirthDate = "2026-05-02" }, "birthDate"},
		{"email", func(c *carepost.Contact) { c.Email = "ada.example.test" }, "email"},
		{"phone", func(c *carepost.Contact) { c.Phone = "ask her" }, "phone"},
		{"markup in name", func(c *carepost.Contact) { c.LastName = "<b>x</b>" }, "lastName"},
	}
	for _, tc := range tests {
		c := good
		tc.edit(&c)
		err := ValidateContact(c, now)
		var ce *carepost.Error
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!asError(err, &ce) || ce.Field != tc.field):
			t.Errorf("%s: %v, want a problem with %s", tc.name, err, tc.field)
		case tc.field != "" && strings.Contains(ce.Message, c.Email):
			t.Errorf("%s: the message quotes the input", tc.name)
		}
	}
}

// fakeVerifier and fakeUsers drive Revocation.
type fakeVerifier struct{ p carepost.Principal }

func (f fakeVerifier) Verify(ctx context.Context, bearer string) (carepost.Principal, error) {
	return f.p, nil
}

type fakeUsers map[string]carepost.UserRecord

func (f fakeUsers) User(ctx context.Context, pid, sub string) (carepost.UserRecord, error) {
	u, ok := f[pid+"/"+sub]
	if !ok {
		return u, carepost.NotFound("user")
	}
	return u, nil
}

var (
	_ TokenVerifier = fakeVerifier{}
	_ UserRecords   = fakeUsers{}
)

func TestRevocation(t *testing.T) {
	full := []carepost.Grant{{PatientID: "p1", Scope: carepost.ProxyScope{Read: true, Write: true}}}
	users := fakeUsers{
		"c1/nurse":    {Subject: "nurse", Role: carepost.RoleNurse},
		"c1/gone":     {Subject: "gone", Role: carepost.RoleNurse, Disabled: true},
		"c1/promoted": {Subject: "promoted", Role: carepost.RoleAdmin},
		"c1/proxy":    {Subject: "proxy", Role: carepost.RoleProxy},
		"c1/pat":      {Subject: "pat", Role: carepost.RolePatient, PatientID: "p9"},
	}
	tests := []struct {
		name   string
		p      carepost.Principal
		code   carepost.Code
		grants int
	}{
		{"active nurse", carepost.Principal{Subject: "nurse", Role: carepost.RoleNurse, PracticeID: "c1"}, "", 0},
		{"disabled", carepost.Principal{Subject: "gone", Role: carepost.RoleNurse, PracticeID: "c1"}, carepost.CodeUnauthenticated, 0},
		{"role changed", carepost.Principal{Subject: "promoted", Role: carepost.RoleNurse, PracticeID: "c1"}, carepost.CodeUnauthenticated, 0},
		{"proxy grants come from the record", carepost.Principal{Subject: "proxy", Role: carepost.RoleProxy, PracticeID: "c1", Grants: full}, "", 0},
		{"patient id must match", carepost.Principal{Subject: "pat", Role: carepost.RolePatient, PracticeID: "c1", PatientID: "p1"}, carepost.CodeUnauthenticated, 0},
		{"no record", carepost.Principal{Subject: "legacy", Role: carepost.RoleProxy, PracticeID: "c1", Grants: full}, "", 1},
		{"operator", carepost.Principal{Subject: "op", Role: carepost.RoleOperator}, "", 0},
	}
	for _, tc := range tests {
		got, err := Revocation{Next: fakeVerifier{tc.p}, Users: users}.Verify(context.Background(), "token")
		if c := carepost.ErrorCode(err); c != tc.code {
			t.Errorf("%s: code %q, want %q", tc.name, c, tc.code)
			continue
		}
		if err == nil && len(got.Grants) != tc.grants {
			t.Errorf("%s: %d grants, want %d", tc.name, len(got.Grants), tc.grants)
		}
	}
}

// FuzzParseCSV: any input is either refused with a coded error or parsed
// into rows and problems whose line numbers lie within the text.
func FuzzParseCSV(f *testing.F) {
	f.Add("firstName,lastName,birthDate,email\nAda,Lovelace,1990-12-10,ada@example.test\n", 1)
	f.Add("firstName,lastName,birthDate,email\n\"unterminated,x\n", 5)
	f.Add("\ufeffdob,email,surname,given name\n1990-01-01,a@b.test,X,Y\n\n\n", 1)
	f.Fuzz(func(t *testing.T, text string, first int) {
		if first < 1 || first > 1_000_000 {
			first = 1
		}
		rows, problems, _, err := parseCSV(text, first)
		if err != nil {
			if carepost.ErrorCode(err) == carepost.CodeInternal {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		maxLine := first + strings.Count(text, "\n") + strings.Count(text, "\r")
		for _, r := range rows {
			if r.line < first || r.line > maxLine {
				t.Fatalf("row line %d outside %d..%d", r.line, first, maxLine)
			}
		}
		for _, p := range problems {
			if p.Line < first || p.Line > maxLine {
				t.Fatalf("problem line %d outside %d..%d", p.Line, first, maxLine)
			}
		}
	})
}
