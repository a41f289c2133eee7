package triage

import (
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/businesshours"
	"github.com/carepost/carepost/shared/carepost"
)

// testPractice is a practice in New York, open Monday to Friday 08:00–17:00,
// closed on Christmas, with a clinician "carl" who routes test results to
// himself.
func testPractice() carepost.Practice {
	var hours []carepost.OpeningHours
	for d := time.Monday; d <= time.Friday; d++ {
		hours = append(hours, carepost.OpeningHours{Day: d, Open: "08:00", Close: "17:00"})
	}
	return carepost.Practice{
		ID: "p1", Name: "Test Clinic", TimeZone: "America/New_York", Hours: hours, Holidays: []string{"2026-12-25"},
		Turnaround: map[carepost.Category]int{carepost.CategoryPrescription: 16, carepost.CategoryQuestion: 8},
		Pools: []carepost.Pool{
			{Name: "nurses", Members: []string{"nora", "ned"}, Lead: "nora"},
			{Name: "frontdesk", Members: []string{"frank"}},
			{Name: "oncall", Members: []string{"nora", "carl"}},
		},
		Routing: map[carepost.Category]carepost.Owner{
			carepost.CategoryPrescription: carepost.PoolOwner("nurses"), carepost.CategoryQuestion: carepost.PoolOwner("nurses"),
			carepost.CategoryTestResult: carepost.UserOwner("carl"),
		},
		OnCallPool: "oncall", OnCallPhone: "+1-555-0100", CrisisLine: "988", PageAckMinutes: 15,
		EscalationChain: []carepost.Owner{carepost.UserOwner("carl"), carepost.UserOwner("alice")},
		Staff: map[string]carepost.StaffRef{
			"nora":  {Name: "Nora Nurse", Role: carepost.RoleNurse, Email: "nora@clinic.test"},
			"ned":   {Name: "Ned Nurse", Role: carepost.RoleNurse, Email: "ned@clinic.test", Disabled: true},
			"carl":  {Name: "Dr. Carl", Role: carepost.RoleClinician, Email: "carl@clinic.test"},
			"frank": {Name: "Frank", Role: carepost.RoleFrontDesk, Email: "frank@clinic.test"},
			"alice": {Name: "Alice", Role: carepost.RoleAdmin, Email: "alice@clinic.test"},
		},
	}
}

