package admin

import (
	"context"
	"errors"

	"github.com/carepost/carepost/shared/carepost"
)

// TokenVerifier turns a bearer token into a principal (auth.Verifier and
// httpapi.Authenticator have this shape).
type TokenVerifier interface {
	Verify(ctx context.Context, bearer string) (carepost.Principal, error)
}

// UserRecords reads account records (dynamo.Store).
type UserRecords interface {
	User(ctx context.Context, practiceID, subject string) (carepost.UserRecord, error)
}

// Revocation checks every verified token against the practice's account
// record, so that access ends at once, not when an ID token (up to an hour)
// expires:
//
//   - a disabled account is refused;
//   - a role or patient different from the record's is refused (the user
//     signs in again and gets a token with the new role);
//   - a proxy's grants are the record's, not the token's: a revocation or
//     a narrowing applies to tokens already issued.
//
// Accounts without a record (made outside this package, e.g. by hand in the
// user pool) are left to the token and the directory. Operators belong to
// no practice and are not checked. It costs one consistent GetItem per
// request.
type Revocation struct {
	Next  TokenVerifier
	Users UserRecords
}

var (
	errDisabled = errors.New("account disabled")
	errChanged  = errors.New("account changed")
)

// Verify implements TokenVerifier.
func (r Revocation) Verify(ctx context.Context, bearer string) (carepost.Principal, error) {
	p, err := r.Next.Verify(ctx, bearer)
	if err != nil || p.PracticeID == "" {
		return p, err
	}
	u, err := r.Users.User(ctx, p.PracticeID, p.Subject)
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return p, nil
	}
	if err != nil {
		return carepost.Principal{}, carepost.Unavailable(err, "the account check")
	}
	if u.Disabled {
		return carepost.Principal{}, &carepost.Error{Code: carepost.CodeUnauthenticated, Message: "the account is disabled", Err: errDisabled}
	}
	if u.Role != p.Role || (p.Role == carepost.RolePatient && u.PatientID != p.PatientID) {
		return carepost.Principal{}, &carepost.Error{Code: carepost.CodeUnauthenticated, Message: "the account changed since this token was issued; sign in again", Err: errChanged}
	}
	if p.Role == carepost.RoleProxy {
		p.Grants = append([]carepost.Grant(nil), u.Grants...)
	}
	return p, nil
}
