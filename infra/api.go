package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/carepost/carepost/shared/resources"
)

// Route is one HTTP API route.
type Route struct {
	Method        awsapigatewayv2.HttpMethod
	Path          string
	Authenticated bool
	// RateLimit and BurstLimit override the stage's throttling (0: stage
	// default). Unauthenticated routes get a low limit so signed links and
	// activation cannot be guessed at speed.
	RateLimit, BurstLimit float64
}

// Key is the API Gateway route key ("ANY /v1/{proxy+}").
func (r Route) Key() string { return string(r.Method) + " " + r.Path }

// Stage-wide throttling (requests per second, burst).
const (
	apiRateLimit  = 50
	apiBurstLimit = 100
)

// Routes are every route of the HTTP API. Everything under /v1 needs a
// Cognito JWT except the public links (confirm, cancel, unsubscribe,
// activation: each carries its own signature, checked by the API), the
// health check and the OpenAPI document.
var Routes = []Route{
	{Method: awsapigatewayv2.HttpMethod_ANY, Path: "/v1/{proxy+}", Authenticated: true},
	{Method: awsapigatewayv2.HttpMethod_ANY, Path: "/v1/public/{proxy+}", RateLimit: 5, BurstLimit: 20},
	{Method: awsapigatewayv2.HttpMethod_GET, Path: "/v1/openapi.json", RateLimit: 5, BurstLimit: 20},
	{Method: awsapigatewayv2.HttpMethod_GET, Path: "/health", RateLimit: 5, BurstLimit: 20},
}

// accessLogFormat is the JSON access log line. It holds no path or query
// string (public links carry tokens in them) and no body: the route key,
// status, caller IP and the token's subject (an opaque id) suffice to
// investigate.
var accessLogFormat = map[string]string{
	"requestId":        "$context.requestId",
	"time":             "$context.requestTime",
	"ip":               "$context.identity.sourceIp",
	"routeKey":         "$context.routeKey",
	"status":           "$context.status",
	"protocol":         "$context.protocol",
	"responseLength":   "$context.responseLength",
	"latencyMs":        "$context.responseLatency",
	"integrationError": "$context.integrationErrorMessage",
	"authorizerError":  "$context.authorizer.error",
	"sub":              "$context.authorizer.claims.sub",
}

type apiParts struct {
	api   awsapigatewayv2.HttpApi
	stage awsapigatewayv2.HttpStage
}

// buildAPIShell creates the API and its stage before the functions, so the
// API's URL can be the default CAREPOST_PUBLIC_URL; routes come later.
func (s *CarePostStack) buildAPIShell() *string {
	api := awsapigatewayv2.NewHttpApi(s.Stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String(s.rs.Prefix + "-api"),
		Description:        jsii.String("CarePost HTTP API"),
		CreateDefaultStage: jsii.Bool(false),
		CorsPreflight: &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins:  jsii.Strings("https://" + s.cfg.PracticeDomain),
			AllowMethods:  &[]awsapigatewayv2.CorsHttpMethod{awsapigatewayv2.CorsHttpMethod_ANY},
			AllowHeaders:  jsii.Strings("authorization", "content-type", "idempotency-key"),
			ExposeHeaders: jsii.Strings("location", "idempotent-replayed"),
			MaxAge:        awscdk.Duration_Hours(jsii.Number(1)),
		},
	})
	logGroup := awslogs.NewLogGroup(s.Stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     retentionEnum[s.cfg.LogRetentionDays],
		EncryptionKey: s.opsKey,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	stage := awsapigatewayv2.NewHttpStage(s.Stack, jsii.String("ApiStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle:   &awsapigatewayv2.ThrottleSettings{RateLimit: jsii.Number(apiRateLimit), BurstLimit: jsii.Number(apiBurstLimit)},
	})
	format, err := json.Marshal(accessLogFormat)
	if err != nil {
		panic(err)
	}
	cfnStage := stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: logGroup.LogGroupArn(),
		Format:         jsii.String(string(format)),
	})
	s.api = apiParts{api: api, stage: stage}
	return api.ApiEndpoint()
}

