package cognitodir

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/carepost"
)

const pool = "eu-west-1_TestPool"

// fakeUser is a pool user in fakeCognito.
type fakeUser struct {
	attrs   map[string]string
	groups  []string
	enabled bool
}

// fakeCognito is an in-memory user pool that records the calls it gets and
// can be told to fail one operation.
type fakeCognito struct {
	users  map[string]*fakeUser // by sub
	calls  []string
	fail   map[string]error // operation -> error
	nextID int
	create *cip.AdminCreateUserInput // last AdminCreateUser input
}

var _ Client = (*fakeCognito)(nil)

func newFake() *fakeCognito {
	return &fakeCognito{users: map[string]*fakeUser{}, fail: map[string]error{}}
}

func (f *fakeCognito) call(op string, in poolInput) error {
	f.calls = append(f.calls, op)
	if aws.ToString(in.pool()) != pool {
		return &types.ResourceNotFoundException{Message: aws.String("no such pool")}
	}
	return f.fail[op]
}

type poolInput interface{ pool() *string }

type withPool struct{ p *string }

func (w withPool) pool() *string { return w.p }

func (f *fakeCognito) user(name *string) (*fakeUser, error) {
	u, ok := f.users[aws.ToString(name)]
	if !ok {
		return nil, &types.UserNotFoundException{Message: aws.String("User does not exist.")}
	}
	return u, nil
}

func (f *fakeCognito) AdminCreateUser(_ context.Context, in *cip.AdminCreateUserInput, _ ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error) {
	if err := f.call("AdminCreateUser", withPool{in.UserPoolId}); err != nil {
		return nil, err
	}
	f.create = in
	for _, u := range f.users {
		if u.attrs["email"] == aws.ToString(in.Username) {
			return nil, &types.UsernameExistsException{Message: aws.String("An account with the given email already exists.")}
		}
	}
	f.nextID++
	sub := fmt.Sprintf("00000000-0000-4000-8000-%012d", f.nextID)
	u := &fakeUser{attrs: map[string]string{"sub": sub}, enabled: true}
	for _, a := range in.UserAttributes {
		u.attrs[*a.Name] = *a.Value
	}
	f.users[sub] = u
	var attrs []types.AttributeType
	for k, v := range u.attrs {
		attrs = append(attrs, types.AttributeType{Name: aws.String(k), Value: aws.String(v)})
	}
	return &cip.AdminCreateUserOutput{User: &types.UserType{Username: aws.String(sub), Attributes: attrs, Enabled: true}}, nil
}

func (f *fakeCognito) AdminDeleteUser(_ context.Context, in *cip.AdminDeleteUserInput, _ ...func(*cip.Options)) (*cip.AdminDeleteUserOutput, error) {
	if err := f.call("AdminDeleteUser", withPool{in.UserPoolId}); err != nil {
		return nil, err
	}
	if _, err := f.user(in.Username); err != nil {
		return nil, err
	}
	delete(f.users, aws.ToString(in.Username))
	return &cip.AdminDeleteUserOutput{}, nil
}

func (f *fakeCognito) AdminAddUserToGroup(_ context.Context, in *cip.AdminAddUserToGroupInput, _ ...func(*cip.Options)) (*cip.AdminAddUserToGroupOutput, error) {
	if err := f.call("AdminAddUserToGroup:"+aws.ToString(in.GroupName), withPool{in.UserPoolId}); err != nil {
		return nil, err
	}
	u, err := f.user(in.Username)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(u.groups, *in.GroupName) {
		u.groups = append(u.groups, *in.GroupName)
	}
	return &cip.AdminAddUserToGroupOutput{}, nil
}

func (f *fakeCognito) AdminRemoveUserFromGroup(_ context.Context, in *cip.AdminRemoveUserFromGroupInput, _ ...func(*cip.Options)) (*cip.AdminRemoveUserFromGroupOutput, error) {
	if err := f.call("AdminRemoveUserFromGroup:"+aws.ToString(in.GroupName), withPool{in.UserPoolId}); err != nil {
		return nil, err
	}
	u, err := f.user(in.Username)
	if err != nil {
		return nil, err
	}
	u.groups = slices.DeleteFunc(u.groups, func(g string) bool { return g == *in.GroupName })
	return &cip.AdminRemoveUserFromGroupOutput{}, nil
}

