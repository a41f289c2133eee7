package forms

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carepost/carepost/shared/carepost"
)

// The schema engine: a form type is an object, an object is an ordered list
// of fields, a field has a kind and limits. Validation walks the fields in
// order and stops at the first problem; an object may add a cross-field check
// that runs once all its fields are well-formed.

type kind uint8

const (
	kindString   kind = iota + 1 // free text, limited in characters (runes)
	kindEnum                     // one of a fixed set of strings
	kindDate                     // "YYYY-MM-DD"
	kindDateTime                 // RFC 3339 with offset
	kindInt                      // a JSON number without fraction
	kindNumber                   // a JSON number, optionally limited in decimals
	kindArray                    // an array of objects
)

// maxFields bounds the fields of one object so parsed values fit in a fixed
// array on the stack.
const maxFields = 8

type field struct {
	name        string
	kind        kind
	required    bool
	description string

	minLen, maxLen int      // kindString, in characters
	enum           []string // kindEnum
	min, max       float64  // kindInt, kindNumber
	maxDecimals    int      // kindNumber; 0 means unlimited
	minItems       int      // kindArray
	maxItems       int      // kindArray
	items          *object  // kindArray
}

// crossCheck names the check that validates across the fields of one object
// once each is well-formed, and contributes to the result. It is an
// enumeration rather than a func field so the calls are static and the
// parsed values stay on the stack.
type crossCheck uint8

const (
	noCheck crossCheck = iota
	prescriptionCheck
	windowCheck
	readingCheck
)

func (c crossCheck) run(o *object, v *values, at loc, r *Result) error {
	switch c {
	case prescriptionCheck:
		return checkPrescription(o, v, at, r)
	case windowCheck:
		return checkWindow(o, v, at, r)
	case readingCheck:
		return checkReading(o, v, at, r)
	}
	return nil
}

type object struct {
	fields []field
	index  map[string]int
	check  crossCheck
	// extra is merged into the JSON Schema of the object (documentation only).
	extra map[string]any
}

func newObject(check crossCheck, fields ...field) *object {
	if len(fields) > maxFields {
		panic("forms: too many fields in one object")
	}
	o := &object{fields: fields, index: make(map[string]int, len(fields)), check: check}
	for i, f := range fields {
		if _, dup := o.index[f.name]; dup {
			panic("forms: duplicate field " + f.name)
		}
		o.index[f.name] = i
	}
	return o
}

// value is one parsed field value.
type value struct {
	present bool
	s       string    // string kinds
	n       float64   // numbers
	t       time.Time // dates and date-times
}

type values [maxFields]value

// get returns the parsed value of the named field of o.
func (v *values) get(o *object, name string) *value {
	i, ok := o.index[name]
	if !ok {
		panic("forms: no field " + name)
	}
	return &v[i]
}

// loc is where a field sits: a top-level field, an element of a top-level
// array, or a field of such an element. Paths are built only for errors.
type loc struct {
	array string // "" at top level
	index int    // element index when array != ""
	name  string // field name; "" for the element itself
}

func (l loc) child(name string) loc { l.name = name; return l }

// rel is the path below "form.fields", also used in messages.
func (l loc) rel() string {
	if l.array == "" {
		return l.name
	}
	s := l.array + "[" + strconv.Itoa(l.index) + "]"
	if l.name != "" {
		s += "." + l.name
	}
	return s
}

func (l loc) field() string {
	if r := l.rel(); r != "" {
		return "form.fields." + r
	}
	return "form.fields"
}

// Messages. Every message is one of these formats with arguments taken from
// the schema (field paths, limits, allowed values), never from the input.
const (
	msgTypeRequired     = "form type is required"
	msgTypeUnknown      = "unknown form type; expected one of: %s"
	msgUnknownField     = "unknown field %s"
	msgUnknownFieldAnon = "unknown field (name not shown: it is not a plain identifier)"
	msgRequired         = "%s is required"
	msgWrongType        = "%s must be %s"
	msgNotObject        = "%s must be an object"
	msgTooLong          = "%s must be at most %d characters"
	msgTooShort         = "%s must be at least %d characters"
	msgControl          = "%s must not contain control characters"
	msgBadUTF8          = "%s must be valid UTF-8"
	msgEnum             = "%s must be one of: %s"
	msgDate             = "%s must be a date (YYYY-MM-DD)"
	msgDateTime         = "%s must be a date-time (RFC 3339, e.g. 2026-03-01T09:30:00-05:00)"
	msgRange            = "%s must be between %s and %s"
	msgDecimals         = "%s must have at most %d decimal places"
	msgItems            = "%s must have between %d and %d items"
	msgWindowOrder      = "%s must be after start"
	msgWindowSpan       = "%s must be at most %d hours after start"
	msgUnit             = "%s is not a unit accepted for %s; expected one of: %s"
	msgImplausible      = "%s is outside the plausible range for %s (%s to %s %s)"
	msgOnlyPaired       = "%s applies only to %s"
	msgPairedRequired   = "%s is required for %s"
	msgDiastolic        = "%s (diastolic) must be lower than value (systolic)"
)

