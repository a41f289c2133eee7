// Package sesmail sends e-mail through SES v2. Mail with custom headers
// (List-Unsubscribe) goes out as a raw MIME message; the rest as simple
// content. Throttling answers a transient carepost error so callers back off.
package sesmail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/carepost/carepost/shared/carepost"
)

// API is the subset of *sesv2.Client used here.
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Mailer implements carepost.Mailer.
type Mailer struct {
	SES       API
	From      string
	ConfigSet string
}

var _ carepost.Mailer = (*Mailer)(nil)

// Send sends m.
func (s *Mailer) Send(ctx context.Context, m carepost.Mail) (string, error) {
	if len(m.To) == 0 {
		return "", carepost.Errorf(carepost.CodeValidation, "an e-mail needs a recipient")
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &types.Destination{ToAddresses: m.To},
	}
	if s.ConfigSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigSet)
	}
	keys := make([]string, 0, len(m.Tags))
	for k := range m.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String(k), Value: aws.String(m.Tags[k])})
	}
	if len(m.Headers) > 0 {
		in.Content = &types.EmailContent{Raw: &types.RawMessage{Data: s.raw(m)}}
	} else {
		body := &types.Body{Text: &types.Content{Data: aws.String(m.Text), Charset: aws.String("UTF-8")}}
		if m.HTML != "" {
			body.Html = &types.Content{Data: aws.String(m.HTML), Charset: aws.String("UTF-8")}
		}
		in.Content = &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String("UTF-8")}, Body: body}}
	}
	out, err := s.SES.SendEmail(ctx, in)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			switch ae.ErrorCode() {
			case "TooManyRequestsException", "Throttling", "LimitExceededException", "SendingPausedException":
				return "", carepost.Unavailable(err, "the mail service")
			case "MessageRejected", "BadRequestException", "AccountSuspendedException", "MailFromDomainNotVerifiedException", "NotFoundException":
				return "", carepost.Wrap(carepost.CodeValidation, err, "the mail service rejected the message")
			}
		}
		return "", carepost.Unavailable(err, "the mail service")
	}
	return aws.ToString(out.MessageId), nil
}

// raw renders a MIME message with the extra headers.
func (s *Mailer) raw(m carepost.Mail) []byte {
	var b bytes.Buffer
	boundary := fmt.Sprintf("carepost-%d", time.Now().UnixNano())
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n", s.From, strings.Join(m.To, ", "), mime.QEncoding.Encode("utf-8", m.Subject))
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, strings.NewReplacer("\r", "", "\n", "").Replace(m.Headers[k]))
	}
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", boundary)
	part := func(ct, body string) {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, ct)
		w := quotedprintable.NewWriter(&b)
		_, _ = w.Write([]byte(body))
		_ = w.Close()
		b.WriteString("\r\n")
	}
	part("text/plain", m.Text)
	if m.HTML != "" {
		part("text/html", m.HTML)
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}
