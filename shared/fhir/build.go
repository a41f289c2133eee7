package fhir

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/messaging"
)

// Input is one export's material, already authorized and opened.
type Input struct {
	BaseURL     string // the API's public URL; FHIR URLs live under BaseURL/fhir
	Practice    carepost.Practice
	PatientID   string
	Patient     *carepost.Patient // nil when the practice has no profile
	Threads     []messaging.Transcript
	Attachments map[string]carepost.Attachment // by id
	Now         time.Time
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// ID makes a valid FHIR resource id ([A-Za-z0-9-.]{1,64}) from one of
// ours: as is when it fits, else a stable hash of it.
func ID(s string) string {
	if idPattern.MatchString(s) {
		return s
	}
	h := sha256.Sum256([]byte(s))
	return "h" + hex.EncodeToString(h[:20])
}

func instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// categoryDisplay labels our categories for people reading the EHR.
var categoryDisplay = map[carepost.Category]string{
	carepost.CategoryQuestion: "Question", carepost.CategoryPrescription: "Prescription renewal", carepost.CategoryAppointment: "Appointment request",
	carepost.CategoryReferral: "Referral request", carepost.CategoryForms: "Forms and administrative help", carepost.CategoryBilling: "Billing question",
	carepost.CategoryTestResult: "Test result question", carepost.CategoryMeasurement: "Home measurement", carepost.CategoryResult: "Result",
	carepost.CategoryFollowUp: "Follow-up", carepost.CategoryEducation: "Education", carepost.CategoryAdministrative: "Administrative notice",
}

type builder struct {
	in            Input
	base          string
	refs          map[string]any // "Type/id" -> resource, for the participants
	order         []string
	patientRef    Reference
	practiceRef   Reference
	communication []BundleEntry
}

// Build makes the Bundle.
func Build(in Input) Bundle {
	b := &builder{in: in, base: strings.TrimRight(in.BaseURL, "/"), refs: map[string]any{}}
	b.patientRef = b.patient()
	b.practiceRef = b.organization()
	for _, tr := range in.Threads {
		b.thread(tr)
	}
	bundle := Bundle{ResourceType: "Bundle", ID: ID(bundleID(in)), Meta: &Meta{LastUpdated: instant(in.Now)}, Type: "collection", Timestamp: instant(in.Now)}
	bundle.Entry = append(bundle.Entry, b.communication...)
	for _, ref := range b.order {
		bundle.Entry = append(bundle.Entry, BundleEntry{FullURL: b.base + "/fhir/" + ref, Resource: b.refs[ref]})
	}
	return bundle
}

func bundleID(in Input) string {
	var ids []string
	for _, tr := range in.Threads {
		ids = append(ids, tr.Thread.ID)
	}
	h := sha256.Sum256([]byte(in.Practice.ID + "\x00" + in.PatientID + "\x00" + strings.Join(ids, ",") + "\x00" + instant(in.Now)))
	return "export-" + hex.EncodeToString(h[:12])
}

func (b *builder) sid(kind string) string { return b.base + "/fhir/sid/" + kind }

func (b *builder) add(ref string, r any) Reference {
	if _, ok := b.refs[ref]; !ok {
		b.refs[ref] = r
		b.order = append(b.order, ref)
	}
	return Reference{Reference: ref}
}

func (b *builder) patient() Reference {
	id := ID(b.in.PatientID)
	p := Patient{ResourceType: "Patient", ID: id, Identifier: []Identifier{{System: b.sid("patient"), Value: b.in.PatientID}}}
	if pat := b.in.Patient; pat != nil {
		active := pat.Status != "disabled"
		p.Active = &active
		c := pat.Contact
		if c.FirstName != "" || c.LastName != "" {
			n := HumanName{Family: c.LastName}
			if c.FirstName != "" {
				n.Given = []string{c.FirstName}
			}
			p.Name = []HumanName{n}
		}
		if _, err := time.Parse(time.DateOnly, c.BirthDate); err == nil {
			p.BirthDate = c.BirthDate
		}
		if c.Email != "" {
			p.Telecom = append(p.Telecom, ContactPoint{System: "email", Value: c.Email})
		}
		if c.Phone != "" {
			p.Telecom = append(p.Telecom, ContactPoint{System: "phone", Value: c.Phone})
		}
	}
	return b.add("Patient/"+id, p)
}

func (b *builder) organization() Reference {
	id := ID(b.in.Practice.ID)
	ref := b.add("Organization/"+id, Organization{ResourceType: "Organization", ID: id,
		Identifier: []Identifier{{System: b.sid("practice"), Value: b.in.Practice.ID}}, Name: b.in.Practice.Name})
	ref.Display = b.in.Practice.Name
	return ref
}

func (b *builder) practitioner(sub, fallbackName string) Reference {
	id := ID(sub)
	name := b.in.Practice.Staff[sub].Name
	if name == "" {
		name = fallbackName
	}
	p := Practitioner{ResourceType: "Practitioner", ID: id, Identifier: []Identifier{{System: b.sid("staff"), Value: sub}}}
	if name != "" {
		p.Name = []HumanName{{Text: name}}
	}
	ref := b.add("Practitioner/"+id, p)
	ref.Display = name
	return ref
}

func (b *builder) relatedPerson(sub string) Reference {
	id := ID(sub)
	return b.add("RelatedPerson/"+id, RelatedPerson{ResourceType: "RelatedPerson", ID: id,
		Identifier: []Identifier{{System: b.sid("proxy"), Value: sub}}, Patient: b.patientRef})
}

func patientSide(r carepost.Role) bool { return r == carepost.RolePatient || r == carepost.RoleProxy }

// sender is who wrote a message.
func (b *builder) sender(m carepost.Message) Reference {
	switch {
	case m.Kind == carepost.KindSystem:
		return b.practiceRef
	case m.SenderRole == carepost.RoleProxy:
		return b.relatedPerson(m.SenderID)
	case m.SenderRole == carepost.RolePatient:
		return b.patientRef
	}
	return b.practitioner(m.SenderID, m.SenderName)
}

// recipient is whom a message was for: the patient for the practice's
// messages; for the patient's, the thread's owner (a person, or the
// practice when a pool owns it).
func (b *builder) recipient(t carepost.ThreadRecord, m carepost.Message) Reference {
	if m.Kind == carepost.KindSystem || !patientSide(m.SenderRole) {
		return b.patientRef
	}
	if sub, ok := t.Owner.User(); ok {
		return b.practitioner(sub, "")
	}
	return b.practiceRef
}

// received is when the other side first read up to or past m: the earliest
// read receipt of the other side that covers m. Receipts keep the latest
// read of each reader, so this is a bound, not the first look.
func received(tr messaging.Transcript, m carepost.Message, sentOf map[string]time.Time) time.Time {
	var first time.Time
	fromPatient := patientSide(m.SenderRole) && m.Kind != carepost.KindSystem
	for _, r := range tr.Reads {
		readerPatient := patientSide(r.Role)
		if readerPatient == fromPatient {
			continue
		}
		upTo, ok := sentOf[r.MessageID]
		if !ok || upTo.Before(m.Sent) || r.At.Before(m.Sent) {
			continue
		}
		if first.IsZero() || r.At.Before(first) {
			first = r.At
		}
	}
	return first
}

func (b *builder) thread(tr messaging.Transcript) {
	t := tr.Thread
	if len(tr.Messages) == 0 {
		return
	}
	sentOf := map[string]time.Time{}
	retractedBy := map[string]string{}
	for _, m := range tr.Messages {
		sentOf[m.ID] = m.Sent
		if m.Retracts != "" {
			retractedBy[m.Retracts] = m.ID
		}
	}
	root := tr.Messages[0].ID
	category := CodeableConcept{Coding: []Coding{{System: b.base + "/fhir/CodeSystem/thread-category", Code: string(t.Category), Display: categoryDisplay[t.Category]}}}
	for _, m := range tr.Messages {
		c := Communication{
			ResourceType: "Communication", ID: ID(m.ID),
			Identifier: []Identifier{{System: b.sid("message"), Value: m.ID}, {System: b.sid("thread"), Value: t.ID}},
			Status:     "completed", Category: []CodeableConcept{category}, Priority: "routine",
			Subject: &b.patientRef, Sent: instant(m.Sent), Received: instant(received(tr, m, sentOf)),
		}
		if tr.Subject != "" {
			c.Topic = &CodeableConcept{Text: tr.Subject}
		}
		if m.Urgent || t.Urgent {
			c.Priority = "urgent"
		}
		if m.ID != root {
			c.PartOf = []Reference{{Reference: "Communication/" + ID(root)}}
		}
		if _, ok := sentOf[m.InResponseTo]; ok && m.InResponseTo != "" {
			c.InResponseTo = []Reference{{Reference: "Communication/" + ID(m.InResponseTo)}}
		}
		s := b.sender(m)
		c.Sender = &s
		c.Recipient = []Reference{b.recipient(t, m)}
		if m.Body != "" {
			c.Payload = append(c.Payload, Payload{ContentString: m.Body})
		}
		if m.Form != nil {
			j, _ := json.Marshal(m.Form)
			c.Payload = append(c.Payload, Payload{ContentAttachment: &Attachment{ContentType: "application/json", Data: base64.StdEncoding.EncodeToString(j), Title: "Form: " + m.Form.Type}})
		}
		for _, aid := range m.Attachments {
			a := Attachment{URL: b.base + "/v1/threads/" + t.ID + "/attachments/" + aid}
			if rec, ok := b.in.Attachments[aid]; ok {
				a.ContentType, a.Size, a.Creation = rec.ContentType, rec.Size, instant(rec.Completed)
			}
			c.Payload = append(c.Payload, Payload{ContentAttachment: &a})
		}
		if m.Retracts != "" {
			c.Note = append(c.Note, Annotation{Text: "Correction: retracts Communication/" + ID(m.Retracts)})
		}
		if by, ok := retractedBy[m.ID]; ok {
			c.Note = append(c.Note, Annotation{Text: "Retracted by the sender; see the correction Communication/" + ID(by)})
		}
		b.communication = append(b.communication, BundleEntry{FullURL: b.base + "/fhir/Communication/" + c.ID, Resource: c})
	}
}

// sortTranscripts orders threads oldest first.
func sortTranscripts(ts []messaging.Transcript) {
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Thread.Created.Before(ts[j].Thread.Created) })
}
