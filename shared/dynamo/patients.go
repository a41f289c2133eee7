package dynamo

// Patient profiles. A profile holds ids, status and notification preferences
// in the clear and the contact details (name, birth date, e-mail, phone)
// sealed; the store never sees them in plaintext. Duplicate detection uses a
// lookup item keyed by the profile's DedupKey, a keyed hash computed by the
// caller (never a plain hash of patient data), written in the same
// transaction as the profile so two registrations of the same person cannot
// both succeed.
//
//	profile   PRAC#{pid}#PAT#{patid}        PROFILE   gsi1: PRAC#{pid}#PATIENTS / {patid}
//	dedup     PRAC#{pid}#PATDEDUP#{key}     DEDUP     patientId

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/resources"
)

func patientListPK(pid string) string     { return "PRAC#" + pid + "#PATIENTS" }
func dedupPK(pid, dedup string) string    { return "PRAC#" + pid + "#PATDEDUP#" + dedup }
func sattr(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func patientAttrs(p carepost.PatientRecord) map[string]types.AttributeValue {
	B := func(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }
	m := map[string]types.AttributeValue{
		resources.AttrPK: sattr(patientPK(p.PracticeID, p.ID)), resources.AttrSK: sattr("PROFILE"),
		resources.AttrGSI1PK: sattr(patientListPK(p.PracticeID)), resources.AttrGSI1SK: sattr(p.ID),
		"practiceId": sattr(p.PracticeID), "id": sattr(p.ID), "status": sattr(p.Status),
		"created":            sattr(tkey(p.Created)),
		"emailNotifications": B(p.EmailNotifications), "campaignOptOut": B(p.CampaignOptOut),
	}
	if len(p.ContactSealed) > 0 {
		m["contact"] = &types.AttributeValueMemberB{Value: p.ContactSealed}
	}
	for name, v := range map[string]string{"subject": p.Subject, "emailProblem": p.EmailProblem, "dedup": p.DedupKey} {
		if v != "" {
			m[name] = sattr(v)
		}
	}
	return m
}

func patientFrom(m map[string]types.AttributeValue) carepost.PatientRecord {
	return carepost.PatientRecord{
		Patient: carepost.Patient{
			PracticeID: str(m, "practiceId"), ID: str(m, "id"), Subject: str(m, "subject"), Status: str(m, "status"),
			Created: tm(m, "created"), EmailNotifications: boolean(m, "emailNotifications"),
			CampaignOptOut: boolean(m, "campaignOptOut"), EmailProblem: str(m, "emailProblem"),
		},
		ContactSealed: bin(m, "contact"),
		DedupKey:      str(m, "dedup"),
	}
}

func dedupItem(pid, dedup, patid string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		resources.AttrPK: sattr(dedupPK(pid, dedup)), resources.AttrSK: sattr("DEDUP"), "patientId": sattr(patid),
	}
}

// PutPatient creates a patient profile. It is conditional on absence: an
// existing id, or an existing profile with the same DedupKey, answers
// CodeConflict (Field "id" or "patient" tells which) and writes nothing.
func (s *Store) PutPatient(ctx context.Context, p carepost.PatientRecord) error {
	if p.PracticeID == "" || p.ID == "" {
		return carepost.Errorf(carepost.CodeInvalid, "a patient needs a practice and an id")
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.table), Item: patientAttrs(p),
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}}
	if p.DedupKey != "" {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.table), Item: dedupItem(p.PracticeID, p.DedupKey, p.ID),
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return transactConflict(err, []string{"id", "patient"}, "patient")
}

// transactConflict maps a cancelled transaction to a CodeConflict naming
// the field of the first item whose condition failed.
func transactConflict(err error, fields []string, what string) error {
	if err == nil {
		return nil
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		for i, r := range tc.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" && i < len(fields) {
				msg := what + " already exists"
				if fields[i] == "patient" {
					msg = "a patient with the same name, birth date and e-mail is already registered"
				}
				return &carepost.Error{Code: carepost.CodeConflict, Field: fields[i], Message: msg, Err: err}
			}
		}
	}
	return mapErr(err, what)
}

// UpdatePatient replaces an existing profile (status, subject, preferences,
// contact). When the DedupKey changed, the lookup item moves with it in the
// same transaction; a clash with another patient is CodeConflict.
func (s *Store) UpdatePatient(ctx context.Context, p carepost.PatientRecord) error {
	old, err := s.Patient(ctx, p.PracticeID, p.ID)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.table), Item: patientAttrs(p),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	}}}
	fields := []string{"id"}
	if old.DedupKey != p.DedupKey {
		if p.DedupKey != "" {
			items = append(items, types.TransactWriteItem{Put: &types.Put{
				TableName: aws.String(s.table), Item: dedupItem(p.PracticeID, p.DedupKey, p.ID),
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}})
			fields = append(fields, "patient")
		}
		if old.DedupKey != "" {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{
				TableName: aws.String(s.table), Key: key(dedupPK(p.PracticeID, old.DedupKey), "DEDUP"),
			}})
		}
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return transactConflict(err, fields, "patient")
}

// Patient reads one profile; another practice's patient is not found.
func (s *Store) Patient(ctx context.Context, pid, patid string) (carepost.PatientRecord, error) {
	if pid == "" || patid == "" {
		return carepost.PatientRecord{}, carepost.NotFound("patient")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(patientPK(pid, patid), "PROFILE"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return carepost.PatientRecord{}, mapErr(err, "patient")
	}
	if out.Item == nil {
		return carepost.PatientRecord{}, carepost.NotFound("patient")
	}
	return patientFrom(out.Item), nil
}

// PatientByDedupKey finds the patient registered under a duplicate-detection
// key; found is false when there is none.
func (s *Store) PatientByDedupKey(ctx context.Context, pid, dedup string) (carepost.PatientRecord, bool, error) {
	if pid == "" || dedup == "" {
		return carepost.PatientRecord{}, false, nil
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(dedupPK(pid, dedup), "DEDUP"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return carepost.PatientRecord{}, false, mapErr(err, "patient")
	}
	if out.Item == nil {
		return carepost.PatientRecord{}, false, nil
	}
	p, err := s.Patient(ctx, pid, str(out.Item, "patientId"))
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return carepost.PatientRecord{}, false, nil
	}
	return p, err == nil, err
}

// ListPatients lists a practice's patients by id, a page at a time (after is
// the previous page's Next). The listing reads an index, so a patient
// registered a moment ago may be missing from it for a moment.
func (s *Store) ListPatients(ctx context.Context, pid string, after map[string]string, limit int) (carepost.Page[carepost.PatientRecord], error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(resources.IndexByPatient),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sattr(patientListPK(pid))},
		Limit:                     aws.Int32(int32(limit)),
		ExclusiveStartKey:         fromStringMap(after),
	})
	if err != nil {
		return carepost.Page[carepost.PatientRecord]{}, mapErr(err, "patients")
	}
	page := carepost.Page[carepost.PatientRecord]{Next: toStringMap(out.LastEvaluatedKey)}
	for _, it := range out.Items {
		page.Items = append(page.Items, patientFrom(it))
	}
	return page, nil
}

// CountPatients counts a practice's patients (for the operator's listing).
func (s *Store) CountPatients(ctx context.Context, pid string) (int, error) {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(resources.IndexByPatient),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sattr(patientListPK(pid))},
		Select:                    types.SelectCount,
	})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, mapErr(err, "patients")
		}
		n += int(out.Count)
	}
	return n, nil
}
