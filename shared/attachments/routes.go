package attachments

import (
	"net/http"

	"github.com/carepost/carepost/shared/httpapi"
)

// Routes are the HTTP routes of attachments: parse, call, answer.
func Routes(s *Service) []httpapi.Route {
	return []httpapi.Route{
		{Pattern: "POST /v1/threads/{id}/attachments", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			var in UploadInput
			if err := c.Decode(&in); err != nil {
				return err
			}
			t, err := s.RequestUpload(r.Context(), c.Request, r.PathValue("id"), in)
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusCreated, t)
		}},
		{Pattern: "POST /v1/threads/{id}/attachments/{aid}/complete", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			if len(c.Body) > 0 {
				var none struct{}
				if err := c.Decode(&none); err != nil {
					return err
				}
			}
			a, err := s.Complete(r.Context(), c.Request, r.PathValue("id"), r.PathValue("aid"))
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusOK, a)
		}},
		{Pattern: "GET /v1/threads/{id}/attachments", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			items, err := s.List(r.Context(), c.Principal, r.PathValue("id"))
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusOK, map[string]any{"items": items})
		}},
		// GET answers 200 with the URL as JSON, or 303 to it with
		// ?redirect=true (for links a browser follows).
		{Pattern: "GET /v1/threads/{id}/attachments/{aid}", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			d, err := s.Download(r.Context(), c.Principal, r.PathValue("id"), r.PathValue("aid"))
			if err != nil {
				return err
			}
			if r.URL.Query().Get("redirect") == "true" {
				w.Header().Set("Location", d.URL)
				return httpapi.Reply(w, http.StatusSeeOther, d)
			}
			return httpapi.Reply(w, http.StatusOK, d)
		}},
	}
}
