package dynamo

// Items of issue 7 that live beside a thread or a practice:
//
//	quick reply     PRAC#{pid}#TPL          {scope}#{id}        scope "practice" or "user:{sub}"; text in the clear (no patient data)
//	attachment      PRAC#{pid}#TH#{tid}     ATT#{aid}           state, uploader, declared type and size, message id
//	time entry      PRAC#{pid}#TH#{tid}     TIME#{at}#{eid}     minutes, staff subject, role
//	legal hold      PRAC#{pid}#TH#{tid}     HOLD                on/off, by, when
//
// Attachments, time entries and holds share the thread's partition, so the
// retention job deletes them with the thread.

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
)

func templatePK(pid string) string { return "PRAC#" + pid + "#TPL" }

func templateSK(scope, owner, id string) string {
	if scope == carepost.ScopePersonal {
		return "user:" + owner + "#" + id
	}
	return carepost.ScopePractice + "#" + id
}

// PutQuickReply creates or replaces a template. With create it is
// conditional on absence (CodeConflict when the id exists).
func (s *Store) PutQuickReply(ctx context.Context, q carepost.QuickReply, create bool) error {
	cond := "attribute_exists(pk)"
	if create {
		cond = "attribute_not_exists(pk)"
	}
	return s.putDoc(ctx, templatePK(q.PracticeID), templateSK(q.Scope, q.Owner, q.ID), q, cond, "quick reply")
}

// QuickReply reads one template.
func (s *Store) QuickReply(ctx context.Context, pid, scope, owner, id string) (carepost.QuickReply, error) {
	var q carepost.QuickReply
	err := s.getDoc(ctx, templatePK(pid), templateSK(scope, owner, id), &q, "quick reply")
	q.PracticeID = pid
	return q, err
}

// DeleteQuickReply removes a template; a missing one is not found.
func (s *Store) DeleteQuickReply(ctx context.Context, pid, scope, owner, id string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(templatePK(pid), templateSK(scope, owner, id)),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if carepost.ErrorCode(mapErr(err, "quick reply")) == carepost.CodeConflict {
		return carepost.NotFound("quick reply")
	}
	return mapErr(err, "quick reply")
}

