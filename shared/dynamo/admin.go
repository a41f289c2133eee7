package dynamo

// Practice administration: account records, proxy links, activation codes,
// practice creation and version-checked settings updates, agreement
// history, and per-practice secrets (stored sealed).
//
//	account record   PRAC#{pid}                 USER#{sub}         doc, contact (sealed), version
//	proxy link       PRAC#{pid}#PAT#{patid}     PROXY#{sub}        doc
//	activation       PRAC#{pid}#ACT#{codehash}  ACTIVATION         patientId, expires, attempts, used; ttl
//	activation ptr   PRAC#{pid}#PAT#{patid}     ACTIVATION         codeHash of the live code
//	secret           PRAC#{pid}                 SECRET#{name}      value (sealed)

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/resources"
)

func nattr(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// ---- practices --------------------------------------------------------------

// CreatePractice stores a new practice's settings; an existing id is
// CodeConflict.
func (s *Store) CreatePractice(ctx context.Context, p carepost.Practice) error {
	if err := s.putDoc(ctx, practicePK(p.ID), "SETTINGS", p, "attribute_not_exists(pk)", "practice"); err != nil {
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			return carepost.FieldError(carepost.CodeConflict, "id", "a practice with this id already exists")
		}
		return err
	}
	item, _ := attributevalue.MarshalMap(docItem{PK: "PRACTICES", SK: p.ID, Doc: "{}"})
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return mapErr(err, "practice directory")
}

// PracticeVersion reads a practice's settings with an opaque version for
// UpdatePractice.
func (s *Store) PracticeVersion(ctx context.Context, pid string) (carepost.Practice, string, error) {
	var p carepost.Practice
	if pid == "" {
		return p, "", carepost.NotFound("practice")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(practicePK(pid), "SETTINGS"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return p, "", mapErr(err, "practice")
	}
	if out.Item == nil {
		return p, "", carepost.NotFound("practice")
	}
	raw := str(out.Item, "doc")
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return p, "", carepost.Wrap(carepost.CodeInternal, err, "corrupt practice")
	}
	return p, raw, nil
}

// UpdatePractice replaces the settings only if they are still the version
// read by PracticeVersion; otherwise CodeConflict (another admin saved in
// between: read again and reapply).
func (s *Store) UpdatePractice(ctx context.Context, p carepost.Practice, version string) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			resources.AttrPK: sattr(practicePK(p.ID)), resources.AttrSK: sattr("SETTINGS"), "doc": sattr(string(b)),
		},
		ConditionExpression:       aws.String("doc = :old"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":old": sattr(version)},
	})
	return mapErr(err, "practice settings")
}

// Agreements lists every version of the practice's messaging agreement,
// oldest first.
func (s *Store) Agreements(ctx context.Context, pid string) ([]carepost.Agreement, error) {
	var res []carepost.Agreement
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": sattr(practicePK(pid)), ":p": sattr("AGREEMENT#"),
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, mapErr(err, "agreements")
		}
		for _, it := range out.Items {
			var a carepost.Agreement
			if err := json.Unmarshal([]byte(str(it, "doc")), &a); err != nil {
				return nil, carepost.Wrap(carepost.CodeInternal, err, "corrupt agreement")
			}
			res = append(res, a)
		}
	}
	return res, nil
}

// PracticeSecret reads a sealed per-practice secret; found is false when it
// was never made.
func (s *Store) PracticeSecret(ctx context.Context, pid, name string) ([]byte, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(practicePK(pid), "SECRET#"+name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, false, mapErr(err, "practice secret")
	}
	if out.Item == nil {
		return nil, false, nil
	}
	return bin(out.Item, "value"), true, nil
}

// PutPracticeSecret stores a sealed secret once; CodeConflict if one exists
// (a concurrent first use made it: read that one).
func (s *Store) PutPracticeSecret(ctx context.Context, pid, name string, sealed []byte) error {
	item := key(practicePK(pid), "SECRET#"+name)
	item["value"] = &types.AttributeValueMemberB{Value: sealed}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	return mapErr(err, "practice secret")
}

// ---- account records --------------------------------------------------------

func userSK(sub string) string { return "USER#" + sub }

