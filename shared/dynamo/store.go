// Package dynamo is the DynamoDB adapter of the messaging core: one table,
// keys as in docs/data-model.md, the practice id at the start of every key so
// no query can reach another practice. It stores sealed bytes as they come
// (it never sees plaintext patient data) and maps DynamoDB failures to domain
// errors: conditional-check failures to CodeConflict, throttling to a
// transient CodeUnavailable.
package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/resources"
)

// Store implements carepost.Store and carepost.Idempotency.
type Store struct {
	db    *dynamodb.Client
	table string
	// Consumed collects the write/read capacity the store used (for benchmarks).
	Consumed func(op string, wcu, rcu float64)
}

var (
	_ carepost.Store       = (*Store)(nil)
	_ carepost.Idempotency = (*Store)(nil)
)

// New returns a store on table.
func New(db *dynamodb.Client, table string) *Store { return &Store{db: db, table: table} }

const timeKey = "20060102T150405.000000000Z"

func tkey(t time.Time) string { return t.UTC().Format(timeKey) }

func practicePK(pid string) string                { return "PRAC#" + pid }
func patientPK(pid, patid string) string          { return "PRAC#" + pid + "#PAT#" + patid }
func threadPK(pid, tid string) string             { return "PRAC#" + pid + "#TH#" + tid }
func ownerPK(pid string, o carepost.Owner) string { return "PRAC#" + pid + "#OWN#" + string(o) }

// inboxSort orders an owner's inbox: active before closed, then priority
// (descending), then due time (soonest first), then thread id.
func inboxSort(t carepost.ThreadRecord) string {
	state := "A"
	if t.Status == carepost.StatusClosed {
		state = "C"
	}
	due := "99999999T999999.999999999Z"
	if !t.Due.IsZero() {
		due = tkey(t.Due)
	}
	return fmt.Sprintf("%s#%d#%s#%s", state, 9-int(t.Priority), due, t.ID)
}

func (s *Store) consumed(op string, cc ...*types.ConsumedCapacity) {
	if s.Consumed == nil {
		return
	}
	for _, c := range cc {
		if c == nil {
			continue
		}
		wcu, rcu := aws.ToFloat64(c.WriteCapacityUnits), aws.ToFloat64(c.ReadCapacityUnits)
		if c.WriteCapacityUnits == nil && c.ReadCapacityUnits == nil {
			// Only the total is reported (DynamoDB Local, on-demand tables);
			// every call of this hook is a write.
			wcu = aws.ToFloat64(c.CapacityUnits)
		}
		s.Consumed(op, wcu, rcu)
	}
}

// mapErr turns SDK errors into domain errors.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var de *carepost.Error
	if errors.As(err, &de) {
		return err
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return carepost.Wrap(carepost.CodeConflict, err, "%s was changed by someone else", what)
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		return carepost.Wrap(carepost.CodeConflict, err, "%s was changed by someone else", what)
	}
	var pte *types.ProvisionedThroughputExceededException
	var rle *types.RequestLimitExceeded
	var tte *types.ThrottlingException
	if errors.As(err, &pte) || errors.As(err, &rle) || errors.As(err, &tte) || errors.Is(err, context.DeadlineExceeded) {
		return carepost.Unavailable(err, "the database")
	}
	return carepost.Wrap(carepost.CodeInternal, err, "database error")
}

// ---- practice, agreement, consent -----------------------------------------

type docItem struct {
	PK  string `dynamodbav:"pk"`
	SK  string `dynamodbav:"sk"`
	Doc string `dynamodbav:"doc"`
}

func (s *Store) getDoc(ctx context.Context, pk, sk string, v any, what string) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return mapErr(err, what)
	}
	if out.Item == nil {
		return carepost.NotFound(what)
	}
	var it docItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return carepost.Wrap(carepost.CodeInternal, err, "corrupt %s", what)
	}
	return json.Unmarshal([]byte(it.Doc), v)
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		resources.AttrPK: &types.AttributeValueMemberS{Value: pk},
		resources.AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

