package retention

import (
	"net/http"

	"github.com/carepost/carepost/shared/httpapi"
)

// Routes are the legal-hold endpoints (admins).
func Routes(s *Service) []httpapi.Route {
	return []httpapi.Route{
		{Pattern: "PUT /v1/threads/{id}/legal-hold", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			var in HoldInput
			if err := c.Decode(&in); err != nil {
				return err
			}
			v, err := s.SetHold(r.Context(), c.Principal, r.PathValue("id"), in)
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusOK, v)
		}},
		{Pattern: "GET /v1/threads/{id}/legal-hold", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			v, err := s.Hold(r.Context(), c.Principal, r.PathValue("id"))
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusOK, v)
		}},
	}
}