func (f *fakeCognito) AdminListGroupsForUser(_ context.Context, in *cip.AdminListGroupsForUserInput, _ ...func(*cip.Options)) (*cip.AdminListGroupsForUserOutput, error) {
	if err := f.call("AdminListGroupsForUser", withPool{in.UserPoolId}); err != nil {
		return nil, err
	}
	u, err := f.user(in.Username)
	if err != nil {
		return nil, err
	}
	// One group per page, to exercise paging.
	i := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &i)
	}
	out := &cip.AdminListGroupsForUserOutput{}
	if i < len(u.groups) {
		out.Groups = []types.GroupType{{GroupName: aws.String(u.groups[i])}}
	}
	if i+1 < len(u.groups) {
		out.NextToken = aws.String(fmt.Sprint(i + 1))
	}
	return out, nil
}

func (f *fakeCognito) AdminDisableUser(_ context.Context, in *cip.AdminDisableUserInput, _ ...func(*cip.Options)) (*cip.AdminDisableUserOutput, error) {
	if err := f.call("AdminDisableUser", withPool{in.UserPoolId}); err != nil {
		return nil, err
	}
	u, err := f.user(in.Username)
	if err != nil {
		return nil, err
	}
	u.enabled = false
	return &cip.AdminDisableUserOutput{}, nil
}

func (f *fakeCognito) AdminUserGlobalSignOut(_ context.Context, in *cip.AdminUserGlobalSignOutInput, _ ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error) {
	if err := f.call("AdminUserGlobalSignOut", withPool{in.UserPoolId}); err != nil {
		return nil, err
	}
	if _, err := f.user(in.Username); err != nil {
		return nil, err
	}
	return &cip.AdminUserGlobalSignOutOutput{}, nil
}

func (f *fakeCognito) AdminUpdateUserAttributes(_ context.Context, in *cip.AdminUpdateUserAttributesInput, _ ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error) {
	if err := f.call("AdminUpdateUserAttributes", withPool{in.UserPoolId}); err != nil {
		return nil, err
	}
	u, err := f.user(in.Username)
	if err != nil {
		return nil, err
	}
	for _, a := range in.UserAttributes {
		u.attrs[*a.Name] = *a.Value
	}
	return &cip.AdminUpdateUserAttributesOutput{}, nil
}