func ny(t *testing.T, s string) time.Time {
	t.Helper()
	loc, _ := time.LoadLocation("America/New_York")
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

func TestDecide(t *testing.T) {
	away := testPractice()
	away.Absences = map[string]carepost.Absence{"carl": {From: ny(t, "2026-03-02 00:00"), Until: ny(t, "2026-03-09 08:00"), Cover: carepost.PoolOwner("nurses"), Note: "Dr. Carl is at a conference."}}
	tests := []struct {
		name      string
		practice  carepost.Practice
		thread    carepost.ThreadRecord
		msg       carepost.MessageRecord
		now       string
		wantOwner carepost.Owner
		wantPrio  carepost.Priority
		wantDue   string // New York time
		wantPage  string // "" no page deadline
		wantAway  bool
	}{
		{
			name:     "refill on friday evening is due after 16 business hours",
			practice: testPractice(),
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryPrescription, Owner: carepost.PoolOwner("nurses"), Priority: carepost.PriorityRoutine}, LastMessageID: "m1"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m1", Kind: carepost.KindPatient, Sent: ny(t, "2026-03-06 18:00")}},
			now:      "2026-03-06 18:00", wantOwner: carepost.PoolOwner("nurses"), wantPrio: carepost.PriorityRoutine, wantDue: "2026-03-10 15:00",
		},
		{
			name:     "question before christmas skips the holiday and the weekend",
			practice: testPractice(),
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryQuestion, Owner: carepost.PoolOwner("nurses"), Priority: carepost.PriorityHigh}, LastMessageID: "m1"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m1", Kind: carepost.KindPatient, Sent: ny(t, "2026-12-24 16:00")}},
			now:      "2026-12-24 16:00", wantOwner: carepost.PoolOwner("nurses"), wantPrio: carepost.PriorityHigh, wantDue: "2026-12-28 15:00",
		},
		{
			name:     "category without a target uses the default and the front desk",
			practice: testPractice(),
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryBilling}, LastMessageID: "m1"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m1", Kind: carepost.KindPatient, Sent: ny(t, "2026-03-03 09:00")}},
			now:      "2026-03-03 09:00", wantOwner: carepost.PoolOwner("frontdesk"), wantPrio: carepost.PriorityRoutine, wantDue: "2026-03-03 17:00",
		},
		{
			name:     "urgent: raised, due and paged at the acknowledgement deadline",
			practice: testPractice(),
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryQuestion, Owner: carepost.PoolOwner("nurses"), Priority: carepost.PriorityUrgent, Urgent: true}, LastMessageID: "m1"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m1", Kind: carepost.KindPatient, Urgent: true, Sent: ny(t, "2026-03-07 23:00")}},
			now:      "2026-03-07 23:01", wantOwner: carepost.PoolOwner("nurses"), wantPrio: carepost.PriorityUrgent, wantDue: "2026-03-07 23:16", wantPage: "2026-03-07 23:16",
		},
		{
			name:     "a late redelivery of an older urgent message does not re-arm the page",
			practice: testPractice(),
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryQuestion, Owner: carepost.PoolOwner("nurses"), Priority: carepost.PriorityUrgent, Urgent: true}, LastMessageID: "m2"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m1", Kind: carepost.KindPatient, Urgent: true, Sent: ny(t, "2026-03-03 10:00")}},
			now:      "2026-03-03 10:30", wantOwner: carepost.PoolOwner("nurses"), wantPrio: carepost.PriorityUrgent, wantDue: "2026-03-03 10:45",
		},
		{
			name:     "priority is never lowered by a routine follow-up",
			practice: testPractice(),
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryQuestion, Owner: carepost.PoolOwner("nurses"), Priority: carepost.PriorityUrgent, Urgent: true}, LastMessageID: "m3"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m3", Kind: carepost.KindPatient, InResponseTo: "m2", Sent: ny(t, "2026-03-03 10:00")}},
			now:      "2026-03-03 10:00", wantOwner: carepost.PoolOwner("nurses"), wantPrio: carepost.PriorityUrgent, wantDue: "2026-03-04 09:00",
		},
		{
			name:     "a follow-up keeps the pending deadline",
			practice: testPractice(),
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryQuestion, Owner: carepost.PoolOwner("nurses"), Priority: carepost.PriorityRoutine, Due: ny(t, "2026-03-03 12:00")}, LastMessageID: "m2"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m2", Kind: carepost.KindPatient, InResponseTo: "m1", Sent: ny(t, "2026-03-03 10:00")}},
			now:      "2026-03-03 10:00", wantOwner: carepost.PoolOwner("nurses"), wantPrio: carepost.PriorityRoutine, wantDue: "2026-03-03 12:00",
		},
		{
			name:     "an overdue thread keeps its missed deadline",
			practice: testPractice(),
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryQuestion, Owner: carepost.PoolOwner("nurses"), Priority: carepost.PriorityRoutine, Due: ny(t, "2026-03-02 12:00"), Overdue: true}, LastMessageID: "m2"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m2", Kind: carepost.KindPatient, InResponseTo: "m1", Sent: ny(t, "2026-03-03 10:00")}},
			now:      "2026-03-03 10:00", wantOwner: carepost.PoolOwner("nurses"), wantPrio: carepost.PriorityRoutine, wantDue: "2026-03-02 12:00",
		},
		{
			name:     "an answered thread's old deadline is replaced",
			practice: testPractice(),
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryQuestion, Owner: carepost.PoolOwner("nurses"), Priority: carepost.PriorityRoutine, Due: ny(t, "2026-03-02 12:00")}, LastMessageID: "m3"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m3", Kind: carepost.KindPatient, InResponseTo: "m2", Sent: ny(t, "2026-03-03 10:00")}},
			now:      "2026-03-03 10:00", wantOwner: carepost.PoolOwner("nurses"), wantPrio: carepost.PriorityRoutine, wantDue: "2026-03-04 09:00",
		},
		{
			name:     "new thread for an absent clinician: the cover, with an away note",
			practice: away,
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryTestResult, Owner: carepost.PoolOwner("nurses")}, LastMessageID: "m1"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m1", Kind: carepost.KindPatient, Sent: ny(t, "2026-03-03 10:00")}},
			now:      "2026-03-03 10:00", wantOwner: carepost.PoolOwner("nurses"), wantPrio: carepost.PriorityRoutine, wantDue: "2026-03-04 09:00", wantAway: true,
		},
		{
			name:     "reply in the absent clinician's own thread goes to the cover",
			practice: away,
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryQuestion, Owner: carepost.UserOwner("carl")}, LastMessageID: "m2"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m2", Kind: carepost.KindPatient, InResponseTo: "m1", Sent: ny(t, "2026-03-05 10:00")}},
			now:      "2026-03-05 10:00", wantOwner: carepost.PoolOwner("nurses"), wantPrio: carepost.PriorityRoutine, wantDue: "2026-03-06 09:00", wantAway: true,
		},
		{
			name:     "after the absence the clinician gets it back",
			practice: away,
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryTestResult, Owner: carepost.UserOwner("carl")}, LastMessageID: "m1"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m1", Kind: carepost.KindPatient, Sent: ny(t, "2026-03-09 08:00")}},
			now:      "2026-03-09 08:00", wantOwner: carepost.UserOwner("carl"), wantPrio: carepost.PriorityRoutine, wantDue: "2026-03-09 16:00",
		},
		{
			name:     "a thread claimed before triage stays with whoever claimed it",
			practice: away,
			thread:   carepost.ThreadRecord{Thread: carepost.Thread{Category: carepost.CategoryTestResult, Owner: carepost.UserOwner("nora")}, LastMessageID: "m1"},
			msg:      carepost.MessageRecord{Message: carepost.Message{ID: "m1", Kind: carepost.KindPatient, Sent: ny(t, "2026-03-03 10:00")}},
			now:      "2026-03-03 10:00", wantOwner: carepost.UserOwner("nora"), wantPrio: carepost.PriorityRoutine, wantDue: "2026-03-04 09:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal := businesshours.ForPractice(tt.practice)
			pl := decide(tt.practice, cal, tt.thread, tt.msg, ny(t, tt.now))
			if got, want := pl.Owner, tt.wantOwner; got != want {
				t.Errorf("owner = %s, want %s", got, want)
			}
			if got, want := pl.Priority, tt.wantPrio; got != want {
				t.Errorf("priority = %s, want %s", got, want)
			}
			if got, want := pl.Due, ny(t, tt.wantDue); !got.Equal(want) {
				t.Errorf("due = %s, want %s", got.In(cal.Location()), want.In(cal.Location()))
			}
			wantPage := time.Time{}
			if tt.wantPage != "" {
				wantPage = ny(t, tt.wantPage)
			}
			if got := pl.PageDue; !got.Equal(wantPage) {
				t.Errorf("page due = %s, want %s", got, wantPage)
			}
			if got, want := pl.Away != nil, tt.wantAway; got != want {
				t.Errorf("away = %v, want %v", got, want)
			}
			if got, want := pl.Page, tt.msg.Urgent; got != want {
				t.Errorf("page = %v, want %v", got, want)
			}
			next := tt.thread
			pl.apply(&next)
			if !next.Triaged || next.Owner != pl.Owner || next.Priority < tt.thread.Priority {
				t.Errorf("apply: triaged=%v owner=%s priority=%s", next.Triaged, next.Owner, next.Priority)
			}
		})
	}
}

