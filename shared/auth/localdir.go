package auth

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// DefaultPasswordIterations is the PBKDF2-HMAC-SHA256 work factor OWASP
// recommends (2023): about 0.2 s per hash on one core of the dev machine.
const DefaultPasswordIterations = 600_000

// MinPasswordLen is the shortest password LocalDirectory accepts, matching a
// Cognito pool's default minimum.
const MinPasswordLen = 8

// LocalDirectoryConfig configures the in-memory directory.
type LocalDirectoryConfig struct {
	// Issuer mints the tokens IssueToken returns; nil disables IssueToken.
	Issuer *LocalIssuer
	// TokenTTL is the lifetime of issued tokens (DefaultTokenTTL if zero).
	TokenTTL time.Duration
	// PasswordIterations is the PBKDF2 work factor
	// (DefaultPasswordIterations if zero). Tests and demo seeding may lower
	// it; each stored hash remembers its own count.
	PasswordIterations int
}

// LocalDirectory is the dev stack's and the tests' identity provider: users
// in a map behind a mutex, passwords as salted PBKDF2-HMAC-SHA256 hashes.
// Nothing is persisted: a restart forgets every account (the signing key can
// survive, see LocalIssuerConfig.KeyPath).
type LocalDirectory struct {
	cfg LocalDirectoryConfig

	mu      sync.Mutex
	users   map[string]*localUser // by subject
	byEmail map[string]string     // lower-cased e-mail -> subject
}

type localUser struct {
	User
	password passwordHash
}

var (
	_ Directory      = (*LocalDirectory)(nil)
	_ PasswordSetter = (*LocalDirectory)(nil)
)

