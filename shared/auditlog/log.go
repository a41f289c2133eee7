package auditlog

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/resources"
)

// Record appends e to its practice's chain. It assigns Seq, Prev, Hash and,
// when zero, Time.
func (l *Log) Record(ctx context.Context, e Event) error {
	_, err := l.Append(ctx, e)
	return err
}

// Append is Record returning the event as stored.
func (l *Log) Append(ctx context.Context, e Event) (Event, error) {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC().Round(0) // drop the monotonic reading; keep nanoseconds
	if err := validate(&e); err != nil {
		return Event{}, err
	}
	h := l.head(e.PracticeID)
	select {
	case h.turn <- struct{}{}:
	case <-ctx.Done():
		return Event{}, carepost.Unavailable(ctx.Err(), "audit log")
	}
	defer func() { <-h.turn }()

	// fresh: the head was read, or learnt from a lost race, during this
	// Record (as opposed to remembered from an earlier one).
	var lastErr error
	fresh := false
	for attempt := range MaxAppendAttempts {
		if h.known && !h.trusted && !fresh {
			h.known = false
		}
		if !h.known {
			if fresh { // lost a race on a fresh head: give the crowd room
				if err := backoff(ctx, attempt); err != nil {
					return Event{}, carepost.Unavailable(err, "audit log")
				}
			}
			seq, hash, err := l.newest(ctx, e.PracticeID)
			if err != nil {
				return Event{}, dbError(err, "read the newest audit event")
			}
			l.headReads.Add(1)
			h.known, h.seq, h.hash, fresh = true, seq, hash, true
			if seq > 0 && seq == h.lastOwn {
				h.trusted = true // nobody else appended since this process did
			}
		}
		e.Seq, e.Prev = h.seq+1, h.hash
		if h.seq == 0 {
			e.Prev = Genesis
		}
		e.Hash = Hash(e)
		_, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                           aws.String(l.table),
			Item:                                toItem(e),
			ConditionExpression:                 aws.String("attribute_not_exists(" + resources.AttrPK + ")"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			h.seq, h.hash, h.lastOwn = e.Seq, e.Hash, e.Seq
			l.appends.Add(1)
			for n := int64(attempt + 1); ; {
				m := l.mostAttempts.Load()
				if n <= m || l.mostAttempts.CompareAndSwap(m, n) {
					break
				}
			}
			return e, nil
		}
		// Whatever happened, this process no longer knows the head for sure
		// (a timeout may even have written the event).
		h.known = false
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return Event{}, dbError(err, "append an audit event")
		}
		l.conflicts.Add(1)
		lastErr = err
		if !fresh {
			// The remembered head was stale: another process appends to
			// this chain too, maybe many events since. Re-read at once,
			// and read first on later Records until a read shows this
			// process wrote last again; a read costs less than a lost put.
			h.trusted = false
			continue
		}
		// A race on a fresh head: the failed put returned the event that
		// took this seq. Chain onto it and retry at once, without a read.
		// A writer with a queue of events still tends to win the next race
		// too (its next put leaves as soon as its last one returns), so
		// every fourth loss backs off with jitter and re-reads instead,
		// which spreads a crowd of writers out. TestConcurrentRecords
		// measures the effect.
		if hash, ok := hashOf(ccf.Item, e.Seq); ok && attempt%4 != 3 {
			h.known, h.seq, h.hash = true, e.Seq, hash
		}
	}
	return Event{}, carepost.Unavailable(lastErr, "audit log (too many concurrent appends)")
}

// hashOf returns the hash of item if it is the stored event seq.
func hashOf(item map[string]types.AttributeValue, seq int64) (string, bool) {
	if got, ok := parseSeqSK(stringValue(item[resources.AttrSK])); !ok || got != seq {
		return "", false
	}
	h := stringValue(item[attrHash])
	return h, len(h) == len(Genesis)
}

// Stats counts what this Log did since New, for metrics and benchmarks.
type Stats struct {
	Appends   int64 // events written
	HeadReads int64 // strongly consistent reads of a chain's newest event
	Conflicts int64 // conditional puts lost to another writer
	// MostAttempts is the most puts one successful Record needed;
	// compare it with MaxAppendAttempts.
	MostAttempts int64
}

// Stats returns the counters so far.
func (l *Log) Stats() Stats {
	return Stats{Appends: l.appends.Load(), HeadReads: l.headReads.Load(), Conflicts: l.conflicts.Load(), MostAttempts: l.mostAttempts.Load()}
}

