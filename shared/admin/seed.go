package admin

import (
	"context"
	"time"

	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

// Seeding: demo data for the dev stack (shared/demo) and fixtures for
// tests. Nothing here is reachable over HTTP.

// SeedPatient registers a patient under a fixed id with the practice's
// duplicate-detection key, as enrollment would, and with an account subject
// when the patient is already active. A patient that exists is left as is.
func (s *Service) SeedPatient(ctx context.Context, practiceID, patientID string, c carepost.Contact, subject string) error {
	if err := ValidateContact(c, s.now()); err != nil {
		return err
	}
	key, err := s.dedupKeyFor(ctx, practiceID)
	if err != nil {
		return err
	}
	status := StatusRegistered
	if subject != "" {
		status = StatusActive
	}
	p := carepost.Patient{PracticeID: practiceID, ID: patientID, Subject: subject, Contact: c, Status: status, Created: s.now(), EmailNotifications: true}
	rec, err := messaging.SealPatient(ctx, s.Sealer, p, DedupKey(key, c))
	if err != nil {
		return err
	}
	if err := s.Store.PutPatient(ctx, rec); err != nil && carepost.ErrorCode(err) != carepost.CodeConflict {
		return err
	}
	return nil
}

// SeedAccount writes the account record of a user that already exists in
// the directory (with its proxy links), so the per-request account check,
// the staff list and "my proxies" know it. An existing record is left.
func (s *Service) SeedAccount(ctx context.Context, u auth.User) error {
	if u.PracticeID == "" {
		return nil // operators have no practice record
	}
	if _, err := s.Store.User(ctx, u.PracticeID, u.Subject); err == nil {
		return nil
	} else if carepost.ErrorCode(err) != carepost.CodeNotFound {
		return err
	}
	now := s.now()
	rec := carepost.UserRecord{PracticeID: u.PracticeID, Subject: u.Subject, Role: u.Role, PatientID: u.PatientID, Grants: u.Grants, Created: now, Updated: now}
	if err := s.sealAccount(ctx, &rec, carepost.AccountContact{Name: u.Name, Email: u.Email}); err != nil {
		return err
	}
	if u.Role != carepost.RoleProxy || len(u.Grants) == 0 {
		return s.Store.PutUser(ctx, rec)
	}
	for i, g := range u.Grants {
		if i > 0 {
			rec.Version++ // SaveProxy bumped it
		}
		link := carepost.ProxyLink{PatientID: g.PatientID, Subject: u.Subject, Scope: g.Scope, Expires: g.Expires, Granted: now.Add(-time.Second), GrantedBy: "seed"}
		if err := s.Store.SaveProxy(ctx, rec, link, false); err != nil {
			return err
		}
	}
	return nil
}
