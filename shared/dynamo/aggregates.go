package dynamo

// Per-day aggregates for reports, the closed-thread index for retention,
// and deleting a whole thread.
//
//	day aggregates   PRAC#{pid}#STATS#{day}   DAY             counters (ADD), samples "frt|{dim}", "ttc|{dim}" (lists of seconds),
//	                                                          sets "senders", "seen" (patient ids), "evisits" (thread ids)
//	closed index     PRAC#{pid}#CLOSED        {day}#{tid}     a thread was written closed on {day} (UTC)
//
// A report reads one aggregate item per day of its period (BatchGetItem),
// never the threads. A day item holds at most a few thousand samples and ids
// for a small practice (the 400 KB item limit allows about 10,000 ids a day).

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
)

func statsPK(pid, day string) string { return "PRAC#" + pid + "#STATS#" + day }
func closedPK(pid string) string     { return "PRAC#" + pid + "#CLOSED" }

// AddDayStats adds d to the practice's aggregates of day (YYYY-MM-DD).
func (s *Store) AddDayStats(ctx context.Context, pid, day string, d carepost.DayDelta) error {
	if d.Empty() {
		return nil
	}
	names := map[string]string{}
	values := map[string]types.AttributeValue{":empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}}
	var adds, sets []string
	n := 0
	name := func(attr string) string {
		n++
		k := "#a" + strconv.Itoa(n)
		names[k] = attr
		return k
	}
	value := func(v types.AttributeValue) string {
		k := ":v" + strconv.Itoa(len(values))
		values[k] = v
		return k
	}
	for attr, v := range map[string]int{"opened": d.Opened, "openedByStaff": d.OpenedByStaff, "patientMessages": d.PatientMessages, "staffMessages": d.StaffMessages, "closed": d.Closed} {
		if v != 0 {
			adds = append(adds, name(attr)+" "+value(&types.AttributeValueMemberN{Value: strconv.Itoa(v)}))
		}
	}
	for attr, ids := range map[string][]string{"senders": d.Senders, "seen": d.Seen, "evisits": d.EVisits} {
		if ids = dedupe(ids); len(ids) > 0 {
			adds = append(adds, name(attr)+" "+value(&types.AttributeValueMemberSS{Value: ids}))
		}
	}
	for prefix, samples := range map[string]map[string]int64{"frt|": d.FirstResponse, "ttc|": d.TimeToClose} {
		for dim, sec := range samples {
			a := name(prefix + dim)
			v := value(&types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: strconv.FormatInt(sec, 10)}}})
			sets = append(sets, fmt.Sprintf("%s = list_append(if_not_exists(%s, :empty), %s)", a, a, v))
		}
	}
	expr := ""
	if len(sets) > 0 {
		expr += "SET " + strings.Join(sets, ", ")
	} else {
		delete(values, ":empty")
	}
	if len(adds) > 0 {
		expr += " ADD " + strings.Join(adds, ", ")
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(statsPK(pid, day), "DAY"),
		UpdateExpression: aws.String(strings.TrimSpace(expr)), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	return mapErr(err, "report aggregates")
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// DayStats reads the aggregates of the given days (missing days are
// returned empty), in the order asked: one BatchGetItem per 100 days.
func (s *Store) DayStats(ctx context.Context, pid string, days []string) ([]carepost.DayStats, error) {
	byDay := map[string]carepost.DayStats{}
	for start := 0; start < len(days); start += 100 {
		end := min(start+100, len(days))
		keys := make([]map[string]types.AttributeValue, 0, end-start)
		for _, d := range days[start:end] {
			keys = append(keys, key(statsPK(pid, d), "DAY"))
		}
		req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 8 {
				return nil, carepost.Unavailable(nil, "the database")
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, mapErr(err, "report aggregates")
			}
			for _, it := range out.Responses[s.table] {
				ds := dayStatsFrom(it)
				byDay[ds.Day] = ds
			}
			req = out.UnprocessedKeys
		}
	}
	res := make([]carepost.DayStats, len(days))
	for i, d := range days {
		res[i] = byDay[d]
		res[i].Day = d
	}
	return res, nil
}

