package forms

import (
	"math"
	"strings"

	"github.com/carepost/carepost/shared/carepost"
)

// Measurement kinds (Reading.Kind and the "type" of a reading).
const (
	KindBloodPressure = "blood_pressure"
	KindGlucose       = "glucose"
	KindTemperature   = "temperature"
	KindWeight        = "weight"
	KindHeartRate     = "heart_rate"
	KindSpO2          = "spo2"
)

// LOINC codes of the observations. A blood pressure reading carries the panel
// code; its systolic and diastolic components use LOINCSystolic and
// LOINCDiastolic. Glucose is normalized to mg/dL and therefore carries the
// mass-concentration code; LOINCGlucoseMolar is what a mmol/L value would use.
const (
	LOINCBloodPressurePanel = "85354-9"
	LOINCSystolic           = "8480-6"
	LOINCDiastolic          = "8462-4"
	LOINCGlucoseMass        = "2339-0"
	LOINCGlucoseMolar       = "15074-8"
	LOINCBodyTemperature    = "8310-5"
	LOINCBodyWeight         = "29463-7"
	LOINCHeartRate          = "8867-4"
	LOINCSpO2               = "59408-5" // pulse oximetry; 2708-6 is arterial blood
)

// mgPerDLPerMmolPerL converts blood glucose: 1 mmol/L is 18.016 mg/dL
// (molar mass of glucose 180.16 g/mol).
const mgPerDLPerMmolPerL = 18.016

// conversion turns a value in an accepted unit into the normalized unit:
// normalized = (v + offset) * scale.
type conversion struct{ offset, scale float64 }

func (c conversion) apply(v float64) float64 {
	if c.offset == 0 && c.scale == 1 {
		return v // keep the patient's value exactly
	}
	return math.Round((v+c.offset)*c.scale*100) / 100
}

type measurement struct {
	kind      string
	unit      string // normalized UCUM unit
	loinc     string
	spellings []string              // accepted unit spellings, in documentation order
	units     map[string]conversion // spelling -> conversion to unit
	lo, hi    float64               // plausible range of value, normalized unit
	paired    bool                  // value2 (diastolic) is required
	lo2, hi2  float64               // plausible range of value2
	alarming  func(v, v2 float64) bool
	alarmDoc  string
}

func unitSet(pairs ...any) ([]string, map[string]conversion) {
	var names []string
	m := map[string]conversion{}
	for i := 0; i < len(pairs); i += 2 {
		names = append(names, pairs[i].(string))
		m[pairs[i].(string)] = pairs[i+1].(conversion)
	}
	return names, m
}

var measurements = func() []*measurement {
	mmHg := conversion{scale: 1}
	mgdl := conversion{scale: 1}
	mmol := conversion{scale: mgPerDLPerMmolPerL}
	cel := conversion{scale: 1}
	degF := conversion{offset: -32, scale: 5.0 / 9.0}
	kg := conversion{scale: 1}
	lb := conversion{scale: 0.45359237}
	perMin := conversion{scale: 1}
	pct := conversion{scale: 1}

	ms := []*measurement{
		{kind: KindBloodPressure, unit: "mm[Hg]", loinc: LOINCBloodPressurePanel,
			lo: 50, hi: 300, paired: true, lo2: 20, hi2: 200,
			alarming: func(sys, dia float64) bool { return sys >= 160 || dia >= 100 },
			alarmDoc: "systolic >= 160 or diastolic >= 100"},
		{kind: KindGlucose, unit: "mg/dL", loinc: LOINCGlucoseMass,
			lo: 10, hi: 1500,
			alarming: func(v, _ float64) bool { return v < 70 || v > 250 },
			alarmDoc: "< 70 or > 250 mg/dL"},
		{kind: KindTemperature, unit: "Cel", loinc: LOINCBodyTemperature,
			lo: 30, hi: 45,
			alarming: func(v, _ float64) bool { return v >= 38.5 },
			alarmDoc: ">= 38.5 Cel"},
		{kind: KindWeight, unit: "kg", loinc: LOINCBodyWeight,
			lo: 0.5, hi: 500,
			alarming: func(float64, float64) bool { return false },
			alarmDoc: "never"},
		{kind: KindHeartRate, unit: "/min", loinc: LOINCHeartRate,
			lo: 20, hi: 300,
			alarming: func(v, _ float64) bool { return v < 50 || v > 120 },
			alarmDoc: "< 50 or > 120 /min"},
		{kind: KindSpO2, unit: "%", loinc: LOINCSpO2,
			lo: 50, hi: 100,
			alarming: func(v, _ float64) bool { return v < 94 },
			alarmDoc: "< 94 %"},
	}
	ms[0].spellings, ms[0].units = unitSet("mm[Hg]", mmHg, "mmHg", mmHg)
	ms[1].spellings, ms[1].units = unitSet("mg/dL", mgdl, "mg/dl", mgdl, "mmol/L", mmol, "mmol/l", mmol)
	ms[2].spellings, ms[2].units = unitSet("Cel", cel, "C", cel, "°C", cel, "℃", cel, "[degF]", degF, "F", degF, "°F", degF, "℉", degF)
	ms[3].spellings, ms[3].units = unitSet("kg", kg, "[lb_av]", lb, "lb", lb, "lbs", lb)
	ms[4].spellings, ms[4].units = unitSet("/min", perMin, "bpm", perMin)
	ms[5].spellings, ms[5].units = unitSet("%", pct)
	return ms
}()