func (s *Store) putDoc(ctx context.Context, pk, sk string, v any, cond string, what string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	item, _ := attributevalue.MarshalMap(docItem{PK: pk, SK: sk, Doc: string(b)})
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	_, err = s.db.PutItem(ctx, in)
	return mapErr(err, what)
}

func (s *Store) Practice(ctx context.Context, pid string) (carepost.Practice, error) {
	var p carepost.Practice
	err := s.getDoc(ctx, practicePK(pid), "SETTINGS", &p, "practice")
	return p, err
}

func (s *Store) PutPractice(ctx context.Context, p carepost.Practice) error {
	if err := s.putDoc(ctx, practicePK(p.ID), "SETTINGS", p, "", "practice"); err != nil {
		return err
	}
	// The practice directory lets the scheduled sweep find every practice.
	item, _ := attributevalue.MarshalMap(docItem{PK: "PRACTICES", SK: p.ID, Doc: "{}"})
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return mapErr(err, "practice directory")
}

func (s *Store) Practices(ctx context.Context) ([]string, error) {
	var ids []string
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "PRACTICES"}},
		ProjectionExpression:      aws.String("sk"),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, mapErr(err, "practice directory")
		}
		for _, it := range out.Items {
			if v, ok := it["sk"].(*types.AttributeValueMemberS); ok {
				ids = append(ids, v.Value)
			}
		}
	}
	return ids, nil
}

func (s *Store) CurrentAgreement(ctx context.Context, pid string) (carepost.Agreement, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: practicePK(pid)},
			":p":  &types.AttributeValueMemberS{Value: "AGREEMENT#"},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(1),
		ConsistentRead:   aws.Bool(true),
	})
	if err != nil {
		return carepost.Agreement{}, mapErr(err, "agreement")
	}
	if len(out.Items) == 0 {
		return carepost.Agreement{}, carepost.NotFound("messaging agreement")
	}
	var it docItem
	if err := attributevalue.UnmarshalMap(out.Items[0], &it); err != nil {
		return carepost.Agreement{}, err
	}
	var a carepost.Agreement
	return a, json.Unmarshal([]byte(it.Doc), &a)
}

func (s *Store) PutAgreement(ctx context.Context, pid, text string, now time.Time) (carepost.Agreement, error) {
	for range 10 {
		cur, err := s.CurrentAgreement(ctx, pid)
		if err != nil && carepost.ErrorCode(err) != carepost.CodeNotFound {
			return carepost.Agreement{}, err
		}
		a := carepost.Agreement{Version: cur.Version + 1, Text: text, Created: now.UTC()}
		err = s.putDoc(ctx, practicePK(pid), fmt.Sprintf("AGREEMENT#%06d", a.Version), a, "attribute_not_exists(pk)", "agreement")
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			continue // another admin saved a version at the same moment
		}
		return a, err
	}
	return carepost.Agreement{}, carepost.Errorf(carepost.CodeConflict, "agreement is being changed concurrently; retry")
}

func (s *Store) Consent(ctx context.Context, pid, patid, sub string) (carepost.Consent, bool, error) {
	var c carepost.Consent
	err := s.getDoc(ctx, patientPK(pid, patid), "CONSENT#"+sub, &c, "consent")
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return c, false, nil
	}
	return c, err == nil, err
}

func (s *Store) PutConsent(ctx context.Context, pid string, c carepost.Consent) error {
	return s.putDoc(ctx, patientPK(pid, c.PatientID), "CONSENT#"+c.Subject, c, "", "consent")
}

// ---- threads and messages -------------------------------------------------

