// Package cognitodir implements auth.Directory on an Amazon Cognito user
// pool: accounts are pool users, roles are pool groups named after the roles
// ("nurse", "admin", ...), and practice, patient and proxy grants are the
// custom attributes custom:practice_id, custom:patient_id and custom:grants,
// which therefore appear in the users' ID tokens.
//
// The pool must have those custom attributes (mutable strings; grants up to
// 2,048 characters), one group per role, e-mail as the sign-in attribute, and
// an app client allowed to read the custom attributes. The pool's MFA setting
// is infrastructure, not code here.
//
// Users are addressed by their sub, which Cognito's admin operations accept
// in place of the username. This package never logs; its errors carry no
// e-mail, name or password.
package cognitodir

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
)

// Client is the part of the Cognito API the directory uses;
// *cognitoidentityprovider.Client satisfies it.
type Client interface {
	AdminCreateUser(context.Context, *cip.AdminCreateUserInput, ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error)
	AdminDeleteUser(context.Context, *cip.AdminDeleteUserInput, ...func(*cip.Options)) (*cip.AdminDeleteUserOutput, error)
	AdminAddUserToGroup(context.Context, *cip.AdminAddUserToGroupInput, ...func(*cip.Options)) (*cip.AdminAddUserToGroupOutput, error)
	AdminRemoveUserFromGroup(context.Context, *cip.AdminRemoveUserFromGroupInput, ...func(*cip.Options)) (*cip.AdminRemoveUserFromGroupOutput, error)
	AdminListGroupsForUser(context.Context, *cip.AdminListGroupsForUserInput, ...func(*cip.Options)) (*cip.AdminListGroupsForUserOutput, error)
	AdminDisableUser(context.Context, *cip.AdminDisableUserInput, ...func(*cip.Options)) (*cip.AdminDisableUserOutput, error)
	AdminUserGlobalSignOut(context.Context, *cip.AdminUserGlobalSignOutInput, ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error)
	AdminUpdateUserAttributes(context.Context, *cip.AdminUpdateUserAttributesInput, ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error)
	AdminGetUser(context.Context, *cip.AdminGetUserInput, ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	AdminSetUserPassword(context.Context, *cip.AdminSetUserPasswordInput, ...func(*cip.Options)) (*cip.AdminSetUserPasswordOutput, error)
}

var (
	_ Client              = (*cip.Client)(nil)
	_ auth.Directory      = (*Directory)(nil)
	_ auth.PasswordSetter = (*Directory)(nil)
)

// Directory is auth.Directory on one user pool.
type Directory struct {
	client Client
	poolID string
}

// New returns a directory on the user pool poolID.
func New(client Client, poolID string) *Directory {
	return &Directory{client: client, poolID: poolID}
}

// CreateUser implements auth.Directory with AdminCreateUser (e-mail as the
// username, so Cognito assigns a UUID username and sub) followed by
// AdminAddUserToGroup for the role. With a temporary password Cognito sends
// nothing and the caller hands the password over; without one Cognito
// generates a password and e-mails the invitation. Either way the user must
// choose a new password at first sign-in. If the group cannot be assigned the
// new user is deleted again, so no account without a role is left behind.
func (d *Directory) CreateUser(ctx context.Context, u auth.User, temporaryPassword string) (auth.User, error) {
	if err := auth.ValidateNewUser(u); err != nil {
		return auth.User{}, err
	}
	attrs := []types.AttributeType{
		attr(auth.AttrEmail, u.Email),
		attr("email_verified", "true"), // the practice typed it in; lets the invite and password reset reach it
	}
	for name, v := range map[string]string{auth.AttrName: u.Name, auth.AttrPracticeID: u.PracticeID, auth.AttrPatientID: u.PatientID} {
		if v != "" {
			attrs = append(attrs, attr(name, v))
		}
	}
	if u.Role == carepost.RoleProxy {
		grants, err := encodeGrants(u.Grants)
		if err != nil {
			return auth.User{}, err
		}
		attrs = append(attrs, attr(auth.AttrGrants, grants))
	}
	slices.SortFunc(attrs, func(a, b types.AttributeType) int { return cmp.Compare(*a.Name, *b.Name) })
	in := &cip.AdminCreateUserInput{
		UserPoolId:             &d.poolID,
		Username:               aws.String(u.Email),
		UserAttributes:         attrs,
		DesiredDeliveryMediums: []types.DeliveryMediumType{types.DeliveryMediumTypeEmail},
	}
	if temporaryPassword != "" {
		in.TemporaryPassword = aws.String(temporaryPassword)
		in.MessageAction = types.MessageActionTypeSuppress
	}
	out, err := d.client.AdminCreateUser(ctx, in)
	if err != nil {
		return auth.User{}, mapError(err, "user")
	}
	if out.User == nil {
		return auth.User{}, carepost.Errorf(carepost.CodeInternal, "identity provider returned no user")
	}
	sub := attrValue(out.User.Attributes, "sub")
	if sub == "" {
		sub = aws.ToString(out.User.Username)
	}
	if sub == "" {
		return auth.User{}, carepost.Errorf(carepost.CodeInternal, "identity provider returned a user without a subject")
	}
	if _, err := d.client.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{
		UserPoolId: &d.poolID, Username: &sub, GroupName: aws.String(string(u.Role)),
	}); err != nil {
		_, _ = d.client.AdminDeleteUser(context.WithoutCancel(ctx), &cip.AdminDeleteUserInput{UserPoolId: &d.poolID, Username: &sub})
		return auth.User{}, mapError(err, "role group")
	}
	u.Subject = sub
	u.Disabled = false
	u.Grants = slices.Clone(u.Grants)
	return u, nil
}

