package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
)

type mailParts struct {
	configSet awsses.ConfigurationSet
	identity  awsses.EmailIdentity
}

// sesEventTypes are the SES events published to the events topic and handled
// by the sesevents function: bounces and complaints stop mail to an address,
// deliveries count campaign progress.
var sesEventTypes = []awsses.EmailSendingEvent{
	awsses.EmailSendingEvent_BOUNCE,
	awsses.EmailSendingEvent_COMPLAINT,
	awsses.EmailSendingEvent_DELIVERY,
}

// buildMail creates the configuration set (TLS required, reputation
// metrics, account suppression list for bounces and complaints, events to
// an encrypted SNS topic that the sesevents function subscribes to) and the
// practice domain's identity with Easy DKIM.
// The DKIM CNAME records are stack outputs; SES sends only once they are
// in DNS (and, for mail to unverified recipients, once the account has left
// the SES sandbox).
func (s *CarePostStack) buildMail() *mailParts {
	cs := awsses.NewConfigurationSet(s.Stack, jsii.String("ConfigurationSet"), &awsses.ConfigurationSetProps{
		ConfigurationSetName: jsii.String(s.rs.ConfigurationSet),
		TlsPolicy:            awsses.ConfigurationSetTlsPolicy_REQUIRE,
		ReputationMetrics:    jsii.Bool(true),
		SendingEnabled:       jsii.Bool(true),
		SuppressionReasons:   awsses.SuppressionReasons_BOUNCES_AND_COMPLAINTS,
	})
	s.sesTopic = awssns.NewTopic(s.Stack, jsii.String("SesEventsTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("CarePost SES events (" + s.cfg.Prefix + ")"),
		MasterKey:   s.opsKey,
		EnforceSSL:  jsii.Bool(true),
	})
	// The CDK adds the topic policy letting this configuration set publish.
	cs.AddEventDestination(jsii.String("ToSns"), &awsses.ConfigurationSetEventDestinationOptions{
		Destination: awsses.EventDestination_SnsTopic(s.sesTopic),
		Events:      &sesEventTypes,
	})
	identity := awsses.NewEmailIdentity(s.Stack, jsii.String("DomainIdentity"), &awsses.EmailIdentityProps{
		Identity:         awsses.Identity_Domain(jsii.String(s.cfg.PracticeDomain)),
		ConfigurationSet: cs,
		DkimSigning:      jsii.Bool(true),
	})
	return &mailParts{configSet: cs, identity: identity}
}