func (s *Store) threadAttrs(t carepost.ThreadRecord) map[string]types.AttributeValue {
	S := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	N := func(v int64) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	B := func(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }
	m := map[string]types.AttributeValue{
		"pk": S(threadPK(t.PracticeID, t.ID)), "sk": S("META"),
		resources.AttrGSI1PK: S(patientPK(t.PracticeID, t.PatientID)),
		resources.AttrGSI1SK: S(tkey(t.Updated) + "#" + t.ID),
		resources.AttrGSI2PK: S(ownerPK(t.PracticeID, t.Owner)),
		resources.AttrGSI2SK: S(inboxSort(t)),
		"practiceId":         S(t.PracticeID), "id": S(t.ID), "patientId": S(t.PatientID),
		"category": S(string(t.Category)), "status": S(string(t.Status)), "owner": S(string(t.Owner)),
		"priority": N(int64(t.Priority)), "urgent": B(t.Urgent), "confidential": B(t.Confidential),
		"openedBy": S(t.OpenedBy), "openedByRole": S(string(t.OpenedByRole)),
		"created": S(tkey(t.Created)), "updated": S(tkey(t.Updated)),
		"overdue": B(t.Overdue), "messageCount": N(int64(t.MessageCount)), "version": N(t.Version),
		"triaged": B(t.Triaged), "pageLevel": N(int64(t.PageLevel)), "escalated": N(int64(t.Escalated)),
	}
	if len(t.SubjectSealed) > 0 {
		m["subject"] = &types.AttributeValueMemberB{Value: t.SubjectSealed}
	}
	for name, v := range map[string]string{"linkedFrom": t.LinkedFrom, "lastMessageId": t.LastMessageID} {
		if v != "" {
			m[name] = S(v)
		}
	}
	for name, v := range map[string]time.Time{"due": t.Due, "firstReviewed": t.FirstReviewed, "pageDue": t.PageDue} {
		if !v.IsZero() {
			m[name] = S(tkey(v))
		}
	}
	return m
}

