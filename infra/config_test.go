package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/resources"
)

func TestConfigFromContext(t *testing.T) {
	base := map[string]string{
		ctxPracticeDomain: "clinic.example",
		ctxSender:         "no-reply@mail.clinic.example",
		ctxOnCallEmail:    "oncall@clinic.example",
	}
	tests := []struct {
		name    string
		set     map[string]string
		wantErr string // substring; "" for success
	}{
		{name: "valid", set: nil},
		{name: "defaults only", set: map[string]string{ctxPracticeDomain: "", ctxSender: "", ctxOnCallEmail: ""}},
		{name: "bad prefix", set: map[string]string{ctxPrefix: "Care_Post"}, wantErr: ctxPrefix},
		{name: "bad domain", set: map[string]string{ctxPracticeDomain: "clinic"}, wantErr: ctxPracticeDomain},
		{name: "sender at another domain", set: map[string]string{ctxSender: "x@other.example"}, wantErr: "must be an address at"},
		{name: "sender with display name", set: map[string]string{ctxSender: "Clinic <x@clinic.example>"}, wantErr: ctxSender},
		{name: "sender at a look-alike domain", set: map[string]string{ctxSender: "x@evilclinic.example"}, wantErr: "must be an address at"},
		{name: "bad on-call", set: map[string]string{ctxOnCallEmail: "nobody"}, wantErr: ctxOnCallEmail},
		{name: "retention not allowed by CloudWatch", set: map[string]string{ctxRetentionDays: "100"}, wantErr: ctxRetentionDays},
		{name: "retention not a number", set: map[string]string{ctxRetentionDays: "a year"}, wantErr: "whole number"},
		{name: "six years", set: map[string]string{ctxRetentionDays: "2192"}},
		{name: "zero SES rate", set: map[string]string{ctxSESRate: "0"}, wantErr: ctxSESRate},
		{name: "campaign concurrency 1", set: map[string]string{ctxCampaignConcurrency: "1"}, wantErr: ctxCampaignConcurrency},
		{name: "campaign unreserved", set: map[string]string{ctxCampaignConcurrency: "0"}},
		{name: "public URL not https", set: map[string]string{ctxPublicURL: "http://clinic.example"}, wantErr: ctxPublicURL},
		{name: "public URL", set: map[string]string{ctxPublicURL: "https://portal.clinic.example/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := map[string]string{}
			for k, v := range base {
				ctx[k] = v
			}
			for k, v := range tt.set {
				ctx[k] = v
			}
			c, err := ConfigFromContext(func(k string) string { return ctx[k] })
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q (config %+v)", err, tt.wantErr, c)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := ConfigFromContext(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Prefix, resources.DefaultPrefix; got != want {
		t.Errorf("Prefix = %q, want %q", got, want)
	}
	if !c.Placeholder() {
		t.Errorf("defaults are not flagged as placeholders; make deploy would accept them")
	}
	if got, want := c.Sender, "no-reply@"+c.PracticeDomain; got != want {
		t.Errorf("Sender = %q, want %q", got, want)
	}
	if got, want := c.PublicURL, ""; got != want {
		t.Errorf("PublicURL = %q, want %q (the API URL)", got, want)
	}
}

func TestRetentionValuesMapToCDK(t *testing.T) {
	for _, d := range retentionValues {
		if _, ok := retentionEnum[d]; !ok {
			t.Errorf("retention %d days has no CDK enum", d)
		}
	}
	if got, want := len(retentionEnum), len(retentionValues); got != want {
		t.Errorf("enum entries = %d, want %d", got, want)
	}
}

func TestSESRatePerCopy(t *testing.T) {
	tests := []struct {
		total, campaign int
		want            float64
	}{
		{14, 2, 2.8}, // 2 campaign + 2 notify + 1 for pages
		{10, 0, 2},   // unreserved campaign is still capped at 2 copies
		{55, 8, 5},   // 8 + 2 + 1
		{1, 2, 0.2},  // sandbox: below one per second, never above the account rate
		{200, 2, 40},
	}
	for _, tt := range tests {
		if got := sesRatePerCopy(tt.total, tt.campaign); got != tt.want {
			t.Errorf("sesRatePerCopy(%d, %d) = %v, want %v", tt.total, tt.campaign, got, tt.want)
		}
		copies := mailSenderCopies + max(tt.campaign, mailSenderCopies) + 1
		if sum := sesRatePerCopy(tt.total, tt.campaign) * float64(copies); sum > float64(tt.total)+1e-9 {
			t.Errorf("all copies together send %v/s, above the account's %d/s", sum, tt.total)
		}
	}
}

func TestAccessMatrixInvariants(t *testing.T) {
	rs := resources.For("x", "a@b.example")
	specs := Functions(rs)
	var names []string
	for _, f := range specs {
		names = append(names, f.Name)
	}
	for _, q := range rs.Queues() {
		var consumers []string
		for _, f := range specs {
			if f.Access.Consumes == q.Consumer {
				consumers = append(consumers, f.Name)
			}
		}
		if !slices.Equal(consumers, []string{q.Consumer}) {
			t.Errorf("queue %s consumed by %v, want exactly %s", q.Name, consumers, q.Consumer)
		}
	}
	for _, f := range specs {
		for _, to := range f.Access.SendTo {
			if !slices.Contains(names, to) {
				t.Errorf("%s sends to unknown queue %q", f.Name, to)
			}
		}
		if f.Access.Attachments != (f.Name == FnAPI) || f.Access.UserAdmin != (f.Name == FnAPI || f.Name == FnProxyAge) {
			t.Errorf("%s: only the API signs attachment URLs and manages users (and the proxy-age job rewrites grants)", f.Name)
		}
		if f.Access.PurgeAttachments != (f.Name == FnRetention) {
			t.Errorf("%s: only the retention job deletes attachments", f.Name)
		}
		if f.Trigger == TriggerQueue && f.Timeout <= 0 {
			t.Errorf("%s: timeout %v", f.Name, f.Timeout)
		}
	}
}
