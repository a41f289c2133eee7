package dynamo

// Campaigns, their recipients, the address suppression list and the patient
// notification flags the mail handlers set.
//
//	campaign     PRAC#{pid}#CAMP#{cid}    META       gsi1: PRAC#{pid}#CAMPAIGNS / {created}#{cid}; doc, state, n_* counters, fan-out lease
//	recipient    PRAC#{pid}#CAMP#{cid}    RCPT#{rid} state, attempts, contact (sealed); rid is a keyed hash of the address
//	suppression  PRAC#{pid}#SUPP#{hash}   SUPP       reasons (unsubscribed, bounced, complained); hash is a keyed hash of the address
//
// Counters are changed with ADD, so concurrent senders never lose an update;
// recipient states change only by conditional writes (see carepost.Recipient).

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/resources"
)

func campaignPK(pid, cid string) string  { return "PRAC#" + pid + "#CAMP#" + cid }
func campaignListPK(pid string) string   { return "PRAC#" + pid + "#CAMPAIGNS" }
func suppressionPK(pid, h string) string { return "PRAC#" + pid + "#SUPP#" + h }
func recipientSK(rid string) string      { return "RCPT#" + rid }

// counterAttrs names the counter attributes of a campaign item.
var counterAttrs = []string{"n_total", "n_sending", "n_sent", "n_delivered", "n_bounced", "n_complained", "n_optedOut", "n_skipped", "n_failed"}

func counterValues(c carepost.CampaignCounts) []int {
	return []int{c.Total, c.Sending, c.Sent, c.Delivered, c.Bounced, c.Complained, c.OptedOut, c.Skipped, c.Failed}
}

func countsFrom(m map[string]types.AttributeValue) carepost.CampaignCounts {
	n := func(k string) int { return int(num(m, k)) }
	return carepost.CampaignCounts{Total: n("n_total"), Sending: n("n_sending"), Sent: n("n_sent"), Delivered: n("n_delivered"),
		Bounced: n("n_bounced"), Complained: n("n_complained"), OptedOut: n("n_optedOut"), Skipped: n("n_skipped"), Failed: n("n_failed")}
}

func unixMilli(t time.Time) types.AttributeValue {
	if t.IsZero() {
		return nattr(0)
	}
	return nattr(t.UnixMilli())
}

func fromMilli(m map[string]types.AttributeValue, k string) time.Time {
	v := num(m, k)
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// campaignDoc is the part of a campaign written as one JSON document.
func campaignDoc(c carepost.Campaign) (string, error) {
	c.Counts = carepost.CampaignCounts{}
	b, err := json.Marshal(c)
	return string(b), err
}

func campaignFrom(m map[string]types.AttributeValue) (carepost.Campaign, error) {
	var c carepost.Campaign
	if err := json.Unmarshal([]byte(str(m, "doc")), &c); err != nil {
		return c, carepost.Wrap(carepost.CodeInternal, err, "corrupt campaign")
	}
	c.State = carepost.CampaignState(str(m, "state"))
	c.Counts = countsFrom(m)
	c.NeedsFanout = boolean(m, "needsFanout")
	c.FanoutLease = fromMilli(m, "fanoutLease")
	c.LastFanout = fromMilli(m, "lastFanout")
	c.Started = fromMilli(m, "started")
	c.Finished = fromMilli(m, "finished")
	c.Updated = fromMilli(m, "updatedAt")
	c.Progress = fromMilli(m, "progressAt")
	return c, nil
}

// PutCampaign creates a campaign; an existing id is CodeConflict.
func (s *Store) PutCampaign(ctx context.Context, c carepost.Campaign) error {
	doc, err := campaignDoc(c)
	if err != nil {
		return err
	}
	item := map[string]types.AttributeValue{
		resources.AttrPK: sattr(campaignPK(c.PracticeID, c.ID)), resources.AttrSK: sattr("META"),
		resources.AttrGSI1PK: sattr(campaignListPK(c.PracticeID)), resources.AttrGSI1SK: sattr(tkey(c.Created) + "#" + c.ID),
		"doc": sattr(doc), "state": sattr(string(c.State)), "needsFanout": &types.AttributeValueMemberBOOL{Value: false},
		"fanoutLease": nattr(0), "lastFanout": nattr(0), "updatedAt": unixMilli(c.Updated),
	}
	for i, v := range counterValues(c.Counts) {
		item[counterAttrs[i]] = nattr(int64(v))
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	return mapErr(err, "campaign")
}

// Campaign reads one campaign; another practice's is not found.
func (s *Store) Campaign(ctx context.Context, pid, cid string) (carepost.Campaign, error) {
	if pid == "" || cid == "" {
		return carepost.Campaign{}, carepost.NotFound("campaign")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(campaignPK(pid, cid), "META"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return carepost.Campaign{}, mapErr(err, "campaign")
	}
	if out.Item == nil {
		return carepost.Campaign{}, carepost.NotFound("campaign")
	}
	return campaignFrom(out.Item)
}

// Campaigns lists a practice's campaigns, newest first.
func (s *Store) Campaigns(ctx context.Context, pid string, after map[string]string, limit int) (carepost.Page[carepost.Campaign], error) {
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(resources.IndexByPatient),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sattr(campaignListPK(pid))},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit)), ExclusiveStartKey: fromStringMap(after),
	})
	if err != nil {
		return carepost.Page[carepost.Campaign]{}, mapErr(err, "campaigns")
	}
	page := carepost.Page[carepost.Campaign]{Next: toStringMap(out.LastEvaluatedKey)}
	for _, it := range out.Items {
		c, err := campaignFrom(it)
		if err != nil {
			return page, err
		}
		page.Items = append(page.Items, c)
	}
	return page, nil
}

