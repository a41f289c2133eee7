package evisit

import (
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

func TestCode(t *testing.T) {
	for _, tc := range []struct {
		minutes      int
		nonPhysician bool
		want         string
	}{
		{0, false, ""}, {4, false, ""}, {5, false, "99421"}, {10, false, "99421"}, {11, false, "99422"},
		{20, false, "99422"}, {21, false, "99423"}, {240, false, "99423"},
		{4, true, ""}, {5, true, "98970"}, {10, true, "98970"}, {11, true, "98971"}, {20, true, "98971"}, {21, true, "98972"},
	} {
		if got := Code(tc.minutes, tc.nonPhysician); got != tc.want {
			t.Errorf("Code(%d, %v) = %q, want %q", tc.minutes, tc.nonPhysician, got, tc.want)
		}
	}
}

func TestCompute(t *testing.T) {
	reviewed := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	thread := func(cat carepost.Category, by carepost.Role, firstReviewed time.Time) carepost.ThreadRecord {
		return carepost.ThreadRecord{Thread: carepost.Thread{ID: "t1", PatientID: "p1", Category: cat, OpenedByRole: by}, FirstReviewed: firstReviewed}
	}
	entry := func(who string, role carepost.Role, at time.Time, minutes int) carepost.TimeEntry {
		return carepost.TimeEntry{StaffID: who, Role: role, At: at, Minutes: minutes}
	}
	dr, dr2, rn := "dr-a", "dr-b", "rn-a"
	clin, nurse := carepost.RoleClinician, carepost.RoleNurse
	now := reviewed.Add(30 * 24 * time.Hour)
	for _, tc := range []struct {
		name      string
		t         carepost.ThreadRecord
		entries   []carepost.TimeEntry
		now       time.Time
		code      string
		reason    string
		clinician int
		nurseMin  int
		staff     string
		complete  bool
	}{
		{"5 minutes at the start of the window", thread(carepost.CategoryQuestion, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 5)}, now, "99421", "", 5, 0, dr, true},
		{"a minute before the window does not count", thread(carepost.CategoryQuestion, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed.Add(-time.Minute), 10), entry(dr, clin, reviewed, 4)}, now, "", ReasonUnder5Minutes, 4, 0, "", true},
		{"the last instant inside the window counts", thread(carepost.CategoryQuestion, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed.Add(Window-time.Nanosecond), 11)}, now, "99422", "", 11, 0, dr, true},
		{"the window's end is outside", thread(carepost.CategoryQuestion, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 6), entry(dr, clin, reviewed.Add(Window), 30)}, now, "99421", "", 6, 0, dr, true},
		{"two clinicians add up; the one with most time bills", thread(carepost.CategoryPrescription, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 8), entry(dr2, clin, reviewed.Add(time.Hour), 13)}, now, "99423", "", 21, 0, dr2, true},
		{"20 minutes is 99422", thread(carepost.CategoryQuestion, carepost.RoleProxy, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 20)}, now, "99422", "", 20, 0, dr, true},
		{"nurse time alone: non-physician code", thread(carepost.CategoryMeasurement, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(rn, nurse, reviewed, 12)}, now, "98971", "", 0, 12, rn, true},
		{"clinician and nurse time are not added", thread(carepost.CategoryQuestion, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 3), entry(rn, nurse, reviewed, 3)}, now, "", ReasonUnder5Minutes, 3, 3, "", true},
		{"clinician time wins over nurse time", thread(carepost.CategoryQuestion, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 5), entry(rn, nurse, reviewed, 30)}, now, "99421", "", 5, 30, dr, true},
		{"front desk and admin time are not counted", thread(carepost.CategoryQuestion, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry("fd", carepost.RoleFrontDesk, reviewed, 30), entry("ad", carepost.RoleAdmin, reviewed, 30)}, now, "", ReasonUnder5Minutes, 0, 0, "", true},
		{"scheduling is excluded", thread(carepost.CategoryAppointment, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 30)}, now, "", ReasonExcludedCategory, 30, 0, "", true},
		{"billing is excluded", thread(carepost.CategoryBilling, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 30)}, now, "", ReasonExcludedCategory, 30, 0, "", true},
		{"result questions are excluded", thread(carepost.CategoryTestResult, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 30)}, now, "", ReasonExcludedCategory, 30, 0, "", true},
		{"clinician-initiated threads are excluded", thread(carepost.CategoryFollowUp, carepost.RoleClinician, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 30)}, now, "", ReasonNotPatientInitiated, 30, 0, "", true},
		{"never reviewed: no window", thread(carepost.CategoryQuestion, carepost.RolePatient, time.Time{}),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 30)}, now, "", ReasonNotReviewed, 0, 0, "", false},
		{"an open window is billable but not complete", thread(carepost.CategoryQuestion, carepost.RolePatient, reviewed),
			[]carepost.TimeEntry{entry(dr, clin, reviewed, 7)}, reviewed.Add(Window - time.Second), "99421", "", 7, 0, dr, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Compute(tc.t, tc.entries, tc.now)
			if s.Code != tc.code || s.Reason != tc.reason || s.Billable != (tc.code != "") {
				t.Errorf("code %q reason %q billable %v, want %q %q", s.Code, s.Reason, s.Billable, tc.code, tc.reason)
			}
			if s.ClinicianMinutes != tc.clinician || s.NurseMinutes != tc.nurseMin {
				t.Errorf("minutes clinician %d nurse %d, want %d %d", s.ClinicianMinutes, s.NurseMinutes, tc.clinician, tc.nurseMin)
			}
			if s.BillingStaff != tc.staff {
				t.Errorf("billing staff %q, want %q", s.BillingStaff, tc.staff)
			}
			if s.Complete != tc.complete {
				t.Errorf("complete %v, want %v", s.Complete, tc.complete)
			}
		})
	}
}
