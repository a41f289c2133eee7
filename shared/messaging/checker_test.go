package messaging

import (
	"testing"

	"github.com/carepost/carepost/shared/carepost"
)

// A practice term that no longer validates (saved before a rule change)
// drops only itself: the built-in rules and the practice's other terms
// still raise urgency.
func TestCheckerKeepsGoodTermsBesideABadOne(t *testing.T) {
	s := &Service{}
	c, err := s.checker(carepost.Practice{ID: "p1", UrgentTerms: []string{"sepsis", "chest. pain", "blood clot"}})
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]bool{
		"the nurse said it might be sepsis":    true,
		"worried about a blood clot in my leg": true,
		"crushing chest pain since an hour":    true, // built-in
		"question about my appointment time":   false,
	} {
		if got := c.Check("", text, nil).Urgent; got != want {
			t.Errorf("%q: urgent = %v, want %v", text, got, want)
		}
	}
}
