package demo_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/carepost/carepost/shared/admin"
	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/demo"
)

// TestSeedPatients: the demo seed enrolls the demo patients (pat-ada with
// the patient demo user's account), writes the demo users' account records,
// and can run twice.
func TestSeedPatients(t *testing.T) {
	h := apptest.New(t)
	ctx := context.Background()
	users, err := demo.Seed(ctx, h.App.Store, h.Dir, h.Dir.SetPassword)
	if err != nil {
		t.Fatal(err)
	}
	svc := admin.New(h.App.Store, h.App.Envelope, nil, h.Dir, h.App.Mailer, "")
	for range 2 {
		if err := demo.SeedPatients(ctx, svc, users); err != nil {
			t.Fatal(err)
		}
	}
	token := func(role carepost.Role) string {
		for _, u := range users {
			if u.Role == role {
				tok, err := h.Dir.IssueToken(u.Subject, u.Password)
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
		}
		t.Fatalf("no demo %s", role)
		return ""
	}
	var page struct {
		Items []struct {
			ID      string
			Status  string
			Contact carepost.Contact
		}
	}
	h.Must(t, token(carepost.RoleAdmin), "GET", "/v1/patients?limit=100", nil, http.StatusOK, &page)
	if got, want := len(page.Items), len(demo.Patients); got != want {
		t.Fatalf("demo patients = %d, want %d", got, want)
	}
	for _, p := range page.Items {
		if p.ID == demo.PatientID && (p.Status != "active" || p.Contact.Email != "ada@patients.test") {
			t.Errorf("pat-ada = %+v, want active with Ada's e-mail", p)
		}
	}
	var mine struct{ Items []struct{ Name string } }
	h.Must(t, token(carepost.RolePatient), "GET", "/v1/me/proxies", nil, http.StatusOK, &mine)
	if len(mine.Items) != 1 || mine.Items[0].Name != "Grace Proxy" {
		t.Fatalf("Ada's proxies = %+v, want Grace", mine.Items)
	}
	var staff struct{ Items []struct{ Email string } }
	h.Must(t, token(carepost.RoleAdmin), "GET", "/v1/staff", nil, http.StatusOK, &staff)
	for _, s := range staff.Items {
		if s.Email == "" {
			t.Errorf("a demo staff member has no e-mail in the listing: %+v", staff.Items)
		}
	}
	// Grace's token still reads Ada's threads (her record holds the grant).
	h.Must(t, token(carepost.RoleProxy), "GET", "/v1/threads?patientId="+demo.PatientID, nil, http.StatusOK, nil)
}
