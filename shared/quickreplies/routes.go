package quickreplies

import (
	"net/http"

	"github.com/carepost/carepost/shared/httpapi"
)

// Routes are the HTTP routes of quick replies: parse, call, answer.
func Routes(s *Service) []httpapi.Route {
	return []httpapi.Route{
		{Pattern: "GET /v1/quick-replies", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			qs, err := s.List(r.Context(), c.Principal)
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusOK, map[string]any{"items": qs, "placeholders": Placeholders})
		}},
		{Pattern: "POST /v1/quick-replies", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			var in Input
			if err := c.Decode(&in); err != nil {
				return err
			}
			q, err := s.Create(r.Context(), c.Request, in)
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusCreated, q)
		}},
		{Pattern: "PUT /v1/quick-replies/{scope}/{id}", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			var in Input
			if err := c.Decode(&in); err != nil {
				return err
			}
			q, err := s.Update(r.Context(), c.Principal, r.PathValue("scope"), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusOK, q)
		}},
		{Pattern: "DELETE /v1/quick-replies/{scope}/{id}", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			if err := s.Delete(r.Context(), c.Principal, r.PathValue("scope"), r.PathValue("id")); err != nil {
				return err
			}
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNoContent)
			return nil
		}},
		{Pattern: "GET /v1/threads/{id}/quick-replies/{qid}", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			out, err := s.Render(r.Context(), c.Principal, r.PathValue("id"), r.PathValue("qid"))
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusOK, out)
		}},
	}
}