// ChangeCampaign applies ch; CodeConflict when the campaign is in another
// state, CodeNotFound when it does not exist.
func (s *Store) ChangeCampaign(ctx context.Context, pid, cid string, ch carepost.CampaignChange) (carepost.Campaign, error) {
	names := map[string]string{"#st": "state"}
	vals := map[string]types.AttributeValue{":now": unixMilli(ch.Now)}
	sets := []string{"updatedAt = :now"}
	var in []string
	for i, f := range ch.From {
		k := ":f" + strconv.Itoa(i)
		vals[k] = sattr(string(f))
		in = append(in, k)
	}
	if ch.To != "" {
		sets = append(sets, "#st = :to")
		vals[":to"] = sattr(string(ch.To))
	}
	if ch.Doc != nil {
		doc, err := campaignDoc(*ch.Doc)
		if err != nil {
			return carepost.Campaign{}, err
		}
		sets = append(sets, "doc = :doc")
		vals[":doc"] = sattr(doc)
	}
	if ch.NeedsFanout != nil {
		sets = append(sets, "needsFanout = :nf")
		vals[":nf"] = &types.AttributeValueMemberBOOL{Value: *ch.NeedsFanout}
	}
	if !ch.Started.IsZero() {
		sets = append(sets, "started = :started")
		vals[":started"] = unixMilli(ch.Started)
	}
	if !ch.Finished.IsZero() {
		sets = append(sets, "finished = :fin")
		vals[":fin"] = unixMilli(ch.Finished)
	}
	cond := "attribute_exists(pk)"
	if len(in) > 0 {
		cond += " AND #st IN (" + strings.Join(in, ", ") + ")"
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(campaignPK(pid, cid), "META"),
		UpdateExpression: aws.String("SET " + strings.Join(sets, ", ")), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
		ReturnValues: types.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if asCCF(err, &ccf) && ccf.Item == nil {
			return carepost.Campaign{}, carepost.NotFound("campaign")
		}
		if asCCF(err, &ccf) {
			return carepost.Campaign{}, carepost.Errorf(carepost.CodeConflict, "the campaign is %s; that is not possible now", str(ccf.Item, "state"))
		}
		return carepost.Campaign{}, mapErr(err, "campaign")
	}
	return campaignFrom(out.Attributes)
}

// AddCampaignCounts adds delta to the counters (atomic ADD) and records
// the time of this progress.
func (s *Store) AddCampaignCounts(ctx context.Context, pid, cid string, delta carepost.CampaignCounts) error {
	var adds []string
	vals := map[string]types.AttributeValue{":now": unixMilli(time.Now())}
	for i, v := range counterValues(delta) {
		if v != 0 {
			adds = append(adds, counterAttrs[i]+" :d"+strconv.Itoa(i))
			vals[":d"+strconv.Itoa(i)] = nattr(int64(v))
		}
	}
	if len(adds) == 0 {
		return nil
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(campaignPK(pid, cid), "META"),
		UpdateExpression: aws.String("ADD " + strings.Join(adds, ", ") + " SET progressAt = :now"), ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: vals,
	})
	return mapErr(err, "campaign counters")
}

