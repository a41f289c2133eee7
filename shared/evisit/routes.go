package evisit

import (
	"net/http"
	"strconv"

	"github.com/carepost/carepost/shared/httpapi"
)

// Routes are the e-visit endpoints.
func Routes(s *Service) []httpapi.Route {
	return []httpapi.Route{
		{Pattern: "POST /v1/threads/{id}/time", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			var in LogInput
			if err := c.Decode(&in); err != nil {
				return err
			}
			tt, err := s.Log(r.Context(), c.Request, r.PathValue("id"), in)
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusCreated, tt)
		}},
		{Pattern: "GET /v1/threads/{id}/time", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			tt, err := s.Get(r.Context(), c.Principal, r.PathValue("id"))
			if err != nil {
				return err
			}
			return httpapi.Reply(w, http.StatusOK, tt)
		}},
		{Pattern: "GET /v1/reports/evisits.csv", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			q := r.URL.Query()
			b, n, err := s.BillingCSV(r.Context(), c.Principal, q.Get("from"), q.Get("to"))
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="evisits.csv"`)
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("X-Row-Count", strconv.Itoa(n))
			w.WriteHeader(http.StatusOK)
			_, err = w.Write(b)
			return err
		}},
	}
}