func dayStatsFrom(it map[string]types.AttributeValue) carepost.DayStats {
	pk := str(it, "pk")
	ds := carepost.DayStats{
		Day: pk[strings.LastIndex(pk, "#")+1:], Opened: int(num(it, "opened")), OpenedByStaff: int(num(it, "openedByStaff")),
		PatientMessages: int(num(it, "patientMessages")), StaffMessages: int(num(it, "staffMessages")), Closed: int(num(it, "closed")),
		Senders: strs(it, "senders"), Seen: strs(it, "seen"), EVisits: strs(it, "evisits"),
		FirstResponse: map[string][]int64{}, TimeToClose: map[string][]int64{},
	}
	for attr, v := range it {
		l, ok := v.(*types.AttributeValueMemberL)
		if !ok {
			continue
		}
		var target map[string][]int64
		switch {
		case strings.HasPrefix(attr, "frt|"):
			target = ds.FirstResponse
		case strings.HasPrefix(attr, "ttc|"):
			target = ds.TimeToClose
		default:
			continue
		}
		dim := attr[4:]
		for _, e := range l.Value {
			if nv, ok := e.(*types.AttributeValueMemberN); ok {
				n, _ := strconv.ParseInt(nv.Value, 10, 64)
				target[dim] = append(target[dim], n)
			}
		}
	}
	return ds
}

// PutClosed adds a thread to the closed-thread index under day (UTC
// YYYY-MM-DD of the thread's last update).
func (s *Store) PutClosed(ctx context.Context, pid, day, tid string) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: map[string]types.AttributeValue{
		"pk": sattr(closedPK(pid)), "sk": sattr(day + "#" + tid),
	}})
	return mapErr(err, "closed index")
}

// ClosedBefore lists index entries of days before day (exclusive), oldest
// first, a page at a time.
func (s *Store) ClosedBefore(ctx context.Context, pid, day string, after map[string]string, limit int) (carepost.Page[carepost.ClosedEntry], error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk < :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": sattr(closedPK(pid)), ":d": sattr(day),
		},
		Limit: aws.Int32(int32(limit)), ExclusiveStartKey: fromStringMap(after), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return carepost.Page[carepost.ClosedEntry]{}, mapErr(err, "closed index")
	}
	page := carepost.Page[carepost.ClosedEntry]{Next: toStringMap(out.LastEvaluatedKey)}
	for _, it := range out.Items {
		sk := str(it, "sk")
		if i := strings.IndexByte(sk, '#'); i > 0 {
			page.Items = append(page.Items, carepost.ClosedEntry{Day: sk[:i], ThreadID: sk[i+1:]})
		}
	}
	return page, nil
}

// DeleteClosed removes one index entry.
func (s *Store) DeleteClosed(ctx context.Context, pid string, e carepost.ClosedEntry) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(closedPK(pid), e.Day+"#"+e.ThreadID)})
	return mapErr(err, "closed index")
}

// DeleteThreadMeta deletes a thread's META item if it is still closed at
// version (CodeConflict when it changed: reopened, replied to). Deleting it
// first makes the thread invisible to every reader and writer at once; a
// missing META is not an error (an earlier run got that far).
func (s *Store) DeleteThreadMeta(ctx context.Context, pid, tid string, version int64) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(threadPK(pid, tid), "META"),
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR (#st = :closed AND version = :v)"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":closed": sattr(string(carepost.StatusClosed)), ":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}},
	})
	return mapErr(err, "thread")
}

// DeleteThreadItems deletes what is left of a thread's partition
// (messages, read receipts, markers, attachment records, time entries,
// hold) and answers how many items it deleted. The thread's META is kept if
// it still exists (DeleteThreadMeta removes it, first).
func (s *Store) DeleteThreadItems(ctx context.Context, pid, tid string) (int, error) {
	pk := threadPK(pid, tid)
	var keys []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sattr(pk)},
		ProjectionExpression:      aws.String("pk, sk"),
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, mapErr(err, "thread")
		}
		for _, it := range out.Items {
			if str(it, "sk") != "META" {
				keys = append(keys, key(pk, str(it, "sk")))
			}
		}
	}
	return len(keys), s.batchDelete(ctx, keys)
}

func (s *Store) batchDelete(ctx context.Context, keys []map[string]types.AttributeValue) error {
	for start := 0; start < len(keys); start += 25 {
		end := min(start+25, len(keys))
		var reqs []types.WriteRequest
		for _, k := range keys[start:end] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		items := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 0; len(items) > 0; attempt++ {
			if attempt > 8 {
				return carepost.Unavailable(nil, "the database")
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: items})
			if err != nil {
				return mapErr(err, "thread")
			}
			items = out.UnprocessedItems
		}
	}
	return nil
}