// SetCampaignCounts replaces the counters (after an exact recount).
func (s *Store) SetCampaignCounts(ctx context.Context, pid, cid string, c carepost.CampaignCounts) error {
	var sets []string
	vals := map[string]types.AttributeValue{}
	for i, v := range counterValues(c) {
		sets = append(sets, counterAttrs[i]+" = :c"+strconv.Itoa(i))
		vals[":c"+strconv.Itoa(i)] = nattr(int64(v))
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(campaignPK(pid, cid), "META"),
		UpdateExpression: aws.String("SET " + strings.Join(sets, ", ")), ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: vals,
	})
	return mapErr(err, "campaign counters")
}

// AcquireFanout takes the campaign's fan-out lease while it is running and
// no other fan-out holds the lease; it clears NeedsFanout. ok is false when
// the lease is held or the campaign is not running.
func (s *Store) AcquireFanout(ctx context.Context, pid, cid string, now time.Time, lease time.Duration) (carepost.Campaign, bool, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(campaignPK(pid, cid), "META"),
		UpdateExpression:         aws.String("SET fanoutLease = :until, needsFanout = :f"),
		ConditionExpression:      aws.String("#st = :running AND fanoutLease < :now"),
		ExpressionAttributeNames: map[string]string{"#st": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": unixMilli(now.Add(lease)), ":now": unixMilli(now), ":f": &types.AttributeValueMemberBOOL{Value: false},
			":running": sattr(string(carepost.CampaignRunning)),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		if carepost.ErrorCode(mapErr(err, "")) == carepost.CodeConflict {
			return carepost.Campaign{}, false, nil
		}
		return carepost.Campaign{}, false, mapErr(err, "campaign")
	}
	c, err := campaignFrom(out.Attributes)
	return c, err == nil, err
}

// RenewFanout extends a held lease.
func (s *Store) RenewFanout(ctx context.Context, pid, cid string, now time.Time, lease time.Duration) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(campaignPK(pid, cid), "META"),
		UpdateExpression:          aws.String("SET fanoutLease = :until"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":until": unixMilli(now.Add(lease))},
	})
	return mapErr(err, "campaign")
}

// ReleaseFanout ends the lease and records when the fan-out finished.
func (s *Store) ReleaseFanout(ctx context.Context, pid, cid string, now time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(campaignPK(pid, cid), "META"),
		UpdateExpression:          aws.String("SET fanoutLease = :zero, lastFanout = :now"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": nattr(0), ":now": unixMilli(now)},
	})
	return mapErr(err, "campaign")
}

// ---- recipients ---------------------------------------------------------

func recipientAttrs(r carepost.Recipient) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{
		resources.AttrPK: sattr(campaignPK(r.PracticeID, r.CampaignID)), resources.AttrSK: sattr(recipientSK(r.ID)),
		"id": sattr(r.ID), "state": sattr(string(r.State)), "attempts": nattr(int64(r.Attempts)), "line": nattr(int64(r.Line)),
	}
	if r.PatientID != "" {
		m["patientId"] = sattr(r.PatientID)
	}
	if len(r.ContactSealed) > 0 {
		m["contact"] = &types.AttributeValueMemberB{Value: r.ContactSealed}
	}
	return m
}

func recipientFrom(pid, cid string, m map[string]types.AttributeValue) carepost.Recipient {
	r := carepost.Recipient{
		PracticeID: pid, CampaignID: cid, ID: str(m, "id"), PatientID: str(m, "patientId"), Line: int(num(m, "line")),
		State: carepost.RecipientState(str(m, "state")), Attempts: int(num(m, "attempts")),
		Claimed: fromMilli(m, "claimed"), Sent: fromMilli(m, "sentAt"), MailID: str(m, "mailId"), Reason: str(m, "reason"),
		ContactSealed: bin(m, "contact"),
	}
	if d := strs(m, "delivery"); len(d) > 0 {
		r.Delivery = strings.Join(d, ",")
	}
	return r
}

// PutRecipient adds a recipient; the same id again (the same address in the
// same campaign) is CodeConflict and writes nothing.
func (s *Store) PutRecipient(ctx context.Context, r carepost.Recipient) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: recipientAttrs(r), ConditionExpression: aws.String("attribute_not_exists(pk)")})
	return mapErr(err, "recipient")
}

