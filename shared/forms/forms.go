// Package forms validates the typed requests a patient submits — prescription
// renewal, appointment, referral, forms help, billing question, test-result
// question and home measurement report — against one schema per form type.
//
// Validate checks a decoded carepost.FormPayload and answers with what the
// form implies: the thread category, a priority (raised to high for few doses
// left or an alarming but plausible measurement) and the measurements
// normalized to UCUM units with their LOINC codes, for the urgent-symptom rules
// and the FHIR export. The same schema tables drive Schema, the JSON-Schema
// description used by the OpenAPI document, so the two cannot drift.
//
// Errors are *carepost.Error: 400 invalid_request for a structural problem
// (unknown field, wrong JSON type), 422 validation_failed for a well-formed but
// wrong value (missing, too long, not a date, implausible). Field names the
// offending input ("form.fields.readings[0].value"). The first error in schema
// order is returned, so the answer never depends on map iteration order.
//
// This package must never echo a submitted value in an error: form payloads
// are patient data, and error messages are shown to clients and logged. It
// also must not read a clock (whether a window lies in the future is the
// caller's business) and must not import anything beyond the domain package.
package forms

import (
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// Reading is one home measurement, normalized: Value (and Value2 for blood
// pressure) are expressed in Unit, a UCUM code, whatever unit the patient
// used.
type Reading struct {
	Kind    string  // measurement type, one of the Kind* constants
	Value   float64 // the value; systolic pressure for blood pressure
	Value2  float64 // diastolic pressure for blood pressure; 0 otherwise
	Unit    string  // UCUM code: "mm[Hg]", "mg/dL", "Cel", "kg", "/min", "%"
	LOINC   string  // LOINC code of the observation (the panel for blood pressure)
	TakenAt time.Time
}

// Result is what a valid form implies for the thread it opens.
type Result struct {
	Category carepost.Category // category the form implies
	Priority carepost.Priority // routine, or high for an alarming (but plausible) value
	Readings []Reading         // normalized readings (measurement reports only)
	Summary  string            // subject to use when the patient gave none; never contains values
}

// Validate checks p against the schema of its form type. The error, if any,
// is a *carepost.Error whose Field is "form.type" or "form.fields.<name>".
func Validate(p carepost.FormPayload) (Result, error) {
	ft, ok := formsByName[p.Type]
	if !ok {
		if p.Type == "" {
			return Result{}, carepost.FieldError(carepost.CodeValidation, "form.type", msgTypeRequired)
		}
		return Result{}, carepost.FieldError(carepost.CodeValidation, "form.type", msgTypeUnknown, typeNames)
	}
	r := Result{Category: ft.category, Priority: carepost.PriorityRoutine, Summary: ft.summary}
	if err := validateObject(ft.fields, p.Fields, loc{}, &r); err != nil {
		return Result{}, err
	}
	return r, nil
}

// Types lists the form type names in a stable order.
func Types() []string {
	out := make([]string, len(catalog))
	for i, ft := range catalog {
		out[i] = ft.name
	}
	return out
}

// Schema describes every form type as a JSON Schema (2020-12 vocabulary, as
// OpenAPI 3.1 uses) of its "fields" object, keyed by form type name. Each
// entry also carries "title" (the default summary) and "x-category". The
// readings item of measurement_report carries "x-measurements": per type the
// accepted units, the normalized UCUM unit, the LOINC code and the plausible
// and alarming ranges. The map is freshly built: callers may modify it.
func Schema() map[string]any {
	out := make(map[string]any, len(catalog))
	for _, ft := range catalog {
		s := ft.fields.jsonSchema()
		s["title"] = ft.summary
		s["x-category"] = string(ft.category)
		out[ft.name] = s
	}
	return out
}

// IsType reports whether name is a known form type.
func IsType(name string) bool {
	_, ok := formsByName[name]
	return ok
}
