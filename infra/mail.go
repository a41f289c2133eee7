package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/jsii-runtime-go"
)

type mailParts struct {
	configSet awsses.ConfigurationSet
	identity  awsses.EmailIdentity
}

// sesEventTypes are the SES events published to EventBridge and handled by
// the sesevents function: bounces and complaints stop mail to an address,
// deliveries count campaign progress.
var sesEventTypes = []awsses.EmailSendingEvent{
	awsses.EmailSendingEvent_BOUNCE,
	awsses.EmailSendingEvent_COMPLAINT,
	awsses.EmailSendingEvent_DELIVERY,
	awsses.EmailSendingEvent_REJECT,
}

// sesEventDetailTypes are the EventBridge detail-types of sesEventTypes.
var sesEventDetailTypes = []string{"Email Bounced", "Email Complaint Received", "Email Delivered", "Email Rejected"}

// buildMail creates the configuration set (TLS required, reputation
// metrics, account suppression list for bounces and complaints, events to
// the default event bus) and the practice domain's identity with Easy DKIM.
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
	bus := awsevents.EventBus_FromEventBusName(s.Stack, jsii.String("DefaultBus"), jsii.String("default"))
	cs.AddEventDestination(jsii.String("ToEventBridge"), &awsses.ConfigurationSetEventDestinationOptions{
		Destination: awsses.EventDestination_EventBus(bus),
		Events:      &sesEventTypes,
	})
	identity := awsses.NewEmailIdentity(s.Stack, jsii.String("DomainIdentity"), &awsses.EmailIdentityProps{
		Identity:         awsses.Identity_Domain(jsii.String(s.cfg.PracticeDomain)),
		ConfigurationSet: cs,
		DkimSigning:      jsii.Bool(true),
	})
	return &mailParts{configSet: cs, identity: identity}
}
