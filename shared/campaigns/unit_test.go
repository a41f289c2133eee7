package campaigns

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

func TestParseCSV(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		offset   int
		wantRows string // "line:email" joined by space
		wantBad  string // "line:reason-prefix" joined by |
		wantErr  string
	}{
		{"good, any column order and case", "FirstName,Email\nAda,ada@x.test\nBob,bob@x.test\n", 0, "2:ada@x.test 3:bob@x.test", "", ""},
		{"patient id", "email,first_name,patient_id\nada@x.test,Ada,pat-1\n", 0, "2:ada@x.test", "", ""},
		{"BOM and CRLF", "\uFEFFemail,firstName\r\nada@x.test,Ada\r\n", 0, "2:ada@x.test", "", ""},
		{"blank lines skipped, numbers kept", "email,firstName\n\nada@x.test,Ada\n\nbob@x.test,Bob\n", 0, "3:ada@x.test 5:bob@x.test", "", ""},
		{"bad rows with reasons", "email,firstName\nnot-an-address,Ada\nbob@x.test,\ncy@x.test,Cy,extra\nada@x.test,Ada\nADA@x.test,Ada\n", 0,
			"5:ada@x.test", "2:email is not a valid|3:firstName is empty|4:wrong number of fields|6:duplicate e-mail address (first on line 5)", ""},
		{"quoted field over two lines keeps numbering", "email,firstName\n\"ada@x.test\",\"Ada\nLovelace\"\nbob@x.test,Bob\n", 0, "4:bob@x.test", "2:firstName contains", ""},
		{"markup refused", "email,firstName\nada@x.test,<b>Ada</b>\n", 0, "", "2:firstName contains", ""},
		{"line offset for a piece of a file", "email,firstName\nada@x.test,Ada\nbad,Bob\n", 998, "1000:ada@x.test", "1001:email is not", ""},
		{"unknown column refused", "email,firstName,diagnosis\n", 0, "", "", "column 3 is not one of"},
		{"missing email column", "firstName\nAda\n", 0, "", "", "no email column"},
		{"duplicate column", "email,firstName,Email\n", 0, "", "", "appears twice"},
		{"empty", "", 0, "", "", "empty"},
		{"broken quote stops", "email,firstName\nada@x.test,\"Ada\nbob@x.test,Bob\n", 0, "", "2:not valid CSV", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, bad, err := ParseCSV(tc.text, tc.offset)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, fmt.Sprintf("%d:%s", r.Line, r.Email))
			}
			if g, w := strings.Join(got, " "), tc.wantRows; g != w {
				t.Errorf("rows = %q, want %q", g, w)
			}
			var gotBad []string
			for _, b := range bad {
				gotBad = append(gotBad, fmt.Sprintf("%d:%s", b.Line, b.Reason))
			}
			wantBad := strings.Split(tc.wantBad, "|")
			if tc.wantBad == "" {
				wantBad = nil
			}
			if len(gotBad) != len(wantBad) {
				t.Fatalf("bad rows = %q, want %q", gotBad, wantBad)
			}
			for i := range wantBad {
				if !strings.HasPrefix(gotBad[i], wantBad[i]) {
					t.Errorf("bad row %d = %q, want prefix %q", i, gotBad[i], wantBad[i])
				}
			}
		})
	}
}

func TestBadRowReasonsNeverEchoContent(t *testing.T) {
	secret := "Zanzibarovna"
	text := "email,firstName\n" + secret + "@@x,Ada\nada@x.test," + strings.Repeat(secret, 20) + "\nada@x.test,<" + secret + ">\n"
	_, bad, err := ParseCSV(text, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		if strings.Contains(b.Reason, secret) {
			t.Errorf("line %d reason repeats the row: %q", b.Line, b.Reason)
		}
	}
	if got, want := len(bad), 3; got != want {
		t.Errorf("bad rows = %d, want %d", got, want)
	}
}

func TestValidateTemplate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tmpl      carepost.CampaignTemplate
		wantField string
	}{
		{"good", carepost.CampaignTemplate{Subject: "Flu shots at {{practiceName}}", Text: "Hi {{firstName}}, ... {{unsubscribeUrl}}"}, ""},
		{"good without unsubscribe (footer added)", carepost.CampaignTemplate{Subject: "Hello", Text: "Hi {{ firstName }}"}, ""},
		{"unknown placeholder", carepost.CampaignTemplate{Subject: "Hello", Text: "Hi {{fristName}}"}, "template.text"},
		{"placeholder for patient data", carepost.CampaignTemplate{Subject: "Your {{diagnosis}}", Text: "x"}, "template.subject"},
		{"unclosed", carepost.CampaignTemplate{Subject: "Hello", Text: "Hi {{firstName"}, "template.text"},
		{"empty subject", carepost.CampaignTemplate{Subject: " ", Text: "x"}, "template.subject"},
		{"two-line subject", carepost.CampaignTemplate{Subject: "a\nBcc: x@y", Text: "x"}, "template.subject"},
		{"empty text", carepost.CampaignTemplate{Subject: "a", Text: ""}, "template.text"},
		{"unsubscribe in subject", carepost.CampaignTemplate{Subject: "{{unsubscribeUrl}}", Text: "x"}, "template.subject"},
		{"long text", carepost.CampaignTemplate{Subject: "a", Text: strings.Repeat("x", MaxText+1)}, "template.text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateTemplate(tc.tmpl)
			var field string
			if e, ok := err.(*carepost.Error); ok {
				field = e.Field
			} else if err != nil {
				t.Fatalf("not a domain error: %v", err)
			}
			if got, want := field, tc.wantField; got != want {
				t.Errorf("field = %q, want %q (%v)", got, want, err)
			}
		})
	}
}