func TestApplyResetsEscalationOnNewDeadline(t *testing.T) {
	th := carepost.ThreadRecord{Thread: carepost.Thread{Due: ny(t, "2026-03-02 12:00"), Overdue: true}, Escalated: 2, PageLevel: 3}
	plan{Due: ny(t, "2026-03-04 12:00"), PageDue: ny(t, "2026-03-03 10:15")}.apply(&th)
	if th.Overdue || th.Escalated != 0 || th.PageLevel != 0 {
		t.Errorf("after a new deadline: overdue=%v escalated=%d pageLevel=%d, want false 0 0", th.Overdue, th.Escalated, th.PageLevel)
	}
	same := carepost.ThreadRecord{Thread: carepost.Thread{Due: ny(t, "2026-03-02 12:00"), Overdue: true}, Escalated: 2}
	plan{Due: ny(t, "2026-03-02 12:00")}.apply(&same)
	if !same.Overdue || same.Escalated != 2 {
		t.Errorf("same deadline: overdue=%v escalated=%d, want true 2", same.Overdue, same.Escalated)
	}
}

func TestTexts(t *testing.T) {
	p := testPractice()
	cal := businesshours.ForPractice(p)
	ack := ackText(p, cal, false, ny(t, "2026-03-10 15:00"))
	for _, want := range []string{"Expect an answer by Tue, Mar 10 at 3:00 PM EDT", "911", "+1-555-0100", "not for emergencies"} {
		if !strings.Contains(ack, want) {
			t.Errorf("ack %q lacks %q", ack, want)
		}
	}
	urgent := ackText(p, cal, true, time.Time{})
	for _, want := range []string{"911", "+1-555-0100", "988", "on-call team"} {
		if !strings.Contains(urgent, want) {
			t.Errorf("urgent ack %q lacks %q", urgent, want)
		}
	}
	a := away{Clinician: "carl", Absence: carepost.Absence{Until: ny(t, "2026-03-09 08:00"), Cover: carepost.PoolOwner("nurses"), Note: "Back soon."}}
	if got, want := awayText(p, cal, a), "Dr. Carl is out of the office and back on Monday, March 9. Until then our nurses team is looking after your messages. Back soon."; got != want {
		t.Errorf("away note = %q, want %q", got, want)
	}
	a.Absence.Cover = carepost.UserOwner("nora")
	if got := awayText(p, cal, a); !strings.Contains(got, "Nora Nurse is looking after") {
		t.Errorf("away note with a person as cover = %q", got)
	}
}