// DisableUser implements auth.Directory: AdminDisableUser blocks sign-in and
// AdminUserGlobalSignOut revokes refresh tokens. ID tokens already issued stay
// valid until they expire unless the Verifier's Revoked hook says otherwise,
// which is why the API backs that hook with its own record of disabled users.
func (d *Directory) DisableUser(ctx context.Context, practiceID, subject string) error {
	if _, err := d.userIn(ctx, practiceID, subject); err != nil {
		return err
	}
	if _, err := d.client.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: &d.poolID, Username: &subject}); err != nil {
		return mapError(err, "user")
	}
	return d.signOut(ctx, subject)
}

// SetRole implements auth.Directory: the new role group is added before the
// old ones are removed, so the user is never without a role, and the user is
// signed out everywhere so the next tokens carry the new role.
func (d *Directory) SetRole(ctx context.Context, practiceID, subject string, role carepost.Role) error {
	if !auth.IsStaffRole(role) {
		return carepost.FieldError(carepost.CodeValidation, "role", "only staff roles can be assigned")
	}
	if _, err := d.userIn(ctx, practiceID, subject); err != nil {
		return err
	}
	groups, err := d.groups(ctx, subject)
	if err != nil {
		return err
	}
	if current, ok := auth.RoleFromGroups(groups); !ok || !auth.IsStaffRole(current) {
		return carepost.FieldError(carepost.CodeValidation, "role", "only a staff member's role can be changed")
	}
	if !slices.Contains(groups, string(role)) {
		if _, err := d.client.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{
			UserPoolId: &d.poolID, Username: &subject, GroupName: aws.String(string(role)),
		}); err != nil {
			return mapError(err, "role group")
		}
	}
	for _, g := range groups {
		if g == string(role) || !carepost.Role(g).Valid() {
			continue
		}
		if _, err := d.client.AdminRemoveUserFromGroup(ctx, &cip.AdminRemoveUserFromGroupInput{
			UserPoolId: &d.poolID, Username: &subject, GroupName: aws.String(g),
		}); err != nil {
			return mapError(err, "role group")
		}
	}
	return d.signOut(ctx, subject)
}

// SetGrants implements auth.Directory by rewriting custom:grants, then signs
// the proxy out everywhere so narrowed grants are not refreshed into new
// tokens.
func (d *Directory) SetGrants(ctx context.Context, practiceID, subject string, grants []carepost.Grant) error {
	encoded, err := encodeGrants(grants)
	if err != nil {
		return err
	}
	if _, err := d.userIn(ctx, practiceID, subject); err != nil {
		return err
	}
	groups, err := d.groups(ctx, subject)
	if err != nil {
		return err
	}
	if role, _ := auth.RoleFromGroups(groups); role != carepost.RoleProxy {
		return carepost.FieldError(carepost.CodeValidation, "grants", "only a proxy can hold grants")
	}
	if _, err := d.client.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{
		UserPoolId: &d.poolID, Username: &subject,
		UserAttributes: []types.AttributeType{attr(auth.AttrGrants, encoded)},
	}); err != nil {
		return mapError(err, "user")
	}
	return d.signOut(ctx, subject)
}

// SetPassword implements auth.PasswordSetter with a permanent password
// (patient activation).
func (d *Directory) SetPassword(ctx context.Context, practiceID, subject, password string) error {
	if _, err := d.userIn(ctx, practiceID, subject); err != nil {
		return err
	}
	if _, err := d.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: &d.poolID, Username: &subject, Password: &password, Permanent: true,
	}); err != nil {
		return mapError(err, "user")
	}
	return nil
}

// GetUser implements auth.Directory with AdminGetUser and
// AdminListGroupsForUser.
func (d *Directory) GetUser(ctx context.Context, subject string) (auth.User, error) {
	u, err := d.get(ctx, subject)
	if err != nil {
		return auth.User{}, err
	}
	groups, err := d.groups(ctx, subject)
	if err != nil {
		return auth.User{}, err
	}
	u.Role, _ = auth.RoleFromGroups(groups)
	return u, nil
}

