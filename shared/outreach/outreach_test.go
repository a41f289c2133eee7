package outreach

import (
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/carepost"
)

func TestValidate(t *testing.T) {
	clin := carepost.Principal{Subject: "c1", Role: carepost.RoleClinician, PracticeID: "p1"}
	ok := func() BulkInput {
		return BulkInput{Category: carepost.CategoryEducation, Subject: "Flu season", Body: "Read this.", PatientIDs: []string{"a", "b", "a"},
			Links: []Link{{Title: "Flu facts", URL: "https://example.org/flu"}}}
	}
	for _, tc := range []struct {
		name   string
		who    carepost.Principal
		change func(*BulkInput)
		code   carepost.Code
		field  string
	}{
		{"valid", clin, func(*BulkInput) {}, "", ""},
		{"nurse", carepost.Principal{Role: carepost.RoleNurse, PracticeID: "p1"}, func(*BulkInput) {}, "", ""},
		{"front desk", carepost.Principal{Role: carepost.RoleFrontDesk, PracticeID: "p1"}, func(*BulkInput) {}, carepost.CodeForbidden, ""},
		{"patient", carepost.Principal{Role: carepost.RolePatient, PracticeID: "p1"}, func(*BulkInput) {}, carepost.CodeForbidden, ""},
		{"question is not a bulk category", clin, func(in *BulkInput) { in.Category = carepost.CategoryQuestion }, carepost.CodeValidation, "category"},
		{"no subject", clin, func(in *BulkInput) { in.Subject = " " }, carepost.CodeValidation, "subject"},
		{"no body", clin, func(in *BulkInput) { in.Body = "" }, carepost.CodeValidation, "body"},
		{"http link", clin, func(in *BulkInput) { in.Links[0].URL = "http://example.org/flu" }, carepost.CodeValidation, "links.url"},
		{"javascript link", clin, func(in *BulkInput) { in.Links[0].URL = "javascript:alert(1)" }, carepost.CodeValidation, "links.url"},
		{"link with credentials", clin, func(in *BulkInput) { in.Links[0].URL = "https://u:p@example.org/" }, carepost.CodeValidation, "links.url"},
		{"link title on two lines", clin, func(in *BulkInput) { in.Links[0].Title = "a\nb" }, carepost.CodeValidation, "links.title"},
		{"too many links", clin, func(in *BulkInput) {
			for range MaxLinks {
				in.Links = append(in.Links, in.Links[0])
			}
		}, carepost.CodeValidation, "links"},
		{"no patients", clin, func(in *BulkInput) { in.PatientIDs = nil }, carepost.CodeValidation, "patientIds"},
		{"too many patients", clin, func(in *BulkInput) {
			in.PatientIDs = nil
			for i := range MaxRecipients + 1 {
				in.PatientIDs = append(in.PatientIDs, "p"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+string(rune('a'+i/26)))
			}
		}, carepost.CodeValidation, "patientIds"},
		{"bad patient id", clin, func(in *BulkInput) { in.PatientIDs = []string{"a#b"} }, carepost.CodeValidation, "patientIds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ok()
			tc.change(&in)
			err := (&Service{}).validate(tc.who, &in)
			if got := carepost.ErrorCode(err); got != tc.code {
				t.Fatalf("code %q, want %q (%v)", got, tc.code, err)
			}
			if e, isErr := err.(*carepost.Error); isErr && e.Field != tc.field {
				t.Errorf("field %q, want %q", e.Field, tc.field)
			}
			if err == nil && len(in.PatientIDs) != 2 {
				t.Errorf("duplicates not removed: %v", in.PatientIDs)
			}
		})
	}
	in := ok()
	if got, want := in.text(), "Read this.\n\nFlu facts: https://example.org/flu"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
}