func (f *fakeCognito) AdminGetUser(_ context.Context, in *cip.AdminGetUserInput, _ ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	if err := f.call("AdminGetUser", withPool{in.UserPoolId}); err != nil {
		return nil, err
	}
	u, err := f.user(in.Username)
	if err != nil {
		return nil, err
	}
	out := &cip.AdminGetUserOutput{Username: in.Username, Enabled: u.enabled}
	for k, v := range u.attrs {
		out.UserAttributes = append(out.UserAttributes, types.AttributeType{Name: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

func (f *fakeCognito) AdminSetUserPassword(_ context.Context, in *cip.AdminSetUserPasswordInput, _ ...func(*cip.Options)) (*cip.AdminSetUserPasswordOutput, error) {
	if err := f.call("AdminSetUserPassword", withPool{in.UserPoolId}); err != nil {
		return nil, err
	}
	if !in.Permanent {
		return nil, errors.New("test expects permanent passwords")
	}
	if _, err := f.user(in.Username); err != nil {
		return nil, err
	}
	return &cip.AdminSetUserPasswordOutput{}, nil
}

// mutating lists the calls that change the pool.
func (f *fakeCognito) mutating() []string {
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "AdminGetUser") && !strings.HasPrefix(c, "AdminListGroupsForUser") {
			out = append(out, c)
		}
	}
	return out
}

func setup(t *testing.T) (*fakeCognito, *Directory, auth.User) {
	t.Helper()
	f := newFake()
	d := New(f, pool)
	nurse, err := d.CreateUser(context.Background(), auth.User{Email: "nora@example.org", Name: "Nora", Role: carepost.RoleNurse, PracticeID: "prac-1"}, "Temp-Passw0rd!")
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	return f, d, nurse
}

func TestCreateUser(t *testing.T) {
	grants := []carepost.Grant{{PatientID: "pat-1", Scope: carepost.ProxyScope{Read: true}}}
	tests := []struct {
		name       string
		u          auth.User
		tempPW     string
		wantAttrs  map[string]string
		wantAction types.MessageActionType
	}{
		{
			name: "staff with a temporary password", u: auth.User{Email: "nora@example.org", Name: "Nora", Role: carepost.RoleNurse, PracticeID: "prac-1"}, tempPW: "Temp-Passw0rd!",
			wantAttrs:  map[string]string{"email": "nora@example.org", "email_verified": "true", "name": "Nora", "custom:practice_id": "prac-1"},
			wantAction: types.MessageActionTypeSuppress,
		},
		{
			name: "patient invited by e-mail", u: auth.User{Email: "pat@example.org", Role: carepost.RolePatient, PracticeID: "prac-1", PatientID: "pat-7"},
			wantAttrs: map[string]string{"email": "pat@example.org", "email_verified": "true", "custom:practice_id": "prac-1", "custom:patient_id": "pat-7"},
		},
		{
			name: "proxy with grants", u: auth.User{Email: "parent@example.org", Role: carepost.RoleProxy, PracticeID: "prac-1", Grants: grants},
			wantAttrs: map[string]string{"email": "parent@example.org", "email_verified": "true", "custom:practice_id": "prac-1", "custom:grants": `[{"patientId":"pat-1","scope":{"read":true,"write":false}}]`},
		},
		{
			name: "proxy without grants yet", u: auth.User{Email: "carer@example.org", Role: carepost.RoleProxy, PracticeID: "prac-1"},
			wantAttrs: map[string]string{"email": "carer@example.org", "email_verified": "true", "custom:practice_id": "prac-1", "custom:grants": "[]"},
		},
		{
			name: "operator", u: auth.User{Email: "ops@example.org", Role: carepost.RoleOperator},
			wantAttrs: map[string]string{"email": "ops@example.org", "email_verified": "true"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			d := New(f, pool)
			got, err := d.CreateUser(context.Background(), tt.u, tt.tempPW)
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject == "" || f.users[got.Subject] == nil {
				t.Fatalf("subject %q is not the pool user's sub", got.Subject)
			}
			in := f.create
			if got, want := aws.ToString(in.Username), tt.u.Email; got != want {
				t.Errorf("Username = %q, want %q", got, want)
			}
			attrs := map[string]string{}
			for _, a := range in.UserAttributes {
				attrs[*a.Name] = *a.Value
			}
			if !reflect.DeepEqual(attrs, tt.wantAttrs) {
				t.Errorf("attributes = %v, want %v", attrs, tt.wantAttrs)
			}
			if got, want := in.MessageAction, tt.wantAction; got != want {
				t.Errorf("MessageAction = %q, want %q", got, want)
			}
			if got, want := aws.ToString(in.TemporaryPassword), tt.tempPW; got != want {
				t.Errorf("TemporaryPassword = %q, want %q", got, want)
			}
			if !slices.Equal(in.DesiredDeliveryMediums, []types.DeliveryMediumType{types.DeliveryMediumTypeEmail}) {
				t.Errorf("DesiredDeliveryMediums = %v", in.DesiredDeliveryMediums)
			}
			if got, want := f.users[got.Subject].groups, []string{string(tt.u.Role)}; !slices.Equal(got, want) {
				t.Errorf("groups = %v, want %v", got, want)
			}
			back, err := d.GetUser(context.Background(), got.Subject)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, got) {
				t.Errorf("GetUser = %+v, want %+v", back, got)
			}
		})
	}
}

func TestCreateUserFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("invalid user never reaches Cognito", func(t *testing.T) {
		f := newFake()
		_, err := New(f, pool).CreateUser(ctx, auth.User{Email: "x@example.org", Role: carepost.RoleNurse}, "")
		if got, want := carepost.ErrorCode(err), carepost.CodeValidation; got != want {
			t.Errorf("code = %q, want %q", got, want)
		}
		if len(f.calls) != 0 {
			t.Errorf("calls = %v, want none", f.calls)
		}
	})
	t.Run("e-mail taken", func(t *testing.T) {
		f, d, _ := setup(t)
		_, err := d.CreateUser(ctx, auth.User{Email: "nora@example.org", Role: carepost.RoleAdmin, PracticeID: "prac-1"}, "")
		if got, want := carepost.ErrorCode(err), carepost.CodeConflict; got != want {
			t.Errorf("code = %q, want %q", got, want)
		}
		if strings.Contains(err.Error(), "nora") {
			t.Errorf("error %q names the e-mail", err)
		}
		if got, want := len(f.users), 1; got != want {
			t.Errorf("%d users, want %d", got, want)
		}
	})
	t.Run("group assignment fails: user removed", func(t *testing.T) {
		f := newFake()
		f.fail["AdminAddUserToGroup:clinician"] = &types.ResourceNotFoundException{Message: aws.String("Group not found.")}
		_, err := New(f, pool).CreateUser(ctx, auth.User{Email: "c@example.org", Role: carepost.RoleClinician, PracticeID: "prac-1"}, "")
		if err == nil {
			t.Fatal("no error")
		}
		if got, want := len(f.users), 0; got != want {
			t.Errorf("%d users left behind, want %d", got, want)
		}
		if got, want := f.calls, []string{"AdminCreateUser", "AdminAddUserToGroup:clinician", "AdminDeleteUser"}; !slices.Equal(got, want) {
			t.Errorf("calls = %v, want %v", got, want)
		}
	})
	t.Run("bad password", func(t *testing.T) {
		f := newFake()
		f.fail["AdminCreateUser"] = &types.InvalidPasswordException{Message: aws.String("Password did not conform with policy: secret123")}
		_, err := New(f, pool).CreateUser(ctx, auth.User{Email: "c@example.org", Role: carepost.RoleClinician, PracticeID: "prac-1"}, "secret123")
		ce, ok := err.(*carepost.Error)
		if !ok || ce.Code != carepost.CodeValidation || ce.Field != "password" {
			t.Errorf("err = %#v, want a validation error on password", err)
		}
		if strings.Contains(err.Error(), "secret123") {
			t.Errorf("error %q echoes the password", err)
		}
	})
}

