package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"

	"github.com/carepost/carepost/shared/carepost"
)

type authParts struct {
	pool   awscognito.UserPool
	client awscognito.UserPoolClient
}

// Custom attributes of CarePost users (in tokens as "custom:<name>"). Only
// the API (through Cognito admin calls) sets them: the web client may read
// but not write them, or a patient could rewrite their own practice.
var customAttributes = []struct {
	name   string
	maxLen float64
}{
	{"practice_id", 64},
	{"patient_id", 64},
	{"grants", 2048}, // JSON list of carepost.Grant for proxies
}

// Token lifetimes: short, so a stolen or revoked session ends soon.
const (
	idTokenMinutes     = 30
	refreshTokenHours  = 12
	authSessionMinutes = 5
	tempPasswordDays   = 3
	passwordMinLength  = 12
)

// buildAuth creates the user pool, one group per role and the web client.
//
// MFA is REQUIRED for every user with TOTP (an authenticator app). Cognito
// cannot require MFA per group, and patients reach PHI too, so the stricter
// setting applies to all; SMS is off (SIM-swap risk, and it needs an SNS
// spending role). Sign-up is closed: staff are invited by an admin and
// patients are activated through a signed link (both via the API).
func (s *CarePostStack) buildAuth() *authParts {
	custom := map[string]awscognito.ICustomAttribute{}
	for _, a := range customAttributes {
		custom[a.name] = awscognito.NewStringAttribute(&awscognito.StringAttributeProps{
			MinLen: jsii.Number(0), MaxLen: jsii.Number(a.maxLen), Mutable: jsii.Bool(true),
		})
	}
	pool := awscognito.NewUserPool(s.Stack, jsii.String("UserPool"), &awscognito.UserPoolProps{
		UserPoolName:        jsii.String(s.rs.Prefix + "-users"),
		FeaturePlan:         awscognito.FeaturePlan_LITE,
		SelfSignUpEnabled:   jsii.Bool(false),
		SignInAliases:       &awscognito.SignInAliases{Email: jsii.Bool(true)},
		SignInCaseSensitive: jsii.Bool(false),
		AutoVerify:          &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		KeepOriginal:        &awscognito.KeepOriginalAttrs{Email: jsii.Bool(true)},
		StandardAttributes: &awscognito.StandardAttributes{
			Email:    &awscognito.StandardAttribute{Required: jsii.Bool(true), Mutable: jsii.Bool(true)},
			Fullname: &awscognito.StandardAttribute{Required: jsii.Bool(false), Mutable: jsii.Bool(true)},
		},
		CustomAttributes: &custom,
		Mfa:              awscognito.Mfa_REQUIRED,
		MfaSecondFactor:  &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		EnableSmsRole:    jsii.Bool(false),
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:            jsii.Number(passwordMinLength),
			RequireLowercase:     jsii.Bool(true),
			RequireUppercase:     jsii.Bool(true),
			RequireDigits:        jsii.Bool(true),
			RequireSymbols:       jsii.Bool(true),
			TempPasswordValidity: awscdk.Duration_Days(jsii.Number(tempPasswordDays)),
		},
		AccountRecovery: awscognito.AccountRecovery_EMAIL_ONLY,
		UserInvitation: &awscognito.UserInvitationConfig{
			EmailSubject: jsii.String("Your CarePost account"),
			EmailBody: jsii.String("You have been invited to CarePost, your practice's secure messaging. " +
				"Sign in with {username} and the temporary password {####} within " +
				"3 days; you will choose a new password and set up an authenticator app."),
		},
		DeletionProtection: jsii.Bool(true),
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
	})
	for i, role := range carepost.Roles {
		awscognito.NewCfnUserPoolGroup(s.Stack, jsii.String("Group"+title(string(role))), &awscognito.CfnUserPoolGroupProps{
			UserPoolId:  pool.UserPoolId(),
			GroupName:   jsii.String(string(role)), // exactly the role name
			Description: jsii.String("CarePost role " + string(role)),
			Precedence:  jsii.Number(float64(i)),
		})
	}
	var customNames []*string
	for _, a := range customAttributes {
		customNames = append(customNames, jsii.String(a.name))
	}
	client := pool.AddClient(jsii.String("WebClient"), &awscognito.UserPoolClientOptions{
		UserPoolClientName:         jsii.String(s.rs.Prefix + "-web"),
		GenerateSecret:             jsii.Bool(false),
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		DisableOAuth:               jsii.Bool(true),
		IdTokenValidity:            awscdk.Duration_Minutes(jsii.Number(idTokenMinutes)),
		AccessTokenValidity:        awscdk.Duration_Minutes(jsii.Number(idTokenMinutes)),
		RefreshTokenValidity:       awscdk.Duration_Hours(jsii.Number(refreshTokenHours)),
		AuthSessionValidity:        awscdk.Duration_Minutes(jsii.Number(authSessionMinutes)),
		EnableTokenRevocation:      jsii.Bool(true),
		PreventUserExistenceErrors: jsii.Bool(true),
		ReadAttributes: awscognito.NewClientAttributes().
			WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(true), EmailVerified: jsii.Bool(true), Fullname: jsii.Bool(true)}).
			WithCustomAttributes(customNames...),
		WriteAttributes: awscognito.NewClientAttributes().
			WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(true), Fullname: jsii.Bool(true)}),
	})
	return &authParts{pool: pool, client: client}
}
