package messaging

import (
	"context"
	"slices"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// adminCategories are what the front desk works; clinical categories go to
// nurses and clinicians.
var adminCategories = []carepost.Category{carepost.CategoryAppointment, carepost.CategoryForms, carepost.CategoryBilling, carepost.CategoryReferral, carepost.CategoryAdministrative}

// canSee is the one rule of thread visibility.
func canSee(p carepost.Principal, t carepost.ThreadRecord, now time.Time) bool {
	if p.PracticeID == "" || p.PracticeID != t.PracticeID {
		return false
	}
	switch p.Role {
	case carepost.RolePatient:
		return p.PatientID != "" && p.PatientID == t.PatientID
	case carepost.RoleProxy:
		g, ok := p.GrantFor(t.PatientID, now)
		return ok && g.Scope.Read && !t.Confidential && g.Scope.AllowsCategory(t.Category)
	case carepost.RoleNurse, carepost.RoleClinician, carepost.RoleAdmin:
		return true
	case carepost.RoleFrontDesk:
		if slices.Contains(adminCategories, t.Category) {
			return true
		}
		if sub, ok := t.Owner.User(); ok && sub == p.Subject {
			return true
		}
		return false
	}
	return false // scheduler, operator: no thread access
}

// canWrite says whether p may add a message to t (t visible to p).
func canWrite(p carepost.Principal, t carepost.ThreadRecord, now time.Time) bool {
	switch p.Role {
	case carepost.RolePatient:
		return true
	case carepost.RoleProxy:
		g, ok := p.GrantFor(t.PatientID, now)
		return ok && g.Scope.Write && g.Scope.AllowsCategory(t.Category)
	case carepost.RoleNurse, carepost.RoleClinician, carepost.RoleFrontDesk:
		return true
	}
	return false
}

// visibleThread loads a thread for p or answers not found — the same answer
// for a missing thread and one p may not see. A denied look is audited.
func (s *Service) visibleThread(ctx context.Context, p carepost.Principal, threadID, action string) (carepost.ThreadRecord, error) {
	t, err := s.Store.Thread(ctx, p.PracticeID, threadID)
	if err != nil {
		if carepost.ErrorCode(err) == carepost.CodeNotFound {
			if aerr := s.audit(ctx, p, action, "", "thread/"+safeID(threadID), "not_found"); aerr != nil {
				return t, aerr
			}
		}
		return t, err
	}
	if !canSee(p, t, s.now()) {
		if aerr := s.audit(ctx, p, action, t.PatientID, "thread/"+t.ID, "denied"); aerr != nil {
			return t, aerr
		}
		return carepost.ThreadRecord{}, carepost.NotFound("thread")
	}
	return t, nil
}

// safeID keeps client-supplied ids out of the audit log unless they look
// like ids (hex, bounded).
func safeID(id string) string {
	if len(id) == 0 || len(id) > 64 {
		return "invalid"
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return "invalid"
		}
	}
	return id
}

// requireStaff answers forbidden for non-staff roles, and audits the
// refusal (outcome denied) under object, as every denied access is: a
// patient probing the inbox or trying to claim a thread shows in the log.
func (s *Service) requireStaff(ctx context.Context, p carepost.Principal, action, object string) error {
	if p.Role.IsStaff() && p.PracticeID != "" {
		return nil
	}
	if err := s.audit(ctx, p, action, "", object, "denied"); err != nil {
		return err
	}
	return carepost.Errorf(carepost.CodeForbidden, "this needs a practice staff role")
}

// actsFor checks a patient or proxy may act for patientID (write if write).
func actsFor(p carepost.Principal, patientID string, c carepost.Category, write bool, now time.Time) bool {
	switch p.Role {
	case carepost.RolePatient:
		return p.PatientID != "" && p.PatientID == patientID
	case carepost.RoleProxy:
		g, ok := p.GrantFor(patientID, now)
		if !ok || !g.Scope.AllowsCategory(c) {
			return false
		}
		if write {
			return g.Scope.Write
		}
		return g.Scope.Read
	}
	return false
}
