package forms

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/carepost/carepost/shared/carepost"
)

// valid returns a fresh, valid field map for each form type.
func valid(typ string) map[string]any {
	switch typ {
	case TypePrescriptionRenewal:
		return map[string]any{
			"medication": "Metformin", "strength": "500 mg", "pharmacy": "Main St Pharmacy",
			"supplyDays": 90.0, "dosesLeft": 10.0,
		}
	case TypeAppointmentRequest:
		return map[string]any{
			"reason": "Knee pain after running", "visitType": "new", "preferredClinician": "Dr. Ortiz",
			"modality": "in_person",
			"preferredWindows": []any{
				map[string]any{"start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T12:00:00-05:00"},
				map[string]any{"start": "2026-03-03T13:00:00Z", "end": "2026-03-03T17:00:00Z"},
			},
		}
	case TypeReferralRequest:
		return map[string]any{
			"specialty": "dermatology", "reason": "Mole changed shape",
			"preferredProvider": "Skin Clinic", "insurancePlan": "Acme PPO",
		}
	case TypeFormsHelp:
		return map[string]any{"formType": "school physical", "description": "Needs signature", "dueDate": "2026-08-15"}
	case TypeBillingQuestion:
		return map[string]any{
			"statementNumber": "ST-1234", "dateOfService": "2026-01-10", "amount": 125.5,
			"question": "Why was I billed twice?",
		}
	case TypeTestResultQuestion:
		return map[string]any{"testName": "Lipid panel", "testDate": "2026-02-01", "question": "Is my LDL high?"}
	case TypeMeasurementReport:
		return map[string]any{"readings": []any{reading("blood_pressure", 128.0, 82.0, "mmHg")}}
	}
	panic("no valid fields for " + typ)
}

// reading builds one reading; value2 < 0 leaves it out.
func reading(typ string, value, value2 float64, unit string) map[string]any {
	m := map[string]any{"type": typ, "value": value, "unit": unit, "takenAt": "2026-02-20T07:30:00-05:00"}
	if value2 >= 0 {
		m["value2"] = value2
	}
	return m
}

func readings(rs ...map[string]any) map[string]any {
	items := make([]any, len(rs))
	for i, r := range rs {
		items[i] = r
	}
	return map[string]any{"readings": items}
}

func set(k string, v any) func(map[string]any) {
	return func(m map[string]any) { m[k] = v }
}

func del(k string) func(map[string]any) {
	return func(m map[string]any) { delete(m, k) }
}

func window(start, end string) func(map[string]any) {
	return set("preferredWindows", []any{map[string]any{"start": start, "end": end}})
}

func TestValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // runes, not bytes
	tests := []struct {
		name      string
		typ       string
		fields    map[string]any // nil: valid(typ)
		mutate    func(map[string]any)
		wantCode  carepost.Code // "": valid
		wantField string
	}{
		// prescription_renewal
		{name: "rx valid", typ: TypePrescriptionRenewal},
		{name: "rx limits valid", typ: TypePrescriptionRenewal, mutate: func(m map[string]any) {
			m["medication"], m["strength"], m["pharmacy"] = long(100), long(40), long(120)
			m["supplyDays"], m["dosesLeft"] = 365.0, 0.0
		}},
		{name: "rx json.Number", typ: TypePrescriptionRenewal, mutate: func(m map[string]any) {
			m["supplyDays"], m["dosesLeft"] = json.Number("30"), json.Number("12")
		}},
		{name: "rx go int", typ: TypePrescriptionRenewal, mutate: set("supplyDays", 30)},
		{name: "rx integral float", typ: TypePrescriptionRenewal, mutate: set("supplyDays", 30.0)},
		{name: "rx missing medication", typ: TypePrescriptionRenewal, mutate: del("medication"), wantCode: carepost.CodeValidation, wantField: "form.fields.medication"},
		{name: "rx null medication", typ: TypePrescriptionRenewal, mutate: set("medication", nil), wantCode: carepost.CodeValidation, wantField: "form.fields.medication"},
		{name: "rx blank medication", typ: TypePrescriptionRenewal, mutate: set("medication", "  \t"), wantCode: carepost.CodeValidation, wantField: "form.fields.medication"},
		{name: "rx medication too long", typ: TypePrescriptionRenewal, mutate: set("medication", long(101)), wantCode: carepost.CodeValidation, wantField: "form.fields.medication"},
		{name: "rx medication number", typ: TypePrescriptionRenewal, mutate: set("medication", 5.0), wantCode: carepost.CodeInvalid, wantField: "form.fields.medication"},
		{name: "rx medication control char", typ: TypePrescriptionRenewal, mutate: set("medication", "Met\x00formin"), wantCode: carepost.CodeValidation, wantField: "form.fields.medication"},
		{name: "rx medication bad utf8", typ: TypePrescriptionRenewal, mutate: set("medication", "Met\xffformin"), wantCode: carepost.CodeInvalid, wantField: "form.fields.medication"},
		{name: "rx medication real U+FFFD ok", typ: TypePrescriptionRenewal, mutate: set("medication", "Met\uFFFDformin")},
		{name: "rx strength too long", typ: TypePrescriptionRenewal, mutate: set("strength", long(41)), wantCode: carepost.CodeValidation, wantField: "form.fields.strength"},
		{name: "rx missing pharmacy", typ: TypePrescriptionRenewal, mutate: del("pharmacy"), wantCode: carepost.CodeValidation, wantField: "form.fields.pharmacy"},
		{name: "rx pharmacy too long", typ: TypePrescriptionRenewal, mutate: set("pharmacy", long(121)), wantCode: carepost.CodeValidation, wantField: "form.fields.pharmacy"},
		{name: "rx supplyDays string", typ: TypePrescriptionRenewal, mutate: set("supplyDays", "30"), wantCode: carepost.CodeInvalid, wantField: "form.fields.supplyDays"},
		{name: "rx supplyDays fraction", typ: TypePrescriptionRenewal, mutate: set("supplyDays", 30.5), wantCode: carepost.CodeInvalid, wantField: "form.fields.supplyDays"},
		{name: "rx supplyDays bool", typ: TypePrescriptionRenewal, mutate: set("supplyDays", true), wantCode: carepost.CodeInvalid, wantField: "form.fields.supplyDays"},
		{name: "rx supplyDays zero", typ: TypePrescriptionRenewal, mutate: set("supplyDays", 0.0), wantCode: carepost.CodeValidation, wantField: "form.fields.supplyDays"},
		{name: "rx supplyDays 366", typ: TypePrescriptionRenewal, mutate: set("supplyDays", 366.0), wantCode: carepost.CodeValidation, wantField: "form.fields.supplyDays"},
		{name: "rx supplyDays json.Number huge", typ: TypePrescriptionRenewal, mutate: set("supplyDays", json.Number("1e999")), wantCode: carepost.CodeValidation, wantField: "form.fields.supplyDays"},
		{name: "rx supplyDays json.Number junk", typ: TypePrescriptionRenewal, mutate: set("supplyDays", json.Number("thirty")), wantCode: carepost.CodeInvalid, wantField: "form.fields.supplyDays"},
		{name: "rx supplyDays json.Number NaN", typ: TypePrescriptionRenewal, mutate: set("supplyDays", json.Number("NaN")), wantCode: carepost.CodeInvalid, wantField: "form.fields.supplyDays"},
		{name: "rx dosesLeft negative", typ: TypePrescriptionRenewal, mutate: set("dosesLeft", -1.0), wantCode: carepost.CodeValidation, wantField: "form.fields.dosesLeft"},
		{name: "rx dosesLeft 1001", typ: TypePrescriptionRenewal, mutate: set("dosesLeft", 1001.0), wantCode: carepost.CodeValidation, wantField: "form.fields.dosesLeft"},
		{name: "rx missing dosesLeft", typ: TypePrescriptionRenewal, mutate: del("dosesLeft"), wantCode: carepost.CodeValidation, wantField: "form.fields.dosesLeft"},
		{name: "rx unknown field", typ: TypePrescriptionRenewal, mutate: set("medicaton", "x"), wantCode: carepost.CodeInvalid, wantField: "form.fields.medicaton"},
		{name: "rx unknown field not identifier", typ: TypePrescriptionRenewal, mutate: set("my secret", "x"), wantCode: carepost.CodeInvalid, wantField: "form.fields"},
		{name: "rx no fields", typ: TypePrescriptionRenewal, fields: map[string]any{}, wantCode: carepost.CodeValidation, wantField: "form.fields.medication"},

		// appointment_request
		{name: "appt valid", typ: TypeAppointmentRequest},
		{name: "appt follow_up video no clinician", typ: TypeAppointmentRequest, mutate: func(m map[string]any) {
			m["visitType"], m["modality"] = "follow_up", "video"
			delete(m, "preferredClinician")
		}},
		{name: "appt phone empty optional", typ: TypeAppointmentRequest, mutate: func(m map[string]any) {
			m["modality"], m["preferredClinician"] = "phone", ""
		}},
		{name: "appt three windows", typ: TypeAppointmentRequest, mutate: set("preferredWindows", []any{
			map[string]any{"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"},
			map[string]any{"start": "2026-03-03T09:00:00Z", "end": "2026-03-03T10:00:00Z"},
			map[string]any{"start": "2026-03-04T09:00:00.5Z", "end": "2026-03-04T21:00:00.5Z"},
		})},
		{name: "appt missing reason", typ: TypeAppointmentRequest, mutate: del("reason"), wantCode: carepost.CodeValidation, wantField: "form.fields.reason"},
		{name: "appt reason too long", typ: TypeAppointmentRequest, mutate: set("reason", long(501)), wantCode: carepost.CodeValidation, wantField: "form.fields.reason"},
		{name: "appt reason multiline ok", typ: TypeAppointmentRequest, mutate: set("reason", "line one\nline two\r\n\tindented")},
		{name: "appt bad visitType", typ: TypeAppointmentRequest, mutate: set("visitType", "urgent"), wantCode: carepost.CodeValidation, wantField: "form.fields.visitType"},
		{name: "appt missing visitType", typ: TypeAppointmentRequest, mutate: del("visitType"), wantCode: carepost.CodeValidation, wantField: "form.fields.visitType"},
		{name: "appt visitType number", typ: TypeAppointmentRequest, mutate: set("visitType", 1.0), wantCode: carepost.CodeInvalid, wantField: "form.fields.visitType"},
		{name: "appt clinician too long", typ: TypeAppointmentRequest, mutate: set("preferredClinician", long(101)), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredClinician"},
		{name: "appt bad modality", typ: TypeAppointmentRequest, mutate: set("modality", "IN_PERSON"), wantCode: carepost.CodeValidation, wantField: "form.fields.modality"},
		{name: "appt no windows", typ: TypeAppointmentRequest, mutate: set("preferredWindows", []any{}), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredWindows"},
		{name: "appt missing windows", typ: TypeAppointmentRequest, mutate: del("preferredWindows"), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredWindows"},
		{name: "appt four windows", typ: TypeAppointmentRequest, mutate: func(m map[string]any) {
			w := map[string]any{"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"}
			m["preferredWindows"] = []any{w, w, w, w}
		}, wantCode: carepost.CodeValidation, wantField: "form.fields.preferredWindows"},
		{name: "appt windows object", typ: TypeAppointmentRequest, mutate: set("preferredWindows", map[string]any{}), wantCode: carepost.CodeInvalid, wantField: "form.fields.preferredWindows"},
		{name: "appt window not object", typ: TypeAppointmentRequest, mutate: set("preferredWindows", []any{"tomorrow"}), wantCode: carepost.CodeInvalid, wantField: "form.fields.preferredWindows[0]"},
		{name: "appt window bad start", typ: TypeAppointmentRequest, mutate: window("2026-03-02 09:00", "2026-03-02T10:00:00Z"), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredWindows[0].start"},
		{name: "appt window date only", typ: TypeAppointmentRequest, mutate: window("2026-03-02", "2026-03-02T10:00:00Z"), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredWindows[0].start"},
		{name: "appt window no zone", typ: TypeAppointmentRequest, mutate: window("2026-03-02T09:00:00", "2026-03-02T10:00:00Z"), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredWindows[0].start"},
		{name: "appt window missing end", typ: TypeAppointmentRequest, mutate: set("preferredWindows", []any{map[string]any{"start": "2026-03-02T09:00:00Z"}}), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredWindows[0].end"},
		{name: "appt window end before start", typ: TypeAppointmentRequest, mutate: window("2026-03-02T10:00:00Z", "2026-03-02T09:00:00Z"), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredWindows[0].end"},
		{name: "appt window empty", typ: TypeAppointmentRequest, mutate: window("2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredWindows[0].end"},
		{name: "appt window end before start across zones", typ: TypeAppointmentRequest, mutate: window("2026-03-02T10:00:00Z", "2026-03-02T09:00:00-00:30"), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredWindows[0].end"},
		{name: "appt window exactly 12h", typ: TypeAppointmentRequest, mutate: window("2026-03-02T08:00:00Z", "2026-03-02T20:00:00Z")},
		{name: "appt window over 12h", typ: TypeAppointmentRequest, mutate: window("2026-03-02T08:00:00Z", "2026-03-02T20:00:01Z"), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredWindows[0].end"},
		{name: "appt window unknown field", typ: TypeAppointmentRequest, mutate: set("preferredWindows", []any{
			map[string]any{"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"},
			map[string]any{"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z", "timezone": "EST"},
		}), wantCode: carepost.CodeInvalid, wantField: "form.fields.preferredWindows[1].timezone"},
		{name: "appt second window bad", typ: TypeAppointmentRequest, mutate: set("preferredWindows", []any{
			map[string]any{"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"},
			map[string]any{"start": "2026-03-02T09:00:00Z", "end": 5.0},
		}), wantCode: carepost.CodeInvalid, wantField: "form.fields.preferredWindows[1].end"},

		// referral_request
		{name: "ref valid", typ: TypeReferralRequest},
		{name: "ref only required", typ: TypeReferralRequest, fields: map[string]any{"specialty": "cardiology", "reason": "palpitations"}},
		{name: "ref missing specialty", typ: TypeReferralRequest, mutate: del("specialty"), wantCode: carepost.CodeValidation, wantField: "form.fields.specialty"},
		{name: "ref specialty too long", typ: TypeReferralRequest, mutate: set("specialty", long(101)), wantCode: carepost.CodeValidation, wantField: "form.fields.specialty"},
		{name: "ref missing reason", typ: TypeReferralRequest, mutate: del("reason"), wantCode: carepost.CodeValidation, wantField: "form.fields.reason"},
		{name: "ref reason too long", typ: TypeReferralRequest, mutate: set("reason", long(501)), wantCode: carepost.CodeValidation, wantField: "form.fields.reason"},
		{name: "ref provider too long", typ: TypeReferralRequest, mutate: set("preferredProvider", long(121)), wantCode: carepost.CodeValidation, wantField: "form.fields.preferredProvider"},
		{name: "ref plan wrong type", typ: TypeReferralRequest, mutate: set("insurancePlan", []any{"a"}), wantCode: carepost.CodeInvalid, wantField: "form.fields.insurancePlan"},
		{name: "ref plan too long", typ: TypeReferralRequest, mutate: set("insurancePlan", long(121)), wantCode: carepost.CodeValidation, wantField: "form.fields.insurancePlan"},

		// forms_help
		{name: "forms valid", typ: TypeFormsHelp},
		{name: "forms no due date", typ: TypeFormsHelp, mutate: del("dueDate")},
		{name: "forms missing formType", typ: TypeFormsHelp, mutate: del("formType"), wantCode: carepost.CodeValidation, wantField: "form.fields.formType"},
		{name: "forms formType too long", typ: TypeFormsHelp, mutate: set("formType", long(101)), wantCode: carepost.CodeValidation, wantField: "form.fields.formType"},
		{name: "forms description too long", typ: TypeFormsHelp, mutate: set("description", long(1001)), wantCode: carepost.CodeValidation, wantField: "form.fields.description"},
		{name: "forms description max", typ: TypeFormsHelp, mutate: set("description", long(1000))},
		{name: "forms bad due date", typ: TypeFormsHelp, mutate: set("dueDate", "2026-02-30"), wantCode: carepost.CodeValidation, wantField: "form.fields.dueDate"},
		{name: "forms due date US style", typ: TypeFormsHelp, mutate: set("dueDate", "08/15/2026"), wantCode: carepost.CodeValidation, wantField: "form.fields.dueDate"},
		{name: "forms due date short", typ: TypeFormsHelp, mutate: set("dueDate", "2026-8-15"), wantCode: carepost.CodeValidation, wantField: "form.fields.dueDate"},
		{name: "forms due date number", typ: TypeFormsHelp, mutate: set("dueDate", 20260815.0), wantCode: carepost.CodeInvalid, wantField: "form.fields.dueDate"},

		// billing_question
		{name: "bill valid", typ: TypeBillingQuestion},
		{name: "bill no amount no statement", typ: TypeBillingQuestion, mutate: func(m map[string]any) { delete(m, "amount"); delete(m, "statementNumber") }},
		{name: "bill amount cents", typ: TypeBillingQuestion, mutate: set("amount", 19.99)},
		{name: "bill amount zero", typ: TypeBillingQuestion, mutate: set("amount", 0.0)},
		{name: "bill amount max", typ: TypeBillingQuestion, mutate: set("amount", 1_000_000.0)},
		{name: "bill amount json.Number", typ: TypeBillingQuestion, mutate: set("amount", json.Number("999999.99"))},
		{name: "bill amount three decimals", typ: TypeBillingQuestion, mutate: set("amount", 19.999), wantCode: carepost.CodeValidation, wantField: "form.fields.amount"},
		{name: "bill amount negative", typ: TypeBillingQuestion, mutate: set("amount", -0.01), wantCode: carepost.CodeValidation, wantField: "form.fields.amount"},
		{name: "bill amount too big", typ: TypeBillingQuestion, mutate: set("amount", 1_000_000.01), wantCode: carepost.CodeValidation, wantField: "form.fields.amount"},
		{name: "bill amount string", typ: TypeBillingQuestion, mutate: set("amount", "$12.00"), wantCode: carepost.CodeInvalid, wantField: "form.fields.amount"},
		{name: "bill statement too long", typ: TypeBillingQuestion, mutate: set("statementNumber", long(41)), wantCode: carepost.CodeValidation, wantField: "form.fields.statementNumber"},
		{name: "bill missing dateOfService", typ: TypeBillingQuestion, mutate: del("dateOfService"), wantCode: carepost.CodeValidation, wantField: "form.fields.dateOfService"},
		{name: "bill bad dateOfService", typ: TypeBillingQuestion, mutate: set("dateOfService", "2026-01-10T00:00:00Z"), wantCode: carepost.CodeValidation, wantField: "form.fields.dateOfService"},
		{name: "bill missing question", typ: TypeBillingQuestion, mutate: del("question"), wantCode: carepost.CodeValidation, wantField: "form.fields.question"},
		{name: "bill question too long", typ: TypeBillingQuestion, mutate: set("question", long(2001)), wantCode: carepost.CodeValidation, wantField: "form.fields.question"},

		// test_result_question
		{name: "result valid", typ: TypeTestResultQuestion},
		{name: "result no date", typ: TypeTestResultQuestion, mutate: del("testDate")},
		{name: "result missing testName", typ: TypeTestResultQuestion, mutate: del("testName"), wantCode: carepost.CodeValidation, wantField: "form.fields.testName"},
		{name: "result testName too long", typ: TypeTestResultQuestion, mutate: set("testName", long(121)), wantCode: carepost.CodeValidation, wantField: "form.fields.testName"},
		{name: "result bad date", typ: TypeTestResultQuestion, mutate: set("testDate", "yesterday"), wantCode: carepost.CodeValidation, wantField: "form.fields.testDate"},
		{name: "result missing question", typ: TypeTestResultQuestion, mutate: set("question", ""), wantCode: carepost.CodeValidation, wantField: "form.fields.question"},
		{name: "result question too long", typ: TypeTestResultQuestion, mutate: set("question", long(2001)), wantCode: carepost.CodeValidation, wantField: "form.fields.question"},

		// measurement_report (structure; values and units in TestReadings)
		{name: "meas valid", typ: TypeMeasurementReport},
		{name: "meas no readings", typ: TypeMeasurementReport, fields: readings(), wantCode: carepost.CodeValidation, wantField: "form.fields.readings"},
		{name: "meas missing readings", typ: TypeMeasurementReport, fields: map[string]any{}, wantCode: carepost.CodeValidation, wantField: "form.fields.readings"},
		{name: "meas 21 readings", typ: TypeMeasurementReport, fields: func() map[string]any {
			rs := make([]map[string]any, 21)
			for i := range rs {
				rs[i] = reading("heart_rate", 70, -1, "bpm")
			}
			return readings(rs...)
		}(), wantCode: carepost.CodeValidation, wantField: "form.fields.readings"},
		{name: "meas readings string", typ: TypeMeasurementReport, fields: map[string]any{"readings": "120/80"}, wantCode: carepost.CodeInvalid, wantField: "form.fields.readings"},
		{name: "meas reading unknown type", typ: TypeMeasurementReport, fields: readings(reading("cholesterol", 180, -1, "mg/dL")), wantCode: carepost.CodeValidation, wantField: "form.fields.readings[0].type"},
		{name: "meas reading value string", typ: TypeMeasurementReport, fields: readings(map[string]any{"type": "spo2", "value": "97", "unit": "%", "takenAt": "2026-02-20T07:30:00Z"}), wantCode: carepost.CodeInvalid, wantField: "form.fields.readings[0].value"},
		{name: "meas reading missing value", typ: TypeMeasurementReport, fields: readings(map[string]any{"type": "spo2", "unit": "%", "takenAt": "2026-02-20T07:30:00Z"}), wantCode: carepost.CodeValidation, wantField: "form.fields.readings[0].value"},
		{name: "meas reading missing unit", typ: TypeMeasurementReport, fields: readings(map[string]any{"type": "spo2", "value": 97.0, "takenAt": "2026-02-20T07:30:00Z"}), wantCode: carepost.CodeValidation, wantField: "form.fields.readings[0].unit"},
		{name: "meas reading missing takenAt", typ: TypeMeasurementReport, fields: readings(map[string]any{"type": "spo2", "value": 97.0, "unit": "%"}), wantCode: carepost.CodeValidation, wantField: "form.fields.readings[0].takenAt"},
		{name: "meas reading bad takenAt", typ: TypeMeasurementReport, fields: readings(map[string]any{"type": "spo2", "value": 97.0, "unit": "%", "takenAt": "this morning"}), wantCode: carepost.CodeValidation, wantField: "form.fields.readings[0].takenAt"},
		{name: "meas reading note ok", typ: TypeMeasurementReport, fields: readings(map[string]any{"type": "spo2", "value": 97.0, "unit": "%", "takenAt": "2026-02-20T07:30:00Z", "note": "after walk"})},
		{name: "meas reading note too long", typ: TypeMeasurementReport, fields: readings(map[string]any{"type": "spo2", "value": 97.0, "unit": "%", "takenAt": "2026-02-20T07:30:00Z", "note": long(501)}), wantCode: carepost.CodeValidation, wantField: "form.fields.readings[0].note"},
		{name: "meas reading unknown field", typ: TypeMeasurementReport, fields: readings(map[string]any{"type": "spo2", "value": 97.0, "unit": "%", "takenAt": "2026-02-20T07:30:00Z", "device": "x"}), wantCode: carepost.CodeInvalid, wantField: "form.fields.readings[0].device"},
		{name: "meas reading not object", typ: TypeMeasurementReport, fields: map[string]any{"readings": []any{97.0}}, wantCode: carepost.CodeInvalid, wantField: "form.fields.readings[0]"},
		{name: "meas second reading bad", typ: TypeMeasurementReport, fields: readings(reading("spo2", 97, -1, "%"), reading("spo2", 20, -1, "%")), wantCode: carepost.CodeValidation, wantField: "form.fields.readings[1].value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := tt.fields
			if fields == nil {
				fields = valid(tt.typ)
			}
			if tt.mutate != nil {
				tt.mutate(fields)
			}
			res, err := Validate(carepost.FormPayload{Type: tt.typ, Fields: fields})
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if got, want := res.Category, formsByName[tt.typ].category; got != want {
					t.Errorf("Category = %q, want %q", got, want)
				}
				if res.Summary == "" {
					t.Error("Summary is empty")
				}
				return
			}
			ce := asError(t, err)
			if got, want := ce.Code, tt.wantCode; got != want {
				t.Errorf("Code = %q, want %q (%v)", got, want, err)
			}
			if got, want := ce.Field, tt.wantField; got != want {
				t.Errorf("Field = %q, want %q (%v)", got, want, err)
			}
			if res.Category != "" || res.Readings != nil {
				t.Errorf("result on error = %+v, want zero", res)
			}
		})
	}
}

func asError(t *testing.T, err error) *carepost.Error {
	t.Helper()
	if err == nil {
		t.Fatal("Validate succeeded, want an error")
	}
	var ce *carepost.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T is not *carepost.Error: %v", err, err)
	}
	return ce
}

func TestValidateFormType(t *testing.T) {
	for _, typ := range []string{"", "prescription", "Prescription_Renewal", "free_question"} {
		_, err := Validate(carepost.FormPayload{Type: typ, Fields: map[string]any{}})
		ce := asError(t, err)
		if got, want := ce.Code, carepost.CodeValidation; got != want {
			t.Errorf("type %q: Code = %q, want %q", typ, got, want)
		}
		if got, want := ce.Field, "form.type"; got != want {
			t.Errorf("type %q: Field = %q, want %q", typ, got, want)
		}
	}
}

func TestValidateNilFields(t *testing.T) {
	_, err := Validate(carepost.FormPayload{Type: TypeTestResultQuestion})
	if got, want := asError(t, err).Field, "form.fields.testName"; got != want {
		t.Errorf("Field = %q, want %q", got, want)
	}
}

func TestCategoriesAndSummaries(t *testing.T) {
	want := map[string]carepost.Category{
		TypePrescriptionRenewal: carepost.CategoryPrescription,
		TypeAppointmentRequest:  carepost.CategoryAppointment,
		TypeReferralRequest:     carepost.CategoryReferral,
		TypeFormsHelp:           carepost.CategoryForms,
		TypeBillingQuestion:     carepost.CategoryBilling,
		TypeTestResultQuestion:  carepost.CategoryTestResult,
		TypeMeasurementReport:   carepost.CategoryMeasurement,
	}
	if got, want := len(Types()), len(want); got != want {
		t.Fatalf("len(Types()) = %d, want %d", got, want)
	}
	for _, typ := range Types() {
		fields := valid(typ)
		res, err := Validate(carepost.FormPayload{Type: typ, Fields: fields})
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if got, want := res.Category, want[typ]; got != want {
			t.Errorf("%s: Category = %q, want %q", typ, got, want)
		}
		if !slices.Contains(carepost.PatientCategories, res.Category) {
			t.Errorf("%s: category %q is not one a patient may open", typ, res.Category)
		}
		if res.Summary == "" || len(res.Summary) > 120 {
			t.Errorf("%s: Summary = %q, want 1..120 characters", typ, res.Summary)
		}
		for k, v := range fields {
			if s, ok := v.(string); ok && strings.Contains(res.Summary, s) {
				t.Errorf("%s: Summary %q contains the value of %s", typ, res.Summary, k)
			}
		}
		if !IsType(typ) {
			t.Errorf("IsType(%q) = false", typ)
		}
	}
	if IsType("nope") {
		t.Error(`IsType("nope") = true`)
	}
}

func TestPrescriptionPriority(t *testing.T) {
	for _, tt := range []struct {
		dosesLeft float64
		want      carepost.Priority
	}{{0, carepost.PriorityHigh}, {3, carepost.PriorityHigh}, {4, carepost.PriorityRoutine}, {1000, carepost.PriorityRoutine}} {
		f := valid(TypePrescriptionRenewal)
		f["dosesLeft"] = tt.dosesLeft
		res, err := Validate(carepost.FormPayload{Type: TypePrescriptionRenewal, Fields: f})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Priority; got != tt.want {
			t.Errorf("dosesLeft %v: Priority = %v, want %v", tt.dosesLeft, got, tt.want)
		}
	}
}

func TestOtherFormsAreRoutine(t *testing.T) {
	for _, typ := range Types() {
		res, err := Validate(carepost.FormPayload{Type: typ, Fields: valid(typ)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.Priority, carepost.PriorityRoutine; got != want {
			t.Errorf("%s: Priority = %v, want %v", typ, got, want)
		}
	}
}

// TestFirstErrorIsDeterministic submits forms with several problems: the
// answer must not depend on map iteration order, and must be the first field
// in schema order.
func TestFirstErrorIsDeterministic(t *testing.T) {
	tests := []struct {
		name   string
		typ    string
		fields map[string]any
		want   string
	}{
		{"schema order", TypePrescriptionRenewal, map[string]any{"medication": "a", "supplyDays": "x", "dosesLeft": "y", "strength": 1.0, "pharmacy": nil}, "form.fields.strength"},
		{"unknown before invalid", TypePrescriptionRenewal, map[string]any{"zeta": 1.0, "alpha": 1.0, "medication": 5.0}, "form.fields.alpha"},
		{"several unknown", TypeReferralRequest, map[string]any{"q": 1, "b": 1, "k": 1, "c": 1, "z": 1, "a1": 1, "x": 1}, "form.fields.a1"},
		{"earlier reading first", TypeMeasurementReport, readings(reading("spo2", 20, -1, "%"), reading("glucose", 1, -1, "mg/dL")), "form.fields.readings[0].value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 {
				_, err := Validate(carepost.FormPayload{Type: tt.typ, Fields: tt.fields})
				if got := asError(t, err).Field; got != tt.want {
					t.Fatalf("Field = %q, want %q", got, tt.want)
				}
			}
		})
	}
}

// TestErrorsDoNotEchoValues fills fields with a recognizable marker and
// checks that no error repeats it.
func TestErrorsDoNotEchoValues(t *testing.T) {
	const secret = "Zyprexa-SSN-123-45-6789"
	cases := []struct {
		typ    string
		mutate func(map[string]any)
	}{
		{TypePrescriptionRenewal, set("medication", secret+strings.Repeat("x", 100))},
		{TypePrescriptionRenewal, set("medication", secret+"\x01")},
		{TypePrescriptionRenewal, set("supplyDays", secret)},
		{TypePrescriptionRenewal, set("supplyDays", json.Number(secret))},
		{TypeAppointmentRequest, set("visitType", secret)},
		{TypeAppointmentRequest, window(secret, secret)},
		{TypeFormsHelp, set("dueDate", secret)},
		{TypeBillingQuestion, set("amount", secret)},
		{TypeMeasurementReport, set("readings", []any{map[string]any{"type": secret}})},
		{TypeMeasurementReport, set("readings", []any{reading("glucose", 100, -1, secret)})},
		{TypeMeasurementReport, set("readings", []any{secret})},
		{TypeReferralRequest, set(secret, "x")},
		{TypeReferralRequest, set("reason", []any{secret})},
	}
	for _, c := range cases {
		f := valid(c.typ)
		c.mutate(f)
		_, err := Validate(carepost.FormPayload{Type: c.typ, Fields: f})
		ce := asError(t, err)
		if strings.Contains(err.Error(), "Zyprexa") || strings.Contains(ce.Field, "Zyprexa") {
			t.Errorf("%s: error echoes the submitted value: %v", c.typ, err)
		}
	}
	_, err := Validate(carepost.FormPayload{Type: secret})
	if strings.Contains(err.Error(), "Zyprexa") {
		t.Errorf("unknown type: error echoes the submitted type: %v", err)
	}
}

func TestSchema(t *testing.T) {
	s := Schema()
	if got, want := len(s), len(Types()); got != want {
		t.Fatalf("len(Schema()) = %d, want %d", got, want)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("Schema does not marshal: %v", err)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, typ := range Types() {
		d, ok := doc[typ]
		if !ok {
			t.Fatalf("Schema has no %s", typ)
		}
		if got, want := d["additionalProperties"], false; got != want {
			t.Errorf("%s: additionalProperties = %v, want false", typ, got)
		}
		if got, want := d["x-category"], string(formsByName[typ].category); got != want {
			t.Errorf("%s: x-category = %v, want %v", typ, got, want)
		}
		// Every field in the valid example is a documented property, and
		// every required property is in the valid example.
		props := d["properties"].(map[string]any)
		for k := range valid(typ) {
			if _, ok := props[k]; !ok {
				t.Errorf("%s: field %s is not in the schema", typ, k)
			}
		}
		for _, r := range d["required"].([]any) {
			if _, ok := valid(typ)[r.(string)]; !ok {
				t.Errorf("%s: required %s missing from the valid example", typ, r)
			}
		}
	}
	rx := doc[TypePrescriptionRenewal]["properties"].(map[string]any)
	if got, want := rx["medication"].(map[string]any)["maxLength"], 100.0; got != want {
		t.Errorf("medication maxLength = %v, want %v", got, want)
	}
	if got, want := rx["supplyDays"].(map[string]any)["type"], "integer"; got != want {
		t.Errorf("supplyDays type = %v, want %v", got, want)
	}
	bill := doc[TypeBillingQuestion]["properties"].(map[string]any)
	if got, want := bill["amount"].(map[string]any)["x-maxDecimals"], 2.0; got != want {
		t.Errorf("amount x-maxDecimals = %v, want %v", got, want)
	}
	items := doc[TypeMeasurementReport]["properties"].(map[string]any)["readings"].(map[string]any)["items"].(map[string]any)
	ms := items["x-measurements"].(map[string]any)
	if got, want := ms["glucose"].(map[string]any)["loinc"], LOINCGlucoseMass; got != want {
		t.Errorf("glucose loinc = %v, want %v", got, want)
	}
	// Schema returns a fresh map each time.
	s[TypeFormsHelp] = nil
	if Schema()[TypeFormsHelp] == nil {
		t.Error("modifying one Schema() result changed the next")
	}
}

func TestTypesIsACopy(t *testing.T) {
	ts := Types()
	ts[0] = "changed"
	if got := Types()[0]; got == "changed" {
		t.Error("Types returns the internal slice")
	}
}

func TestDecimals(t *testing.T) {
	for _, tt := range []struct {
		n    float64
		want int
	}{{0, 0}, {12, 0}, {19.99, 2}, {0.1, 1}, {0.01, 2}, {0.001, 3}, {1e-9, 9}, {999999.99, 2}, {1e6, 0}} {
		if got := decimals(tt.n); got != tt.want {
			t.Errorf("decimals(%v) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestMessageFormatsMentionNoValueVerb(t *testing.T) {
	// %v and %q could print anything; formats take only %s and %d of schema data.
	for _, f := range messageFormats {
		if strings.Contains(f, "%v") || strings.Contains(f, "%q") || strings.Contains(f, "%+v") {
			t.Errorf("format %q uses a generic verb", f)
		}
	}
}

var benchPayloads = func() []carepost.FormPayload {
	var ps []carepost.FormPayload
	for _, typ := range Types() {
		ps = append(ps, carepost.FormPayload{Type: typ, Fields: valid(typ)})
	}
	ps = append(ps, carepost.FormPayload{Type: TypeMeasurementReport, Fields: readings(
		reading("blood_pressure", 128, 82, "mmHg"), reading("glucose", 5.6, -1, "mmol/L"),
		reading("temperature", 99.1, -1, "°F"), reading("weight", 160, -1, "lb"),
		reading("heart_rate", 72, -1, "bpm"), reading("spo2", 97, -1, "%"),
	)})
	return ps
}()

func BenchmarkValidate(b *testing.B) {
	for _, p := range benchPayloads {
		name := p.Type
		if rs, ok := p.Fields["readings"].([]any); ok && len(rs) > 1 {
			name += "_6"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Validate(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("error", func(b *testing.B) {
		f := valid(TypePrescriptionRenewal)
		f["supplyDays"] = 400.0
		p := carepost.FormPayload{Type: TypePrescriptionRenewal, Fields: f}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Validate(p); err == nil {
				b.Fatal("no error")
			}
		}
	})
}