// NewLocalDirectory returns an empty directory.
func NewLocalDirectory(cfg LocalDirectoryConfig) *LocalDirectory {
	if cfg.PasswordIterations <= 0 {
		cfg.PasswordIterations = DefaultPasswordIterations
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	return &LocalDirectory{cfg: cfg, users: map[string]*localUser{}, byEmail: map[string]string{}}
}

// CreateUser implements Directory. An empty temporary password creates an
// account that cannot sign in until SetPassword (Cognito would e-mail a
// generated one instead).
func (d *LocalDirectory) CreateUser(ctx context.Context, u User, temporaryPassword string) (User, error) {
	if err := ValidateNewUser(u); err != nil {
		return User{}, err
	}
	var h passwordHash
	if temporaryPassword != "" {
		var err error
		if h, err = d.hash(temporaryPassword); err != nil {
			return User{}, err
		}
	}
	u.Subject = newSubject()
	u.Disabled = false
	u.Grants = slices.Clone(u.Grants)
	email := strings.ToLower(u.Email)

	d.mu.Lock()
	defer d.mu.Unlock()
	if _, taken := d.byEmail[email]; taken {
		return User{}, carepost.FieldError(carepost.CodeConflict, "email", "an account with this e-mail already exists")
	}
	d.users[u.Subject] = &localUser{User: u, password: h}
	d.byEmail[email] = u.Subject
	return cloneUser(u), nil
}

// DisableUser implements Directory. Tokens already issued keep verifying
// unless the Verifier's Revoked hook is wired (see Revoked).
func (d *LocalDirectory) DisableUser(ctx context.Context, practiceID, subject string) error {
	return d.update(practiceID, subject, func(u *localUser) error {
		u.Disabled = true
		return nil
	})
}

// SetRole implements Directory.
func (d *LocalDirectory) SetRole(ctx context.Context, practiceID, subject string, role carepost.Role) error {
	if !IsStaffRole(role) {
		return carepost.FieldError(carepost.CodeValidation, "role", "only staff roles can be assigned")
	}
	return d.update(practiceID, subject, func(u *localUser) error {
		if !IsStaffRole(u.Role) {
			return carepost.FieldError(carepost.CodeValidation, "role", "only a staff member's role can be changed")
		}
		u.Role = role
		return nil
	})
}

// SetGrants implements Directory.
func (d *LocalDirectory) SetGrants(ctx context.Context, practiceID, subject string, grants []carepost.Grant) error {
	if _, err := EncodeGrants(grants); err != nil {
		return err
	}
	return d.update(practiceID, subject, func(u *localUser) error {
		if u.Role != carepost.RoleProxy {
			return carepost.FieldError(carepost.CodeValidation, "grants", "only a proxy can hold grants")
		}
		u.Grants = slices.Clone(grants)
		return nil
	})
}

// SetPassword implements PasswordSetter.
func (d *LocalDirectory) SetPassword(ctx context.Context, practiceID, subject, password string) error {
	h, err := d.hash(password)
	if err != nil {
		return err
	}
	return d.update(practiceID, subject, func(u *localUser) error {
		u.password = h
		return nil
	})
}

// GetUser implements Directory.
func (d *LocalDirectory) GetUser(ctx context.Context, subject string) (User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[subject]
	if !ok {
		return User{}, carepost.NotFound("user")
	}
	return cloneUser(u.User), nil
}

// SubjectForEmail finds an account by e-mail (case-insensitive), for the dev
// stack's sign-in form.
func (d *LocalDirectory) SubjectForEmail(email string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.byEmail[strings.ToLower(email)]
	return s, ok
}

// Revoked reports whether subject may no longer use its tokens: the account
// is disabled or does not exist here. Its signature fits
// VerifierConfig.Revoked.
func (d *LocalDirectory) Revoked(ctx context.Context, subject string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[subject]
	return !ok || u.Disabled, nil
}

// badCredentials is the one answer to a wrong subject, a wrong password and
// an account without a password, so a caller cannot tell which it was.
func badCredentials() error {
	return carepost.Errorf(carepost.CodeUnauthenticated, "wrong user or password")
}

// IssueToken signs in: it checks the password and returns an ID token minted
// by the configured issuer. A disabled account is refused with
// CodeForbidden (after the password check, so the refusal reveals nothing to
// someone without the password).
func (d *LocalDirectory) IssueToken(subject, password string) (string, error) {
	if d.cfg.Issuer == nil {
		return "", carepost.Errorf(carepost.CodeUnavailable, "local sign-in has no token issuer")
	}
	d.mu.Lock()
	lu, ok := d.users[subject]
	var u User
	var h passwordHash
	if ok {
		u, h = cloneUser(lu.User), lu.password
	}
	d.mu.Unlock()

	if !ok || h.iter == 0 {
		// Spend the same work as a real check so timing does not tell an
		// unknown subject from a wrong password.
		passwordHash{iter: d.cfg.PasswordIterations, salt: make([]byte, 16), sum: make([]byte, 32)}.verify(password)
		return "", badCredentials()
	}
	if !h.verify(password) {
		return "", badCredentials()
	}
	if u.Disabled {
		return "", carepost.Errorf(carepost.CodeForbidden, "account is disabled")
	}
	return d.cfg.Issuer.Mint(u, d.cfg.TokenTTL)
}

// update applies f to subject's record if it belongs to practiceID; a user of
// another practice is not found, like a missing one.
func (d *LocalDirectory) update(practiceID, subject string, f func(*localUser) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[subject]
	if !ok || u.PracticeID != practiceID {
		return carepost.NotFound("user")
	}
	next := *u
	next.Grants = slices.Clone(u.Grants)
	if err := f(&next); err != nil {
		return err
	}
	*u = next
	return nil
}

func cloneUser(u User) User {
	u.Grants = slices.Clone(u.Grants)
	return u
}

// passwordHash is PBKDF2-HMAC-SHA256 with a 16-byte random salt and a 32-byte
// output. iter == 0 means no password is set.
type passwordHash struct {
	iter int
	salt []byte
	sum  []byte
}

func (d *LocalDirectory) hash(password string) (passwordHash, error) {
	if len(password) < MinPasswordLen {
		return passwordHash{}, carepost.FieldError(carepost.CodeValidation, "password", "a password needs at least %d characters", MinPasswordLen)
	}
	if len(password) > 256 {
		return passwordHash{}, carepost.FieldError(carepost.CodeValidation, "password", "a password may have at most 256 characters")
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	sum, err := pbkdf2.Key(sha256.New, password, salt, d.cfg.PasswordIterations, 32)
	if err != nil {
		return passwordHash{}, carepost.Wrap(carepost.CodeInternal, err, "password could not be hashed")
	}
	return passwordHash{iter: d.cfg.PasswordIterations, salt: salt, sum: sum}, nil
}

func (h passwordHash) verify(password string) bool {
	if h.iter == 0 {
		return false
	}
	sum, err := pbkdf2.Key(sha256.New, password, h.salt, h.iter, len(h.sum))
	return err == nil && subtle.ConstantTimeCompare(sum, h.sum) == 1
}

// newSubject returns a random UUID (version 4), the form of a Cognito sub.
func newSubject() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexdigits[c>>4], hexdigits[c&0xf])
	}
	return string(out)
}