// Recipient reads one recipient.
func (s *Store) Recipient(ctx context.Context, pid, cid, rid string) (carepost.Recipient, error) {
	if pid == "" || cid == "" || rid == "" {
		return carepost.Recipient{}, carepost.NotFound("recipient")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(campaignPK(pid, cid), recipientSK(rid)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return carepost.Recipient{}, mapErr(err, "recipient")
	}
	if out.Item == nil {
		return carepost.Recipient{}, carepost.NotFound("recipient")
	}
	return recipientFrom(pid, cid, out.Item), nil
}

// Recipients lists a campaign's recipients in id order, optionally only
// those in state; idsOnly skips the sealed contact (for fan-out and counts).
func (s *Store) Recipients(ctx context.Context, pid, cid string, state carepost.RecipientState, idsOnly bool, after map[string]string, limit int) (carepost.Page[carepost.Recipient], error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :r)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": sattr(campaignPK(pid, cid)), ":r": sattr("RCPT#"),
		},
		ExclusiveStartKey: fromStringMap(after),
		Limit:             aws.Int32(int32(limit)),
		ConsistentRead:    aws.Bool(true),
	}
	if state != "" {
		in.FilterExpression = aws.String("#st = :st")
		in.ExpressionAttributeNames = map[string]string{"#st": "state"}
		in.ExpressionAttributeValues[":st"] = sattr(string(state))
	}
	if idsOnly {
		if in.ExpressionAttributeNames == nil {
			in.ExpressionAttributeNames = map[string]string{}
		}
		in.ExpressionAttributeNames["#st"] = "state"
		in.ProjectionExpression = aws.String("pk, sk, id, #st, claimed, delivery, line")
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return carepost.Page[carepost.Recipient]{}, mapErr(err, "recipients")
	}
	page := carepost.Page[carepost.Recipient]{Next: toStringMap(out.LastEvaluatedKey)}
	for _, it := range out.Items {
		page.Items = append(page.Items, recipientFrom(pid, cid, it))
	}
	return page, nil
}

// ChangeRecipient applies ch only while the recipient is in ch.From: the
// one place a recipient's fate is decided. CodeConflict otherwise.
func (s *Store) ChangeRecipient(ctx context.Context, pid, cid, rid string, ch carepost.RecipientChange) error {
	vals := map[string]types.AttributeValue{":from": sattr(string(ch.From)), ":to": sattr(string(ch.To))}
	sets := []string{"#st = :to"}
	var add []string
	if !ch.Claimed.IsZero() {
		sets = append(sets, "claimed = :claimed")
		vals[":claimed"] = unixMilli(ch.Claimed)
		add = append(add, "attempts :one")
		vals[":one"] = nattr(1)
	}
	if !ch.Sent.IsZero() {
		sets = append(sets, "sentAt = :sent")
		vals[":sent"] = unixMilli(ch.Sent)
	}
	if ch.MailID != "" {
		sets = append(sets, "mailId = :mid")
		vals[":mid"] = sattr(ch.MailID)
	}
	if ch.Reason != "" {
		sets = append(sets, "reason = :reason")
		vals[":reason"] = sattr(ch.Reason)
	}
	cond := "#st = :from"
	if !ch.ClaimedBefore.IsZero() {
		cond += " AND claimed < :before"
		vals[":before"] = unixMilli(ch.ClaimedBefore)
	}
	expr := "SET " + strings.Join(sets, ", ")
	if len(add) > 0 {
		expr += " ADD " + strings.Join(add, ", ")
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(campaignPK(pid, cid), recipientSK(rid)),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#st": "state"}, ExpressionAttributeValues: vals,
	})
	return mapErr(err, "recipient")
}

// AddDelivery records an SES delivery event ("delivered", "bounced",
// "complained") once per kind; added is false when it was already recorded
// (SNS delivers at least once).
func (s *Store) AddDelivery(ctx context.Context, pid, cid, rid, event string) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(campaignPK(pid, cid), recipientSK(rid)),
		UpdateExpression:          aws.String("ADD delivery :set"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND NOT contains(delivery, :ev)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":set": &types.AttributeValueMemberSS{Value: []string{event}}, ":ev": sattr(event)},
	})
	if err != nil {
		if carepost.ErrorCode(mapErr(err, "")) == carepost.CodeConflict {
			return false, nil
		}
		return false, mapErr(err, "recipient")
	}
	return true, nil
}

// ---- suppression list -----------------------------------------------------

// Suppress adds reason ("unsubscribed", "bounced", "complained") to the
// address's suppression item; addrHash is a keyed hash, never the address.
func (s *Store) Suppress(ctx context.Context, pid, addrHash, reason string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(suppressionPK(pid, addrHash), "SUPP"),
		UpdateExpression:          aws.String("ADD reasons :r SET updatedAt = :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": &types.AttributeValueMemberSS{Value: []string{reason}}, ":at": sattr(tkey(at))},
	})
	return mapErr(err, "suppression")
}

