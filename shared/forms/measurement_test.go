package forms

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

func validateReadings(rs ...map[string]any) (Result, error) {
	return Validate(carepost.FormPayload{Type: TypeMeasurementReport, Fields: readings(rs...)})
}

// TestReadingNormalization: units are accepted in several spellings and
// normalized to one UCUM unit with the LOINC code of the observation.
func TestReadingNormalization(t *testing.T) {
	tests := []struct {
		name              string
		in                map[string]any
		wantValue, want2  float64
		wantUnit, wantLNC string
	}{
		{"bp mmHg", reading("blood_pressure", 120, 80, "mmHg"), 120, 80, "mm[Hg]", "85354-9"},
		{"bp UCUM", reading("blood_pressure", 120, 80, "mm[Hg]"), 120, 80, "mm[Hg]", "85354-9"},
		{"glucose mg/dL", reading("glucose", 100, -1, "mg/dL"), 100, 0, "mg/dL", "2339-0"},
		{"glucose mg/dl", reading("glucose", 100, -1, "mg/dl"), 100, 0, "mg/dL", "2339-0"},
		{"glucose mmol/L", reading("glucose", 5.5, -1, "mmol/L"), 99.09, 0, "mg/dL", "2339-0"},
		{"glucose mmol/l", reading("glucose", 10, -1, "mmol/l"), 180.16, 0, "mg/dL", "2339-0"},
		{"temp Cel", reading("temperature", 37, -1, "Cel"), 37, 0, "Cel", "8310-5"},
		{"temp C", reading("temperature", 36.6, -1, "C"), 36.6, 0, "Cel", "8310-5"},
		{"temp °C", reading("temperature", 36.6, -1, "°C"), 36.6, 0, "Cel", "8310-5"},
		{"temp ℃", reading("temperature", 36.6, -1, "℃"), 36.6, 0, "Cel", "8310-5"},
		{"temp F", reading("temperature", 98.6, -1, "F"), 37, 0, "Cel", "8310-5"},
		{"temp °F", reading("temperature", 212-112, -1, "°F"), 37.78, 0, "Cel", "8310-5"},
		{"temp [degF]", reading("temperature", 96.8, -1, "[degF]"), 36, 0, "Cel", "8310-5"},
		{"weight kg", reading("weight", 72.5, -1, "kg"), 72.5, 0, "kg", "29463-7"},
		{"weight lb", reading("weight", 150, -1, "lb"), 68.04, 0, "kg", "29463-7"},
		{"weight lbs", reading("weight", 200, -1, "lbs"), 90.72, 0, "kg", "29463-7"},
		{"weight [lb_av]", reading("weight", 2, -1, "[lb_av]"), 0.91, 0, "kg", "29463-7"},
		{"hr /min", reading("heart_rate", 72, -1, "/min"), 72, 0, "/min", "8867-4"},
		{"hr bpm", reading("heart_rate", 72, -1, "bpm"), 72, 0, "/min", "8867-4"},
		{"spo2", reading("spo2", 97, -1, "%"), 97, 0, "%", "59408-5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := validateReadings(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(res.Readings), 1; got != want {
				t.Fatalf("len(Readings) = %d, want %d", got, want)
			}
			r := res.Readings[0]
			if got, want := r.Value, tt.wantValue; math.Abs(got-want) > 1e-9 {
				t.Errorf("Value = %v, want %v", got, want)
			}
			if got, want := r.Value2, tt.want2; got != want {
				t.Errorf("Value2 = %v, want %v", got, want)
			}
			if got, want := r.Unit, tt.wantUnit; got != want {
				t.Errorf("Unit = %q, want %q", got, want)
			}
			if got, want := r.LOINC, tt.wantLNC; got != want {
				t.Errorf("LOINC = %q, want %q", got, want)
			}
			if got, want := r.Kind, tt.in["type"]; got != want {
				t.Errorf("Kind = %q, want %q", got, want)
			}
			if got, want := r.TakenAt, time.Date(2026, 2, 20, 12, 30, 0, 0, time.UTC); !got.Equal(want) {
				t.Errorf("TakenAt = %v, want %v", got, want)
			}
		})
	}
}