// backoff sleeps a jittered 1–2 ms doubling per attempt, at most 25–50 ms.
func backoff(ctx context.Context, attempt int) error {
	d := min(time.Millisecond<<min(attempt, 6), 50*time.Millisecond)
	t := time.NewTimer(d/2 + rand.N(d/2+1))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newest returns the seq and hash of the newest event of a chain, or 0 and ""
// for an empty chain, with a strongly consistent read.
func (l *Log) newest(ctx context.Context, practiceID string) (int64, string, error) {
	out, err := l.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                aws.String(l.table),
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ProjectionExpression:     aws.String("#sk, #h"),
		ExpressionAttributeNames: map[string]string{"#pk": resources.AttrPK, "#sk": resources.AttrSK, "#h": attrHash},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(chainPK(practiceID)),
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(1),
		ConsistentRead:   aws.Bool(true),
	})
	if err != nil {
		return 0, "", err
	}
	if len(out.Items) == 0 {
		return 0, "", nil
	}
	sk, _ := out.Items[0][resources.AttrSK].(*types.AttributeValueMemberS)
	hash, _ := out.Items[0][attrHash].(*types.AttributeValueMemberS)
	if sk == nil || hash == nil {
		return 0, "", errors.New("newest audit event has no sort key or hash")
	}
	seq, ok := parseSeqSK(sk.Value)
	if !ok {
		return 0, "", errors.New("newest audit event has a malformed sort key")
	}
	return seq, hash.Value, nil
}

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

func clampLimit(limit int) int {
	if limit <= 0 {
		return DefaultLimit
	}
	return min(limit, MaxLimit)
}

// List returns up to limit events of a practice in chain order, starting at
// fromSeq (1 when fromSeq < 1). The next page starts at the last Seq + 1.
func (l *Log) List(ctx context.Context, practiceID string, fromSeq int64, limit int) ([]Event, error) {
	if err := checkID("practice_id", practiceID, true); err != nil {
		return nil, err
	}
	limit = clampLimit(limit)
	in := &dynamodb.QueryInput{
		TableName:                aws.String(l.table),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk >= :from"),
		ExpressionAttributeNames: map[string]string{"#pk": resources.AttrPK, "#sk": resources.AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   str(chainPK(practiceID)),
			":from": str(seqSK(max(fromSeq, 1))),
		},
		ConsistentRead: aws.Bool(true),
	}
	events, _, err := l.query(ctx, practiceID, in, limit)
	return events, err
}

// ListPatient returns up to limit events that name patientID, newest first.
// after is "" for the first page, else the cursor a previous call returned;
// the returned cursor is "" on the last page. A cursor is a position inside
// one patient's events (the gsi1 sort key), not a secret: callers seal it
// before handing it to a client.
//
// The index is eventually consistent: an event recorded a moment ago may be
// missing from the first page for a short while.
func (l *Log) ListPatient(ctx context.Context, practiceID, patientID string, limit int, after string) ([]Event, string, error) {
	if err := checkID("practice_id", practiceID, true); err != nil {
		return nil, "", err
	}
	if err := checkID("patient_id", patientID, true); err != nil {
		return nil, "", err
	}
	limit = clampLimit(limit)
	in := &dynamodb.QueryInput{
		TableName:                aws.String(l.table),
		IndexName:                aws.String(resources.IndexByPatient),
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ExpressionAttributeNames: map[string]string{"#pk": resources.AttrGSI1PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(patientPK(practiceID, patientID)),
		},
		ScanIndexForward: aws.Bool(false),
	}
	if after != "" {
		if !parseCursor(after) {
			return nil, "", carepost.FieldError(carepost.CodeInvalid, "cursor", "invalid audit cursor")
		}
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk < :after")
		in.ExpressionAttributeNames["#sk"] = resources.AttrGSI1SK
		in.ExpressionAttributeValues[":after"] = str(after)
	}
	events, more, err := l.query(ctx, practiceID, in, limit)
	if err != nil || !more || len(events) == 0 {
		return events, "", err
	}
	last := events[len(events)-1]
	return events, patientSK(last.Time, last.Seq), nil
}

// query runs in until it has limit events or the results end, and reports
// whether more events follow.
func (l *Log) query(ctx context.Context, practiceID string, in *dynamodb.QueryInput, limit int) ([]Event, bool, error) {
	var events []Event
	for {
		// One extra item tells whether another page exists.
		in.Limit = aws.Int32(int32(limit - len(events) + 1))
		out, err := l.db.Query(ctx, in)
		if err != nil {
			return nil, false, dbError(err, "list audit events")
		}
		for _, item := range out.Items {
			if len(events) == limit {
				return events, true, nil
			}
			e, err := fromItem(practiceID, item)
			if err != nil {
				return nil, false, carepost.Wrap(carepost.CodeInternal, err, "malformed audit event")
			}
			events = append(events, e)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return events, false, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// dbError maps a DynamoDB failure: throttling, server errors and timeouts are
// transient (carepost.Unavailable), everything else is internal.
func dbError(err error, what string) error {
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"InternalServerError", "ServiceUnavailable", "TransactionConflictException":
			return carepost.Unavailable(err, "audit log")
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() >= 500 {
		return carepost.Unavailable(err, "audit log")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return carepost.Unavailable(err, "audit log")
	}
	return carepost.Wrap(carepost.CodeInternal, err, "audit log: %s failed", what)
}
