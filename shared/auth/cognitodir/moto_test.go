package cognitodir_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/auth/cognitodir"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/testenv"
)

// newPool makes a user pool shaped like the stack's (infra/auth.go): e-mail
// sign-in, the custom attributes, one group per role.
func newPool(t *testing.T, c *cip.Client) string {
	t.Helper()
	ctx := context.Background()
	str := func(name string) types.SchemaAttributeType {
		return types.SchemaAttributeType{Name: aws.String(name), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)}
	}
	out, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("carepost-" + testenv.RandomHex(4)), UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
		Schema: []types.SchemaAttributeType{str("practice_id"), str("patient_id"), str("grants")},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.UserPool.Id)
	t.Cleanup(func() { _, _ = c.DeleteUserPool(context.Background(), &cip.DeleteUserPoolInput{UserPoolId: &id}) })
	for _, r := range []carepost.Role{carepost.RolePatient, carepost.RoleProxy, carepost.RoleFrontDesk, carepost.RoleNurse, carepost.RoleClinician, carepost.RoleAdmin, carepost.RoleScheduler, carepost.RoleOperator} {
		if _, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: &id, GroupName: aws.String(string(r))}); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// TestDirectoryOnMotoCognito runs the directory against moto's Cognito
// user pools (the fake in cognitodir_test.go checks the requests; this
// checks a real implementation of the API accepts them and gives back what
// the directory expects).
func TestDirectoryOnMotoCognito(t *testing.T) {
	c := testenv.Clients(t).Cognito
	pool := newPool(t, c)
	d := cognitodir.New(c, pool)
	ctx := context.Background()
	run := testenv.RandomHex(4)

	nurse, err := d.CreateUser(ctx, auth.User{Email: "nora-" + run + "@clinic.test", Name: "Nora Nurse", Role: carepost.RoleNurse, PracticeID: "prac-1"}, "Temp-Passw0rd!x")
	if err != nil {
		t.Fatal(err)
	}
	if nurse.Subject == "" {
		t.Fatal("no subject for the new user")
	}
	got, err := d.GetUser(ctx, nurse.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != carepost.RoleNurse || got.PracticeID != "prac-1" || got.Name != "Nora Nurse" || got.Email != nurse.Email || got.Disabled {
		t.Errorf("read back %+v", got)
	}
	if _, err := d.CreateUser(ctx, auth.User{Email: nurse.Email, Name: "Again", Role: carepost.RoleNurse, PracticeID: "prac-1"}, "Temp-Passw0rd!x"); carepost.ErrorCode(err) != carepost.CodeConflict {
		t.Errorf("same e-mail again: %v, want conflict", err)
	}

	if err := d.SetRole(ctx, "prac-1", nurse.Subject, carepost.RoleClinician); err != nil {
		t.Fatal(err)
	}
	groups, err := c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: &pool, Username: &nurse.Subject})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups.Groups {
		names = append(names, aws.ToString(g.GroupName))
	}
	if !slices.Equal(names, []string{"clinician"}) {
		t.Errorf("groups after the role change: %v, want [clinician]", names)
	}
	if err := d.SetRole(ctx, "prac-2", nurse.Subject, carepost.RoleAdmin); carepost.ErrorCode(err) != carepost.CodeNotFound {
		t.Errorf("another practice changing the role: %v, want not found", err)
	}

	grants := []carepost.Grant{{PatientID: "pat-7", Scope: carepost.ProxyScope{Read: true, Categories: []string{"appointment"}}}}
	proxy, err := d.CreateUser(ctx, auth.User{Email: "parent-" + run + "@home.test", Name: "Pat Parent", Role: carepost.RoleProxy, PracticeID: "prac-1", Grants: grants}, "Temp-Passw0rd!x")
	if err != nil {
		t.Fatal(err)
	}
	narrowed := []carepost.Grant{{PatientID: "pat-7", Scope: carepost.ProxyScope{Read: true, Categories: []string{"billing"}}}}
	if err := d.SetGrants(ctx, "prac-1", proxy.Subject, narrowed); err != nil {
		t.Fatal(err)
	}
	if got, err := d.GetUser(ctx, proxy.Subject); err != nil || got.Role != carepost.RoleProxy || len(got.Grants) != 1 || !slices.Equal(got.Grants[0].Scope.Categories, []string{"billing"}) {
		t.Errorf("proxy after new grants: %+v %v", got, err)
	}
	if err := d.SetGrants(ctx, "prac-1", nurse.Subject, narrowed); carepost.ErrorCode(err) != carepost.CodeValidation {
		t.Errorf("grants for a clinician: %v, want validation", err)
	}

	patient, err := d.CreateUser(ctx, auth.User{Email: "pat-" + run + "@home.test", Role: carepost.RolePatient, PracticeID: "prac-1", PatientID: "pat-7"}, "Temp-Passw0rd!x")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetPassword(ctx, "prac-1", patient.Subject, "a long chosen passphrase 1A!"); err != nil {
		t.Fatal(err)
	}
	u, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &pool, Username: &patient.Subject})
	if err != nil {
		t.Fatal(err)
	}
	if u.UserStatus != types.UserStatusTypeConfirmed {
		t.Errorf("patient status after the chosen password: %s, want CONFIRMED", u.UserStatus)
	}

	if err := d.DisableUser(ctx, "prac-2", nurse.Subject); carepost.ErrorCode(err) != carepost.CodeNotFound {
		t.Errorf("another practice disabling: %v, want not found", err)
	}
	if err := d.DisableUser(ctx, "prac-1", nurse.Subject); err != nil {
		t.Fatal(err)
	}
	if got, err := d.GetUser(ctx, nurse.Subject); err != nil || !got.Disabled {
		t.Errorf("after disable: %+v %v, want disabled", got, err)
	}
	if _, err := d.GetUser(ctx, "no-such-subject"); carepost.ErrorCode(err) != carepost.CodeNotFound {
		t.Errorf("missing user: %v, want not found", err)
	}
}
