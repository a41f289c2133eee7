package forms

import (
	"strings"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// Form type names.
const (
	TypePrescriptionRenewal = "prescription_renewal"
	TypeAppointmentRequest  = "appointment_request"
	TypeReferralRequest     = "referral_request"
	TypeFormsHelp           = "forms_help"
	TypeBillingQuestion     = "billing_question"
	TypeTestResultQuestion  = "test_result_question"
	TypeMeasurementReport   = "measurement_report"
)

const (
	// lowDoses: a renewal with this many doses left or fewer is high priority,
	// so the patient does not run out while the request waits in the queue.
	lowDoses = 3
	// maxWindow is the longest preferred appointment window: a wider one says
	// nothing the front desk can book against.
	maxWindow = 12 * time.Hour
)

type formType struct {
	name     string
	category carepost.Category
	summary  string // default subject: says what kind of request, never any value
	fields   *object
}

var catalog = []*formType{
	{
		name: TypePrescriptionRenewal, category: carepost.CategoryPrescription, summary: "Prescription renewal",
		fields: newObject(prescriptionCheck,
			required(text("medication", 100, "name of the medication to renew")),
			required(text("strength", 40, "strength as on the label, e.g. 500 mg")),
			required(text("pharmacy", 120, "pharmacy to send the prescription to")),
			required(integer("supplyDays", 1, 365, "days of supply requested")),
			required(integer("dosesLeft", 0, 1000, "doses the patient has left; 3 or fewer raises the priority")),
		),
	},
	{
		name: TypeAppointmentRequest, category: carepost.CategoryAppointment, summary: "Appointment request",
		fields: newObject(noCheck,
			required(text("reason", 500, "reason for the visit")),
			required(enum("visitType", "new problem or follow-up", "new", "follow_up")),
			text("preferredClinician", 100, "clinician the patient would like to see"),
			required(enum("modality", "how the visit takes place", "in_person", "video", "phone")),
			required(array("preferredWindows", 1, 3, windowObject, "up to three preferred windows, each at most 12 hours")),
		),
	},
	{
		name: TypeReferralRequest, category: carepost.CategoryReferral, summary: "Referral request",
		fields: newObject(noCheck,
			required(text("specialty", 100, "specialty of the referral, e.g. dermatology")),
			required(text("reason", 500, "reason for the referral")),
			text("preferredProvider", 120, "specialist the patient would like to see"),
			text("insurancePlan", 120, "the patient's insurance plan"),
		),
	},
	{
		name: TypeFormsHelp, category: carepost.CategoryForms, summary: "Help with a form",
		fields: newObject(noCheck,
			required(text("formType", 100, "kind of form, e.g. school physical")),
			required(text("description", 1000, "what the patient needs")),
			date("dueDate", "date the form is due"),
		),
	},
	{
		name: TypeBillingQuestion, category: carepost.CategoryBilling, summary: "Billing question",
		fields: newObject(noCheck,
			text("statementNumber", 40, "number printed on the statement"),
			required(date("dateOfService", "date of the visit or service billed")),
			number("amount", 0, 1_000_000, 2, "amount in question"),
			required(text("question", 2000, "the question")),
		),
	},
	{
		name: TypeTestResultQuestion, category: carepost.CategoryTestResult, summary: "Question about a test result",
		fields: newObject(noCheck,
			required(text("testName", 120, "name of the test")),
			date("testDate", "date the test was done"),
			required(text("question", 2000, "the question")),
		),
	},
	{
		name: TypeMeasurementReport, category: carepost.CategoryMeasurement, summary: "Home measurement report",
		fields: newObject(noCheck,
			required(array("readings", 1, 20, readingObject, "1 to 20 home measurements")),
		),
	},
}

var windowObject = newObject(windowCheck,
	required(dateTime("start", "start of the window")),
	required(dateTime("end", "end of the window, after start and at most 12 hours later")),
)

var (
	formsByName = func() map[string]*formType {
		m := make(map[string]*formType, len(catalog))
		for _, ft := range catalog {
			m[ft.name] = ft
		}
		return m
	}()
	typeNames = strings.Join(Types(), ", ")
)

func checkPrescription(o *object, v *values, _ loc, r *Result) error {
	if v.get(o, "dosesLeft").n <= lowDoses {
		r.Priority = r.Priority.Raise(carepost.PriorityHigh)
	}
	return nil
}

func checkWindow(o *object, v *values, at loc, _ *Result) error {
	start, end := v.get(o, "start").t, v.get(o, "end").t
	if !end.After(start) {
		return unprocessable(at.child("end"), msgWindowOrder, at.child("end").rel())
	}
	if end.Sub(start) > maxWindow {
		return unprocessable(at.child("end"), msgWindowSpan, at.child("end").rel(), int(maxWindow/time.Hour))
	}
	return nil
}
