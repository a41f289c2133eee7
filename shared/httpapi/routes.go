package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return append(b, '\n')
}

func reply(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(mustJSON(v))
	return err
}

func (s *Server) routes(mux *http.ServeMux) {
	m := s.Messaging
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request, *Call) error) {
		mux.Handle(pattern, s.authed(h))
	}
	handle("POST /v1/threads", func(w http.ResponseWriter, r *http.Request, c *Call) error {
		var in messaging.OpenInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		res, err := m.Open(r.Context(), c.Request, in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusCreated, res)
	})
	handle("GET /v1/threads", func(w http.ResponseWriter, r *http.Request, c *Call) error {
		limit, err := queryInt(r, "limit")
		if err != nil {
			return err
		}
		q := r.URL.Query()
		page, err := m.ListPatient(r.Context(), c.Principal, q.Get("patientId"), q.Get("cursor"), limit)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, page)
	})
	handle("GET /v1/threads/{id}", func(w http.ResponseWriter, r *http.Request, c *Call) error {
		d, err := m.Get(r.Context(), c.Principal, r.PathValue("id"))
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, d)
	})
	handle("POST /v1/threads/{id}/messages", func(w http.ResponseWriter, r *http.Request, c *Call) error {
		var in messaging.ReplyInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		res, err := m.Reply(r.Context(), c.Request, r.PathValue("id"), in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusCreated, res)
	})
	handle("POST /v1/threads/{id}/messages/{mid}/retract", func(w http.ResponseWriter, r *http.Request, c *Call) error {
		var in messaging.RetractInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		res, err := m.Retract(r.Context(), c.Request, r.PathValue("id"), r.PathValue("mid"), in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusCreated, res)
	})
	handle("POST /v1/threads/{id}/read", func(w http.ResponseWriter, r *http.Request, c *Call) error {
		var in struct {
			MessageID string `json:"messageId"`
		}
		if len(c.Body) > 0 {
			if err := c.Decode(&in); err != nil {
				return err
			}
		}
		rr, err := m.MarkRead(r.Context(), c.Request, r.PathValue("id"), in.MessageID)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, rr)
	})
	for _, action := range []string{"claim", "close", "reopen"} {
		handle("POST /v1/threads/{id}/"+action, func(w http.ResponseWriter, r *http.Request, c *Call) error {
			var ref messaging.ThreadRef
			var err error
			switch action {
			case "claim":
				ref, err = m.Claim(r.Context(), c.Request, r.PathValue("id"))
			case "close":
				ref, err = m.Close(r.Context(), c.Request, r.PathValue("id"))
			case "reopen":
				ref, err = m.Reopen(r.Context(), c.Request, r.PathValue("id"))
			}
			if err != nil {
				return err
			}
			return reply(w, http.StatusOK, ref)
		})
	}
	for _, action := range []string{"assign", "forward"} {
		handle("POST /v1/threads/{id}/"+action, func(w http.ResponseWriter, r *http.Request, c *Call) error {
			var in messaging.AssignInput
			if err := c.Decode(&in); err != nil {
				return err
			}
			var ref messaging.ThreadRef
			var err error
			if action == "assign" {
				ref, err = m.Assign(r.Context(), c.Request, r.PathValue("id"), in)
			} else {
				ref, err = m.Forward(r.Context(), c.Request, r.PathValue("id"), in)
			}
			if err != nil {
				return err
			}
			return reply(w, http.StatusOK, ref)
		})
	}
	handle("GET /v1/inbox", func(w http.ResponseWriter, r *http.Request, c *Call) error {
		q := r.URL.Query()
		limit, err := queryInt(r, "limit")
		if err != nil {
			return err
		}
		iq := messaging.InboxQuery{Pool: q.Get("pool"), Mine: q.Get("mine") == "true", Closed: q.Get("closed") == "true",
			Status: carepost.Status(q.Get("status")), Category: carepost.Category(q.Get("category")), Cursor: q.Get("cursor"), Limit: limit}
		if v := q.Get("priority"); v != "" {
			pr, ok := carepost.ParsePriority(v)
			if !ok {
				return carepost.FieldError(carepost.CodeValidation, "priority", "priority must be routine, high or urgent")
			}
			iq.Priority = pr
		}
		page, err := m.Inbox(r.Context(), c.Principal, iq)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, page)
	})
	handle("GET /v1/consent", func(w http.ResponseWriter, r *http.Request, c *Call) error {
		st, err := m.Consent(r.Context(), c.Principal, r.URL.Query().Get("patientId"))
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, st)
	})
	handle("POST /v1/consent", func(w http.ResponseWriter, r *http.Request, c *Call) error {
		var in messaging.ConsentInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		st, err := m.AcceptConsent(r.Context(), c.Request, in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, st)
	})
	handle("GET /v1/patients/{id}/audit", func(w http.ResponseWriter, r *http.Request, c *Call) error {
		if s.PatientLog == nil {
			return carepost.NotFound("endpoint")
		}
		limit, err := queryInt(r, "limit")
		if err != nil {
			return err
		}
		page, err := s.PatientLog.ListPatient(r.Context(), c.Principal, r.PathValue("id"), r.URL.Query().Get("cursor"), limit)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, page)
	})
}
