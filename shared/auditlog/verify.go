package auditlog

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/resources"
)

// VerifyReport is the result of walking one chain.
type VerifyReport struct {
	Events   int64  // events read
	FirstBad int64  // seq of the first event found wrong, 0 when OK
	Problem  string // what was wrong with it, "" when OK
	OK       bool
	// Head is the hash of the newest event (Genesis for an empty chain).
	// Compare it with a copy kept outside the table to detect a dropped or
	// rewritten tail, which the chain alone cannot reveal.
	Head string
}

// Problems Verify reports.
const (
	ProblemMissing   = "event missing: seq gap (deleted?)"
	ProblemChanged   = "event content does not match its hash (changed)"
	ProblemLink      = "prev does not match the hash of the event before (deleted, reordered or rewritten)"
	ProblemMoved     = "seq attribute does not match the sort key (moved or reordered)"
	ProblemIndexKeys = "patient index keys do not match the event (hidden or moved between patients)"
	ProblemMalformed = "malformed event"
)

// Verify walks a practice's chain from seq 1 with strongly consistent reads
// and reports the first event that is missing, changed, moved or not linked
// to its predecessor. It keeps walking after a problem, so Events always
// counts every stored event. Errors are for failed reads only; a broken
// chain is a report with OK false.
func (l *Log) Verify(ctx context.Context, practiceID string) (VerifyReport, error) {
	if err := checkID("practice_id", practiceID, true); err != nil {
		return VerifyReport{}, err
	}
	r := VerifyReport{Head: Genesis}
	bad := func(seq int64, problem string) {
		if r.FirstBad == 0 {
			r.FirstBad, r.Problem = seq, problem
		}
	}
	want := int64(1) // seq expected next
	in := &dynamodb.QueryInput{
		TableName:                aws.String(l.table),
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ExpressionAttributeNames: map[string]string{"#pk": resources.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(chainPK(practiceID)),
		},
		ConsistentRead: aws.Bool(true),
	}
	for {
		out, err := l.db.Query(ctx, in)
		if err != nil {
			return VerifyReport{}, dbError(err, "read the audit chain")
		}
		for _, item := range out.Items {
			r.Events++
			sk, _ := item[resources.AttrSK].(*types.AttributeValueMemberS)
			var seq int64
			ok := sk != nil
			if ok {
				seq, ok = parseSeqSK(sk.Value)
			}
			if !ok {
				bad(want, ProblemMalformed+": sort key")
				continue
			}
			if seq != want {
				bad(want, ProblemMissing)
			}
			want = seq + 1
			e, err := fromItem(practiceID, item)
			if err != nil {
				bad(seq, ProblemMalformed+": "+err.Error())
				r.Head = "" // unknown; the next link will not match
				continue
			}
			switch {
			case e.Seq != seq:
				bad(seq, ProblemMoved)
			case e.Prev != r.Head:
				bad(seq, ProblemLink)
			case Hash(e) != e.Hash:
				bad(seq, ProblemChanged)
			case !indexKeysMatch(practiceID, e, item):
				bad(seq, ProblemIndexKeys)
			}
			r.Head = e.Hash
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	r.OK = r.FirstBad == 0
	return r, nil
}

// indexKeysMatch reports whether the gsi1 keys of item are exactly those
// toItem derives from e: present with the right values when the event names
// a patient, absent otherwise. Without this check an edited gsi1pk would hide
// an event from "who read my messages" while the chain still verified.
func indexKeysMatch(practiceID string, e Event, item map[string]types.AttributeValue) bool {
	pk, hasPK := item[resources.AttrGSI1PK]
	sk, hasSK := item[resources.AttrGSI1SK]
	if e.PatientID == "" {
		return !hasPK && !hasSK
	}
	return stringValue(pk) == patientPK(practiceID, e.PatientID) && stringValue(sk) == patientSK(e.Time, e.Seq)
}

// stringValue returns the value of a string attribute, "" for anything else.
func stringValue(av types.AttributeValue) string {
	if s, ok := av.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
