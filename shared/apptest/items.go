package apptest

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item is one raw table item.
type Item = map[string]types.AttributeValue

// Items scans the whole table (tests only: tables are tiny).
func (h *Harness) Items(t testing.TB) []Item {
	t.Helper()
	var items []Item
	p := dynamodb.NewScanPaginator(h.Stack.Clients.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(h.Stack.Outputs.Table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, out.Items...)
	}
	return items
}

// KindOf classifies an item by its keys, as docs/data-model.md lays them
// out: "thread", "message", "read", "idempotency", "audit", "consent",
// "agreement", "practice", "marker", "stats" (per-day aggregates), or
// "other".
func KindOf(it Item) string {
	pk, sk := S(it, "pk"), S(it, "sk")
	switch {
	case strings.Contains(pk, "#TH#") && sk == "META":
		return "thread"
	case strings.Contains(pk, "#TH#") && strings.HasPrefix(sk, "MSG#"):
		return "message"
	case strings.Contains(pk, "#TH#") && strings.HasPrefix(sk, "READ#"):
		return "read"
	case strings.Contains(pk, "#TH#") && strings.HasPrefix(sk, "DONE#"):
		return "marker"
	case strings.Contains(pk, "#IDEM#"):
		return "idempotency"
	case strings.Contains(pk, "#STATS#"):
		return "stats"
	case strings.HasSuffix(pk, "#AUDIT"):
		return "audit"
	case strings.HasPrefix(sk, "CONSENT#"):
		return "consent"
	case strings.HasPrefix(sk, "AGREEMENT#"):
		return "agreement"
	case sk == "SETTINGS" || pk == "PRACTICES":
		return "practice"
	}
	return "other"
}

// Counts counts the table's items by KindOf.
func (h *Harness) Counts(t testing.TB) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, it := range h.Items(t) {
		n[KindOf(it)]++
	}
	return n
}

// GetItem reads one item by its keys (nil when missing).
func (h *Harness) GetItem(t testing.TB, pk, sk string) Item {
	t.Helper()
	out, err := h.Stack.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(h.Stack.Outputs.Table), ConsistentRead: aws.Bool(true),
		Key: Item{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// PutItem writes one raw item, bypassing the store (for tamper tests).
func (h *Harness) PutItem(t testing.TB, it Item) {
	t.Helper()
	if _, err := h.Stack.Clients.DynamoDB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(h.Stack.Outputs.Table), Item: it}); err != nil {
		t.Fatal(err)
	}
}

// ThreadPK and MessageSK build keys as docs/data-model.md lays them out.
func ThreadPK(practiceID, threadID string) string { return "PRAC#" + practiceID + "#TH#" + threadID }
func MessageSK(messageID string) string           { return "MSG#" + messageID }

// S returns a string attribute ("" when absent or not a string).
func S(it Item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// Clone copies an item (attribute values are shared; replace, don't mutate).
func Clone(it Item) Item {
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = v
	}
	return out
}

// N returns a number attribute (0 when absent or not a number).
func N(it Item, name string) int64 {
	if v, ok := it[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}