func TestDisableUser(t *testing.T) {
	f, d, nurse := setup(t)
	ctx := context.Background()
	if got, want := carepost.ErrorCode(d.DisableUser(ctx, "prac-2", nurse.Subject)), carepost.CodeNotFound; got != want {
		t.Errorf("other practice: code = %q, want %q", got, want)
	}
	if got, want := carepost.ErrorCode(d.DisableUser(ctx, "prac-1", "no-such-sub")), carepost.CodeNotFound; got != want {
		t.Errorf("missing user: code = %q, want %q", got, want)
	}
	if m := f.mutating(); len(m) != 0 {
		t.Fatalf("refused disables changed the pool: %v", m)
	}
	if err := d.DisableUser(ctx, "prac-1", nurse.Subject); err != nil {
		t.Fatal(err)
	}
	if got, want := f.mutating(), []string{"AdminDisableUser", "AdminUserGlobalSignOut"}; !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	u, err := d.GetUser(ctx, nurse.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Disabled {
		t.Error("GetUser after disable: not disabled")
	}
}

func TestSetRole(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		prac      string
		role      carepost.Role
		startAs   []string
		code      carepost.Code
		wantCalls []string
		wantGroup []string
	}{
		{"nurse to clinician", "prac-1", carepost.RoleClinician, []string{"nurse"}, "",
			[]string{"AdminAddUserToGroup:clinician", "AdminRemoveUserFromGroup:nurse", "AdminUserGlobalSignOut"}, []string{"clinician"}},
		{"non-role groups are kept", "prac-1", carepost.RoleAdmin, []string{"beta", "nurse"}, "",
			[]string{"AdminAddUserToGroup:admin", "AdminRemoveUserFromGroup:nurse", "AdminUserGlobalSignOut"}, []string{"beta", "admin"}},
		{"other practice", "prac-2", carepost.RoleAdmin, []string{"nurse"}, carepost.CodeNotFound, nil, []string{"nurse"}},
		{"to operator", "prac-1", carepost.RoleOperator, []string{"nurse"}, carepost.CodeValidation, nil, []string{"nurse"}},
		{"patient to staff", "prac-1", carepost.RoleAdmin, []string{"patient"}, carepost.CodeValidation, nil, []string{"patient"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, d, nurse := setup(t)
			f.users[nurse.Subject].groups = tt.startAs
			err := d.SetRole(ctx, tt.prac, nurse.Subject, tt.role)
			if got, want := carepost.ErrorCode(err), tt.code; got != want {
				t.Fatalf("code = %q, want %q (%v)", got, want, err)
			}
			if got := f.mutating(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls = %v, want %v", got, tt.wantCalls)
			}
			if got := f.users[nurse.Subject].groups; !slices.Equal(got, tt.wantGroup) {
				t.Errorf("groups = %v, want %v", got, tt.wantGroup)
			}
		})
	}
}