func str(m map[string]types.AttributeValue, k string) string {
	if v, ok := m[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func num(m map[string]types.AttributeValue, k string) int64 {
	if v, ok := m[k].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func boolean(m map[string]types.AttributeValue, k string) bool {
	v, ok := m[k].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

func bin(m map[string]types.AttributeValue, k string) []byte {
	if v, ok := m[k].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

func tm(m map[string]types.AttributeValue, k string) time.Time {
	s := str(m, k)
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(timeKey, s)
	return t
}

func strs(m map[string]types.AttributeValue, k string) []string {
	v, ok := m[k].(*types.AttributeValueMemberSS)
	if !ok {
		return nil
	}
	return v.Value
}

func threadFrom(m map[string]types.AttributeValue) carepost.ThreadRecord {
	return carepost.ThreadRecord{
		Thread: carepost.Thread{
			PracticeID: str(m, "practiceId"), ID: str(m, "id"), PatientID: str(m, "patientId"),
			Category: carepost.Category(str(m, "category")), Status: carepost.Status(str(m, "status")),
			Owner: carepost.Owner(str(m, "owner")), Priority: carepost.Priority(num(m, "priority")),
			Urgent: boolean(m, "urgent"), Confidential: boolean(m, "confidential"),
			OpenedBy: str(m, "openedBy"), OpenedByRole: carepost.Role(str(m, "openedByRole")),
			Created: tm(m, "created"), Updated: tm(m, "updated"), Due: tm(m, "due"),
			Overdue: boolean(m, "overdue"), LinkedFrom: str(m, "linkedFrom"),
			MessageCount: int(num(m, "messageCount")), Version: num(m, "version"),
		},
		SubjectSealed: bin(m, "subject"),
		LastMessageID: str(m, "lastMessageId"),
		Triaged:       boolean(m, "triaged"),
		FirstReviewed: tm(m, "firstReviewed"),
		PageDue:       tm(m, "pageDue"),
		PageLevel:     int(num(m, "pageLevel")),
		Escalated:     int(num(m, "escalated")),
	}
}

// Messages are keyed by id (ids may derive from an Idempotency-Key, so they
// carry no time); a thread's messages are few and are sorted by time on read.
func messageSK(id string) string { return "MSG#" + id }

func (s *Store) messageAttrs(m carepost.MessageRecord) map[string]types.AttributeValue {
	S := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	it := map[string]types.AttributeValue{
		"pk": S(threadPK(m.PracticeID, m.ThreadID)), "sk": S(messageSK(m.ID)),
		"id": S(m.ID), "kind": S(string(m.Kind)), "senderId": S(m.SenderID), "senderRole": S(string(m.SenderRole)),
		"sent": S(tkey(m.Sent)),
	}
	if len(m.BodySealed) > 0 {
		it["body"] = &types.AttributeValueMemberB{Value: m.BodySealed}
	}
	if len(m.FormSealed) > 0 {
		it["form"] = &types.AttributeValueMemberB{Value: m.FormSealed}
	}
	for name, v := range map[string]string{"senderName": m.SenderName, "retracts": m.Retracts, "inResponseTo": m.InResponseTo, "reqHash": m.RequestHash} {
		if v != "" {
			it[name] = S(v)
		}
	}
	if m.ConsentVersion > 0 {
		it["consentVersion"] = &types.AttributeValueMemberN{Value: strconv.Itoa(m.ConsentVersion)}
	}
	if m.Urgent {
		it["urgent"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if len(m.Flags) > 0 {
		it["flags"] = &types.AttributeValueMemberSS{Value: m.Flags}
	}
	if len(m.Attachments) > 0 {
		it["attachments"] = &types.AttributeValueMemberSS{Value: m.Attachments}
	}
	return it
}

func messageFrom(pid, tid string, it map[string]types.AttributeValue) carepost.MessageRecord {
	return carepost.MessageRecord{
		Message: carepost.Message{
			PracticeID: pid, ThreadID: tid, ID: str(it, "id"), Kind: carepost.MessageKind(str(it, "kind")),
			SenderID: str(it, "senderId"), SenderRole: carepost.Role(str(it, "senderRole")), SenderName: str(it, "senderName"),
			Sent: tm(it, "sent"), Retracts: str(it, "retracts"), InResponseTo: str(it, "inResponseTo"),
			ConsentVersion: int(num(it, "consentVersion")), Urgent: boolean(it, "urgent"), Flags: strs(it, "flags"),
			Attachments: strs(it, "attachments"),
		},
		BodySealed:  bin(it, "body"),
		FormSealed:  bin(it, "form"),
		RequestHash: str(it, "reqHash"),
	}
}

func (s *Store) putMessage(ctx context.Context, m carepost.MessageRecord) error {
	// Conditional on absence: a message id is written once, ever. Retries
	// with the same (idempotency-derived) id answer CodeConflict.
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: s.messageAttrs(m),
		ConditionExpression:    aws.String("attribute_not_exists(pk)"),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return mapErr(err, "message")
	}
	s.consumed("message", out.ConsumedCapacity)
	return nil
}

// CreateThread implements carepost.Store.
func (s *Store) CreateThread(ctx context.Context, t carepost.ThreadRecord, m carepost.MessageRecord) error {
	if err := s.putMessage(ctx, m); err != nil {
		return err
	}
	return s.putThread(ctx, t)
}

func (s *Store) putThread(ctx context.Context, t carepost.ThreadRecord) error {
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: s.threadAttrs(t),
		ConditionExpression:    aws.String("attribute_not_exists(pk)"),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes,
	})
	if err != nil {
		return mapErr(err, "thread")
	}
	s.consumed("thread.create", out.ConsumedCapacity)
	return nil
}

// CompleteCreate finishes a creation whose message was stored but whose
// thread write did not happen (a crash between the two writes).
func (s *Store) CompleteCreate(ctx context.Context, t carepost.ThreadRecord) error {
	err := s.putThread(ctx, t)
	if carepost.ErrorCode(err) == carepost.CodeConflict {
		return nil
	}
	return err
}

// AppendMessage implements carepost.Store.
func (s *Store) AppendMessage(ctx context.Context, m carepost.MessageRecord, c carepost.ThreadChange) error {
	if err := s.putMessage(ctx, m); err != nil {
		return err
	}
	return s.UpdateThread(ctx, c)
}

// UpdateThread implements carepost.Store: a full replace conditional on the
// version, so two nurses claiming the same thread cannot both win.
func (s *Store) UpdateThread(ctx context.Context, c carepost.ThreadChange) error {
	t := c.Set
	t.PracticeID, t.ID = c.PracticeID, c.ThreadID
	t.Version = c.Version + 1
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: s.threadAttrs(t),
		ConditionExpression:       aws.String("attribute_exists(pk) AND version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(c.Version, 10)}},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityIndexes,
	})
	if err != nil {
		return mapErr(err, "thread")
	}
	s.consumed("thread.update", out.ConsumedCapacity)
	return nil
}

func (s *Store) Thread(ctx context.Context, pid, tid string) (carepost.ThreadRecord, error) {
	if pid == "" || tid == "" {
		return carepost.ThreadRecord{}, carepost.NotFound("thread")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(threadPK(pid, tid), "META"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return carepost.ThreadRecord{}, mapErr(err, "thread")
	}
	if out.Item == nil {
		return carepost.ThreadRecord{}, carepost.NotFound("thread")
	}
	if err := checkThreadKey(out.Item); err != nil {
		return carepost.ThreadRecord{}, err
	}
	return threadFrom(out.Item), nil
}

func (s *Store) Message(ctx context.Context, pid, tid, mid string) (carepost.MessageRecord, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(threadPK(pid, tid), messageSK(mid)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return carepost.MessageRecord{}, mapErr(err, "message")
	}
	if out.Item == nil {
		return carepost.MessageRecord{}, carepost.NotFound("message")
	}
	if err := checkMessageKey(pid, tid, out.Item); err != nil {
		return carepost.MessageRecord{}, err
	}
	return messageFrom(pid, tid, out.Item), nil
}

func (s *Store) Messages(ctx context.Context, pid, tid string) ([]carepost.MessageRecord, error) {
	var msgs []carepost.MessageRecord
	err := s.queryPrefix(ctx, threadPK(pid, tid), "MSG#", "messages", func(it map[string]types.AttributeValue) error {
		if err := checkMessageKey(pid, tid, it); err != nil {
			return err
		}
		msgs = append(msgs, messageFrom(pid, tid, it))
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(msgs, func(i, j int) bool {
		if !msgs[i].Sent.Equal(msgs[j].Sent) {
			return msgs[i].Sent.Before(msgs[j].Sent)
		}
		return msgs[i].ID < msgs[j].ID
	})
	return msgs, nil
}

func toStringMap(m map[string]types.AttributeValue) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			out[k] = s.Value
		}
	}
	return out
}

func fromStringMap(m map[string]string) map[string]types.AttributeValue {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out
}

func (s *Store) PatientThreads(ctx context.Context, pid, patid string, after map[string]string, limit int) (carepost.Page[carepost.ThreadRecord], error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(resources.IndexByPatient),
		KeyConditionExpression: aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": &types.AttributeValueMemberS{Value: patientPK(pid, patid)},
		},
		ScanIndexForward:  aws.Bool(false),
		Limit:             aws.Int32(int32(limit)),
		ExclusiveStartKey: fromStringMap(after),
	})
	if err != nil {
		return carepost.Page[carepost.ThreadRecord]{}, mapErr(err, "threads")
	}
	page := carepost.Page[carepost.ThreadRecord]{Next: toStringMap(out.LastEvaluatedKey)}
	for _, it := range out.Items {
		if err := checkThreadKey(it); err != nil {
			return carepost.Page[carepost.ThreadRecord]{}, err
		}
		page.Items = append(page.Items, threadFrom(it))
	}
	return page, nil
}