// messageFormats lists every format above, for the tests that prove no
// submitted value is echoed.
var messageFormats = []string{
	msgTypeRequired, msgTypeUnknown, msgUnknownField, msgUnknownFieldAnon, msgRequired,
	msgWrongType, msgNotObject, msgTooLong, msgTooShort, msgControl, msgBadUTF8, msgEnum,
	msgDate, msgDateTime, msgRange, msgDecimals, msgItems, msgWindowOrder, msgWindowSpan,
	msgUnit, msgImplausible, msgOnlyPaired, msgPairedRequired, msgDiastolic,
}

func invalid(at loc, format string, args ...any) error {
	return carepost.FieldError(carepost.CodeInvalid, at.field(), format, args...)
}

func unprocessable(at loc, format string, args ...any) error {
	return carepost.FieldError(carepost.CodeValidation, at.field(), format, args...)
}

// validateObject checks m against o. Unknown fields are reported first (the
// smallest name, so the answer does not depend on map order), then each field
// in schema order, then o's cross-field check.
func validateObject(o *object, m map[string]any, at loc, r *Result) error {
	var unknown string
	found := false
	for k := range m {
		if _, ok := o.index[k]; !ok && (!found || k < unknown) {
			unknown, found = k, true
		}
	}
	if found {
		if isIdentifier(unknown) {
			return invalid(at.child(unknown), msgUnknownField, unknown)
		}
		return invalid(at, msgUnknownFieldAnon)
	}
	var vals values
	for i := range o.fields {
		f := &o.fields[i]
		raw := m[f.name] // absent and JSON null are the same
		if err := validateField(f, raw, at.child(f.name), &vals[i], r); err != nil {
			return err
		}
	}
	return o.check.run(o, &vals, at, r)
}

// isIdentifier reports whether a client-chosen field name is safe to repeat
// in an error: a short plain identifier, as a typo of a real field would be.
func isIdentifier(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validateField(f *field, raw any, at loc, out *value, r *Result) error {
	if raw == nil {
		if f.required {
			return unprocessable(at, msgRequired, at.rel())
		}
		return nil
	}
	switch f.kind {
	case kindString, kindEnum, kindDate, kindDateTime:
		s, ok := raw.(string)
		if !ok {
			return invalid(at, msgWrongType, at.rel(), "a string")
		}
		if strings.TrimSpace(s) == "" {
			if f.required {
				return unprocessable(at, msgRequired, at.rel())
			}
			return nil // an empty optional field is an absent one
		}
		if err := checkString(f, s, at, out); err != nil {
			return err
		}
	case kindInt, kindNumber:
		n, ok := toFloat(raw)
		if !ok {
			if f.kind == kindInt {
				return invalid(at, msgWrongType, at.rel(), "an integer")
			}
			return invalid(at, msgWrongType, at.rel(), "a number")
		}
		if f.kind == kindInt && n != math.Trunc(n) {
			return invalid(at, msgWrongType, at.rel(), "an integer")
		}
		if n < f.min || n > f.max || math.IsInf(n, 0) {
			return unprocessable(at, msgRange, at.rel(), fmtNum(f.min), fmtNum(f.max))
		}
		if f.maxDecimals > 0 && decimals(n) > f.maxDecimals {
			return unprocessable(at, msgDecimals, at.rel(), f.maxDecimals)
		}
		out.n = n
	case kindArray:
		items, ok := raw.([]any)
		if !ok {
			return invalid(at, msgWrongType, at.rel(), "an array")
		}
		if len(items) < f.minItems || len(items) > f.maxItems {
			if len(items) == 0 && f.required {
				return unprocessable(at, msgRequired, at.rel())
			}
			return unprocessable(at, msgItems, at.rel(), f.minItems, f.maxItems)
		}
		if f.items.check == readingCheck {
			r.Readings = make([]Reading, 0, len(items)) // one allocation for all readings
		}
		for i, it := range items {
			el := loc{array: f.name, index: i}
			m, ok := it.(map[string]any)
			if !ok {
				return invalid(el, msgNotObject, el.rel())
			}
			if err := validateObject(f.items, m, el, r); err != nil {
				return err
			}
		}
		out.n = float64(len(items))
	default:
		panic("forms: unknown kind")
	}
	out.present = true
	return nil
}

func checkString(f *field, s string, at loc, out *value) error {
	switch f.kind {
	case kindEnum:
		for _, e := range f.enum {
			if s == e {
				out.s = s
				return nil
			}
		}
		return unprocessable(at, msgEnum, at.rel(), strings.Join(f.enum, ", "))
	case kindDate:
		t, err := time.Parse(time.DateOnly, s)
		if len(s) != len(time.DateOnly) || err != nil {
			return unprocessable(at, msgDate, at.rel())
		}
		out.s, out.t = s, t
		return nil
	case kindDateTime:
		if len(s) > 40 {
			return unprocessable(at, msgDateTime, at.rel())
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return unprocessable(at, msgDateTime, at.rel())
		}
		out.s, out.t = s, t
		return nil
	}
	n := 0
	for i, c := range s {
		switch {
		case c == utf8.RuneError && !validRuneAt(s, i):
			return invalid(at, msgBadUTF8, at.rel())
		case c < 0x20 && c != '\n' && c != '\r' && c != '\t', c == 0x7f:
			return unprocessable(at, msgControl, at.rel())
		}
		n++
	}
	if n > f.maxLen {
		return unprocessable(at, msgTooLong, at.rel(), f.maxLen)
	}
	if n < f.minLen {
		return unprocessable(at, msgTooShort, at.rel(), f.minLen)
	}
	out.s = s
	return nil
}

// validRuneAt reports whether the U+FFFD at s[i] was really written so rather
// than produced by an invalid byte.
func validRuneAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 3
}