// buildRoutes wires every route to the api function.
func (s *CarePostStack) buildRoutes() {
	fn := s.functions[FnAPI]
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiIntegration"), fn,
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0()})
	authorizer := awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("CognitoAuthorizer"),
		awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://cognito-idp."), awscdk.Aws_REGION(), jsii.String(".amazonaws.com/"), s.auth.pool.UserPoolId()}),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{
			AuthorizerName: jsii.String("cognito"),
			JwtAudience:    &[]*string{s.auth.client.UserPoolClientId()},
			IdentitySource: jsii.Strings("$request.header.Authorization"),
		})
	routeSettings := map[string]any{}
	for _, r := range Routes {
		opts := &awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{r.Method},
			Integration: integration,
		}
		if r.Authenticated {
			opts.Authorizer = authorizer
		}
		for _, route := range *s.api.api.AddRoutes(opts) {
			s.api.stage.Node().AddDependency(route) // route settings name the route
		}
		if r.RateLimit > 0 {
			routeSettings[r.Key()] = map[string]any{"ThrottlingRateLimit": r.RateLimit, "ThrottlingBurstLimit": r.BurstLimit}
		}
	}
	s.api.stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).AddPropertyOverride(jsii.String("RouteSettings"), routeSettings)
}

// buildTriggers connects the non-API functions to their event sources.
func (s *CarePostStack) buildTriggers() {
	s.buildRoutes()
	for _, f := range s.specs {
		fn := s.functions[f.Name]
		switch f.Trigger {
		case TriggerQueue:
			q := s.queueSpec(f.Access.Consumes)
			opts := &awslambda.EventSourceMappingOptions{
				EventSourceArn:          s.queues[q.Consumer].QueueArn(),
				BatchSize:               jsii.Number(float64(q.BatchSize)),
				ReportBatchItemFailures: jsii.Bool(true),
			}
			if q.MaxBatchingWindow > 0 {
				opts.MaxBatchingWindow = seconds(q.MaxBatchingWindow.Seconds())
			}
			if f.Access.SendMail {
				copies := mailSenderCopies
				if f.Name == FnCampaign && s.cfg.CampaignConcurrency > 0 {
					copies = s.cfg.CampaignConcurrency
				}
				opts.MaxConcurrency = jsii.Number(float64(copies))
			}
			esm := fn.AddEventSourceMapping(jsii.String(title(q.Consumer)+"QueueSource"), opts)
			esm.Node().AddDependency(s.policies[f.Name]) // Lambda checks the role can read the queue
		case TriggerSchedule:
			s.buildSchedule(f, fn)
		case TriggerSESEvent:
			s.sesTopic.AddSubscription(awssnssubscriptions.NewLambdaSubscription(fn, nil))
		}
	}
}

// scheduleFor returns the schedule of a scheduled function.
func scheduleFor(function string) resources.Schedule {
	for _, sc := range resources.Schedules() {
		if sc.Function == function {
			return sc
		}
	}
	panic("no schedule in shared/resources for " + function)
}

// rateExpression is the EventBridge Scheduler expression of a period.
func rateExpression(every time.Duration) string {
	m := int(every / time.Minute)
	if m == 1 {
		return "rate(1 minute)"
	}
	return fmt.Sprintf("rate(%d minutes)", m)
}

// buildSchedule runs f on its schedule from shared/resources through
// EventBridge Scheduler, with its own role that may invoke this one
// function only. A missed run is superseded by the next one.
func (s *CarePostStack) buildSchedule(f FunctionSpec, fn awslambda.Function) {
	sc := scheduleFor(f.Name)
	role := awsiam.NewRole(s.Stack, jsii.String(title(f.Name)+"SchedulerRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), nil).WithConditions(&map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
		}),
		Description: jsii.String("EventBridge Scheduler invoking the CarePost " + f.Name + " function"),
	})
	policy := awsiam.NewManagedPolicy(s.Stack, jsii.String(title(f.Name)+"SchedulerPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Invoke the CarePost " + f.Name + " function"),
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Invoke" + title(f.Name)),
			Actions:   jsii.Strings("lambda:InvokeFunction"),
			Resources: &[]*string{fn.FunctionArn()},
		})},
		Roles: &[]awsiam.IRole{role},
	})
	schedule := awsscheduler.NewCfnSchedule(s.Stack, jsii.String(title(f.Name)+"Schedule"), &awsscheduler.CfnScheduleProps{
		Description:        jsii.String(fmt.Sprintf("CarePost %s (%s)", f.Name, s.cfg.Prefix)),
		ScheduleExpression: jsii.String(rateExpression(sc.Every)),
		FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		State:              jsii.String("ENABLED"),
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     fn.FunctionArn(),
			RoleArn: role.RoleArn(),
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(2),
				MaximumEventAgeInSeconds: jsii.Number(max(60, sc.Every.Seconds())),
			},
		},
	})
	schedule.Node().AddDependency(policy)
}
