package dynamo

// Appointments for reminders.
//
//	appointment  PRAC#{pid}#APPT#{aid}  META  gsi2: PRAC#{pid}#APPTS / {time}#{aid}; state, reminded offsets, details (sealed)
//
// The gsi2 entry orders a practice's appointments by time, so the reminder
// schedule reads only the next few days.

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/resources"
)

func appointmentPK(pid, aid string) string { return "PRAC#" + pid + "#APPT#" + aid }
func appointmentListPK(pid string) string  { return "PRAC#" + pid + "#APPTS" }

func appointmentAttrs(a carepost.AppointmentRecord) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{
		resources.AttrPK: sattr(appointmentPK(a.PracticeID, a.ID)), resources.AttrSK: sattr("META"),
		resources.AttrGSI2PK: sattr(appointmentListPK(a.PracticeID)), resources.AttrGSI2SK: sattr(tkey(a.Time) + "#" + a.ID),
		"practiceId": sattr(a.PracticeID), "id": sattr(a.ID), "patientId": sattr(a.PatientID),
		"time": sattr(tkey(a.Time)), "state": sattr(string(a.State)),
		"created": sattr(tkey(a.Created)), "updated": sattr(tkey(a.Updated)),
	}
	if len(a.DetailsSealed) > 0 {
		m["details"] = &types.AttributeValueMemberB{Value: a.DetailsSealed}
	}
	if len(a.Reminded) > 0 {
		m["reminded"] = offsetSet(a.Reminded)
	}
	if a.CancelledBy != "" {
		m["cancelledBy"] = sattr(a.CancelledBy)
	}
	return m
}

func offsetSet(hours []int) types.AttributeValue {
	seen := map[int]bool{}
	var v []string
	for _, h := range hours {
		if !seen[h] {
			seen[h] = true
			v = append(v, strconv.Itoa(h))
		}
	}
	return &types.AttributeValueMemberNS{Value: v}
}

func appointmentFrom(m map[string]types.AttributeValue) carepost.AppointmentRecord {
	a := carepost.AppointmentRecord{
		Appointment: carepost.Appointment{
			PracticeID: str(m, "practiceId"), ID: str(m, "id"), PatientID: str(m, "patientId"),
			Time: tm(m, "time"), State: carepost.AppointmentState(str(m, "state")),
			Created: tm(m, "created"), Updated: tm(m, "updated"), CancelledBy: str(m, "cancelledBy"),
		},
		DetailsSealed: bin(m, "details"),
	}
	if ns, ok := m["reminded"].(*types.AttributeValueMemberNS); ok {
		for _, v := range ns.Value {
			h, _ := strconv.Atoi(v)
			a.Reminded = append(a.Reminded, h)
		}
	}
	return a
}

// PutAppointment creates an appointment; an existing id is CodeConflict.
func (s *Store) PutAppointment(ctx context.Context, a carepost.AppointmentRecord) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: appointmentAttrs(a), ConditionExpression: aws.String("attribute_not_exists(pk)")})
	return mapErr(err, "appointment")
}

// Appointment reads one appointment.
func (s *Store) Appointment(ctx context.Context, pid, aid string) (carepost.AppointmentRecord, error) {
	if pid == "" || aid == "" {
		return carepost.AppointmentRecord{}, carepost.NotFound("appointment")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(appointmentPK(pid, aid), "META"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return carepost.AppointmentRecord{}, mapErr(err, "appointment")
	}
	if out.Item == nil {
		return carepost.AppointmentRecord{}, carepost.NotFound("appointment")
	}
	return appointmentFrom(out.Item), nil
}

// AppointmentsBetween lists appointments with from <= time < to, by time.
func (s *Store) AppointmentsBetween(ctx context.Context, pid string, from, to time.Time, after map[string]string, limit int) (carepost.Page[carepost.AppointmentRecord], error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(resources.IndexInbox),
		KeyConditionExpression: aws.String("gsi2pk = :p AND gsi2sk BETWEEN :a AND :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": sattr(appointmentListPK(pid)), ":a": sattr(tkey(from)), ":b": sattr(tkey(to)),
		},
		Limit: aws.Int32(int32(limit)), ExclusiveStartKey: fromStringMap(after),
	})
	if err != nil {
		return carepost.Page[carepost.AppointmentRecord]{}, mapErr(err, "appointments")
	}
	page := carepost.Page[carepost.AppointmentRecord]{Next: toStringMap(out.LastEvaluatedKey)}
	for _, it := range out.Items {
		a := appointmentFrom(it)
		if !a.Time.Before(to) {
			continue
		}
		page.Items = append(page.Items, a)
	}
	return page, nil
}

// ChangeAppointmentState moves an appointment from one of from to to;
// CodeConflict when it is in another state.
func (s *Store) ChangeAppointmentState(ctx context.Context, pid, aid string, from []carepost.AppointmentState, to carepost.AppointmentState, by string, now time.Time) error {
	vals := map[string]types.AttributeValue{":to": sattr(string(to)), ":now": sattr(tkey(now))}
	var in []string
	for i, f := range from {
		k := ":f" + strconv.Itoa(i)
		vals[k] = sattr(string(f))
		in = append(in, k)
	}
	expr := "SET #st = :to, updated = :now"
	if by != "" {
		expr += ", cancelledBy = :by"
		vals[":by"] = sattr(by)
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(appointmentPK(pid, aid), "META"),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(pk) AND #st IN (" + strings.Join(in, ", ") + ")"),
		ExpressionAttributeNames:  map[string]string{"#st": "state"},
		ExpressionAttributeValues: vals,
	})
	return mapErr(err, "appointment")
}

// MarkReminded records that the reminder for offset (hours) is going out,
// with the earlier offsets it supersedes; false when offset was already
// marked (another run sent it). Marking happens before sending, so a crash
// loses at most one reminder and never sends two.
func (s *Store) MarkReminded(ctx context.Context, pid, aid string, offset int, also []int) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(appointmentPK(pid, aid), "META"),
		UpdateExpression:    aws.String("ADD reminded :set"),
		ConditionExpression: aws.String("attribute_exists(pk) AND NOT contains(reminded, :o)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":set": offsetSet(append([]int{offset}, also...)), ":o": nattr(int64(offset)),
		},
	})
	if err != nil {
		if carepost.ErrorCode(mapErr(err, "")) == carepost.CodeConflict {
			return false, nil
		}
		return false, mapErr(err, "appointment")
	}
	return true, nil
}