func TestRender(t *testing.T) {
	vars := map[string]string{"firstName": "Ada\nBcc: evil@x", "practiceName": "Demo Clinic", "unsubscribeUrl": "https://u/x"}
	s, text := render(carepost.CampaignTemplate{Subject: "Hi {{firstName}}", Text: "Hello {{firstName}} from {{practiceName}}"}, vars)
	if strings.Contains(s, "\n") {
		t.Errorf("a value added a line to the subject: %q", s)
	}
	if !strings.Contains(text, "https://u/x") {
		t.Errorf("text has no unsubscribe link: %q", text)
	}
	_, placed := render(carepost.CampaignTemplate{Subject: "x", Text: "Stop: {{unsubscribeUrl}}"}, vars)
	if got, want := strings.Count(placed, "https://u/x"), 1; got != want {
		t.Errorf("unsubscribe links = %d, want %d (no footer when placed)", got, want)
	}
}

func TestSendable(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	base := carepost.Campaign{TimeZone: "America/New_York", Quiet: carepost.QuietHours{Start: "21:00", End: "08:00"},
		WindowStart: at("2026-03-02T00:00:00Z"), WindowEnd: at("2026-03-05T00:00:00Z")}
	noQuiet := base
	noQuiet.Quiet = carepost.QuietHours{}
	dayQuiet := base
	dayQuiet.Quiet = carepost.QuietHours{Start: "12:00", End: "13:00"}
	for _, tc := range []struct {
		name string
		c    carepost.Campaign
		now  string
		want bool
	}{
		{"before the window", base, "2026-03-01T18:00:00Z", false},
		{"10:00 New York", base, "2026-03-02T15:00:00Z", true},
		{"21:30 New York (quiet, spans midnight)", base, "2026-03-03T02:30:00Z", false},
		{"07:59 New York (quiet)", base, "2026-03-03T12:59:00Z", false},
		{"08:00 New York", base, "2026-03-03T13:00:00Z", true},
		{"after the window", base, "2026-03-05T15:00:00Z", false},
		{"no quiet hours at night", noQuiet, "2026-03-03T02:30:00Z", true},
		{"midday quiet", dayQuiet, "2026-03-03T17:30:00Z", false},
		{"midday quiet over", dayQuiet, "2026-03-03T18:00:00Z", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sendable(tc.c, at(tc.now)); got != tc.want {
				t.Errorf("Sendable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLimiterHoldsTheRate(t *testing.T) {
	const rate, n = 500.0, 250
	l := NewLimiter(rate, 0) // burst 100
	start := time.Now()
	done := make(chan struct{})
	for range 10 { // ten senders share the bucket
		go func() {
			for range n / 10 {
				if err := l.Wait(context.Background()); err != nil {
					t.Error(err)
				}
			}
			done <- struct{}{}
		}()
	}
	for range 10 {
		<-done
	}
	elapsed := time.Since(start)
	// The first burst is free; the rest comes at the rate.
	want := time.Duration(float64(n-100) / rate * float64(time.Second))
	if elapsed < want*9/10 || elapsed > want*3/2+50*time.Millisecond {
		t.Errorf("%d tokens at %.0f/s took %v, want about %v", n, rate, elapsed, want)
	}
}

func TestLimiterBackoffAndCancel(t *testing.T) {
	l := NewLimiter(1000, 1)
	_ = l.Wait(context.Background())
	l.Backoff() // 1 s of debt
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := l.Wait(ctx); err == nil {
		t.Fatalf("Wait during a back-off returned after %v, want it to block past the context", time.Since(start))
	}
	// The cancelled waiter gave its token back; after Success a short
	// back-off is 1 s again, not doubled.
	l.Success()
	l.Backoff()
	if got := l.backoff; got != time.Second {
		t.Errorf("back-off after Success = %v, want 1s", got)
	}
	l.Backoff()
	if got := l.backoff; got != 2*time.Second {
		t.Errorf("second back-off = %v, want 2s", got)
	}
}
