package main

import (
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Config is everything a deployment chooses. It comes from CDK context
// (`cdk deploy -c practiceDomain=clinic.example ...`, or cdk.json) and is
// validated before any construct is built, so a typo fails synth with a
// clear message instead of a half-created stack.
type Config struct {
	// Prefix names the stack and prefixes every named resource (table,
	// queues, key aliases, configuration set); one per stage.
	Prefix string
	// PracticeDomain is the DNS domain SES sends from (an SES domain
	// identity with Easy DKIM) and the origin allowed by CORS.
	PracticeDomain string
	// Sender is the From address of every e-mail, at PracticeDomain.
	Sender string
	// OnCallEmail receives the alarms (subscribe confirmation required).
	OnCallEmail string
	// PublicURL is the base URL of links in e-mails; empty means the API's
	// own URL (its /v1/public routes serve those links).
	PublicURL string
	// LogRetentionDays applies to every CloudWatch log group and to the
	// S3 access logs. The tamper-evident audit log is in DynamoDB, not here.
	LogRetentionDays int
	// SESRate is the SES sending rate (messages/s) of the account that this
	// stack may use; it is split between the copies of the functions that
	// send mail (see sesRatePerCopy).
	SESRate int
	// CampaignConcurrency is the reserved concurrency of the campaign
	// function and the maximum concurrency of its queue's event source
	// mapping; 0 leaves concurrency unreserved (accounts whose Lambda quota
	// is still the new-account 10 cannot reserve any).
	CampaignConcurrency int
	// BuildDir holds <function>/bootstrap for every function (make build).
	BuildDir string
}

// Context keys read by ConfigFromContext.
const (
	ctxPrefix              = "prefix"
	ctxPracticeDomain      = "practiceDomain"
	ctxSender              = "senderAddress"
	ctxOnCallEmail         = "onCallEmail"
	ctxPublicURL           = "publicUrl"
	ctxRetentionDays       = "retentionDays"
	ctxSESRate             = "sesRate"
	ctxCampaignConcurrency = "campaignConcurrency"
	ctxBuildDir            = "buildDir"
)

// Placeholders let `cdk synth`, `cdk destroy` and the tests run without a
// practice's real values; `make deploy` refuses to run without them.
const (
	placeholderDomain = "clinic.example"
	placeholderOnCall = "on-call@clinic.example"
)

// retentionValues are the only retention periods CloudWatch Logs accepts.
var retentionValues = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	prefixPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,23}$`)
	domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// ConfigFromContext reads the configuration through get (the CDK node's
// TryGetContext, or a map in tests), applying defaults.
func ConfigFromContext(get func(key string) string) (Config, error) {
	c := Config{
		Prefix:           get(ctxPrefix),
		PracticeDomain:   strings.ToLower(strings.TrimSpace(get(ctxPracticeDomain))),
		Sender:           strings.TrimSpace(get(ctxSender)),
		OnCallEmail:      strings.TrimSpace(get(ctxOnCallEmail)),
		PublicURL:        strings.TrimRight(strings.TrimSpace(get(ctxPublicURL)), "/"),
		BuildDir:         get(ctxBuildDir),
		LogRetentionDays: 365,
		SESRate:          10,
	}
	if c.Prefix == "" {
		c.Prefix = "carepost"
	}
	if c.PracticeDomain == "" {
		c.PracticeDomain = placeholderDomain
	}
	if c.Sender == "" {
		c.Sender = "no-reply@" + c.PracticeDomain
	}
	if c.OnCallEmail == "" {
		c.OnCallEmail = placeholderOnCall
	}
	if c.BuildDir == "" {
		c.BuildDir = "build"
	}
	c.CampaignConcurrency = 2
	for _, n := range []struct {
		key string
		dst *int
	}{
		{ctxRetentionDays, &c.LogRetentionDays},
		{ctxSESRate, &c.SESRate},
		{ctxCampaignConcurrency, &c.CampaignConcurrency},
	} {
		s := strings.TrimSpace(get(n.key))
		if s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			return Config{}, fmt.Errorf("context %s: %q is not a whole number", n.key, s)
		}
		*n.dst = v
	}
	return c, c.Validate()
}

// Validate reports the first setting that cannot be deployed.
func (c Config) Validate() error {
	if !prefixPattern.MatchString(c.Prefix) {
		return fmt.Errorf("context %s: %q must be 2-24 lower-case letters, digits or '-', starting with a letter", ctxPrefix, c.Prefix)
	}
	if !domainPattern.MatchString(c.PracticeDomain) {
		return fmt.Errorf("context %s: %q is not a DNS domain name", ctxPracticeDomain, c.PracticeDomain)
	}
	sender, err := plainAddress(c.Sender)
	if err != nil {
		return fmt.Errorf("context %s: %w", ctxSender, err)
	}
	if d := sender[strings.LastIndexByte(sender, '@')+1:]; d != c.PracticeDomain && !strings.HasSuffix(d, "."+c.PracticeDomain) {
		return fmt.Errorf("context %s: %q must be an address at %s (the SES identity the stack verifies)", ctxSender, c.Sender, c.PracticeDomain)
	}
	if _, err := plainAddress(c.OnCallEmail); err != nil {
		return fmt.Errorf("context %s: %w", ctxOnCallEmail, err)
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "https://") {
		return fmt.Errorf("context %s: %q must start with https://", ctxPublicURL, c.PublicURL)
	}
	if !slices.Contains(retentionValues, c.LogRetentionDays) {
		return fmt.Errorf("context %s: %d is not a CloudWatch Logs retention period (one of %v)", ctxRetentionDays, c.LogRetentionDays, retentionValues)
	}
	if c.SESRate < 1 || c.SESRate > 1000 {
		return fmt.Errorf("context %s: %d must be between 1 and 1000 messages per second", ctxSESRate, c.SESRate)
	}
	if c.CampaignConcurrency < 0 || c.CampaignConcurrency == 1 || c.CampaignConcurrency > 50 {
		// An SQS event source mapping cannot be limited below 2 copies.
		return fmt.Errorf("context %s: %d must be 0 (unreserved) or 2-50", ctxCampaignConcurrency, c.CampaignConcurrency)
	}
	return nil
}

// plainAddress accepts "a@b.c" only: no display name, no angle brackets.
func plainAddress(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", fmt.Errorf("%q is not a plain e-mail address", s)
	}
	return a.Address, nil
}

// Placeholder reports whether the practice settings are the built-in
// examples (fine for synth and tests, refused by make deploy).
func (c Config) Placeholder() bool {
	return c.PracticeDomain == placeholderDomain || c.OnCallEmail == placeholderOnCall
}

// CheckBuild verifies that BuildDir holds a bootstrap for every function,
// so a missing `make build` fails synth with a clear message.
func (c Config) CheckBuild(functions []FunctionSpec) error {
	for _, f := range functions {
		p := filepath.Join(c.BuildDir, f.Name, "bootstrap")
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing: run `make build` first (or pass -c %s=<dir>)", p, ctxBuildDir)
		}
	}
	return nil
}
