package app

import (
	"context"
	"time"

	"github.com/carepost/carepost/shared/auditlog"
	"github.com/carepost/carepost/shared/carepost"
)

// auditAdapter lets the domain record events in the hash-chained log.
type auditAdapter struct{ log *auditlog.Log }

var _ carepost.AuditLog = auditAdapter{}

func (a auditAdapter) Record(ctx context.Context, e carepost.AuditEvent) error {
	pid := e.PracticeID
	if pid == "" {
		pid = "operator" // operators act outside practices; their chain is separate
	}
	return a.log.Record(ctx, auditlog.Event{
		PracticeID: pid, Time: e.Time, Actor: e.Actor, ActorRole: string(e.ActorRole), SourceIP: e.SourceIP,
		Action: e.Action, PatientID: e.PatientID, Object: e.Object, Outcome: auditlog.Outcome(e.Outcome),
	})
}

// AuditEntry is one line of "who read my messages".
type AuditEntry struct {
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	ActorRole string    `json:"actorRole"`
	Action    string    `json:"action"`
	Object    string    `json:"object"`
	Outcome   string    `json:"outcome"`
	SourceIP  string    `json:"sourceIp,omitempty"`
}

// patientAudit answers GET /v1/patients/{id}/audit for the patient and the
// practice's admins; everyone else gets "not found".
type patientAudit struct {
	log   *auditlog.Log
	audit carepost.AuditLog
}

func (p patientAudit) ListPatient(ctx context.Context, who carepost.Principal, patientID, cursor string, limit int) (any, error) {
	allowed := (who.Role == carepost.RolePatient && who.PatientID == patientID && patientID != "") ||
		(who.Role == carepost.RoleAdmin && who.PracticeID != "")
	outcome := "ok"
	if !allowed {
		outcome = "denied"
	}
	if err := p.audit.Record(ctx, carepost.AuditEvent{PracticeID: who.PracticeID, Actor: who.Subject, ActorRole: who.Role, SourceIP: who.SourceIP,
		Action: "audit.read", PatientID: patientID, Object: "patient/" + safe(patientID) + "/audit", Outcome: outcome, Time: time.Now()}); err != nil {
		return nil, carepost.Unavailable(err, "the audit log")
	}
	if !allowed {
		return nil, carepost.NotFound("patient")
	}
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	events, next, err := p.log.ListPatient(ctx, who.PracticeID, patientID, limit, cursor)
	if err != nil {
		return nil, err
	}
	out := struct {
		Items  []AuditEntry `json:"items"`
		Cursor string       `json:"cursor,omitempty"`
	}{Items: []AuditEntry{}, Cursor: next}
	for _, e := range events {
		entry := AuditEntry{Time: e.Time, Actor: e.Actor, ActorRole: e.ActorRole, Action: e.Action, Object: e.Object, Outcome: string(e.Outcome)}
		if who.Role == carepost.RoleAdmin {
			entry.SourceIP = e.SourceIP
		}
		out.Items = append(out.Items, entry)
	}
	return out, nil
}

func safe(id string) string {
	if len(id) == 0 || len(id) > 64 {
		return "invalid"
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return "invalid"
		}
	}
	return id
}
