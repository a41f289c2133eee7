package httpapi

import (
	"net/http"

	"github.com/carepost/carepost/shared/triage"
)

// TriageRoutes are the staff endpoints of triage: acknowledging an urgent
// page and setting an out-of-office absence.
func TriageRoutes(t *triage.Service) []Route {
	return []Route{
		{Pattern: "POST /v1/threads/{id}/acknowledge", Handle: func(w http.ResponseWriter, r *http.Request, c *Call) error {
			if len(c.Body) > 0 {
				var none struct{}
				if err := c.Decode(&none); err != nil {
					return err
				}
			}
			res, err := t.Acknowledge(r.Context(), c.Principal, r.PathValue("id"))
			if err != nil {
				return err
			}
			return reply(w, http.StatusOK, res)
		}},
		{Pattern: "GET /v1/me/absence", Handle: func(w http.ResponseWriter, r *http.Request, c *Call) error {
			a, err := t.Absence(r.Context(), c.Principal)
			if err != nil {
				return err
			}
			return reply(w, http.StatusOK, a)
		}},
		{Pattern: "POST /v1/me/absence", Handle: func(w http.ResponseWriter, r *http.Request, c *Call) error {
			var in triage.AbsenceInput
			if err := c.Decode(&in); err != nil {
				return err
			}
			a, err := t.SetAbsence(r.Context(), c.Principal, in)
			if err != nil {
				return err
			}
			return reply(w, http.StatusOK, a)
		}},
		{Pattern: "DELETE /v1/me/absence", Handle: func(w http.ResponseWriter, r *http.Request, c *Call) error {
			if err := t.EndAbsence(r.Context(), c.Principal); err != nil {
				return err
			}
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNoContent)
			return nil
		}},
	}
}
