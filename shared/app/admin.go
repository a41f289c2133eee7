package app

import (
	"context"
	"time"

	"github.com/carepost/carepost/shared/admin"
)

// wireAdmin adds practice administration and onboarding: the settings,
// staff, patient, proxy and operator routes, the public activation route,
// the daily proxy-age job, and the account check on every token (a disabled
// account, a changed role or a revoked proxy grant takes effect at once, in
// the dev stack and in AWS alike).
func (a *App) wireAdmin() {
	svc := admin.New(a.Store, a.Envelope, auditAdapter{a.AuditLog}, a.Directory, a.Mailer, a.Config.PublicURL)
	// With a Cognito user pool, Cognito e-mails staff and proxy invitations;
	// locally the service e-mails the temporary password itself.
	svc.ProviderSendsInvites = a.Config.UserPoolID != ""
	if a.Auth != nil {
		a.Auth = admin.Revocation{Next: a.Auth, Users: a.Store}
	}
	a.Routes = append(a.Routes, admin.Routes(svc)...)
	a.schedules = append(a.schedules, Schedule{Name: "proxyage", Every: 24 * time.Hour, Run: func(ctx context.Context) error {
		n, err := svc.NarrowProxies(ctx)
		if n > 0 {
			a.Log.Info("proxy grants narrowed", "count", n)
		}
		return err
	}})
}
