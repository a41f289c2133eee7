package app

import (
	"net/http"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/httpapi"
)

// wireAuditVerify adds GET /v1/audit/verify: an admin walks the practice's
// audit hash chain and learns whether any event was changed or deleted.
func (a *App) wireAuditVerify() {
	a.Routes = append(a.Routes, httpapi.Route{Pattern: "GET /v1/audit/verify", Handle: func(w http.ResponseWriter, r *http.Request, c *httpapi.Call) error {
		p := c.Principal
		if p.Role != carepost.RoleAdmin || p.PracticeID == "" {
			if p.PracticeID != "" {
				if err := (auditAdapter{a.AuditLog}).Record(r.Context(), carepost.AuditEvent{PracticeID: p.PracticeID, Actor: p.Subject, ActorRole: p.Role, SourceIP: p.SourceIP,
					Action: "audit.verify", Object: "practice/" + safe(p.PracticeID) + "/audit", Outcome: "denied", Time: a.now()}); err != nil {
					return carepost.Unavailable(err, "the audit log")
				}
			}
			return carepost.Errorf(carepost.CodeForbidden, "only a practice admin can verify the audit log")
		}
		rep, err := a.AuditLog.Verify(r.Context(), p.PracticeID)
		if err != nil {
			return err
		}
		outcome := "ok"
		if !rep.OK {
			outcome = "error"
		}
		if err := (auditAdapter{a.AuditLog}).Record(r.Context(), carepost.AuditEvent{PracticeID: p.PracticeID, Actor: p.Subject, ActorRole: p.Role, SourceIP: p.SourceIP,
			Action: "audit.verify", Object: "practice/" + safe(p.PracticeID) + "/audit", Outcome: outcome, Time: a.now()}); err != nil {
			return carepost.Unavailable(err, "the audit log")
		}
		return httpapi.Reply(w, http.StatusOK, map[string]any{"ok": rep.OK, "events": rep.Events, "firstBad": rep.FirstBad, "problem": rep.Problem, "head": rep.Head})
	}})
}

func (a *App) now() time.Time { return time.Now().UTC() }
