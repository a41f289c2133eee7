package forms

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/carepost/carepost/shared/carepost"
)

var fieldPath = regexp.MustCompile(`^form\.(type|fields(\.[A-Za-z0-9_]+(\[\d+\](\.[A-Za-z0-9_]+)?)?)?)$`)

// vocabulary is every word an error may legitimately contain: the words of
// the message formats and of the schema (field names, allowed values, units).
var vocabulary = func() map[string]bool {
	raw, err := json.Marshal(Schema())
	if err != nil {
		panic(err)
	}
	text := string(raw) + " " + strings.Join(messageFormats, " ") + " " + strings.Join(Types(), " ") +
		" " + string(carepost.CodeInvalid) + " " + string(carepost.CodeValidation) + " field form.fields form.type"
	v := map[string]bool{}
	for _, w := range words(text) {
		v[w] = true
	}
	return v
}()

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// collect gathers the strings of a decoded JSON value: keys and values.
func collect(v any, keys, vals *[]string) {
	switch x := v.(type) {
	case string:
		*vals = append(*vals, x)
	case json.Number:
		*vals = append(*vals, string(x))
	case []any:
		for _, e := range x {
			collect(e, keys, vals)
		}
	case map[string]any:
		for k, e := range x {
			*keys = append(*keys, k)
			collect(e, keys, vals)
		}
	}
}

var httpStatus = map[carepost.Code]int{carepost.CodeInvalid: 400, carepost.CodeValidation: 422}

func FuzzValidate(f *testing.F) {
	for _, typ := range Types() {
		raw, err := json.Marshal(valid(typ))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(typ, raw, false)
		f.Add(typ, raw, true)
	}
	for _, p := range benchPayloads {
		raw, _ := json.Marshal(p.Fields)
		f.Add(p.Type, raw, true)
	}
	f.Add("prescription_renewal", []byte(`{"medication":"Metformin","strength":"500 mg","pharmacy":"x","supplyDays":"thirty","dosesLeft":1e999}`), true)
	f.Add("appointment_request", []byte(`{"reason":"r","visitType":"new","modality":"video","preferredWindows":[{"start":"2026-03-02T09:00:00Z","end":"2026-03-01T09:00:00Z"}]}`), false)
	f.Add("measurement_report", []byte(`{"readings":[{"type":"blood_pressure","value":80,"value2":120,"unit":"mmHg","takenAt":"2026-02-20T07:30:00Z"}]}`), false)
	f.Add("measurement_report", []byte(`{"readings":[{"type":"glucose","value":5.5,"unit":"mmol/L","takenAt":"2026-02-20T07:30:00Z","note":"secret note"}],"Patient Name":"Jane"}`), false)
	f.Add("billing_question", []byte(`{"dateOfService":"2026-01-10","amount":0.001,"question":"why"}`), true)
	f.Add("forms_help", []byte(`{"formType":"school physical","description":"d","dueDate":"2026-02-29"}`), false)
	f.Add("unknown", []byte(`{}`), false)
	f.Add("", []byte(`null`), false)

	f.Fuzz(func(t *testing.T, typ string, body []byte, useNumber bool) {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		if useNumber {
			dec.UseNumber()
		}
		var fields map[string]any
		if dec.Decode(&fields) != nil {
			return
		}
		p := carepost.FormPayload{Type: typ, Fields: fields}
		res, err := Validate(p)
		res2, err2 := Validate(p)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("not deterministic: %v then %v", err, err2)
		}
		if err != nil {
			var ce *carepost.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *carepost.Error: %v", err, err)
			}
			if status := httpStatus[ce.Code]; status < 400 || status > 499 {
				t.Fatalf("code %q is not a 4xx: %v", ce.Code, err)
			}
			if !fieldPath.MatchString(ce.Field) {
				t.Fatalf("Field %q is not a schema path", ce.Field)
			}
			// Every word of the error is schema vocabulary, a number, or
			// the name of an unknown field that is a plain identifier.
			var keys, vals []string
			collect(fields, &keys, &vals)
			named := map[string]bool{}
			for _, k := range keys {
				if isIdentifier(k) {
					for _, w := range words(k) {
						named[w] = true
					}
				}
			}
			for _, w := range words(ce.Message + " " + ce.Field) {
				if !vocabulary[w] && !named[w] && strings.TrimFunc(w, unicode.IsDigit) != "" {
					t.Fatalf("error has the foreign word %q (echoed input?): %v", w, err)
				}
			}
			if res.Category != "" || res.Readings != nil || res.Summary != "" {
				t.Fatalf("result on error: %+v", res)
			}
			return
		}
		if !slices.Contains(carepost.PatientCategories, res.Category) {
			t.Fatalf("Category %q", res.Category)
		}
		if res.Priority != carepost.PriorityRoutine && res.Priority != carepost.PriorityHigh {
			t.Fatalf("Priority %v", res.Priority)
		}
		if res.Summary == "" || res.Summary != formsByName[typ].summary {
			t.Fatalf("Summary %q", res.Summary)
		}
		if got, want := len(res.Readings) > 0, typ == TypeMeasurementReport; got != want {
			t.Fatalf("%d readings for a %s", len(res.Readings), typ)
		}
		for _, r := range res.Readings {
			m := measurementsByKind[r.Kind]
			if m == nil || r.Unit != m.unit || r.LOINC != m.loinc || r.Value < m.lo || r.Value > m.hi {
				t.Fatalf("reading %+v out of its kind's rules", r)
			}
			if m.paired && (r.Value2 < m.lo2 || r.Value2 > m.hi2 || r.Value2 >= r.Value) || !m.paired && r.Value2 != 0 {
				t.Fatalf("reading %+v: bad value2", r)
			}
		}
		if res2.Priority != res.Priority || len(res2.Readings) != len(res.Readings) {
			t.Fatal("not deterministic")
		}
	})
}
