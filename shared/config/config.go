// Package config reads CarePost's configuration from environment variables.
// A missing or malformed variable fails at start with one error that lists
// every problem, so an operator fixes them all in one go.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Config is everything a function needs to know about its deployment.
type Config struct {
	Table            string  // CAREPOST_TABLE
	KeyID            string  // CAREPOST_KEY_ID: KMS key id, ARN or alias
	TriageQueueURL   string  // CAREPOST_TRIAGE_QUEUE_URL
	NotifyQueueURL   string  // CAREPOST_NOTIFY_QUEUE_URL
	CampaignQueueURL string  // CAREPOST_CAMPAIGN_QUEUE_URL
	Sender           string  // CAREPOST_SENDER: From address of every e-mail
	ConfigSet        string  // CAREPOST_CONFIG_SET: SES configuration set (optional locally)
	Bucket           string  // CAREPOST_BUCKET: attachments
	BucketKeyID      string  // CAREPOST_BUCKET_KEY_ID: ARN of the bucket's KMS key (the storage key, not KeyID)
	JWKSURL          string  // CAREPOST_JWKS_URL
	Issuer           string  // CAREPOST_ISSUER
	Audience         string  // CAREPOST_AUDIENCE: user pool app client id
	UserPoolID       string  // CAREPOST_USER_POOL_ID (optional: staff invites use Cognito when set)
	PublicURL        string  // CAREPOST_PUBLIC_URL: base of links in e-mails
	SESRate          float64 // CAREPOST_SES_RATE: e-mails per second for one running copy (the stack splits the account quota)
}

// Var documents one variable (used by the README and `carepost-dev env`).
type Var struct {
	Name, Help string
	Required   bool
}

// Vars lists every variable Load reads.
var Vars = []Var{
	{"CAREPOST_TABLE", "DynamoDB table name", true},
	{"CAREPOST_KEY_ID", "KMS key id, ARN or alias for envelope encryption", true},
	{"CAREPOST_TRIAGE_QUEUE_URL", "SQS queue URL of the triage worker", true},
	{"CAREPOST_NOTIFY_QUEUE_URL", "SQS queue URL of the notification worker", true},
	{"CAREPOST_CAMPAIGN_QUEUE_URL", "SQS queue URL of the campaign sender", true},
	{"CAREPOST_SENDER", "From address of e-mails (an SES-verified identity)", true},
	{"CAREPOST_CONFIG_SET", "SES configuration set publishing bounces and complaints", false},
	{"CAREPOST_BUCKET", "S3 bucket for attachments", true},
	{"CAREPOST_BUCKET_KEY_ID", "ARN of the KMS key of the attachments bucket's default encryption (the storage key): uploads must be SSE-KMS under it; when unset it is read from the bucket's encryption settings", false},
	{"CAREPOST_JWKS_URL", "JWKS URL of the token issuer (Cognito user pool)", true},
	{"CAREPOST_ISSUER", "expected token issuer (iss)", true},
	{"CAREPOST_AUDIENCE", "expected token audience (aud: the app client id)", true},
	{"CAREPOST_USER_POOL_ID", "Cognito user pool id for staff and patient accounts", false},
	{"CAREPOST_PUBLIC_URL", "public base URL of the practice's CarePost (links in e-mails)", true},
	{"CAREPOST_SES_RATE", "maximum e-mails per second of one running copy of a sending function (default 14)", false},
}

// Load reads the configuration from the process environment.
func Load() (Config, error) { return FromLookup(os.LookupEnv) }