func userAttrs(u carepost.UserRecord) (map[string]types.AttributeValue, error) {
	b, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	m := map[string]types.AttributeValue{
		resources.AttrPK: sattr(practicePK(u.PracticeID)), resources.AttrSK: sattr(userSK(u.Subject)),
		"doc": sattr(string(b)), "version": nattr(u.Version),
	}
	if len(u.ContactSealed) > 0 {
		m["contact"] = &types.AttributeValueMemberB{Value: u.ContactSealed}
	}
	return m, nil
}

func userFrom(it map[string]types.AttributeValue) (carepost.UserRecord, error) {
	var u carepost.UserRecord
	if err := json.Unmarshal([]byte(str(it, "doc")), &u); err != nil {
		return u, carepost.Wrap(carepost.CodeInternal, err, "corrupt account record")
	}
	u.ContactSealed = bin(it, "contact")
	u.Version = num(it, "version")
	return u, nil
}

// userPut is the write of u conditional on the version read (absence for
// Version 0); the stored version is Version+1.
func (s *Store) userPut(u carepost.UserRecord) (*types.Put, error) {
	prev := u.Version
	u.Version++
	item, err := userAttrs(u)
	if err != nil {
		return nil, err
	}
	put := &types.Put{TableName: aws.String(s.table), Item: item}
	if prev == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": nattr(prev)}
	}
	return put, nil
}

// PutUser writes an account record: a create when Version is 0, otherwise
// an update conditional on the stored version still being Version
// (CodeConflict if it moved).
func (s *Store) PutUser(ctx context.Context, u carepost.UserRecord) error {
	put, err := s.userPut(u)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeValues: put.ExpressionAttributeValues,
	})
	return mapErr(err, "account")
}

// User reads one account record of a practice.
func (s *Store) User(ctx context.Context, pid, sub string) (carepost.UserRecord, error) {
	if pid == "" || sub == "" {
		return carepost.UserRecord{}, carepost.NotFound("user")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(practicePK(pid), userSK(sub)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return carepost.UserRecord{}, mapErr(err, "user")
	}
	if out.Item == nil {
		return carepost.UserRecord{}, carepost.NotFound("user")
	}
	return userFrom(out.Item)
}

// Users lists a practice's account records.
func (s *Store) Users(ctx context.Context, pid string) ([]carepost.UserRecord, error) {
	var res []carepost.UserRecord
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :u)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": sattr(practicePK(pid)), ":u": sattr("USER#"),
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, mapErr(err, "users")
		}
		for _, it := range out.Items {
			u, err := userFrom(it)
			if err != nil {
				return nil, err
			}
			res = append(res, u)
		}
	}
	return res, nil
}

// ---- proxy links ------------------------------------------------------------

// SaveProxy writes a proxy's account record (its grants) and the patient's
// link to it in one transaction; remove deletes the link instead. The
// account write is conditional on its version, like PutUser.
func (s *Store) SaveProxy(ctx context.Context, u carepost.UserRecord, link carepost.ProxyLink, remove bool) error {
	put, err := s.userPut(u)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: put}}
	lk := key(patientPK(u.PracticeID, link.PatientID), "PROXY#"+link.Subject)
	if remove {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: lk}})
	} else {
		b, err := json.Marshal(link)
		if err != nil {
			return err
		}
		lk["doc"] = sattr(string(b))
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: lk}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return transactConflict(err, []string{"version"}, "proxy")
}

// ProxyLinks lists a patient's proxies.
func (s *Store) ProxyLinks(ctx context.Context, pid, patid string) ([]carepost.ProxyLink, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": sattr(patientPK(pid, patid)), ":p": sattr("PROXY#"),
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, mapErr(err, "proxies")
	}
	var res []carepost.ProxyLink
	for _, it := range out.Items {
		var l carepost.ProxyLink
		if err := json.Unmarshal([]byte(str(it, "doc")), &l); err != nil {
			return nil, carepost.Wrap(carepost.CodeInternal, err, "corrupt proxy link")
		}
		res = append(res, l)
	}
	return res, nil
}

// ---- activation codes -------------------------------------------------------

func activationPK(pid, hash string) string { return "PRAC#" + pid + "#ACT#" + hash }

