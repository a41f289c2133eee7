package triage

import (
	"fmt"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/businesshours"
	"github.com/carepost/carepost/shared/carepost"
)

// plan is triage's decision for one patient message. It depends only on the
// practice, the thread, the message and the time, so a redelivery decides
// the same way.
type plan struct {
	Owner    carepost.Owner
	Priority carepost.Priority
	Due      time.Time
	PageDue  time.Time // zero: no page deadline to set
	Page     bool      // the message is urgent: page the on-call pool
	Away     *away     // the intended owner is away; Owner is their cover
}

type away struct {
	Clinician string
	Absence   carepost.Absence
}

// routeTarget is where the practice routes a category, before coverage.
func routeTarget(p carepost.Practice, c carepost.Category) carepost.Owner {
	if o, ok := p.Routing[c]; ok {
		return o
	}
	return carepost.PoolOwner("frontdesk")
}

func pageAck(p carepost.Practice) time.Duration {
	if p.PageAckMinutes > 0 {
		return time.Duration(p.PageAckMinutes) * time.Minute
	}
	return DefaultPageAckMinutes * time.Minute
}

func turnaround(p carepost.Practice, c carepost.Category) int {
	if h, ok := p.Turnaround[c]; ok && h > 0 {
		return h
	}
	return DefaultTurnaroundHours
}

// decide plans the triage of message m in thread t.
func decide(p carepost.Practice, cal *businesshours.Calendar, t carepost.ThreadRecord, m carepost.MessageRecord, now time.Time) plan {
	pl := plan{Priority: t.Priority, Page: m.Urgent}
	if pl.Priority == 0 {
		pl.Priority = carepost.PriorityRoutine
	}

	// Routing: the owner the thread is meant for, then their cover. The
	// API routed a new thread already (to the cover, if any); recover whom
	// it was meant for, so the patient learns who covers and until when.
	intended := t.Owner
	if base := routeTarget(p, t.Category); intended == "" || (m.InResponseTo == "" && p.Cover(base, m.Sent) == intended) {
		intended = base
	}
	pl.Owner = p.Cover(intended, m.Sent)
	if sub, ok := intended.User(); ok && pl.Owner != intended {
		pl.Away = &away{Clinician: sub, Absence: p.Absences[sub]}
	}

	// Priority is only ever raised.
	if m.Urgent || t.Urgent {
		pl.Priority = pl.Priority.Raise(carepost.PriorityUrgent)
	}

	// Due time: urgent messages are due when the page must be
	// acknowledged; the rest after the category's turnaround in business
	// hours, counted from when the patient sent it.
	var due time.Time
	if m.Urgent {
		due = now.Add(pageAck(p))
	} else {
		due = cal.AddHours(m.Sent, turnaround(p, t.Category)).UTC()
	}
	// A deadline still pending (or already missed) stands: a patient's
	// follow-up never pushes the answer further out.
	if !t.Due.IsZero() && (t.Overdue || (t.Due.After(m.Sent) && t.Due.Before(due))) {
		due = t.Due
	}
	pl.Due = due

	// The page deadline belongs to the latest urgent message; a late
	// redelivery of an older one never re-arms an acknowledged page.
	if m.Urgent && m.ID == t.LastMessageID {
		pl.PageDue = now.Add(pageAck(p))
		if !t.PageDue.IsZero() && t.PageDue.Before(pl.PageDue) {
			pl.PageDue = t.PageDue
		}
	}
	return pl
}

// apply writes the plan into the thread's next state.
func (pl plan) apply(t *carepost.ThreadRecord) {
	t.Owner = pl.Owner
	t.Priority = t.Priority.Raise(pl.Priority)
	if pl.Priority >= carepost.PriorityUrgent {
		t.Urgent = true
	}
	if !t.Due.Equal(pl.Due) {
		t.Due = pl.Due
		t.Overdue = false
		t.Escalated = 0
	}
	if !pl.PageDue.IsZero() && !t.PageDue.Equal(pl.PageDue) {
		if t.PageDue.IsZero() {
			t.PageLevel = 0
		}
		t.PageDue = pl.PageDue
	}
	t.Triaged = true
}

// localTime formats t for a patient in the practice's zone.
func localTime(cal *businesshours.Calendar, t time.Time) string {
	return t.In(cal.Location()).Format("Mon, Jan 2 at 3:04 PM MST")
}

func localDate(cal *businesshours.Calendar, t time.Time) string {
	return t.In(cal.Location()).Format("Monday, January 2")
}

// emergencyLine tells the patient where to go instead of messaging.
func emergencyLine(p carepost.Practice) string {
	s := "Secure messages are not for emergencies: if you need help now, call 911"
	if p.OnCallPhone != "" {
		s += " or our on-call line at " + p.OnCallPhone
	}
	return s + "."
}

// ackText is the automatic acknowledgement posted into the thread.
func ackText(p carepost.Practice, cal *businesshours.Calendar, urgent bool, due time.Time) string {
	if urgent {
		s := "We received your message and have alerted our on-call team. If this is an emergency, call 911 now or go to the nearest emergency department."
		if p.OnCallPhone != "" {
			s += " You can reach our on-call clinician at " + p.OnCallPhone + "."
		}
		crisis := p.CrisisLine
		if crisis == "" {
			crisis = "988"
		}
		return s + " If you are thinking about suicide or self-harm, call or text " + crisis + "."
	}
	return fmt.Sprintf("Thank you, we received your message. Expect an answer by %s. %s", localTime(cal, due), emergencyLine(p))
}

// delayText is the note posted into a thread whose answer is overdue.
func delayText(p carepost.Practice, asked carepost.Owner) string {
	return "We are sorry that your answer is taking longer than we said. We have asked " + ownerName(p, asked) +
		" to look at your message. If it cannot wait, call the practice. " + emergencyLine(p)
}

// ownerName is how a patient sees an owner: a person's name or a team.
func ownerName(p carepost.Practice, o carepost.Owner) string {
	if sub, ok := o.User(); ok {
		if ref, ok := p.Staff[sub]; ok && ref.Name != "" {
			return ref.Name
		}
		return "a colleague"
	}
	pool, _ := o.Pool()
	return "our " + strings.ReplaceAll(pool, "_", " ") + " team"
}

// awayText is the away note posted when a message goes to a cover.
func awayText(p carepost.Practice, cal *businesshours.Calendar, a away) string {
	who := "Your clinician"
	if ref, ok := p.Staff[a.Clinician]; ok && ref.Name != "" {
		who = ref.Name
	}
	s := fmt.Sprintf("%s is out of the office and back on %s. Until then %s is looking after your messages.",
		who, localDate(cal, a.Absence.Until), ownerName(p, a.Absence.Cover))
	if n := strings.TrimSpace(a.Absence.Note); n != "" {
		s += " " + n
	}
	return s
}
