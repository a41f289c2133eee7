package app

import (
	"github.com/carepost/carepost/shared/auth"
	"github.com/carepost/carepost/shared/auth/cognitodir"
	"github.com/carepost/carepost/shared/awsclients"
	"github.com/carepost/carepost/shared/config"
)

// CognitoDirectory returns the Cognito account directory when a user pool is
// configured, or nil.
func CognitoDirectory(cfg config.Config, clients awsclients.Clients) auth.Directory {
	if cfg.UserPoolID == "" {
		return nil
	}
	return cognitodir.New(clients.Cognito, cfg.UserPoolID)
}
