package auditlog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
)

func sampleEvent() Event {
	return Event{
		PracticeID: "p1", Seq: 7, Time: time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC),
		Actor: "sub-nurse-1", ActorRole: "nurse", SourceIP: "192.0.2.10",
		Action: "thread.read", PatientID: "pat-1", Object: "thread/T1",
		Outcome: OutcomeOK, Prev: Genesis,
	}
}

// The encoding is a stored format: old chains must keep verifying, so a
// change to it must be deliberate (and bump hashDomain). The value was
// cross-checked with an independent Python implementation of the layout.
func TestHashGolden(t *testing.T) {
	if got, want := Hash(sampleEvent()), "3746a3841bc6ac1aee75a889c93835926bf338fb35fa15ab4f6f2c39f993a04b"; got != want {
		t.Errorf("Hash(sample) = %s, want %s", got, want)
	}
}

func TestHashCoversEveryField(t *testing.T) {
	base := Hash(sampleEvent())
	for name, change := range map[string]func(*Event){
		"practice": func(e *Event) { e.PracticeID = "p2" },
		"seq":      func(e *Event) { e.Seq++ },
		"time":     func(e *Event) { e.Time = e.Time.Add(time.Nanosecond) },
		"actor":    func(e *Event) { e.Actor = "sub-nurse-2" },
		"role":     func(e *Event) { e.ActorRole = "admin" },
		"ip":       func(e *Event) { e.SourceIP = "192.0.2.11" },
		"action":   func(e *Event) { e.Action = "thread.export" },
		"patient":  func(e *Event) { e.PatientID = "pat-2" },
		"object":   func(e *Event) { e.Object = "thread/T2" },
		"outcome":  func(e *Event) { e.Outcome = OutcomeDenied },
		"prev":     func(e *Event) { e.Prev = strings.Repeat("1", 64) },
		// Length prefixes: moving a byte across a field boundary changes
		// the hash although the concatenation stays the same.
		"boundary": func(e *Event) { e.Actor, e.ActorRole = "sub-nurse-1n", "urse" },
	} {
		e := sampleEvent()
		change(&e)
		if Hash(e) == base {
			t.Errorf("changing %s leaves the hash unchanged", name)
		}
	}
	e := sampleEvent()
	e.Hash = "anything"
	if got := Hash(e); got != base {
		t.Errorf("Hash depends on the Hash field")
	}
}

// Invalid events are refused before anything is written, with a message that
// names the field and never echoes its value.
func TestRecordRejects(t *testing.T) {
	secret := "Dear doctor my rash"
	tests := []struct {
		name  string
		edit  func(*Event)
		field string
	}{
		{"content in object", func(e *Event) { e.Object = secret }, "object"},
		{"newline in object", func(e *Event) { e.Object = "thread/T1\nrash" }, "object"},
		{"tab in action", func(e *Event) { e.Action = "thread.read\t" + "x" }, "action"},
		{"long object", func(e *Event) { e.Object = "thread/" + strings.Repeat("x", MaxFieldLen) }, "object"},
		{"long action", func(e *Event) { e.Action = strings.Repeat("a", MaxFieldLen+1) }, "action"},
		{"missing action", func(e *Event) { e.Action = "" }, "action"},
		{"missing practice", func(e *Event) { e.PracticeID = "" }, "practice_id"},
		{"key separator in patient", func(e *Event) { e.PatientID = "pat#1" }, "patient_id"},
		{"key separator in practice", func(e *Event) { e.PracticeID = "p1#AUDIT" }, "practice_id"},
		{"control in actor", func(e *Event) { e.Actor = "sub\x00" }, "actor"},
		{"long ip", func(e *Event) { e.SourceIP = strings.Repeat("1", MaxFieldLen+1) }, "source_ip"},
		{"bad outcome", func(e *Event) { e.Outcome = "maybe" }, "outcome"},
		{"time out of range", func(e *Event) { e.Time = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }, "time"},
	}
	db := dbFuncs{} // any call panics: nothing may reach the table
	l := New(db, "table")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sampleEvent()
			tt.edit(&e)
			err := l.Record(context.Background(), e)
			var ce *carepost.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Record = %v, want a *carepost.Error", err)
			}
			if got, want := ce.Code, carepost.CodeInvalid; got != want {
				t.Errorf("code = %s, want %s", got, want)
			}
			if got, want := ce.Field, tt.field; got != want {
				t.Errorf("field = %q, want %q", got, want)
			}
			if strings.Contains(err.Error(), "rash") {
				t.Errorf("error echoes the value: %v", err)
			}
		})
	}
}

// dbFuncs is a DB built from function fields; a nil field panics.
type dbFuncs struct {
	PutFn   func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	QueryFn func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error)
}

var _ DB = dbFuncs{}

func (d dbFuncs) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return d.PutFn(in)
}

func (d dbFuncs) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return d.QueryFn(in)
}

// Failures are mapped so callers can tell "retry later" from "broken".
func TestRecordErrors(t *testing.T) {
	empty := func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) { return &dynamodb.QueryOutput{}, nil }
	tests := []struct {
		name      string
		put       error
		code      carepost.Code
		transient bool
		puts      int
	}{
		{"throttled", &types.ProvisionedThroughputExceededException{Message: new("slow down")}, carepost.CodeUnavailable, true, 1},
		{"request limit", &types.RequestLimitExceeded{}, carepost.CodeUnavailable, true, 1},
		{"server error", &types.InternalServerError{}, carepost.CodeUnavailable, true, 1},
		{"endless contention", &types.ConditionalCheckFailedException{}, carepost.CodeUnavailable, true, MaxAppendAttempts},
		{"missing table", &types.ResourceNotFoundException{}, carepost.CodeInternal, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			puts := 0
			l := New(dbFuncs{QueryFn: empty, PutFn: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
				puts++
				return nil, tt.put
			}}, "table")
			err := l.Record(context.Background(), sampleEvent())
			if got, want := carepost.ErrorCode(err), tt.code; got != want {
				t.Errorf("code = %s, want %s (%v)", got, want, err)
			}
			if got, want := carepost.IsTransient(err), tt.transient; got != want {
				t.Errorf("transient = %v, want %v", got, want)
			}
			if got, want := puts, tt.puts; got != want {
				t.Errorf("PutItem calls = %d, want %d", got, want)
			}
		})
	}
}

func TestCursorShape(t *testing.T) {
	for c, want := range map[string]bool{
		patientSK(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), 42): true,
		"":                              false,
		"20260102T030405.000000006Z#42": false,
		"20260102T030405Z#000000000042": false,
		"x#000000000042":                false,
		"20260102T030405.000000006Z#00000000004x": false,
	} {
		if got := parseCursor(c); got != want {
			t.Errorf("parseCursor(%q) = %v, want %v", c, got, want)
		}
	}
}
