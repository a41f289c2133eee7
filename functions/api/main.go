// Command api is the CarePost HTTP API Lambda function (API Gateway HTTP API,
// payload format 2.0). All logic lives in shared/; this only wires it.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/carepost/carepost/shared/app"
)

func main() {
	a := app.FromEnv()
	lambda.Start(httpadapter.NewV2(a.API()).ProxyWithContext)
}
