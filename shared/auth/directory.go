package auth

import (
	"context"

	"github.com/carepost/carepost/shared/carepost"
)

// User is an account in the identity provider: a staff member, a patient, a
// proxy or an operator. Email and Name are personal data: they are stored in
// the provider and never written into errors or logs by this package.
type User struct {
	Subject    string // assigned by the provider on creation (Cognito sub)
	Email      string
	Name       string
	Role       carepost.Role
	PracticeID string // "" only for operators
	PatientID  string // patients: their patient record
	Grants     []carepost.Grant
	Disabled   bool
}

// Directory is the port to the identity provider that holds the accounts.
// Every method that takes a practiceID acts only on users of that practice: a
// user of another practice answers carepost.NotFound exactly like a missing
// one. Errors are *carepost.Error.
type Directory interface {
	// CreateUser creates the account and returns it with Subject assigned.
	// A temporary password is one the user must replace at first sign-in;
	// empty means the provider generates one and sends the invitation
	// e-mail. An e-mail already in use is CodeConflict.
	CreateUser(ctx context.Context, u User, temporaryPassword string) (User, error)
	// DisableUser blocks sign-in and ends the user's sessions; the account
	// and its history stay.
	DisableUser(ctx context.Context, practiceID, subject string) error
	// SetRole moves a staff member to another staff role (see IsStaffRole).
	SetRole(ctx context.Context, practiceID, subject string, role carepost.Role) error
	// SetGrants replaces a proxy's grants.
	SetGrants(ctx context.Context, practiceID, subject string, grants []carepost.Grant) error
	// GetUser reads an account by subject, whatever its practice: callers
	// that serve a practice must compare PracticeID themselves.
	GetUser(ctx context.Context, subject string) (User, error)
}

// PasswordSetter is implemented by directories that can set a permanent
// password, which patient activation needs (the patient proves who they are
// with the activation code, then chooses a password). Both LocalDirectory and
// cognitodir.Directory implement it.
type PasswordSetter interface {
	SetPassword(ctx context.Context, practiceID, subject, password string) error
}

// ValidateNewUser checks an account before it is created. Directory adapters
// call it so that local and Cognito accounts obey the same rules.
func ValidateNewUser(u User) error {
	if u.Email == "" || !looksLikeEmail(u.Email) {
		return carepost.FieldError(carepost.CodeValidation, "email", "a valid e-mail address is required")
	}
	if !u.Role.Valid() {
		return carepost.FieldError(carepost.CodeValidation, "role", "unknown role")
	}
	if msg, ok := checkAccount(u.Role, u.PracticeID, u.PatientID); !ok {
		field := "practiceId"
		if u.Role == carepost.RolePatient && u.PracticeID != "" {
			field = "patientId"
		}
		return carepost.FieldError(carepost.CodeValidation, field, "%s", msg)
	}
	if len(u.Grants) > 0 && u.Role != carepost.RoleProxy {
		return carepost.FieldError(carepost.CodeValidation, "grants", "only a proxy can hold grants")
	}
	if _, err := EncodeGrants(u.Grants); err != nil {
		return err
	}
	if len(u.Name) > 256 {
		return carepost.FieldError(carepost.CodeValidation, "name", "name is longer than 256 characters")
	}
	return nil
}

// looksLikeEmail is a plausibility check, not RFC 5322: one @ with text on
// both sides, a dot in the domain, no spaces, at most 254 characters.
func looksLikeEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	at := -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '@':
			if at >= 0 {
				return false
			}
			at = i
		case ' ', '\t', '\r', '\n':
			return false
		}
	}
	if at <= 0 || at == len(s)-1 {
		return false
	}
	domain := s[at+1:]
	for i := 1; i < len(domain)-1; i++ {
		if domain[i] == '.' {
			return true
		}
	}
	return false
}