func (s *Store) Inbox(ctx context.Context, pid string, owner carepost.Owner, f carepost.InboxFilter, after map[string]string, limit int) (carepost.Page[carepost.ThreadRecord], error) {
	state := "A#"
	if f.Closed {
		state = "C#"
	}
	if f.Priority > 0 {
		state += strconv.Itoa(9-int(f.Priority)) + "#"
	}
	values := map[string]types.AttributeValue{
		":o": &types.AttributeValueMemberS{Value: ownerPK(pid, owner)},
		":s": &types.AttributeValueMemberS{Value: state},
	}
	var filters []string
	names := map[string]string{}
	if f.Status != "" {
		filters = append(filters, "#st = :st")
		names["#st"] = "status"
		values[":st"] = &types.AttributeValueMemberS{Value: string(f.Status)}
	}
	if f.Category != "" {
		filters = append(filters, "category = :c")
		values[":c"] = &types.AttributeValueMemberS{Value: string(f.Category)}
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(resources.IndexInbox),
		KeyConditionExpression:    aws.String("gsi2pk = :o AND begins_with(gsi2sk, :s)"),
		ExpressionAttributeValues: values,
		ExclusiveStartKey:         fromStringMap(after),
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
		if len(names) > 0 {
			in.ExpressionAttributeNames = names
		}
	}
	// With a filter, DynamoDB's Limit counts items read before filtering;
	// keep reading until the page is full or the index ends.
	page := carepost.Page[carepost.ThreadRecord]{}
	for {
		in.Limit = aws.Int32(int32(limit - len(page.Items)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return page, mapErr(err, "inbox")
		}
		for _, it := range out.Items {
			if err := checkThreadKey(it); err != nil {
				return page, err
			}
			page.Items = append(page.Items, threadFrom(it))
		}
		page.Next = toStringMap(out.LastEvaluatedKey)
		if out.LastEvaluatedKey == nil || len(page.Items) >= limit {
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func (s *Store) PutReadReceipt(ctx context.Context, pid, tid string, r carepost.ReadReceipt) error {
	return s.putDoc(ctx, threadPK(pid, tid), "READ#"+r.Subject, r, "", "read receipt")
}

func (s *Store) ReadReceipts(ctx context.Context, pid, tid string) ([]carepost.ReadReceipt, error) {
	var rs []carepost.ReadReceipt
	err := s.queryDocs(ctx, threadPK(pid, tid), "READ#", func(doc string) error {
		var r carepost.ReadReceipt
		if json.Unmarshal([]byte(doc), &r) == nil {
			rs = append(rs, r)
		}
		return nil
	})
	return rs, err
}

// queryPrefix calls fn with every item of pk whose sort key starts with
// prefix, page by page, with strongly consistent reads; what names the items
// in errors.
func (s *Store) queryPrefix(ctx context.Context, pk, prefix, what string, fn func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
			":p":  &types.AttributeValueMemberS{Value: prefix},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return mapErr(err, what)
		}
		for _, it := range out.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) MarkDone(ctx context.Context, pid, tid, step, mid string, ttl time.Duration) (bool, error) {
	item := key(threadPK(pid, tid), "DONE#"+step+"#"+mid)
	item[resources.AttrTTL] = &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(ttl).Unix(), 10)}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		if carepost.ErrorCode(mapErr(err, "")) == carepost.CodeConflict {
			return false, nil
		}
		return false, mapErr(err, "worker marker")
	}
	return true, nil
}

