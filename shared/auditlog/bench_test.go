package auditlog

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/testenv"
)

// meteredDB passes every call to the real table and adds up what DynamoDB
// reports it consumed (ReturnConsumedCapacity INDEXES), what it would charge
// by item size when it reports nothing, and how many puts lost their
// condition (AWS charges a write unit for those too).
type meteredDB struct {
	DB
	mu                       sync.Mutex
	reportedWCU, reportedRCU float64
	computedWCU              float64
	puts, failedPuts         int
	queries                  int
	itemBytes                int
}

func (m *meteredDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.DB.PutItem(ctx, in, opts...)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts++
	size := itemSize(in.Item)
	units := math.Ceil(float64(size) / 1024)
	if err != nil {
		m.failedPuts++
		m.computedWCU++ // a failed conditional write costs one unit
		return out, err
	}
	m.itemBytes += size
	m.computedWCU += units
	if _, ok := in.Item["gsi1pk"]; ok {
		m.computedWCU += units // the gsi1 copy (ALL projection)
	}
	if out.ConsumedCapacity != nil && out.ConsumedCapacity.CapacityUnits != nil {
		m.reportedWCU += *out.ConsumedCapacity.CapacityUnits
	}
	return out, nil
}

func (m *meteredDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.DB.Query(ctx, in, opts...)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queries++
	if err == nil && out.ConsumedCapacity != nil && out.ConsumedCapacity.CapacityUnits != nil {
		m.reportedRCU += *out.ConsumedCapacity.CapacityUnits
	}
	return out, err
}

// itemSize is DynamoDB's item size: attribute names plus values, strings in
// UTF-8 bytes, numbers about one byte per two digits plus one.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += (len(v.Value)+1)/2 + 1
		default:
			panic(fmt.Sprintf("itemSize: unexpected %T", v))
		}
	}
	return n
}

// A realistic large event (ULID ids, a UUID subject, an IPv6 address, a
// message object path) fits one write unit.
func TestItemSize(t *testing.T) {
	e := Event{
		PracticeID: "01JH6W3Q9ZK4V7T2R8M5N0PXYA", Seq: 123456789, Time: time.Now(),
		Actor: "8c1f4a2e-3b5d-4e6f-9a7b-0c1d2e3f4a5b", ActorRole: "clinician",
		SourceIP: "2001:0db8:85a3:0000:0000:8a2e:0370:7334", Action: "message.create",
		PatientID: "01JH6W3Q9ZK4V7T2R8M5N0PXYB",
		Object:    "thread/01JH6W3Q9ZK4V7T2R8M5N0PXYC/message/01JH6W3Q9ZK4V7T2R8M5N0PXYD",
		Outcome:   OutcomeNotFound, Prev: Genesis,
	}
	size := itemSize(toItem(withHash(e)))
	t.Logf("realistic event: %d bytes", size)
	if size > 1024 {
		t.Errorf("item size = %d bytes, want at most 1024 (one write unit)", size)
	}
	if got := itemSize(map[string]types.AttributeValue{"ab": str("xyz"), "n": &types.AttributeValueMemberN{Value: strconv.Itoa(1234)}}); got != 2+3+1+3 {
		t.Errorf("itemSize = %d, want 9", got)
	}
}

// BenchmarkRecord appends against DynamoDB Local and reports the write and
// read units per event.
//
//	patient:     an event naming a patient (table + gsi1 copy)
//	no-patient:  an event naming none (table only)
//	two-writers: two processes alternating, so every append finds its cached
//	             head stale and pays a lost conditional put first
func BenchmarkRecord(b *testing.B) {
	st := testenv.NewStack(b)
	for _, bc := range []struct {
		name    string
		patient string
		writers int
	}{
		{"patient", "pat-1", 1},
		{"no-patient", "", 1},
		{"two-writers", "pat-1", 2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := &meteredDB{DB: st.Clients.DynamoDB}
			logs := make([]*Log, bc.writers)
			for i := range logs {
				logs[i] = New(m, st.Outputs.Table)
			}
			pid := "bench-" + bc.name + "-" + testenv.RandomHex(3)
			ctx := context.Background()
			e := event(pid, 1)
			e.PatientID = bc.patient
			i := 0
			for b.Loop() {
				e.Object = "thread/01JH6W3Q9ZK4V7T2R8M5N0PXYA/message/" + strconv.Itoa(i)
				if err := logs[i%bc.writers].Record(ctx, e); err != nil {
					b.Fatal(err)
				}
				i++
			}
			n := float64(i)
			b.ReportMetric(m.computedWCU/n, "wcu/event")
			if m.reportedWCU > 0 {
				b.ReportMetric(m.reportedWCU/n, "reported-wcu/event")
			}
			b.ReportMetric(m.reportedRCU/n, "rcu/event")
			b.ReportMetric(float64(m.itemBytes)/float64(m.puts-m.failedPuts), "bytes/item")
			b.ReportMetric(float64(m.puts)/n, "puts/event")
			b.ReportMetric(float64(m.queries)/n, "queries/event")
		})
	}
}