// PutActivation stores a patient's new activation code and retires the
// previous one, so only the latest invitation works.
func (s *Store) PutActivation(ctx context.Context, a carepost.Activation) error {
	old, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(patientPK(a.PracticeID, a.PatientID), "ACTIVATION"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return mapErr(err, "activation")
	}
	item := key(activationPK(a.PracticeID, a.CodeHash), "ACTIVATION")
	item["patientId"] = sattr(a.PatientID)
	item["expires"] = nattr(a.Expires.Unix())
	item["created"] = sattr(tkey(a.Created))
	item["attempts"] = nattr(0)
	item["used"] = &types.AttributeValueMemberBOOL{Value: false}
	item[resources.AttrTTL] = nattr(a.Expires.Add(24 * time.Hour).Unix())
	ptr := key(patientPK(a.PracticeID, a.PatientID), "ACTIVATION")
	ptr["codeHash"] = sattr(a.CodeHash)
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: ptr}},
	}
	if prev := str(old.Item, "codeHash"); prev != "" && prev != a.CodeHash {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(activationPK(a.PracticeID, prev), "ACTIVATION")}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return transactConflict(err, []string{"code"}, "activation code")
}

// ClaimActivationAttempt counts one attempt at the code and returns its
// record, but only while the code is unused, unexpired and has had fewer
// than max attempts; otherwise (or when there is no such code) it answers
// CodeNotFound.
func (s *Store) ClaimActivationAttempt(ctx context.Context, pid, hash string, now time.Time, max int) (carepost.Activation, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(activationPK(pid, hash), "ACTIVATION"),
		UpdateExpression:    aws.String("SET attempts = attempts + :one"),
		ConditionExpression: aws.String("attribute_exists(pk) AND used = :f AND attempts < :max AND expires > :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": nattr(1), ":f": &types.AttributeValueMemberBOOL{Value: false}, ":max": nattr(int64(max)), ":now": nattr(now.Unix()),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		if carepost.ErrorCode(mapErr(err, "")) == carepost.CodeConflict {
			return carepost.Activation{}, carepost.NotFound("activation code")
		}
		return carepost.Activation{}, mapErr(err, "activation")
	}
	a := carepost.Activation{
		PracticeID: pid, PatientID: str(out.Attributes, "patientId"), CodeHash: hash,
		Expires: time.Unix(num(out.Attributes, "expires"), 0).UTC(), Attempts: int(num(out.Attributes, "attempts")),
		Used: boolean(out.Attributes, "used"), Created: tm(out.Attributes, "created"),
	}
	// A code retired by a newer invitation no longer counts.
	ptr, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(patientPK(pid, a.PatientID), "ACTIVATION"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return carepost.Activation{}, mapErr(err, "activation")
	}
	if str(ptr.Item, "codeHash") != hash {
		return carepost.Activation{}, carepost.NotFound("activation code")
	}
	return a, nil
}

// UseActivation marks the code used, once: a second use is CodeConflict.
func (s *Store) UseActivation(ctx context.Context, pid, hash string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(activationPK(pid, hash), "ACTIVATION"),
		UpdateExpression:          aws.String("SET used = :t REMOVE leaseUntil"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND used = :f"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":f": &types.AttributeValueMemberBOOL{Value: false}},
	})
	if err != nil {
		return mapErr(err, "activation code")
	}
	return nil
}

// LeaseActivation reserves an unused code for the one activation in
// progress until until: CodeConflict while another request holds it, or
// once the code is used. Two requests with the same code cannot both
// create an account or set a password.
func (s *Store) LeaseActivation(ctx context.Context, pid, hash string, now, until time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(activationPK(pid, hash), "ACTIVATION"),
		UpdateExpression:    aws.String("SET leaseUntil = :until"),
		ConditionExpression: aws.String("attribute_exists(pk) AND used = :f AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": nattr(until.UnixMilli()), ":now": nattr(now.UnixMilli()), ":f": &types.AttributeValueMemberBOOL{Value: false},
		},
	})
	return mapErr(err, "activation code")
}

// ReleaseActivation ends the lease taken until until, when the activation
// failed before the code was used, so the patient can try again at once.
func (s *Store) ReleaseActivation(ctx context.Context, pid, hash string, until time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(activationPK(pid, hash), "ACTIVATION"),
		UpdateExpression:          aws.String("REMOVE leaseUntil"),
		ConditionExpression:       aws.String("leaseUntil = :until"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":until": nattr(until.UnixMilli())},
	})
	if carepost.ErrorCode(mapErr(err, "")) == carepost.CodeConflict {
		return nil // used, or the lease ran out and another took it
	}
	return mapErr(err, "activation code")
}