// UnmarkDone removes a marker so a failed step can run again on redelivery.
func (s *Store) UnmarkDone(ctx context.Context, pid, tid, step, mid string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(threadPK(pid, tid), "DONE#"+step+"#"+mid)})
	return mapErr(err, "worker marker")
}

// ThreadsDue implements carepost.Store by walking every owner's active
// inbox entries of the practice. Owners are the practice's pools and staff.
func (s *Store) ThreadsDue(ctx context.Context, pid string, before time.Time) ([]carepost.ThreadRecord, error) {
	p, err := s.Practice(ctx, pid)
	if err != nil {
		return nil, err
	}
	owners := map[carepost.Owner]bool{carepost.PoolOwner("frontdesk"): true}
	for _, pl := range p.Pools {
		owners[carepost.PoolOwner(pl.Name)] = true
	}
	for sub := range p.Staff {
		owners[carepost.UserOwner(sub)] = true
	}
	for _, o := range p.Routing {
		owners[o] = true
	}
	var due []carepost.ThreadRecord
	for o := range owners {
		var after map[string]string
		for {
			page, err := s.Inbox(ctx, pid, o, carepost.InboxFilter{}, after, 100)
			if err != nil {
				return nil, err
			}
			for _, t := range page.Items {
				if (!t.Due.IsZero() && t.Due.Before(before)) || (!t.PageDue.IsZero() && t.PageDue.Before(before)) || !t.Triaged {
					due = append(due, t)
				}
			}
			if page.Next == nil {
				break
			}
			after = page.Next
		}
	}
	return due, nil
}

func asCCF(err error, target **types.ConditionalCheckFailedException) bool {
	return errors.As(err, target)
}
