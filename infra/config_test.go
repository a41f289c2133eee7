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
		total, campaign, want int
	}{
		{14, 2, 3},   // 4 copies
		{10, 0, 2},   // unreserved campaign is still capped at 2 copies
		{50, 8, 5},   // 10 copies
		{1, 2, 1},    // never below one message per second
		{200, 2, 50}, // 4 copies
	}
	for _, tt := range tests {
		if got := sesRatePerCopy(tt.total, tt.campaign); got != tt.want {
			t.Errorf("sesRatePerCopy(%d, %d) = %d, want %d", tt.total, tt.campaign, got, tt.want)
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
			if to == f.Name {
				t.Errorf("%s sends to its own queue", f.Name)
			}
		}
		if f.Access.SendMail && f.Access.DataKey == KeyEncryptDecrypt {
			t.Errorf("%s both sends mail and encrypts; mail senders only decrypt addresses", f.Name)
		}
		if f.Trigger == TriggerQueue && f.Timeout <= 0 {
			t.Errorf("%s: timeout %v", f.Name, f.Timeout)
		}
	}
}
