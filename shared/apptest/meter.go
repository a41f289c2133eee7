package apptest

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Meter counts the DynamoDB write capacity an app consumes, per item kind
// (KindOf of the written key). It asks DynamoDB for ConsumedCapacity on
// every write the app makes — the store, the audit log and the idempotency
// records alike — and sums what comes back (DynamoDB Local computes it with
// DynamoDB's rules: 1 unit per started KB per item, table and each index
// the item lands in).
type Meter struct {
	mu     sync.Mutex
	units  map[string]float64
	writes map[string]int
}

// Instrument returns a copy of c whose writes are metered.
func (m *Meter) Instrument(c *dynamodb.Client) *dynamodb.Client {
	return dynamodb.New(c.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("carepost-meter", m.handle), middleware.After)
		})
	})
}

// Reset zeroes the counters.
func (m *Meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.units, m.writes = map[string]float64{}, map[string]int{}
}

// Units returns the write units consumed per item kind, and in total
// (key "total").
func (m *Meter) Units() map[string]float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]float64{}
	for k, v := range m.units {
		out[k] = v
		out["total"] += v
	}
	return out
}

// Writes returns the number of write calls per item kind.
func (m *Meter) Writes() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for k, v := range m.writes {
		out[k] = v
	}
	return out
}

func (m *Meter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	var kind string
	switch p := in.Parameters.(type) {
	case *dynamodb.PutItemInput:
		kind = KindOf(p.Item)
		if p.ReturnConsumedCapacity == "" || p.ReturnConsumedCapacity == types.ReturnConsumedCapacityNone {
			p.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
		}
	case *dynamodb.UpdateItemInput:
		kind = KindOf(p.Key)
		if p.ReturnConsumedCapacity == "" || p.ReturnConsumedCapacity == types.ReturnConsumedCapacityNone {
			p.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
		}
	case *dynamodb.DeleteItemInput:
		kind = KindOf(p.Key)
		if p.ReturnConsumedCapacity == "" || p.ReturnConsumedCapacity == types.ReturnConsumedCapacityNone {
			p.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
		}
	case *dynamodb.TransactWriteItemsInput:
		kind = "transaction"
		if p.ReturnConsumedCapacity == "" || p.ReturnConsumedCapacity == types.ReturnConsumedCapacityNone {
			p.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
		}
	}
	out, md, err := next.HandleInitialize(ctx, in)
	if kind == "" {
		return out, md, err
	}
	var cc []types.ConsumedCapacity
	switch r := out.Result.(type) {
	case *dynamodb.PutItemOutput:
		if r.ConsumedCapacity != nil {
			cc = append(cc, *r.ConsumedCapacity)
		}
	case *dynamodb.UpdateItemOutput:
		if r.ConsumedCapacity != nil {
			cc = append(cc, *r.ConsumedCapacity)
		}
	case *dynamodb.DeleteItemOutput:
		if r.ConsumedCapacity != nil {
			cc = append(cc, *r.ConsumedCapacity)
		}
	case *dynamodb.TransactWriteItemsOutput:
		cc = r.ConsumedCapacity
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.units == nil {
		m.units, m.writes = map[string]float64{}, map[string]int{}
	}
	m.writes[kind]++
	for _, c := range cc {
		u := aws.ToFloat64(c.WriteCapacityUnits)
		if c.WriteCapacityUnits == nil {
			u = aws.ToFloat64(c.CapacityUnits)
		}
		m.units[kind] += u
	}
	// A failed conditional write consumes capacity too, but the SDK returns
	// no output for it: such writes are counted in Writes, not in Units.
	return out, md, err
}

// ItemSize is an item's size by DynamoDB's rules: the UTF-8 length of each
// attribute name plus its value (strings: UTF-8 bytes; binary: bytes;
// numbers: about one byte per two significant digits plus one; booleans and
// nulls: one byte; sets: the sum of their elements; lists and maps: three
// bytes plus their elements, one byte each).
func ItemSize(it Item) int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		digits := len(strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(x.Value), "0"))
		return (digits+1)/2 + 1
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range x.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, s := range x.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range x.Value {
			n += valueSize(&types.AttributeValueMemberN{Value: s})
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range x.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}