func TestReadingUnits(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
	}{
		{"bp in kPa", reading("blood_pressure", 16, 10, "kPa")},
		{"glucose in %", reading("glucose", 100, -1, "%")},
		{"glucose MG/DL", reading("glucose", 100, -1, "MG/DL")},
		{"temp in K", reading("temperature", 310, -1, "K")},
		{"weight in stone", reading("weight", 11, -1, "st")},
		{"hr in Hz", reading("heart_rate", 1.2, -1, "Hz")},
		{"spo2 as fraction", reading("spo2", 0.97, -1, "1")},
		{"unit of another type", reading("heart_rate", 72, -1, "mmHg")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := validateReadings(tt.in)
			ce := asError(t, err)
			if got, want := ce.Code, carepost.CodeValidation; got != want {
				t.Errorf("Code = %q, want %q", got, want)
			}
			if got, want := ce.Field, "form.fields.readings[0].unit"; got != want {
				t.Errorf("Field = %q, want %q", got, want)
			}
		})
	}
}

// TestReadingRanges: implausible values are 422 naming the value; alarming
// but plausible values raise the priority to high; the boundaries are exact.
func TestReadingRanges(t *testing.T) {
	const (
		ok      = ""
		value   = "form.fields.readings[0].value"
		value2  = "form.fields.readings[0].value2"
		routine = carepost.PriorityRoutine
		high    = carepost.PriorityHigh
	)
	tests := []struct {
		name      string
		in        map[string]any
		wantField string
		wantPrio  carepost.Priority
	}{
		{"bp normal", reading("blood_pressure", 120, 80, "mmHg"), ok, routine},
		{"bp 159/99", reading("blood_pressure", 159, 99, "mmHg"), ok, routine},
		{"bp systolic 160", reading("blood_pressure", 160, 90, "mmHg"), ok, high},
		{"bp diastolic 100", reading("blood_pressure", 150, 100, "mmHg"), ok, high},
		{"bp systolic 50", reading("blood_pressure", 50, 30, "mmHg"), ok, routine},
		{"bp systolic 49", reading("blood_pressure", 49, 30, "mmHg"), value, 0},
		{"bp systolic 300", reading("blood_pressure", 300, 120, "mmHg"), ok, high},
		{"bp systolic 301", reading("blood_pressure", 301, 120, "mmHg"), value, 0},
		{"bp diastolic 20", reading("blood_pressure", 90, 20, "mmHg"), ok, routine},
		{"bp diastolic 19", reading("blood_pressure", 90, 19, "mmHg"), value2, 0},
		{"bp diastolic 201", reading("blood_pressure", 250, 201, "mmHg"), value2, 0},
		{"bp diastolic equals systolic", reading("blood_pressure", 120, 120, "mmHg"), value2, 0},
		{"bp swapped", reading("blood_pressure", 80, 120, "mmHg"), value2, 0},
		{"bp missing diastolic", reading("blood_pressure", 120, -1, "mmHg"), value2, 0},
		{"bp value typo 1200", reading("blood_pressure", 1200, 80, "mmHg"), value, 0},

		{"glucose normal", reading("glucose", 100, -1, "mg/dL"), ok, routine},
		{"glucose 70", reading("glucose", 70, -1, "mg/dL"), ok, routine},
		{"glucose 69", reading("glucose", 69, -1, "mg/dL"), ok, high},
		{"glucose 250", reading("glucose", 250, -1, "mg/dL"), ok, routine},
		{"glucose 251", reading("glucose", 251, -1, "mg/dL"), ok, high},
		{"glucose 10", reading("glucose", 10, -1, "mg/dL"), ok, high},
		{"glucose 9", reading("glucose", 9, -1, "mg/dL"), value, 0},
		{"glucose 1500", reading("glucose", 1500, -1, "mg/dL"), ok, high},
		{"glucose 1501", reading("glucose", 1501, -1, "mg/dL"), value, 0},
		{"glucose mmol 3.8 low", reading("glucose", 3.8, -1, "mmol/L"), ok, high},
		{"glucose mmol 5.5", reading("glucose", 5.5, -1, "mmol/L"), ok, routine},
		{"glucose mmol 14 high", reading("glucose", 14, -1, "mmol/L"), ok, high},
		{"glucose mg value sent as mmol", reading("glucose", 110, -1, "mmol/L"), value, 0},
		{"glucose with value2", reading("glucose", 100, 5, "mg/dL"), value2, 0},

		{"temp normal", reading("temperature", 36.8, -1, "Cel"), ok, routine},
		{"temp 38.4", reading("temperature", 38.4, -1, "Cel"), ok, routine},
		{"temp 38.5", reading("temperature", 38.5, -1, "Cel"), ok, high},
		{"temp 101.3F is 38.5C", reading("temperature", 101.3, -1, "F"), ok, high},
		{"temp 101.2F", reading("temperature", 101.2, -1, "F"), ok, routine},
		{"temp 30", reading("temperature", 30, -1, "C"), ok, routine},
		{"temp 29.9", reading("temperature", 29.9, -1, "C"), value, 0},
		{"temp 45", reading("temperature", 45, -1, "C"), ok, high},
		{"temp 45.1", reading("temperature", 45.1, -1, "C"), value, 0},
		{"temp Fahrenheit sent as C", reading("temperature", 98.6, -1, "C"), value, 0},
		{"temp 86F", reading("temperature", 86, -1, "°F"), ok, routine},
		{"temp 85F", reading("temperature", 85, -1, "°F"), value, 0},

		{"weight normal", reading("weight", 70, -1, "kg"), ok, routine},
		{"weight 0.5", reading("weight", 0.5, -1, "kg"), ok, routine},
		{"weight 0.4", reading("weight", 0.4, -1, "kg"), value, 0},
		{"weight 500", reading("weight", 500, -1, "kg"), ok, routine},
		{"weight 501", reading("weight", 501, -1, "kg"), value, 0},
		{"weight 1200 lb", reading("weight", 1200, -1, "lb"), value, 0},
		{"weight negative", reading("weight", -70, -1, "kg"), value, 0},

		{"hr normal", reading("heart_rate", 72, -1, "bpm"), ok, routine},
		{"hr 50", reading("heart_rate", 50, -1, "bpm"), ok, routine},
		{"hr 49", reading("heart_rate", 49, -1, "bpm"), ok, high},
		{"hr 120", reading("heart_rate", 120, -1, "bpm"), ok, routine},
		{"hr 121", reading("heart_rate", 121, -1, "bpm"), ok, high},
		{"hr 19", reading("heart_rate", 19, -1, "bpm"), value, 0},
		{"hr 301", reading("heart_rate", 301, -1, "bpm"), value, 0},

		{"spo2 98", reading("spo2", 98, -1, "%"), ok, routine},
		{"spo2 94", reading("spo2", 94, -1, "%"), ok, routine},
		{"spo2 93", reading("spo2", 93, -1, "%"), ok, high},
		{"spo2 50", reading("spo2", 50, -1, "%"), ok, high},
		{"spo2 49", reading("spo2", 49, -1, "%"), value, 0},
		{"spo2 101", reading("spo2", 101, -1, "%"), value, 0},
		{"spo2 with value2", reading("spo2", 97, 0, "%"), value2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := validateReadings(tt.in)
			if tt.wantField == ok {
				if err != nil {
					t.Fatal(err)
				}
				if got := res.Priority; got != tt.wantPrio {
					t.Errorf("Priority = %v, want %v", got, tt.wantPrio)
				}
				return
			}
			ce := asError(t, err)
			if got, want := ce.Code, carepost.CodeValidation; got != want {
				t.Errorf("Code = %q, want %q (%v)", got, want, err)
			}
			if got := ce.Field; got != tt.wantField {
				t.Errorf("Field = %q, want %q (%v)", got, tt.wantField, err)
			}
		})
	}
}

