package messaging

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/carepost/carepost/shared/carepost"
)

func subjectBinding(t carepost.ThreadRecord) carepost.Binding {
	return carepost.Binding{PracticeID: t.PracticeID, Kind: "thread.subject", ThreadID: t.ID, SenderID: t.OpenedBy, Time: t.Created, Schema: schema}
}

func messageBinding(m carepost.Message, kind string) carepost.Binding {
	return carepost.Binding{PracticeID: m.PracticeID, Kind: kind, ThreadID: m.ThreadID, MessageID: m.ID, SenderID: m.SenderID, Time: m.Sent, Schema: schema}
}

func (s *Service) sealMessage(ctx context.Context, m carepost.Message) (carepost.MessageRecord, error) {
	rec := carepost.MessageRecord{Message: m}
	rec.Body, rec.Form = "", nil
	var err error
	if rec.BodySealed, err = s.Sealer.Seal(ctx, messageBinding(m, "message.body"), []byte(m.Body)); err != nil {
		return rec, err
	}
	if m.Form != nil {
		b, err := json.Marshal(m.Form)
		if err != nil {
			return rec, err
		}
		if rec.FormSealed, err = s.Sealer.Seal(ctx, messageBinding(m, "message.form"), b); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

func (s *Service) openMessage(ctx context.Context, r carepost.MessageRecord) (carepost.Message, error) {
	m := r.Message
	body, err := s.Sealer.Open(ctx, messageBinding(m, "message.body"), r.BodySealed)
	if err != nil {
		return m, err
	}
	m.Body = string(body)
	if len(r.FormSealed) > 0 {
		b, err := s.Sealer.Open(ctx, messageBinding(m, "message.form"), r.FormSealed)
		if err != nil {
			return m, err
		}
		var f carepost.FormPayload
		if err := json.Unmarshal(b, &f); err != nil {
			return m, carepost.Wrap(carepost.CodeInternal, err, "stored form is malformed")
		}
		m.Form = &f
	}
	return m, nil
}

func (s *Service) openSubject(ctx context.Context, t carepost.ThreadRecord) (string, error) {
	b, err := s.Sealer.Open(ctx, subjectBinding(t), t.SubjectSealed)
	return string(b), err
}

// Cursors are the store's continuation keys, sealed under the practice's key
// and bound to the caller and the listing they came from: a client cannot
// forge one, read one, or replay it in another practice or listing.
func (s *Service) sealCursor(ctx context.Context, p carepost.Principal, scope string, next map[string]string) (string, error) {
	return SealCursor(ctx, s.Sealer, p, scope, next)
}

func (s *Service) openCursor(ctx context.Context, p carepost.Principal, scope, cursor string) (map[string]string, error) {
	return OpenCursor(ctx, s.Sealer, p, scope, cursor)
}

// SealCursor seals a listing's continuation key for p (empty at the end).
// Every paged listing of the API uses it, so cursors behave the same way.
func SealCursor(ctx context.Context, sealer carepost.Sealer, p carepost.Principal, scope string, next map[string]string) (string, error) {
	if next == nil {
		return "", nil
	}
	b, _ := json.Marshal(next)
	sealed, err := sealer.Seal(ctx, cursorBinding(p, scope), b)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// OpenCursor opens a cursor made by SealCursor for the same caller and
// scope; anything else is a 400 naming the cursor.
func OpenCursor(ctx context.Context, sealer carepost.Sealer, p carepost.Principal, scope, cursor string) (map[string]string, error) {
	if cursor == "" {
		return nil, nil
	}
	bad := carepost.FieldError(carepost.CodeInvalid, "cursor", "cursor is not valid for this listing")
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) > 4096 {
		return nil, bad
	}
	b, err := sealer.Open(ctx, cursorBinding(p, scope), raw)
	if err != nil {
		if carepost.IsTransient(err) {
			return nil, err
		}
		return nil, bad
	}
	var m map[string]string
	if json.Unmarshal(b, &m) != nil {
		return nil, bad
	}
	return m, nil
}

func cursorBinding(p carepost.Principal, scope string) carepost.Binding {
	return carepost.Binding{PracticeID: p.PracticeID, Kind: "cursor", ThreadID: scope, SenderID: p.Subject, Schema: schema}
}
