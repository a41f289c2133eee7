package admin

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/urgent"
)

// Settings is a change to a practice's settings: every field present
// replaces the stored one; absent fields stay (a JSON merge of the top-level
// fields). The whole result is validated before anything is saved.
type Settings struct {
	Name                      *string                               `json:"name,omitempty"`
	TimeZone                  *string                               `json:"timeZone,omitempty"`
	Hours                     *[]carepost.OpeningHours              `json:"hours,omitempty"`
	Holidays                  *[]string                             `json:"holidays,omitempty"`
	Turnaround                *map[carepost.Category]int            `json:"turnaroundHours,omitempty"`
	Pools                     *[]carepost.Pool                      `json:"pools,omitempty"`
	Routing                   *map[carepost.Category]carepost.Owner `json:"routing,omitempty"`
	OnCallPhone               *string                               `json:"onCallPhone,omitempty"`
	OnCallPool                *string                               `json:"onCallPool,omitempty"`
	CrisisLine                *string                               `json:"crisisLine,omitempty"`
	EscalationChain           *[]carepost.Owner                     `json:"escalationChain,omitempty"`
	PageAckMinutes            *int                                  `json:"pageAckMinutes,omitempty"`
	NotificationWindowMinutes *int                                  `json:"notificationWindowMinutes,omitempty"`
	RetentionDays             *int                                  `json:"retentionDays,omitempty"`
	LegalHold                 *bool                                 `json:"legalHold,omitempty"`
	UrgentTerms               *[]string                             `json:"urgentTerms,omitempty"`
	ProxyAdultAge             *int                                  `json:"proxyAdultAge,omitempty"`
}

// apply merges s into p and returns the names of the fields it set.
func (s Settings) apply(p *carepost.Practice) []string {
	var changed []string
	set := func(name string, present bool, do func()) {
		if present {
			do()
			changed = append(changed, name)
		}
	}
	set("name", s.Name != nil, func() { p.Name = strings.TrimSpace(*s.Name) })
	set("timeZone", s.TimeZone != nil, func() { p.TimeZone = *s.TimeZone })
	set("hours", s.Hours != nil, func() { p.Hours = *s.Hours })
	set("holidays", s.Holidays != nil, func() { p.Holidays = *s.Holidays })
	set("turnaroundHours", s.Turnaround != nil, func() { p.Turnaround = *s.Turnaround })
	set("pools", s.Pools != nil, func() { p.Pools = *s.Pools })
	set("routing", s.Routing != nil, func() { p.Routing = *s.Routing })
	set("onCallPhone", s.OnCallPhone != nil, func() { p.OnCallPhone = strings.TrimSpace(*s.OnCallPhone) })
	set("onCallPool", s.OnCallPool != nil, func() { p.OnCallPool = *s.OnCallPool })
	set("crisisLine", s.CrisisLine != nil, func() { p.CrisisLine = strings.TrimSpace(*s.CrisisLine) })
	set("escalationChain", s.EscalationChain != nil, func() { p.EscalationChain = *s.EscalationChain })
	set("pageAckMinutes", s.PageAckMinutes != nil, func() { p.PageAckMinutes = *s.PageAckMinutes })
	set("notificationWindowMinutes", s.NotificationWindowMinutes != nil, func() { p.NotificationWindowMinutes = *s.NotificationWindowMinutes })
	set("retentionDays", s.RetentionDays != nil, func() { p.RetentionDays = *s.RetentionDays })
	set("legalHold", s.LegalHold != nil, func() { p.LegalHold = *s.LegalHold })
	set("urgentTerms", s.UrgentTerms != nil, func() { p.UrgentTerms = *s.UrgentTerms })
	set("proxyAdultAge", s.ProxyAdultAge != nil, func() { p.ProxyAdultAge = *s.ProxyAdultAge })
	return changed
}

// PracticeView is the settings as the admin sees them, with the current
// agreement version.
type PracticeView struct {
	carepost.Practice
	AgreementVersion int `json:"agreementVersion"`
}

// GetPractice returns the caller's practice settings (admins).
func (s *Service) GetPractice(ctx context.Context, p carepost.Principal) (PracticeView, error) {
	if err := s.require(ctx, p, "practice.read", carepost.RoleAdmin); err != nil {
		return PracticeView{}, err
	}
	pr, err := s.Store.Practice(ctx, p.PracticeID)
	if err != nil {
		return PracticeView{}, err
	}
	v := PracticeView{Practice: pr}
	if a, err := s.Store.CurrentAgreement(ctx, p.PracticeID); err == nil {
		v.AgreementVersion = a.Version
	} else if carepost.ErrorCode(err) != carepost.CodeNotFound {
		return PracticeView{}, err
	}
	if err := s.audit(ctx, p, "", "practice.read", "", "practice/"+p.PracticeID+"/settings", "ok"); err != nil {
		return PracticeView{}, err
	}
	return v, nil
}