// Suppression returns the reasons an address is suppressed (none: empty).
func (s *Store) Suppression(ctx context.Context, pid, addrHash string) ([]string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(suppressionPK(pid, addrHash), "SUPP"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, mapErr(err, "suppression")
	}
	return strs(out.Item, "reasons"), nil
}

// Unsuppress removes an address from the list (the patient fixed it).
func (s *Store) Unsuppress(ctx context.Context, pid, addrHash string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(suppressionPK(pid, addrHash), "SUPP")})
	return mapErr(err, "suppression")
}

// ---- patient flags set by the mail handlers --------------------------------

// SetPatientEmailProblem marks (or, with "", clears) a problem with the
// patient's address, without touching the rest of the profile.
func (s *Store) SetPatientEmailProblem(ctx context.Context, pid, patid, problem string) error {
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(patientPK(pid, patid), "PROFILE"),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	}
	if problem == "" {
		in.UpdateExpression = aws.String("REMOVE emailProblem")
	} else {
		in.UpdateExpression = aws.String("SET emailProblem = :p")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":p": sattr(problem)}
	}
	_, err := s.db.UpdateItem(ctx, in)
	if carepost.ErrorCode(mapErr(err, "")) == carepost.CodeConflict {
		return carepost.NotFound("patient")
	}
	return mapErr(err, "patient")
}

// SetPatientCampaignOptOut records a campaign unsubscribe on the profile.
func (s *Store) SetPatientCampaignOptOut(ctx context.Context, pid, patid string, optOut bool) error {
	return s.setPatientFlag(ctx, pid, patid, "campaignOptOut", optOut)
}

// SetPatientEmailNotifications records the patient's choice of new-message
// e-mails on the profile.
func (s *Store) SetPatientEmailNotifications(ctx context.Context, pid, patid string, on bool) error {
	return s.setPatientFlag(ctx, pid, patid, "emailNotifications", on)
}

// setPatientFlag sets one boolean attribute of an existing profile.
func (s *Store) setPatientFlag(ctx context.Context, pid, patid, attr string, v bool) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(patientPK(pid, patid), "PROFILE"),
		UpdateExpression:          aws.String("SET #f = :v"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames:  map[string]string{"#f": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberBOOL{Value: v}},
	})
	if carepost.ErrorCode(mapErr(err, "")) == carepost.CodeConflict {
		return carepost.NotFound("patient")
	}
	return mapErr(err, "patient")
}

// ---- notification windows ---------------------------------------------------

// ClaimNotifyWindow claims the right to notify recipient about thread tid
// until now+window: a conditional write that fails while an earlier claim
// is still running. The item expires by TTL.
func (s *Store) ClaimNotifyWindow(ctx context.Context, pid, tid, recipient string, now time.Time, window time.Duration) (bool, error) {
	return s.claimWindow(ctx, threadPK(pid, tid), "NOTIFYWIN#"+recipient, now, window)
}

// ReleaseNotifyWindow drops a claim whose e-mail could not be sent.
func (s *Store) ReleaseNotifyWindow(ctx context.Context, pid, tid, recipient string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(threadPK(pid, tid), "NOTIFYWIN#"+recipient)})
	return mapErr(err, "notification window")
}

// ClaimPoolWindow is ClaimNotifyWindow for a staff member's "new work in
// pool" notices.
func (s *Store) ClaimPoolWindow(ctx context.Context, pid, pool, sub string, now time.Time, window time.Duration) (bool, error) {
	return s.claimWindow(ctx, "PRAC#"+pid+"#POOL#"+pool, "NOTIFYWIN#"+sub, now, window)
}

func (s *Store) claimWindow(ctx context.Context, pk, sk string, now time.Time, window time.Duration) (bool, error) {
	until := now.Add(window)
	item := key(pk, sk)
	item["until"] = unixMilli(until)
	item[resources.AttrTTL] = nattr(until.Add(time.Hour).Unix())
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		// TTL deletion is lazy (and not emulated locally): compare times.
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #u <= :now"),
		ExpressionAttributeNames:  map[string]string{"#u": "until"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": unixMilli(now)},
	})
	if err != nil {
		if carepost.ErrorCode(mapErr(err, "")) == carepost.CodeConflict {
			return false, nil
		}
		return false, mapErr(err, "notification window")
	}
	return true, nil
}
