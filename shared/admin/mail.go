package admin

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// The e-mails of this package. They carry the recipient's own address, a
// code or temporary password and a link: never a name, a date of birth, a
// condition, or even the practice's name (which can itself say something
// about the recipient's health).

func (s *Service) send(ctx context.Context, m carepost.Mail) error {
	if s.Mailer == nil {
		return carepost.Errorf(carepost.CodeUnavailable, "no mailer is configured")
	}
	if _, err := s.Mailer.Send(ctx, m); err != nil {
		if carepost.IsTransient(err) {
			return err
		}
		return carepost.Wrap(carepost.CodeUnavailable, err, "the invitation e-mail could not be sent")
	}
	return nil
}

func inviteMail(to, kind string, role carepost.Role, temp, publicURL string) carepost.Mail {
	what := "a CarePost staff account (role: " + string(role) + ")"
	if kind == "caregiver" {
		what = "a CarePost caregiver account, to help someone with their secure messages"
	}
	var b strings.Builder
	b.WriteString("Hello,\n\nYou have been given " + what + ".\n\n")
	b.WriteString("Sign in at " + strings.TrimRight(publicURL, "/") + " with this e-mail address and the temporary password\n\n    " + temp + "\n\n")
	b.WriteString("You will be asked to choose your own password")
	if kind == "staff" {
		b.WriteString(" and to set up a second sign-in factor")
	}
	b.WriteString(".\n\nIf you did not expect this e-mail, ignore it.\n")
	return carepost.Mail{To: []string{to}, Subject: "Your CarePost account", Text: b.String(), Tags: map[string]string{"kind": "account-invite"}}
}

// ActivationLink is where the activation e-mail points.
func ActivationLink(publicURL, practiceID, code string) string {
	return strings.TrimRight(publicURL, "/") + "/activate?practice=" + url.QueryEscape(practiceID) + "&code=" + url.QueryEscape(code)
}

func activationMail(to, publicURL, practiceID, code string, expires time.Time) carepost.Mail {
	text := "Hello,\n\nYou are invited to activate your account for secure messages with your care team.\n\n" +
		"Activate your account: " + ActivationLink(publicURL, practiceID, code) + "\n\n" +
		"or enter this activation code: " + code + "\n\n" +
		"You will be asked for your date of birth and to choose a password. The code works once and expires on " +
		expires.UTC().Format("2 January 2006") + ".\n\nIf you did not expect this e-mail, ignore it.\n"
	return carepost.Mail{To: []string{to}, Subject: "Activate your account", Text: text, Tags: map[string]string{"kind": "activation"}}
}
