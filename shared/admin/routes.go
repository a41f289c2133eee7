package admin

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/httpapi"
)

// reply writes v as the JSON answer (the shape httpapi's own handlers use).
func reply(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return carepost.Wrap(carepost.CodeInternal, err, "response could not be encoded")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

func limitOf(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, carepost.FieldError(carepost.CodeInvalid, "limit", "limit must be a non-negative integer")
	}
	return n, nil
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type handler = func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error

// Routes are the HTTP routes of the package: parse, call the use case,
// answer. Authorization is in the use cases.
func Routes(s *Service) []httpapi.Route {
	var routes []httpapi.Route
	add := func(pattern string, h handler) {
		routes = append(routes, httpapi.Route{Pattern: pattern, Handle: h})
	}
	settings := func(build func(c *httpapi.Call) (Settings, error)) handler {
		return func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			in, err := build(c)
			if err != nil {
				return err
			}
			v, err := s.UpdatePractice(r.Context(), c.Principal, in)
			if err != nil {
				return err
			}
			return reply(w, http.StatusOK, v)
		}
	}

	// Practice settings (admins).
	add("GET /v1/practice", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := s.GetPractice(r.Context(), c.Principal)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})
	add("PUT /v1/practice", settings(func(c *httpapi.Call) (Settings, error) {
		var in Settings
		return in, c.Decode(&in)
	}))
	add("PUT /v1/practice/hours", settings(func(c *httpapi.Call) (Settings, error) {
		var in struct {
			TimeZone *string                  `json:"timeZone,omitempty"`
			Hours    *[]carepost.OpeningHours `json:"hours,omitempty"`
			Holidays *[]string                `json:"holidays,omitempty"`
		}
		err := c.Decode(&in)
		return Settings{TimeZone: in.TimeZone, Hours: in.Hours, Holidays: in.Holidays}, err
	}))
	add("PUT /v1/practice/pools", settings(func(c *httpapi.Call) (Settings, error) {
		var in struct {
			Pools      *[]carepost.Pool `json:"pools"`
			OnCallPool *string          `json:"onCallPool,omitempty"`
		}
		err := c.Decode(&in)
		if err == nil && in.Pools == nil {
			err = carepost.FieldError(carepost.CodeValidation, "pools", "pools is required")
		}
		return Settings{Pools: in.Pools, OnCallPool: in.OnCallPool}, err
	}))
	add("PUT /v1/practice/routing", settings(func(c *httpapi.Call) (Settings, error) {
		var in struct {
			Routing *map[carepost.Category]carepost.Owner `json:"routing"`
		}
		err := c.Decode(&in)
		if err == nil && in.Routing == nil {
			err = carepost.FieldError(carepost.CodeValidation, "routing", "routing is required")
		}
		return Settings{Routing: in.Routing}, err
	}))
	add("GET /v1/practice/agreement", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := s.Agreement(r.Context(), c.Principal)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})
	add("PUT /v1/practice/agreement", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in struct {
			Text string `json:"text"`
		}
		if err := c.Decode(&in); err != nil {
			return err
		}
		a, err := s.PublishAgreement(r.Context(), c.Principal, in.Text)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, a)
	})

	// Staff (admins).
	add("GET /v1/staff", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := s.ListStaff(r.Context(), c.Principal)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, map[string]any{"items": v})
	})
	add("POST /v1/staff", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in StaffInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		v, err := s.InviteStaff(r.Context(), c.Principal, in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusCreated, v)
	})
	add("PUT /v1/staff/{sub}/role", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in struct {
			Role carepost.Role `json:"role"`
		}
		if err := c.Decode(&in); err != nil {
			return err
		}
		v, err := s.SetStaffRole(r.Context(), c.Principal, r.PathValue("sub"), in.Role)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})
	add("POST /v1/staff/{sub}/disable", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := s.DisableStaff(r.Context(), c.Principal, r.PathValue("sub"))
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})

	// Patients.
	add("GET /v1/patients", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		limit, err := limitOf(r)
		if err != nil {
			return err
		}
		v, err := s.ListPatients(r.Context(), c.Principal, r.URL.Query().Get("cursor"), limit)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})
	add("POST /v1/patients", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in PatientInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		v, err := s.RegisterPatient(r.Context(), c.Principal, in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusCreated, v)
	})
	add("POST /v1/patients/import", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in ImportInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		v, err := s.ImportPatients(r.Context(), c.Principal, in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})
	add("GET /v1/patients/{id}", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := s.GetPatient(r.Context(), c.Principal, r.PathValue("id"))
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})
	add("POST /v1/patients/{id}/invite", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := s.InvitePatient(r.Context(), c.Principal, r.PathValue("id"))
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})

	// Proxies.
	add("GET /v1/patients/{id}/proxies", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := s.ListProxies(r.Context(), c.Principal, r.PathValue("id"))
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, map[string]any{"items": v})
	})
	add("POST /v1/patients/{id}/proxies", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in ProxyInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		v, err := s.GrantProxy(r.Context(), c.Principal, r.PathValue("id"), in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusCreated, v)
	})
	add("DELETE /v1/patients/{id}/proxies/{sub}", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		if err := s.RevokeProxy(r.Context(), c.Principal, r.PathValue("id"), r.PathValue("sub")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	add("GET /v1/me/proxies", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := s.MyProxies(r.Context(), c.Principal)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, map[string]any{"items": v})
	})
	add("GET /v1/me/preferences", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := s.MyPreferences(r.Context(), c.Principal)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})
	add("PUT /v1/me/preferences", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in PreferencesInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		v, err := s.SetMyPreferences(r.Context(), c.Principal, in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})
	add("DELETE /v1/me/proxies/{sub}", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		if err := s.RevokeMyProxy(r.Context(), c.Principal, r.PathValue("sub")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})

	// Operator.
	add("GET /v1/operator/practices", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		v, err := s.ListPractices(r.Context(), c.Principal)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, map[string]any{"items": v})
	})
	add("POST /v1/operator/practices", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		var in NewPracticeInput
		if err := c.Decode(&in); err != nil {
			return err
		}
		v, err := s.CreatePractice(r.Context(), c.Principal, in)
		if err != nil {
			return err
		}
		return reply(w, http.StatusCreated, v)
	})
	add("POST /v1/operator/practices/{id}/suspend", func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		in := struct {
			Suspended *bool `json:"suspended"`
		}{}
		if len(c.Body) > 0 {
			if err := c.Decode(&in); err != nil {
				return err
			}
		}
		suspend := in.Suspended == nil || *in.Suspended
		v, err := s.SuspendPractice(r.Context(), c.Principal, r.PathValue("id"), suspend)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, v)
	})

	// Public: patient activation (no bearer token; the code is the proof).
	routes = append(routes, httpapi.Route{Pattern: "POST /v1/public/activate", Public: true,
		Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
			var in ActivateInput
			if err := c.Decode(&in); err != nil {
				return err
			}
			v, err := s.Activate(r.Context(), in, remoteIP(r))
			if err != nil {
				return err
			}
			return reply(w, http.StatusOK, v)
		}})
	return routes
}
