package reports

import (
	"net/http"

	"github.com/carepost/carepost/shared/httpapi"
)

// Routes are the report endpoints (admins).
func Routes(s *Service) []httpapi.Route {
	period := func(fn func(r *http.Request, c *httpapi.Call, from, to string) (any, error)) func(http.ResponseWriter, *http.Request, *httpapi.Call) error {
		return func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			q := r.URL.Query()
			v, err := fn(r, c, q.Get("from"), q.Get("to"))
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusOK, v)
		}
	}
	return []httpapi.Route{
		{Pattern: "GET /v1/reports/response-times", Handle: period(func(r *http.Request, c *httpapi.Call, from, to string) (any, error) {
			return s.ResponseTimes(r.Context(), c.Principal, from, to)
		})},
		{Pattern: "GET /v1/reports/volume", Handle: period(func(r *http.Request, c *httpapi.Call, from, to string) (any, error) {
			return s.Volume(r.Context(), c.Principal, from, to)
		})},
		{Pattern: "GET /v1/reports/secure-messaging", Handle: period(func(r *http.Request, c *httpapi.Call, from, to string) (any, error) {
			return s.SecureMessaging(r.Context(), c.Principal, from, to)
		})},
		{Pattern: "GET /v1/reports/reminders", Handle: period(func(r *http.Request, c *httpapi.Call, from, to string) (any, error) {
			return s.Reminders(r.Context(), c.Principal, from, to)
		})},
		{Pattern: "GET /v1/reports/backlog", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			b, err := s.Backlog(r.Context(), c.Principal)
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusOK, b)
		}},
		{Pattern: "POST /v1/reports/patients-seen", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			var in SeenInput
			if err := c.Decode(&in); err != nil {
				return err
			}
			v, err := s.RecordSeen(r.Context(), c.Principal, in)
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusOK, v)
		}},
	}
}