// UpdatePractice validates and saves a change to the settings (admins). It
// takes effect for the next request: messaging reads the settings on each.
func (s *Service) UpdatePractice(ctx context.Context, p carepost.Principal, in Settings) (PracticeView, error) {
	if err := s.require(ctx, p, "practice.update", carepost.RoleAdmin); err != nil {
		return PracticeView{}, err
	}
	var changed []string
	pr, err := s.modifyPractice(ctx, p.PracticeID, func(pr *carepost.Practice) error {
		changed = in.apply(pr)
		if len(changed) == 0 {
			return carepost.Errorf(carepost.CodeValidation, "the request changes no setting")
		}
		normalize(pr)
		return Validate(*pr)
	})
	if err != nil {
		return PracticeView{}, err
	}
	for _, c := range changed {
		if err := s.audit(ctx, p, "", "practice.update."+c, "", "practice/"+p.PracticeID+"/settings", "ok"); err != nil {
			return PracticeView{}, err
		}
	}
	return PracticeView{Practice: pr}, nil
}

// normalize sorts what has no meaningful order so stored settings compare.
func normalize(p *carepost.Practice) {
	slices.Sort(p.Holidays)
	p.Holidays = slices.Compact(p.Holidays)
	sort.SliceStable(p.Hours, func(i, j int) bool {
		if p.Hours[i].Day != p.Hours[j].Day {
			return p.Hours[i].Day < p.Hours[j].Day
		}
		return p.Hours[i].Open < p.Hours[j].Open
	})
}