// userIn reads subject and checks that it belongs to practiceID; another
// practice's user is not found, like a missing one.
func (d *Directory) userIn(ctx context.Context, practiceID, subject string) (auth.User, error) {
	u, err := d.get(ctx, subject)
	if err != nil {
		return auth.User{}, err
	}
	if u.PracticeID != practiceID {
		return auth.User{}, carepost.NotFound("user")
	}
	return u, nil
}

// get reads the user's attributes (not its role).
func (d *Directory) get(ctx context.Context, subject string) (auth.User, error) {
	if subject == "" {
		return auth.User{}, carepost.NotFound("user")
	}
	out, err := d.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &d.poolID, Username: &subject})
	if err != nil {
		return auth.User{}, mapError(err, "user")
	}
	u := auth.User{
		Subject:    attrValue(out.UserAttributes, "sub"),
		Email:      attrValue(out.UserAttributes, auth.AttrEmail),
		Name:       attrValue(out.UserAttributes, auth.AttrName),
		PracticeID: attrValue(out.UserAttributes, auth.AttrPracticeID),
		PatientID:  attrValue(out.UserAttributes, auth.AttrPatientID),
		Disabled:   !out.Enabled,
	}
	if u.Subject == "" {
		u.Subject = subject
	}
	grants, err := auth.DecodeGrants(attrValue(out.UserAttributes, auth.AttrGrants))
	if err != nil {
		return auth.User{}, carepost.Wrap(carepost.CodeInternal, err, "stored proxy grants are malformed")
	}
	u.Grants = grants
	return u, nil
}

func (d *Directory) groups(ctx context.Context, subject string) ([]string, error) {
	var names []string
	var next *string
	for {
		out, err := d.client.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{
			UserPoolId: &d.poolID, Username: &subject, NextToken: next, Limit: aws.Int32(60),
		})
		if err != nil {
			return nil, mapError(err, "user")
		}
		for _, g := range out.Groups {
			names = append(names, aws.ToString(g.GroupName))
		}
		if next = out.NextToken; next == nil || *next == "" {
			return names, nil
		}
	}
}

func (d *Directory) signOut(ctx context.Context, subject string) error {
	if _, err := d.client.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: &d.poolID, Username: &subject}); err != nil {
		return mapError(err, "user")
	}
	return nil
}

// encodeGrants stores "no grants" as "[]": Cognito cannot hold an empty
// attribute value.
func encodeGrants(grants []carepost.Grant) (string, error) {
	s, err := auth.EncodeGrants(grants)
	if err != nil || s != "" {
		return s, err
	}
	return "[]", nil
}

func attr(name, value string) types.AttributeType {
	return types.AttributeType{Name: aws.String(name), Value: aws.String(value)}
}

func attrValue(attrs []types.AttributeType, name string) string {
	for _, a := range attrs {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

// mapError turns a Cognito error into a carepost.Error. Cognito's messages
// can echo the username (an e-mail), so they are kept only as the wrapped
// cause for operators, never in the client-facing message.
func mapError(err error, what string) error {
	var (
		notFound     *types.UserNotFoundException
		resource     *types.ResourceNotFoundException
		exists       *types.UsernameExistsException
		alias        *types.AliasExistsException
		badPassword  *types.InvalidPasswordException
		history      *types.PasswordHistoryPolicyViolationException
		badParam     *types.InvalidParameterException
		tooMany      *types.TooManyRequestsException
		limit        *types.LimitExceededException
		internal     *types.InternalErrorException
		notAuthz     *types.NotAuthorizedException
		codeDelivery *types.CodeDeliveryFailureException
	)
	switch {
	case errors.As(err, &notFound):
		return carepost.NotFound(what)
	case errors.As(err, &resource):
		return carepost.Wrap(carepost.CodeInternal, errors.New(resource.ErrorCode()), "identity provider is misconfigured: %s missing", what)
	case errors.As(err, &exists), errors.As(err, &alias):
		return carepost.FieldError(carepost.CodeConflict, "email", "an account with this e-mail already exists")
	case errors.As(err, &badPassword), errors.As(err, &history):
		return carepost.FieldError(carepost.CodeValidation, "password", "the password does not meet the password policy")
	case errors.As(err, &badParam):
		return &carepost.Error{Code: carepost.CodeValidation, Message: "the identity provider rejected the account data", Err: errors.New(badParam.ErrorCode())}
	case errors.As(err, &codeDelivery):
		return carepost.Unavailable(errors.New(codeDelivery.ErrorCode()), "invitation delivery")
	case errors.As(err, &tooMany), errors.As(err, &limit), errors.As(err, &internal):
		return carepost.Unavailable(cause(err), "identity provider")
	case errors.As(err, &notAuthz):
		return carepost.Wrap(carepost.CodeInternal, errors.New(notAuthz.ErrorCode()), "not authorized at the identity provider")
	}
	return carepost.Unavailable(cause(err), "identity provider")
}

// cause reduces a Cognito API error to its error code, dropping a message
// that might quote the username; other errors (network, timeouts) are kept.
func cause(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return errors.New("cognito: " + api.ErrorCode())
	}
	return err
}
