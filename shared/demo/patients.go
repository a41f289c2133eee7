package demo

import (
	"context"
	"fmt"

	"github.com/carepost/carepost/shared/admin"
	"github.com/carepost/carepost/shared/carepost"
)

// PatientID is the demo patient account's patient record.
const PatientID = "pat-ada"

// Patients are the demo practice's enrolled patients (contact details are
// stored sealed, like every enrolled patient's): Ada has an account (the
// patient demo user), the others are registered and can be invited from
// the API or `carepost patients invite`.
var Patients = []struct {
	ID      string
	Contact carepost.Contact
}{
	{PatientID, carepost.Contact{FirstName: "Ada", LastName: "Patient", BirthDate: "1985-12-10", Email: "ada@patients.test", Phone: "+1 555 0110"}},
	{"pat-ben", carepost.Contact{FirstName: "Ben", LastName: "Okafor", BirthDate: "1972-03-04", Email: "ben@patients.test", Phone: "+1 555 0111"}},
	{"pat-chloe", carepost.Contact{FirstName: "Chloe", LastName: "Martin", BirthDate: "1990-07-21", Email: "chloe@patients.test"}},
	{"pat-dev", carepost.Contact{FirstName: "Dev", LastName: "Patel", BirthDate: "1958-11-30", Email: "dev@patients.test", Phone: "+1 555 0113"}},
	{"pat-tim", carepost.Contact{FirstName: "Tim", LastName: "Patient", BirthDate: "2014-05-02", Email: "tim.family@patients.test"}},
}

// SeedPatients enrolls the demo patients and writes the account records of
// the demo users (so disabling one, or revoking Grace's proxy grant, takes
// effect at once in the dev stack too). It is idempotent.
func SeedPatients(ctx context.Context, svc *admin.Service, users []User) error {
	subject := ""
	for _, u := range users {
		if u.Role == carepost.RolePatient && u.PatientID == PatientID {
			subject = u.Subject
		}
	}
	for _, p := range Patients {
		sub := ""
		if p.ID == PatientID {
			sub = subject
		}
		if err := svc.SeedPatient(ctx, PracticeID, p.ID, p.Contact, sub); err != nil {
			return fmt.Errorf("seed demo patient %s: %w", p.ID, err)
		}
	}
	for _, u := range users {
		if err := svc.SeedAccount(ctx, u.User); err != nil {
			return fmt.Errorf("seed the account record of %s: %w", u.Email, err)
		}
	}
	return nil
}