// toFloat accepts what a JSON number becomes: float64 from encoding/json,
// json.Number from a decoder with UseNumber, and Go integers from maps built
// in code. ok is false for anything else, and for NaN.
func toFloat(raw any) (n float64, ok bool) {
	switch x := raw.(type) {
	case float64:
		n = x
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			if ne, isNum := err.(*strconv.NumError); !isNum || ne.Err != strconv.ErrRange {
				return 0, false
			}
		}
		n = f // out of float64 range: ±Inf, caught by the range check
	case float32:
		n = float64(x)
	case int:
		n = float64(x)
	case int64:
		n = float64(x)
	case int32:
		n = float64(x)
	case uint:
		n = float64(x)
	case uint64:
		n = float64(x)
	case uint32:
		n = float64(x)
	default:
		return 0, false
	}
	return n, !math.IsNaN(n)
}

// decimals counts the digits after the decimal point of the shortest
// decimal that reads back as n (so 19.99 has 2 even though the float64 is
// not exactly 19.99).
func decimals(n float64) int {
	var buf [40]byte
	b := strconv.AppendFloat(buf[:0], n, 'f', -1, 64)
	for i, c := range b {
		if c == '.' {
			return len(b) - i - 1
		}
	}
	return 0
}

func fmtNum(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// Field builders for the catalog.

func text(name string, maxLen int, description string) field {
	return field{name: name, kind: kindString, maxLen: maxLen, description: description}
}

func enum(name, description string, allowed ...string) field {
	return field{name: name, kind: kindEnum, enum: allowed, description: description}
}

func date(name, description string) field {
	return field{name: name, kind: kindDate, description: description}
}

func dateTime(name, description string) field {
	return field{name: name, kind: kindDateTime, description: description}
}

func integer(name string, min, max float64, description string) field {
	return field{name: name, kind: kindInt, min: min, max: max, description: description}
}

func number(name string, min, max float64, maxDecimals int, description string) field {
	return field{name: name, kind: kindNumber, min: min, max: max, maxDecimals: maxDecimals, description: description}
}

func array(name string, minItems, maxItems int, items *object, description string) field {
	return field{name: name, kind: kindArray, minItems: minItems, maxItems: maxItems, items: items, description: description}
}

// required marks f as required; a required string must have a character.
func required(f field) field {
	f.required = true
	if f.kind == kindString && f.minLen == 0 {
		f.minLen = 1
	}
	return f
}

// jsonSchema describes o as a JSON Schema object.
func (o *object) jsonSchema() map[string]any {
	props := make(map[string]any, len(o.fields))
	req := []string{}
	for _, f := range o.fields {
		props[f.name] = f.jsonSchema()
		if f.required {
			req = append(req, f.name)
		}
	}
	s := map[string]any{
		"type":                 "object",
		"properties":           props,
		"required":             req,
		"additionalProperties": false,
	}
	for k, v := range o.extra {
		s[k] = v
	}
	return s
}

func (f field) jsonSchema() map[string]any {
	s := map[string]any{}
	if f.description != "" {
		s["description"] = f.description
	}
	switch f.kind {
	case kindString:
		s["type"] = "string"
		s["maxLength"] = f.maxLen
		if f.minLen > 0 {
			s["minLength"] = f.minLen
		}
	case kindEnum:
		s["type"] = "string"
		s["enum"] = append([]string(nil), f.enum...)
	case kindDate:
		s["type"] = "string"
		s["format"] = "date"
	case kindDateTime:
		s["type"] = "string"
		s["format"] = "date-time"
	case kindInt:
		s["type"] = "integer"
		s["minimum"] = f.min
		s["maximum"] = f.max
	case kindNumber:
		s["type"] = "number"
		s["minimum"] = f.min
		s["maximum"] = f.max
		if f.maxDecimals > 0 {
			// Not "multipleOf": 0.01, which float-based validators get wrong
			// (19.99 / 0.01 is not an integer in binary floating point).
			s["x-maxDecimals"] = f.maxDecimals
		}
	case kindArray:
		s["type"] = "array"
		s["minItems"] = f.minItems
		s["maxItems"] = f.maxItems
		s["items"] = f.items.jsonSchema()
	}
	return s
}
