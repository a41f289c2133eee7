package triage

import (
	"fmt"
	"slices"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// The e-mails of this package. They say that something needs attention and
// link to it; they never carry anything from the thread: no subject, text,
// category, patient name or practice-specific wording that could reveal
// health information (mail_test.go checks this for every template).

const footer = "\n\nThis e-mail intentionally contains no patient details. Sign in to CarePost to see the message.\n"

func minutes(d time.Duration) int { return int(d / time.Minute) }

func mail(to []string, kind, pid, subject, text string) carepost.Mail {
	return carepost.Mail{To: to, Subject: subject, Text: text + footer, Tags: map[string]string{"type": kind, "practice": pid}}
}

// pageMail is the first on-call page of an urgent message.
func pageMail(to []string, link string, ack time.Duration, pid string) carepost.Mail {
	return mail(to, "page", pid, "CarePost: urgent message needs acknowledgement",
		fmt.Sprintf("An urgent patient message needs acknowledgement within %d minutes: %s", minutes(ack), link))
}

// pageEscalationMail goes to the next step of the escalation chain when a
// page was not acknowledged in time.
func pageEscalationMail(to []string, link string, level int, ack time.Duration, pid string) carepost.Mail {
	return mail(to, "page-escalation", pid, fmt.Sprintf("CarePost: urgent message not acknowledged (escalation %d)", level),
		fmt.Sprintf("An urgent patient message was not acknowledged in time. Please acknowledge it within %d minutes: %s", minutes(ack), link))
}

// overdueMail tells the next person in line that a thread is past its due
// time.
func overdueMail(to []string, link string, step int, pid string) carepost.Mail {
	return mail(to, "overdue", pid, fmt.Sprintf("CarePost: a patient message is overdue (escalation %d)", step+1),
		fmt.Sprintf("A patient message is past the practice's answer time and has not been answered: %s", link))
}

// digestCounts is what the return digest reports.
type digestCounts struct {
	Covered  int // threads that went to the cover while away
	Answered int // of those, answered or closed
	Open     int // still waiting for the practice
}

// digestMail welcomes a clinician back with counts only.
func digestMail(to []string, link, from, until, cover string, c digestCounts, pid string) carepost.Mail {
	text := fmt.Sprintf("Welcome back. While you were away (%s to %s), %d patient message threads meant for you went to %s. %d of them have been answered or closed; %d are still waiting for an answer. Your inbox: %s",
		from, until, c.Covered, cover, c.Answered, c.Open, link)
	return mail(to, "absence-digest", pid, "CarePost: what was handled while you were away", text)
}

// coverLabel names a cover for a staff e-mail (a colleague or a team).
func coverLabel(p carepost.Practice, o carepost.Owner) string {
	if sub, ok := o.User(); ok {
		if ref, ok := p.Staff[sub]; ok && ref.Name != "" {
			return ref.Name
		}
		return "a colleague"
	}
	pool, _ := o.Pool()
	return "the " + pool + " pool"
}

// onCallOwners are who an urgent message pages first: the on-call pool, or
// without one the first step of the escalation chain, or the admins.
func onCallOwners(p carepost.Practice) []carepost.Owner {
	if p.OnCallPool != "" && p.HasPool(p.OnCallPool) {
		return []carepost.Owner{carepost.PoolOwner(p.OnCallPool)}
	}
	if len(p.EscalationChain) > 0 {
		return p.EscalationChain[:1]
	}
	return adminOwners(p)
}

// adminOwners are the practice's (enabled) admins.
func adminOwners(p carepost.Practice) []carepost.Owner {
	var out []carepost.Owner
	for sub, ref := range p.Staff {
		if ref.Role == carepost.RoleAdmin && !ref.Disabled {
			out = append(out, carepost.UserOwner(sub))
		}
	}
	slices.Sort(out)
	return out
}

// chainSteps are the escalation steps after the first: each entry of the
// practice's escalation chain, then the admins not already in it.
func chainSteps(p carepost.Practice) [][]carepost.Owner {
	var steps [][]carepost.Owner
	inChain := map[carepost.Owner]bool{}
	for _, o := range p.EscalationChain {
		steps = append(steps, []carepost.Owner{o})
		inChain[o] = true
	}
	var rest []carepost.Owner
	for _, a := range adminOwners(p) {
		if !inChain[a] {
			rest = append(rest, a)
		}
	}
	if len(rest) > 0 {
		steps = append(steps, rest)
	}
	return steps
}

// leadOf is the first overdue step: a pool's lead (every member when it
// has none), or the person who owns the thread.
func leadOf(p carepost.Practice, o carepost.Owner) carepost.Owner {
	if pool, ok := o.Pool(); ok {
		for _, pl := range p.Pools {
			if pl.Name == pool && pl.Lead != "" {
				return carepost.UserOwner(pl.Lead)
			}
		}
	}
	return o
}

// recipients expands owners into e-mail addresses: a pool is its members,
// a person is themselves (and their cover while they are away). Disabled
// staff and staff without an address are skipped; the result is sorted and
// without duplicates.
func recipients(p carepost.Practice, now time.Time, owners ...carepost.Owner) []string {
	seen := map[string]bool{}
	var out []string
	addUser := func(sub string) {
		ref, ok := p.Staff[sub]
		if !ok || ref.Disabled || ref.Email == "" || seen[ref.Email] {
			return
		}
		seen[ref.Email] = true
		out = append(out, ref.Email)
	}
	var add func(o carepost.Owner, depth int)
	add = func(o carepost.Owner, depth int) {
		if pool, ok := o.Pool(); ok {
			for _, pl := range p.Pools {
				if pl.Name == pool {
					for _, m := range pl.Members {
						addUser(m)
					}
				}
			}
			return
		}
		if sub, ok := o.User(); ok {
			addUser(sub)
			if c := p.Cover(o, now); c != o && depth == 0 {
				add(c, depth+1)
			}
		}
	}
	for _, o := range owners {
		add(o, 0)
	}
	slices.Sort(out)
	return out
}