// QuickReplies lists the practice's templates and, when owner is set, that
// staff member's personal ones.
func (s *Store) QuickReplies(ctx context.Context, pid, owner string) ([]carepost.QuickReply, error) {
	prefixes := []string{carepost.ScopePractice + "#"}
	if owner != "" {
		prefixes = append(prefixes, "user:"+owner+"#")
	}
	var out []carepost.QuickReply
	for _, prefix := range prefixes {
		err := s.queryDocs(ctx, templatePK(pid), prefix, func(doc string) error {
			var q carepost.QuickReply
			if err := json.Unmarshal([]byte(doc), &q); err != nil {
				return carepost.Wrap(carepost.CodeInternal, err, "corrupt quick reply")
			}
			q.PracticeID = pid
			out = append(out, q)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// queryDocs calls fn with the doc attribute of every item of pk whose sort
// key starts with prefix.
func (s *Store) queryDocs(ctx context.Context, pk, prefix string, fn func(doc string) error) error {
	return s.queryPrefix(ctx, pk, prefix, "records", func(it map[string]types.AttributeValue) error {
		return fn(str(it, "doc"))
	})
}

// ---- attachments ------------------------------------------------------------

func attachmentAttrs(a carepost.Attachment) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{
		"pk": sattr(threadPK(a.PracticeID, a.ThreadID)), "sk": sattr("ATT#" + a.ID),
		"id": sattr(a.ID), "state": sattr(string(a.State)), "uploader": sattr(a.UploaderID), "uploaderRole": sattr(string(a.UploaderRole)),
		"contentType": sattr(a.ContentType), "size": &types.AttributeValueMemberN{Value: strconv.FormatInt(a.Size, 10)},
		"created": sattr(tkey(a.Created)), "uploadBy": sattr(tkey(a.UploadBy)),
	}
	if a.MessageID != "" {
		m["messageId"] = sattr(a.MessageID)
	}
	if !a.Completed.IsZero() {
		m["completed"] = sattr(tkey(a.Completed))
	}
	return m
}

func attachmentFrom(pid, tid string, m map[string]types.AttributeValue) carepost.Attachment {
	return carepost.Attachment{
		PracticeID: pid, ThreadID: tid, ID: str(m, "id"), State: carepost.AttachmentState(str(m, "state")),
		UploaderID: str(m, "uploader"), UploaderRole: carepost.Role(str(m, "uploaderRole")), ContentType: str(m, "contentType"),
		Size: num(m, "size"), MessageID: str(m, "messageId"), Created: tm(m, "created"), UploadBy: tm(m, "uploadBy"), Completed: tm(m, "completed"),
	}
}

// PutAttachment records a new attachment; an existing id is CodeConflict.
func (s *Store) PutAttachment(ctx context.Context, a carepost.Attachment) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: attachmentAttrs(a),
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	return mapErr(err, "attachment")
}

// Attachment reads one attachment of a thread.
func (s *Store) Attachment(ctx context.Context, pid, tid, aid string) (carepost.Attachment, error) {
	if pid == "" || tid == "" || aid == "" {
		return carepost.Attachment{}, carepost.NotFound("attachment")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(threadPK(pid, tid), "ATT#"+aid), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return carepost.Attachment{}, mapErr(err, "attachment")
	}
	if out.Item == nil {
		return carepost.Attachment{}, carepost.NotFound("attachment")
	}
	return attachmentFrom(pid, tid, out.Item), nil
}

// ThreadAttachments lists a thread's attachments in id order.
func (s *Store) ThreadAttachments(ctx context.Context, pid, tid string) ([]carepost.Attachment, error) {
	var out []carepost.Attachment
	err := s.queryPrefix(ctx, threadPK(pid, tid), "ATT#", "attachments", func(it map[string]types.AttributeValue) error {
		out = append(out, attachmentFrom(pid, tid, it))
		return nil
	})
	return out, err
}

// ChangeAttachment applies a conditional state change (CodeConflict when
// the attachment is not in c.From, or is linked to another message).
func (s *Store) ChangeAttachment(ctx context.Context, pid, tid, aid string, c carepost.AttachmentChange) error {
	names := map[string]string{"#st": "state"}
	sets := []string{"#st = :to"}
	cond := []string{"attribute_exists(pk)", "#st = :from"}
	values := map[string]types.AttributeValue{":to": sattr(string(c.To)), ":from": sattr(string(c.From))}
	if c.Size > 0 {
		sets = append(sets, "#size = :size")
		names["#size"] = "size"
		values[":size"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(c.Size, 10)}
	}
	if !c.Completed.IsZero() {
		sets = append(sets, "#completed = :c")
		names["#completed"] = "completed"
		values[":c"] = sattr(tkey(c.Completed))
	}
	if c.MessageID != "" {
		sets = append(sets, "#mid = :m")
		names["#mid"] = "messageId"
		values[":m"] = sattr(c.MessageID)
	}
	if c.FromMessage != "" {
		cond = append(cond, "(attribute_not_exists(#mid) OR #mid = :fm)")
		names["#mid"] = "messageId"
		values[":fm"] = sattr(c.FromMessage)
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(threadPK(pid, tid), "ATT#"+aid),
		UpdateExpression:          aws.String("SET " + strings.Join(sets, ", ")),
		ConditionExpression:       aws.String(strings.Join(cond, " AND ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	return mapErr(err, "attachment")
}

// DeleteAttachment removes an attachment record (a rejected upload).
func (s *Store) DeleteAttachment(ctx context.Context, pid, tid, aid string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(threadPK(pid, tid), "ATT#"+aid)})
	return mapErr(err, "attachment")
}

// ---- e-visit time -----------------------------------------------------------

// PutTimeEntry records time spent on a thread; an entry with the same id
// and time exists already is CodeConflict (a retry).
func (s *Store) PutTimeEntry(ctx context.Context, pid, tid string, e carepost.TimeEntry) error {
	return s.putDoc(ctx, threadPK(pid, tid), "TIME#"+tkey(e.At)+"#"+e.ID, e, "attribute_not_exists(pk)", "time entry")
}

// TimeEntries lists a thread's time entries, oldest first.
func (s *Store) TimeEntries(ctx context.Context, pid, tid string) ([]carepost.TimeEntry, error) {
	var out []carepost.TimeEntry
	err := s.queryDocs(ctx, threadPK(pid, tid), "TIME#", func(doc string) error {
		var e carepost.TimeEntry
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			return carepost.Wrap(carepost.CodeInternal, err, "corrupt time entry")
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// ---- legal hold ---------------------------------------------------------------

// PutLegalHold sets or lifts a thread's legal hold.
func (s *Store) PutLegalHold(ctx context.Context, pid, tid string, h carepost.LegalHold) error {
	return s.putDoc(ctx, threadPK(pid, tid), "HOLD", h, "", "legal hold")
}

// LegalHold reads a thread's hold (Set false when none was ever set).
func (s *Store) LegalHold(ctx context.Context, pid, tid string) (carepost.LegalHold, error) {
	var h carepost.LegalHold
	err := s.getDoc(ctx, threadPK(pid, tid), "HOLD", &h, "legal hold")
	if carepost.ErrorCode(err) == carepost.CodeNotFound {
		return carepost.LegalHold{}, nil
	}
	h.Set = err == nil
	return h, err
}
