package testenv

import (
	"path/filepath"
	"reflect"
	"testing"
)

func TestThreadTextLogAndLeaks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "texts.log")
	t.Setenv(ThreadTextLogVar, path)
	NoteThreadJSON([]byte(`{"category": "prescription", "subject": "Refill of my Lisinopril",
		"body": "short",
		"form": {"medication": "Metformin extended release", "dosesLeft": 3, "pharmacy": {"name": "Corner Street Pharmacy"}}}`)) // "short" is too short to note
	NoteThreadText("Refill of my Lisinopril") // a duplicate
	got, err := ReadThreadTexts(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Corner Street Pharmacy", "Metformin extended release", "Refill of my Lisinopril"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("noted %q, want %q", got, want)
	}

	clean := Mail{Subject: "New secure message from Practice A"}
	clean.Body.Text = "Sign in to read it: https://clinic.example/app"
	leaky := Mail{Subject: "New secure message"}
	leaky.Body.HTML = "<p>About your METFORMIN   extended\nrelease</p>"
	leaky.Destination.To = []string{"pat@m.test"}
	leaks := ThreadTextLeaks([]Mail{clean, leaky}, got)
	if len(leaks) != 1 || leaks[0].Text != "Metformin extended release" || leaks[0].To[0] != "pat@m.test" {
		t.Errorf("leaks = %+v, want the one HTML body carrying the medication", leaks)
	}
}