var measurementsByKind = func() map[string]*measurement {
	m := make(map[string]*measurement, len(measurements))
	for _, ms := range measurements {
		m[ms.kind] = ms
	}
	return m
}()

func measurementKinds() []string {
	out := make([]string, len(measurements))
	for i, m := range measurements {
		out[i] = m.kind
	}
	return out
}

var unitLists = func() map[string]string {
	m := make(map[string]string, len(measurements))
	for _, ms := range measurements {
		m[ms.kind] = strings.Join(ms.spellings, ", ")
	}
	return m
}()

var readingObject = func() *object {
	o := newObject(readingCheck,
		required(enum("type", "what was measured", measurementKinds()...)),
		required(number("value", -1e9, 1e9, 0, "the value; systolic pressure for blood_pressure")),
		number("value2", -1e9, 1e9, 0, "diastolic pressure; required for blood_pressure, not allowed otherwise"),
		required(text("unit", 20, "unit of value (and value2); see x-measurements for the units accepted per type")),
		required(dateTime("takenAt", "when the measurement was taken")),
		text("note", 500, "the patient's note"),
	)
	docs := map[string]any{}
	for _, ms := range measurements {
		d := map[string]any{
			"units":          append([]string(nil), ms.spellings...),
			"normalizedUnit": ms.unit,
			"loinc":          ms.loinc,
			"plausible":      []any{ms.lo, ms.hi},
			"alarming":       ms.alarmDoc,
		}
		if ms.paired {
			d["plausible"] = map[string]any{"systolic": []any{ms.lo, ms.hi}, "diastolic": []any{ms.lo2, ms.hi2}}
			d["components"] = map[string]any{"systolic": LOINCSystolic, "diastolic": LOINCDiastolic}
		}
		docs[ms.kind] = d
	}
	o.extra = map[string]any{"x-measurements": docs}
	return o
}()

// checkReading checks the unit against the type, normalizes, checks the
// plausible range, raises the priority for an alarming value and records the
// reading.
func checkReading(o *object, v *values, at loc, r *Result) error {
	ms := measurementsByKind[v.get(o, "type").s]
	unitAt := at.child("unit")
	conv, ok := ms.units[v.get(o, "unit").s]
	if !ok {
		return unprocessable(unitAt, msgUnit, unitAt.rel(), ms.kind, unitLists[ms.kind])
	}
	valueAt := at.child("value")
	n := conv.apply(v.get(o, "value").n)
	if n < ms.lo || n > ms.hi {
		return unprocessable(valueAt, msgImplausible, valueAt.rel(), ms.kind, fmtNum(ms.lo), fmtNum(ms.hi), ms.unit)
	}
	value2At := at.child("value2")
	var n2 float64
	raw2 := v.get(o, "value2")
	switch {
	case ms.paired && !raw2.present:
		return unprocessable(value2At, msgPairedRequired, value2At.rel(), ms.kind)
	case ms.paired:
		n2 = conv.apply(raw2.n)
		if n2 < ms.lo2 || n2 > ms.hi2 {
			return unprocessable(value2At, msgImplausible, value2At.rel(), ms.kind, fmtNum(ms.lo2), fmtNum(ms.hi2), ms.unit)
		}
		if n2 >= n {
			return unprocessable(value2At, msgDiastolic, value2At.rel())
		}
	case raw2.present:
		return unprocessable(value2At, msgOnlyPaired, value2At.rel(), KindBloodPressure)
	}
	if ms.alarming(n, n2) {
		r.Priority = r.Priority.Raise(carepost.PriorityHigh)
	}
	r.Readings = append(r.Readings, Reading{
		Kind: ms.kind, Value: n, Value2: n2, Unit: ms.unit, LOINC: ms.loinc, TakenAt: v.get(o, "takenAt").t,
	})
	return nil
}
