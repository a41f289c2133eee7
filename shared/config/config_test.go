package config

import (
	"strings"
	"testing"
)

func lookupFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func valid() map[string]string {
	m := map[string]string{}
	c := Config{Table: "t", KeyID: "alias/k", TriageQueueURL: "http://127.0.0.1:1/q/a", NotifyQueueURL: "http://127.0.0.1:1/q/b",
		CampaignQueueURL: "http://127.0.0.1:1/q/c", Sender: "no-reply@example.org", Bucket: "b",
		BucketKeyID: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", JWKSURL: "http://127.0.0.1:2/jwks",
		Issuer: "http://127.0.0.1:2", Audience: "client", PublicURL: "https://clinic.example.org", SESRate: 50}
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestLoadRoundTrip(t *testing.T) {
	c, err := FromLookup(lookupFrom(valid()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.SESRate, 50.0; got != want {
		t.Errorf("SESRate = %v, want %v", got, want)
	}
	if got, want := c.Table, "t"; got != want {
		t.Errorf("Table = %q, want %q", got, want)
	}
	if got, want := c.BucketKeyID, "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"; got != want {
		t.Errorf("BucketKeyID = %q, want %q", got, want)
	}
}

// The bucket key is compared with the ARN S3 reports for an object, so an
// alias or a bare key id is refused at start rather than at every upload.
func TestBucketKeyMustBeAnARN(t *testing.T) {
	for _, v := range []string{"alias/carepost-storage", "1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:123456789012:alias/carepost-storage"} {
		m := valid()
		m["CAREPOST_BUCKET_KEY_ID"] = v
		if _, err := FromLookup(lookupFrom(m)); err == nil || !strings.Contains(err.Error(), "CAREPOST_BUCKET_KEY_ID must be a KMS key ARN") {
			t.Errorf("CAREPOST_BUCKET_KEY_ID=%s: error %v", v, err)
		}
	}
}

func TestLoadListsEveryProblem(t *testing.T) {
	m := valid()
	delete(m, "CAREPOST_TABLE")
	delete(m, "CAREPOST_ISSUER")
	m["CAREPOST_SES_RATE"] = "fast"
	m["CAREPOST_PUBLIC_URL"] = "clinic.example.org"
	m["CAREPOST_SENDER"] = "nobody"
	_, err := FromLookup(lookupFrom(m))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"CAREPOST_TABLE is not set", "CAREPOST_ISSUER is not set", "CAREPOST_SES_RATE must be", "CAREPOST_PUBLIC_URL is not an http(s) URL", "CAREPOST_SENDER is not an e-mail"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestOptionalDefaults(t *testing.T) {
	m := valid()
	delete(m, "CAREPOST_SES_RATE")
	delete(m, "CAREPOST_CONFIG_SET")
	delete(m, "CAREPOST_BUCKET_KEY_ID")
	c, err := FromLookup(lookupFrom(m))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.SESRate, 14.0; got != want {
		t.Errorf("default SESRate = %v, want %v", got, want)
	}
}