func TestSeveralReadings(t *testing.T) {
	res, err := validateReadings(
		reading("blood_pressure", 118, 76, "mmHg"),
		reading("heart_rate", 64, -1, "bpm"),
		reading("spo2", 92, -1, "%"), // alarming: the whole report is high
		reading("weight", 154, -1, "lbs"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Priority, carepost.PriorityHigh; got != want {
		t.Errorf("Priority = %v, want %v", got, want)
	}
	var kinds []string
	for _, r := range res.Readings {
		kinds = append(kinds, r.Kind)
	}
	if got, want := len(kinds), 4; got != want {
		t.Fatalf("%d readings, want %d", got, want)
	}
	for i, want := range []string{KindBloodPressure, KindHeartRate, KindSpO2, KindWeight} {
		if got := kinds[i]; got != want {
			t.Errorf("Readings[%d].Kind = %q, want %q (order kept)", i, got, want)
		}
	}
}

// TestReadingsFromJSON decodes real JSON both ways (float64 and json.Number).
func TestReadingsFromJSON(t *testing.T) {
	const body = `{"readings":[{"type":"blood_pressure","value":142,"value2":91,"unit":"mmHg","takenAt":"2026-02-20T07:30:00-05:00","note":"left arm"},
		{"type":"glucose","value":6.1,"unit":"mmol/L","takenAt":"2026-02-20T07:35:00-05:00"}]}`
	for _, useNumber := range []bool{false, true} {
		fields := decodeFields(t, body, useNumber)
		res, err := Validate(carepost.FormPayload{Type: TypeMeasurementReport, Fields: fields})
		if err != nil {
			t.Fatalf("useNumber=%v: %v", useNumber, err)
		}
		if got, want := res.Readings[1].Value, 109.9; got != want {
			t.Errorf("useNumber=%v: glucose = %v, want %v", useNumber, got, want)
		}
		if got, want := res.Readings[0].Value2, 91.0; got != want {
			t.Errorf("useNumber=%v: diastolic = %v, want %v", useNumber, got, want)
		}
	}
}

func decodeFields(t testing.TB, body string, useNumber bool) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	if useNumber {
		dec.UseNumber()
	}
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMeasurementTables(t *testing.T) {
	// One entry per kind with its LOINC code; no duplicate spellings; the
	// normalized unit is itself accepted.
	wantLOINC := map[string]string{
		KindBloodPressure: "85354-9", KindGlucose: "2339-0", KindTemperature: "8310-5",
		KindWeight: "29463-7", KindHeartRate: "8867-4", KindSpO2: "59408-5",
	}
	if got, want := len(measurements), len(wantLOINC); got != want {
		t.Fatalf("%d measurements, want %d", got, want)
	}
	for _, m := range measurements {
		if got, want := m.loinc, wantLOINC[m.kind]; got != want {
			t.Errorf("%s: LOINC = %q, want %q", m.kind, got, want)
		}
		if got, want := len(m.units), len(m.spellings); got != want {
			t.Errorf("%s: %d units for %d spellings (duplicate?)", m.kind, got, want)
		}
		if _, ok := m.units[m.unit]; !ok {
			t.Errorf("%s: the normalized unit %q is not itself accepted", m.kind, m.unit)
		}
	}
	if LOINCSystolic != "8480-6" || LOINCDiastolic != "8462-4" || LOINCGlucoseMolar != "15074-8" {
		t.Error("component LOINC codes changed")
	}
}
