// Package campaignapi is the HTTP face of campaigns and appointment
// reminders: authenticated routes for schedulers (and front desk for
// appointments) under /v1/campaigns and /v1/appointments, and the public
// pages behind signed links under /v1/public (unsubscribe, confirm, cancel).
//
// Handlers are thin: parse, call the service, reply. The public pages show
// a button on GET and act on POST, so a mail scanner that fetches every link
// changes nothing; RFC 8058 one-click unsubscribe POSTs straight to the same
// address.
package campaignapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/carepost/carepost/shared/campaigns"
	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/httpapi"
	"github.com/carepost/carepost/shared/reminders"
)

func reply(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

type handler = func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error

// decodeOptional decodes a body that may be empty.
func decodeOptional(c *httpapi.Call, v any) error {
	if len(c.Body) == 0 {
		return nil
	}
	return c.Decode(v)
}

// Routes returns the campaign, appointment and public link routes.
func Routes(cs *campaigns.Service, rs *reminders.Service) []httpapi.Route {
	var routes []httpapi.Route
	add := func(pattern string, h handler) { routes = append(routes, httpapi.Route{Pattern: pattern, Handle: h}) }
	public := func(pattern string, h handler) {
		routes = append(routes, httpapi.Route{Pattern: pattern, Handle: h, Public: true})
	}

	add("POST /v1/campaigns", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in campaigns.CreateInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		res, err := cs.Create(r.Context(), c.Principal, in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusCreated, res)
	})
	add("GET /v1/campaigns", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		list, err := cs.List(r.Context(), c.Principal)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, map[string]any{"items": list})
	})
	add("GET /v1/campaigns/{id}", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := cs.Get(r.Context(), c.Principal, r.PathValue("id"), r.URL.Query().Get("exact") == "true")
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})
	add("POST /v1/campaigns/{id}/recipients", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in campaigns.AppendInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		res, err := cs.Append(r.Context(), c.Principal, r.PathValue("id"), in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, res)
	})
	add("GET /v1/campaigns/{id}/preview", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		mails, err := cs.Preview(r.Context(), c.Principal, r.PathValue("id"), n)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, map[string]any{"items": mails})
	})
	add("POST /v1/campaigns/{id}/schedule", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in campaigns.ScheduleInput
		if err := decodeOptional(c, &in); err != nil {
			return err
		}
		v, err := cs.Schedule(r.Context(), c.Principal, r.PathValue("id"), in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})
	for name, do := range map[string]func(*http.Request, *httpapi.Call) (campaigns.View, error){
		"pause": func(r *http.Request, c *httpapi.Call) (campaigns.View, error) {
			return cs.Pause(r.Context(), c.Principal, r.PathValue("id"))
		},
		"resume": func(r *http.Request, c *httpapi.Call) (campaigns.View, error) {
			return cs.Resume(r.Context(), c.Principal, r.PathValue("id"))
		},
		"cancel": func(r *http.Request, c *httpapi.Call) (campaigns.View, error) {
			return cs.Cancel(r.Context(), c.Principal, r.PathValue("id"))
		},
	} {
		add("POST /v1/campaigns/{id}/"+name, func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			v, err := do(r, c)
			if err != nil {
				return err
			}
			return reply(w, http.StatusOK, v)
		})
	}

	add("POST /v1/appointments", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in reminders.Input
		if err := c.Decode(&in); err != nil {
			return err
		}
		v, err := rs.Create(r.Context(), c.Principal, in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusCreated, v)
	})
	add("POST /v1/appointments/import", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in reminders.ImportInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		res, err := rs.Import(r.Context(), c.Principal, in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, res)
	})
	add("GET /v1/appointments", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		q := r.URL.Query()
		from, to := time.Now().UTC(), time.Now().UTC().Add(14*24*time.Hour)
		for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
			if v := q.Get(name); v != "" {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					return carepost.FieldError(carepost.CodeInvalid, name, "%s must be an RFC 3339 time", name)
				}
				*dst = t
			}
		}
		list, err := rs.List(r.Context(), c.Principal, from, to)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, map[string]any{"items": list})
	})
	add("GET /v1/appointments/{id}", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := rs.Get(r.Context(), c.Principal, r.PathValue("id"))
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})
	add("POST /v1/appointments/{id}/cancel", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := rs.CancelByStaff(r.Context(), c.Principal, r.PathValue("id"))
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})

	public("GET /v1/public/unsubscribe/{token}", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		info, err := cs.UnsubscribeInfo(r.Context(), r.PathValue("token"))
		if err != nil {
			return errorPage(w, err)
		}
		return page(w, http.StatusOK, pageData{Title: "Unsubscribe", Practice: info.PracticeName,
			Text: "Stop reminder and campaign e-mails from " + info.PracticeName + "? Messages about your care will still reach you.", Button: "Unsubscribe"})
	})
	public("POST /v1/public/unsubscribe/{token}", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		info, err := cs.Unsubscribe(r.Context(), r.PathValue("token"), remoteIP(r))
		if err != nil {
			return errorPage(w, err)
		}
		return page(w, http.StatusOK, pageData{Title: "Unsubscribed", Practice: info.PracticeName,
			Text: "You will not get reminder or campaign e-mails from " + info.PracticeName + " any more."})
	})
	public("GET /v1/public/appointments/{token}", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		info, err := rs.LinkInfo(r.Context(), r.PathValue("token"))
		if err != nil {
			return errorPage(w, err)
		}
		d := pageData{Title: "Your appointment", Practice: info.PracticeName}
		switch {
		case info.State == carepost.AppointmentCancelled:
			d.Text = "Your appointment on " + info.When + " is cancelled."
		case info.Action == "confirm":
			d.Text, d.Button = "Confirm your appointment on "+info.When+"?", "Confirm"
		default:
			d.Text, d.Button = "Cancel your appointment on "+info.When+"? The time will be offered to someone else.", "Cancel appointment"
		}
		return page(w, http.StatusOK, d)
	})
	public("POST /v1/public/appointments/{token}", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		info, err := rs.Act(r.Context(), r.PathValue("token"), remoteIP(r))
		if err != nil {
			return errorPage(w, err)
		}
		d := pageData{Title: "Your appointment", Practice: info.PracticeName, Text: "Thank you: your appointment on " + info.When + " is confirmed."}
		if info.State == carepost.AppointmentCancelled {
			d.Text = "Your appointment on " + info.When + " is cancelled. " + info.PracticeName + " has been told."
		}
		return page(w, http.StatusOK, d)
	})
	return routes
}