func TestSetGrants(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	d := New(f, pool)
	proxy, err := d.CreateUser(ctx, auth.User{Email: "parent@example.org", Role: carepost.RoleProxy, PracticeID: "prac-1",
		Grants: []carepost.Grant{{PatientID: "pat-1", Scope: carepost.ProxyScope{Read: true, Write: true}}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	nurse, err := d.CreateUser(ctx, auth.User{Email: "n@example.org", Role: carepost.RoleNurse, PracticeID: "prac-1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	narrowed := []carepost.Grant{{PatientID: "pat-1", Scope: carepost.ProxyScope{Read: true, Categories: []string{"appointment"}}}}
	tests := []struct {
		name      string
		prac, sub string
		grants    []carepost.Grant
		code      carepost.Code
		want      string
	}{
		{"narrow", "prac-1", proxy.Subject, narrowed, "", `[{"patientId":"pat-1","scope":{"read":true,"write":false,"categories":["appointment"]}}]`},
		{"revoke all", "prac-1", proxy.Subject, nil, "", "[]"},
		{"other practice", "prac-2", proxy.Subject, narrowed, carepost.CodeNotFound, "[]"},
		{"not a proxy", "prac-1", nurse.Subject, narrowed, carepost.CodeValidation, "[]"},
		{"invalid grant", "prac-1", proxy.Subject, []carepost.Grant{{Scope: carepost.ProxyScope{Read: true}}}, carepost.CodeValidation, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.calls = nil
			err := d.SetGrants(ctx, tt.prac, tt.sub, tt.grants)
			if got, want := carepost.ErrorCode(err), tt.code; got != want {
				t.Fatalf("code = %q, want %q (%v)", got, want, err)
			}
			if got := f.users[proxy.Subject].attrs["custom:grants"]; got != tt.want {
				t.Errorf("custom:grants = %s, want %s", got, tt.want)
			}
			if tt.code == "" {
				if got, want := f.mutating(), []string{"AdminUpdateUserAttributes", "AdminUserGlobalSignOut"}; !slices.Equal(got, want) {
					t.Errorf("calls = %v, want %v", got, want)
				}
			}
		})
	}
}

func TestSetPassword(t *testing.T) {
	f, d, nurse := setup(t)
	ctx := context.Background()
	if got, want := carepost.ErrorCode(d.SetPassword(ctx, "prac-2", nurse.Subject, "N3w-password!")), carepost.CodeNotFound; got != want {
		t.Errorf("other practice: code = %q, want %q", got, want)
	}
	if err := d.SetPassword(ctx, "prac-1", nurse.Subject, "N3w-password!"); err != nil {
		t.Fatal(err)
	}
	if got, want := f.mutating(), []string{"AdminSetUserPassword"}; !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		err       error
		code      carepost.Code
		transient bool
	}{
		{&types.UserNotFoundException{}, carepost.CodeNotFound, false},
		{&types.UsernameExistsException{}, carepost.CodeConflict, false},
		{&types.AliasExistsException{}, carepost.CodeConflict, false},
		{&types.InvalidPasswordException{}, carepost.CodeValidation, false},
		{&types.InvalidParameterException{Message: aws.String("Invalid email address format: x@y")}, carepost.CodeValidation, false},
		{&types.TooManyRequestsException{}, carepost.CodeUnavailable, true},
		{&types.LimitExceededException{}, carepost.CodeUnavailable, true},
		{&types.InternalErrorException{}, carepost.CodeUnavailable, true},
		{&types.CodeDeliveryFailureException{}, carepost.CodeUnavailable, true},
		{&types.ResourceNotFoundException{}, carepost.CodeInternal, false},
		{&types.NotAuthorizedException{}, carepost.CodeInternal, false},
		{errors.New("dial tcp: connection refused"), carepost.CodeUnavailable, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T", tt.err), func(t *testing.T) {
			f, d, nurse := setup(t)
			f.fail["AdminGetUser"] = tt.err
			_, err := d.GetUser(context.Background(), nurse.Subject)
			if got, want := carepost.ErrorCode(err), tt.code; got != want {
				t.Errorf("code = %q, want %q (%v)", got, want, err)
			}
			if got, want := carepost.IsTransient(err), tt.transient; got != want {
				t.Errorf("transient = %v, want %v", got, want)
			}
			if strings.Contains(err.Error(), "x@y") {
				t.Errorf("error %q quotes Cognito's message", err)
			}
		})
	}
}

func TestWrongPool(t *testing.T) {
	f := newFake()
	_, err := New(f, "eu-west-1_Other").GetUser(context.Background(), "sub")
	if got, want := carepost.ErrorCode(err), carepost.CodeInternal; got != want {
		t.Errorf("code = %q, want %q", got, want)
	}
}
