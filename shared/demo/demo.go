// Package demo seeds the dev stack with one practice and a user per role, so
// `make run` is usable at once. Demo users and passwords are for the local
// stack only; nothing here runs in AWS.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
)

// PracticeID is the demo practice.
const PracticeID = "demo-clinic"

// User is a demo account with its password.
type User struct {
	auth.User
	Password string
}

// Users are the demo accounts, one per role.
func Users() []User {
	grant := carepost.Grant{PatientID: "pat-ada", Scope: carepost.ProxyScope{Read: true, Write: true}}
	mk := func(email, name string, role carepost.Role, patient string, grants []carepost.Grant) User {
		practice := PracticeID
		if role == carepost.RoleOperator {
			practice = ""
		}
		return User{User: auth.User{Email: email, Name: name, Role: role, PracticeID: practice, PatientID: patient, Grants: grants}, Password: "demo-" + string(role) + "-pass"}
	}
	return []User{
		mk("ada@patients.test", "Ada Patient", carepost.RolePatient, "pat-ada", nil),
		mk("grace@patients.test", "Grace Proxy", carepost.RoleProxy, "", []carepost.Grant{grant}),
		mk("frank@demo-clinic.test", "Frank Frontdesk", carepost.RoleFrontDesk, "", nil),
		mk("nora@demo-clinic.test", "Nora Nurse, RN", carepost.RoleNurse, "", nil),
		mk("carl@demo-clinic.test", "Dr. Carl Clinician", carepost.RoleClinician, "", nil),
		mk("alice@demo-clinic.test", "Alice Admin", carepost.RoleAdmin, "", nil),
		mk("sam@demo-clinic.test", "Sam Scheduler", carepost.RoleScheduler, "", nil),
		mk("otto@operator.test", "Otto Operator", carepost.RoleOperator, "", nil),
	}
}

// AgreementText is the demo practice's messaging agreement.
const AgreementText = `Secure messaging agreement (Demo Clinic)
- Messages are for non-urgent questions. We answer within 1 business day (refills within 2).
- Never use messaging for emergencies: call 911, or 988 for the Suicide & Crisis Lifeline.
- Your messages are read by our nurses, front desk and your clinician, and become part of your medical record.
- Messages are encrypted; e-mail notifications never contain health information.`

// Practice returns the demo practice's settings, with staff subjects filled in.
func Practice(staff map[string]carepost.StaffRef, byRole map[carepost.Role]string) carepost.Practice {
	hours := []carepost.OpeningHours{}
	for d := time.Monday; d <= time.Friday; d++ {
		hours = append(hours, carepost.OpeningHours{Day: d, Open: "08:00", Close: "17:00"})
	}
	return carepost.Practice{
		ID: PracticeID, Name: "Demo Clinic", TimeZone: "America/New_York", Hours: hours,
		Holidays:   []string{"2026-12-25", "2027-01-01"},
		Turnaround: map[carepost.Category]int{carepost.CategoryQuestion: 8, carepost.CategoryPrescription: 16, carepost.CategoryAppointment: 8, carepost.CategoryBilling: 24, carepost.CategoryForms: 24, carepost.CategoryReferral: 16, carepost.CategoryTestResult: 8, carepost.CategoryMeasurement: 8},
		Pools: []carepost.Pool{
			{Name: "frontdesk", Members: []string{byRole[carepost.RoleFrontDesk]}, Lead: byRole[carepost.RoleFrontDesk]},
			{Name: "nurses", Members: []string{byRole[carepost.RoleNurse]}, Lead: byRole[carepost.RoleNurse]},
			{Name: "billing", Members: []string{byRole[carepost.RoleFrontDesk]}},
			{Name: "oncall", Members: []string{byRole[carepost.RoleNurse], byRole[carepost.RoleClinician]}},
		},
		Routing: map[carepost.Category]carepost.Owner{
			carepost.CategoryQuestion: carepost.PoolOwner("nurses"), carepost.CategoryPrescription: carepost.PoolOwner("nurses"),
			carepost.CategoryMeasurement: carepost.PoolOwner("nurses"), carepost.CategoryTestResult: carepost.UserOwner(byRole[carepost.RoleClinician]),
			carepost.CategoryAppointment: carepost.PoolOwner("frontdesk"), carepost.CategoryForms: carepost.PoolOwner("frontdesk"),
			carepost.CategoryReferral: carepost.PoolOwner("frontdesk"), carepost.CategoryBilling: carepost.PoolOwner("billing"),
		},
		OnCallPhone: "+1-555-0100", OnCallPool: "oncall", CrisisLine: "988",
		EscalationChain:           []carepost.Owner{carepost.UserOwner(byRole[carepost.RoleClinician]), carepost.UserOwner(byRole[carepost.RoleAdmin])},
		PageAckMinutes:            15,
		NotificationWindowMinutes: 30,
		RetentionDays:             3650,
		ProxyAdultAge:             18,
		Staff:                     staff,
	}
}

// Seed creates the demo accounts in dir and the demo practice in store. It
// returns the accounts with their subjects.
func Seed(ctx context.Context, store carepost.Store, dir auth.Directory, setPassword func(ctx context.Context, practiceID, subject, password string) error) ([]User, error) {
	users := Users()
	staff := map[string]carepost.StaffRef{}
	byRole := map[carepost.Role]string{}
	for i, u := range users {
		created, err := dir.CreateUser(ctx, u.User, "")
		if err != nil {
			return nil, fmt.Errorf("create demo user %s: %w", u.Email, err)
		}
		if err := setPassword(ctx, u.PracticeID, created.Subject, u.Password); err != nil {
			return nil, fmt.Errorf("set password of %s: %w", u.Email, err)
		}
		users[i].User = created
		byRole[u.Role] = created.Subject
		if u.Role.IsStaff() {
			staff[created.Subject] = carepost.StaffRef{Name: u.Name, Role: u.Role, Signature: u.Name + ", Demo Clinic", Email: u.Email}
		}
	}
	if err := store.PutPractice(ctx, Practice(staff, byRole)); err != nil {
		return nil, err
	}
	if _, err := store.CurrentAgreement(ctx, PracticeID); carepost.ErrorCode(err) == carepost.CodeNotFound {
		if _, err := store.PutAgreement(ctx, PracticeID, AgreementText, time.Now()); err != nil {
			return nil, err
		}
	}
	return users, nil
}