var (
	poolName  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	phoneLike = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{1,28}$`)
)

func parseClock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// Validate checks a practice's settings as a whole; the first problem is a
// 422 naming the field ("routing.prescription", "hours[2].close").
func Validate(p carepost.Practice) error {
	bad := func(field, format string, args ...any) error {
		return carepost.FieldError(carepost.CodeValidation, field, format, args...)
	}
	if n := utf8.RuneCountInString(p.Name); n == 0 || n > 200 {
		return bad("name", "the practice name needs 1 to 200 characters")
	}
	if p.TimeZone == "" {
		return bad("timeZone", "a time zone is required (IANA, e.g. America/New_York)")
	}
	if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "Local" {
		return bad("timeZone", "unknown time zone; use an IANA name such as America/New_York")
	}
	type span struct{ open, close int }
	byDay := map[time.Weekday][]span{}
	for i, h := range p.Hours {
		f := fmt.Sprintf("hours[%d]", i)
		if h.Day < time.Sunday || h.Day > time.Saturday {
			return bad(f+".day", "day must be 0 (Sunday) to 6 (Saturday)")
		}
		o, ok := parseClock(h.Open)
		if !ok {
			return bad(f+".open", "open must be HH:MM (24-hour)")
		}
		c, ok := parseClock(h.Close)
		if !ok {
			return bad(f+".close", "close must be HH:MM (24-hour)")
		}
		if o >= c {
			return bad(f+".close", "close must be after open")
		}
		for _, sp := range byDay[h.Day] {
			if o < sp.close && sp.open < c {
				return bad(f, "overlaps another interval of the same day")
			}
		}
		byDay[h.Day] = append(byDay[h.Day], span{o, c})
	}
	if len(p.Holidays) > 366 {
		return bad("holidays", "at most 366 holidays")
	}
	for i, d := range p.Holidays {
		if t, err := time.Parse(time.DateOnly, d); err != nil || t.Format(time.DateOnly) != d {
			return bad(fmt.Sprintf("holidays[%d]", i), "a holiday must be a date YYYY-MM-DD")
		}
	}
	// Maps in key order, so the 422 names the same field every time.
	for _, c := range slices.Sorted(maps.Keys(p.Turnaround)) {
		h := p.Turnaround[c]
		if !c.Valid() {
			return bad("turnaroundHours."+safeKey(string(c)), "unknown category")
		}
		if h < 1 || h > 720 {
			return bad("turnaroundHours."+string(c), "a turnaround target is 1 to 720 business hours")
		}
	}
	active := func(sub string) bool {
		ref, ok := p.Staff[sub]
		return ok && !ref.Disabled
	}
	seen := map[string]bool{}
	for i, pl := range p.Pools {
		f := fmt.Sprintf("pools[%d]", i)
		if !poolName.MatchString(pl.Name) {
			return bad(f+".name", "a pool name is 1 to 40 lower-case letters, digits, - or _")
		}
		if seen[pl.Name] {
			return bad(f+".name", "two pools have the same name")
		}
		seen[pl.Name] = true
		for j, m := range pl.Members {
			if !active(m) {
				return bad(fmt.Sprintf("%s.members[%d]", f, j), "not an active staff member of this practice")
			}
		}
		if pl.Lead != "" && !slices.Contains(pl.Members, pl.Lead) {
			return bad(f+".lead", "the lead must be a member of the pool")
		}
	}
	owner := func(field string, o carepost.Owner) error {
		if name, ok := o.Pool(); ok {
			if !p.HasPool(name) {
				return bad(field, "no pool of that name exists")
			}
			return nil
		}
		if sub, ok := o.User(); ok {
			if !active(sub) {
				return bad(field, "not an active staff member of this practice")
			}
			return nil
		}
		return bad(field, "an owner is pool:<name> or user:<subject>")
	}
	for _, c := range slices.Sorted(maps.Keys(p.Routing)) {
		o := p.Routing[c]
		if !c.Valid() {
			return bad("routing."+safeKey(string(c)), "unknown category")
		}
		if err := owner("routing."+string(c), o); err != nil {
			return err
		}
	}
	if !p.HasPool("frontdesk") {
		for _, c := range carepost.PatientCategories {
			if _, ok := p.Routing[c]; !ok {
				return bad("routing."+string(c), "no routing rule, and no frontdesk pool to fall back to")
			}
		}
	}
	if p.OnCallPool != "" && !p.HasPool(p.OnCallPool) {
		return bad("onCallPool", "no pool of that name exists")
	}
	for _, ph := range []struct{ field, v string }{{"onCallPhone", p.OnCallPhone}, {"crisisLine", p.CrisisLine}} {
		if ph.v != "" && !phoneLike.MatchString(ph.v) {
			return bad(ph.field, "a phone number has 2 to 30 digits, spaces, dots, dashes or parentheses")
		}
	}
	if len(p.EscalationChain) > 10 {
		return bad("escalationChain", "at most 10 steps")
	}
	for i, o := range p.EscalationChain {
		if err := owner(fmt.Sprintf("escalationChain[%d]", i), o); err != nil {
			return err
		}
	}
	if p.PageAckMinutes < 1 || p.PageAckMinutes > 240 {
		return bad("pageAckMinutes", "the page acknowledgement deadline is 1 to 240 minutes")
	}
	if p.NotificationWindowMinutes < 0 || p.NotificationWindowMinutes > 1440 {
		return bad("notificationWindowMinutes", "the notification window is 0 to 1440 minutes")
	}
	if p.RetentionDays < 365 || p.RetentionDays > 36500 {
		return bad("retentionDays", "retention is 365 to 36500 days")
	}
	if len(p.UrgentTerms) > 200 {
		return bad("urgentTerms", "at most 200 terms")
	}
	for i, t := range p.UrgentTerms {
		if n := utf8.RuneCountInString(strings.TrimSpace(t)); n < 2 || n > 100 {
			return bad(fmt.Sprintf("urgentTerms[%d]", i), "a term has 2 to 100 characters")
		}
	}
	if len(p.UrgentTerms) > 0 {
		if _, err := urgent.New(p.UrgentTerms); err != nil {
			return bad("urgentTerms", "the terms could not be compiled into rules")
		}
	}
	if p.ProxyAdultAge < 12 || p.ProxyAdultAge > 21 {
		return bad("proxyAdultAge", "the proxy adult age is 12 to 21")
	}
	return nil
}

// safeKey bounds a client-supplied map key before it goes into an error.
func safeKey(k string) string {
	if len(k) > 32 || !poolName.MatchString(k) {
		return "?"
	}
	return k
}

// AgreementView is the current agreement with the history.
type AgreementView struct {
	Current  *carepost.Agreement  `json:"current"`
	Versions []carepost.Agreement `json:"versions"`
}

// Agreement returns the current messaging agreement and every earlier
// version (admins).
func (s *Service) Agreement(ctx context.Context, p carepost.Principal) (AgreementView, error) {
	if err := s.require(ctx, p, "agreement.read", carepost.RoleAdmin); err != nil {
		return AgreementView{}, err
	}
	all, err := s.Store.Agreements(ctx, p.PracticeID)
	if err != nil {
		return AgreementView{}, err
	}
	v := AgreementView{Versions: all}
	if v.Versions == nil {
		v.Versions = []carepost.Agreement{}
	}
	if n := len(all); n > 0 {
		v.Current = &all[n-1]
	}
	return v, nil
}

// MaxAgreement is the longest agreement text.
const MaxAgreement = 20000

// PublishAgreement saves text as a new version; patients and proxies are
// asked to accept it before their next message.
func (s *Service) PublishAgreement(ctx context.Context, p carepost.Principal, text string) (carepost.Agreement, error) {
	if err := s.require(ctx, p, "agreement.publish", carepost.RoleAdmin); err != nil {
		return carepost.Agreement{}, err
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(text)); n < 20 || n > MaxAgreement || !utf8.ValidString(text) {
		return carepost.Agreement{}, carepost.FieldError(carepost.CodeValidation, "text", "the agreement text needs 20 to %d characters", MaxAgreement)
	}
	a, err := s.Store.PutAgreement(ctx, p.PracticeID, text, s.now())
	if err != nil {
		return a, err
	}
	if err := s.audit(ctx, p, "", "agreement.publish", "", fmt.Sprintf("practice/%s/agreement/%d", p.PracticeID, a.Version), "ok"); err != nil {
		return a, err
	}
	return a, nil
}
