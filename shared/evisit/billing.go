// Package evisit records the time staff spend on a thread and turns it into
// an e-visit billing suggestion: the minutes of clinicians (physicians and
// other qualified health professionals) summed over the 7-day window that
// starts when a clinician first reviews a patient-initiated question give
// CPT 99421 (5-10 minutes), 99422 (11-20) or 99423 (21 or more); time of
// qualified non-physicians (the nurse role) gives 98970, 98971 or 98972 on
// the same bands. Scheduling, billing and result questions are not
// billable, nor are totals under 5 minutes, nor threads the practice
// opened. A billing CSV lists a period's e-visits for the admin.
//
// Time entries hold ids, roles and minutes only; no note text (free text
// would be patient data).
package evisit

import (
	"slices"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// Window is how long an e-visit lasts from the first review.
const Window = 7 * 24 * time.Hour

// MinMinutes is the least billable total.
const MinMinutes = 5

// Excluded are the categories that cannot be billed as an e-visit.
var Excluded = []carepost.Category{carepost.CategoryAppointment, carepost.CategoryBilling, carepost.CategoryTestResult}

// Reasons a thread is not billable.
const (
	ReasonNotPatientInitiated = "not_patient_initiated"
	ReasonExcludedCategory    = "excluded_category"
	ReasonNotReviewed         = "not_reviewed"
	ReasonUnder5Minutes       = "under_5_minutes"
)

// Code returns the CPT code for a total of minutes: the physician/QHP
// codes, or the qualified non-physician ones; "" under 5 minutes.
func Code(minutes int, nonPhysician bool) string {
	codes := [3]string{"99421", "99422", "99423"}
	if nonPhysician {
		codes = [3]string{"98970", "98971", "98972"}
	}
	switch {
	case minutes < MinMinutes:
		return ""
	case minutes <= 10:
		return codes[0]
	case minutes <= 20:
		return codes[1]
	}
	return codes[2]
}

// Summary is a thread's e-visit as it stands.
type Summary struct {
	ThreadID         string            `json:"threadId"`
	PatientID        string            `json:"patientId"`
	Category         carepost.Category `json:"category"`
	WindowStart      time.Time         `json:"windowStart,omitzero"`
	WindowEnd        time.Time         `json:"windowEnd,omitzero"`
	Complete         bool              `json:"complete"` // the window has ended
	ClinicianMinutes int               `json:"clinicianMinutes"`
	NurseMinutes     int               `json:"nurseMinutes"`
	Billable         bool              `json:"billable"`
	Reason           string            `json:"reason,omitempty"`
	Code             string            `json:"code,omitempty"`
	BillingStaff     string            `json:"billingStaff,omitempty"` // subject with the most minutes of the billed kind
	BillingRole      carepost.Role     `json:"billingRole,omitempty"`
}

// Compute sums a thread's time inside its window and suggests a code.
// Clinician time is billed when it reaches 5 minutes; otherwise nurse time
// is, with the non-physician codes (the two are never added together).
func Compute(t carepost.ThreadRecord, entries []carepost.TimeEntry, now time.Time) Summary {
	s := Summary{ThreadID: t.ID, PatientID: t.PatientID, Category: t.Category}
	if !t.FirstReviewed.IsZero() {
		s.WindowStart = t.FirstReviewed.UTC()
		s.WindowEnd = s.WindowStart.Add(Window)
		s.Complete = !now.Before(s.WindowEnd)
	}
	byStaff := map[string]int{}
	for _, e := range entries {
		if s.WindowStart.IsZero() || e.At.Before(s.WindowStart) || !e.At.Before(s.WindowEnd) {
			continue
		}
		switch e.Role {
		case carepost.RoleClinician:
			s.ClinicianMinutes += e.Minutes
			byStaff[e.StaffID] += e.Minutes
		case carepost.RoleNurse:
			s.NurseMinutes += e.Minutes
			byStaff[e.StaffID] += e.Minutes
		}
	}
	switch {
	case t.OpenedByRole != carepost.RolePatient && t.OpenedByRole != carepost.RoleProxy:
		s.Reason = ReasonNotPatientInitiated
	case slices.Contains(Excluded, t.Category):
		s.Reason = ReasonExcludedCategory
	case s.WindowStart.IsZero():
		s.Reason = ReasonNotReviewed
	case s.ClinicianMinutes >= MinMinutes:
		s.Billable, s.Code, s.BillingRole = true, Code(s.ClinicianMinutes, false), carepost.RoleClinician
	case s.NurseMinutes >= MinMinutes:
		s.Billable, s.Code, s.BillingRole = true, Code(s.NurseMinutes, true), carepost.RoleNurse
	default:
		s.Reason = ReasonUnder5Minutes
	}
	if s.Billable {
		best := -1
		for _, e := range entries { // entries order breaks ties
			if e.Role == s.BillingRole && byStaff[e.StaffID] > best {
				best, s.BillingStaff = byStaff[e.StaffID], e.StaffID
			}
		}
	}
	return s
}