// FromLookup reads the configuration through lookup (os.LookupEnv in
// production, a map in tests).
func FromLookup(lookup func(string) (string, bool)) (Config, error) {
	var problems []string
	get := func(name string) string {
		v, _ := lookup(name)
		v = strings.TrimSpace(v)
		for _, d := range Vars {
			if d.Name == name && d.Required && v == "" {
				problems = append(problems, fmt.Sprintf("%s is not set (%s)", name, d.Help))
			}
		}
		return v
	}
	isURL := func(name, v string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Sprintf("%s is not an http(s) URL", name))
		}
	}
	c := Config{
		Table:            get("CAREPOST_TABLE"),
		KeyID:            get("CAREPOST_KEY_ID"),
		TriageQueueURL:   get("CAREPOST_TRIAGE_QUEUE_URL"),
		NotifyQueueURL:   get("CAREPOST_NOTIFY_QUEUE_URL"),
		CampaignQueueURL: get("CAREPOST_CAMPAIGN_QUEUE_URL"),
		Sender:           get("CAREPOST_SENDER"),
		ConfigSet:        get("CAREPOST_CONFIG_SET"),
		Bucket:           get("CAREPOST_BUCKET"),
		BucketKeyID:      get("CAREPOST_BUCKET_KEY_ID"),
		JWKSURL:          get("CAREPOST_JWKS_URL"),
		Issuer:           get("CAREPOST_ISSUER"),
		Audience:         get("CAREPOST_AUDIENCE"),
		UserPoolID:       get("CAREPOST_USER_POOL_ID"),
		PublicURL:        get("CAREPOST_PUBLIC_URL"),
		SESRate:          14,
	}
	for name, v := range map[string]string{"CAREPOST_TRIAGE_QUEUE_URL": c.TriageQueueURL, "CAREPOST_NOTIFY_QUEUE_URL": c.NotifyQueueURL, "CAREPOST_CAMPAIGN_QUEUE_URL": c.CampaignQueueURL, "CAREPOST_JWKS_URL": c.JWKSURL, "CAREPOST_PUBLIC_URL": c.PublicURL} {
		isURL(name, v)
	}
	if c.Sender != "" && !strings.Contains(c.Sender, "@") {
		problems = append(problems, "CAREPOST_SENDER is not an e-mail address")
	}
	// An ARN, because that is what S3 reports for an object's key and what
	// the completion of an upload compares it with.
	if c.BucketKeyID != "" && !(strings.HasPrefix(c.BucketKeyID, "arn:") && strings.Contains(c.BucketKeyID, ":kms:") && strings.Contains(c.BucketKeyID, ":key/")) {
		problems = append(problems, "CAREPOST_BUCKET_KEY_ID must be a KMS key ARN (arn:...:kms:...:key/...)")
	}
	if v := get("CAREPOST_SES_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 || r > 10000 {
			problems = append(problems, "CAREPOST_SES_RATE must be a number of e-mails per second between 0 and 10000")
		} else {
			c.SESRate = r
		}
	}
	if len(problems) > 0 {
		// Sorted so the message is stable.
		slices.Sort(problems)
		return c, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return c, nil
}

// Env renders c as the environment variables Load reads (for the dev stack,
// which runs every function in one process, and for tests).
func (c Config) Env() []string {
	return []string{
		"CAREPOST_TABLE=" + c.Table,
		"CAREPOST_KEY_ID=" + c.KeyID,
		"CAREPOST_TRIAGE_QUEUE_URL=" + c.TriageQueueURL,
		"CAREPOST_NOTIFY_QUEUE_URL=" + c.NotifyQueueURL,
		"CAREPOST_CAMPAIGN_QUEUE_URL=" + c.CampaignQueueURL,
		"CAREPOST_SENDER=" + c.Sender,
		"CAREPOST_CONFIG_SET=" + c.ConfigSet,
		"CAREPOST_BUCKET=" + c.Bucket,
		"CAREPOST_BUCKET_KEY_ID=" + c.BucketKeyID,
		"CAREPOST_JWKS_URL=" + c.JWKSURL,
		"CAREPOST_ISSUER=" + c.Issuer,
		"CAREPOST_AUDIENCE=" + c.Audience,
		"CAREPOST_USER_POOL_ID=" + c.UserPoolID,
		"CAREPOST_PUBLIC_URL=" + c.PublicURL,
		"CAREPOST_SES_RATE=" + strconv.FormatFloat(c.SESRate, 'f', -1, 64),
	}
}
