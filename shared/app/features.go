package app

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// wireFeatures adds the routes and workers of feature packages. Each feature
// keeps its wiring in its own file of this package (one call per line here).
func (a *App) wireFeatures() {
	a.wireAdmin()
	a.wireTriage()
	a.wireNotify()
	a.wireCampaigns()
	a.wireRecords()
	a.wireAuditVerify()
}

func (a *App) sesCheck(ctx context.Context) error {
	_, err := a.Clients.SES.GetAccount(ctx, &sesv2.GetAccountInput{})
	return err
}
