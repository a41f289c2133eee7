package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/apptest"
	"github.com/carepost/carepost/shared/carepost"
)

// TestAuditVerify: `carepost audit verify` (GET /v1/audit/verify, admins)
// reports an intact chain with its length, and once one stored event is
// changed, the broken link with exit status 1. Other roles are refused.
func TestAuditVerify(t *testing.T) {
	h := apptest.New(t)
	ctx := context.Background()
	h.Accept(t, "patient")
	h.Open(t, "patient", map[string]any{"category": "question", "subject": "Audit", "body": "Events for the chain to hold"})
	t.Setenv("CAREPOST_API", h.URL)
	t.Setenv("CAREPOST_TOKEN", h.Token(carepost.RoleAdmin))
	verify := func() (string, error) {
		var out bytes.Buffer
		err := commands["audit"].run(ctx, []string{"verify"}, &out)
		return out.String(), err
	}

	out, err := verify()
	if err != nil {
		t.Fatalf("verify an intact chain: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`audit chain OK: (\d+) events`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output %q", out)
	}
	if n, _ := strconv.Atoi(m[1]); n < 2 {
		t.Errorf("chain of %d events, want at least the consent and the new thread", n)
	}
	for _, role := range []carepost.Role{carepost.RoleNurse, carepost.RolePatient, carepost.RoleOperator} {
		if st, _ := h.Do(t, h.Token(role), "GET", "/v1/audit/verify", nil, nil); st != http.StatusForbidden {
			t.Errorf("%s verifying the audit log: %d, want 403", role, st)
		}
	}
	// The verify itself and the nurse's and patient's refusals are in the
	// chain (the operator belongs to no practice).
	before, _ := strconv.Atoi(m[1])
	out, err = verify()
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := strconv.Atoi(regexp.MustCompile(`(\d+) events`).FindStringSubmatch(out)[1]); after != before+3 {
		t.Errorf("chain grew from %d to %d events, want +3 (one verify, two refusals)", before, after)
	}

	// Change who did the second event of practice A's chain.
	db, table := h.Stack.Clients.DynamoDB, h.Stack.Outputs.Table
	q, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "PRAC#" + apptest.PracticeA + "#AUDIT"}}, Limit: aws.Int32(2)})
	if err != nil || len(q.Items) < 2 {
		t.Fatalf("read the chain: %v (%d items)", err, len(q.Items))
	}
	item := q.Items[1]
	item["actor"] = &types.AttributeValueMemberS{Value: "someone-else"}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
	out, err = verify()
	var code exitCode
	if err == nil || !errors.As(err, &code) || code != 1 {
		t.Fatalf("verify a changed chain: %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(out, "audit chain BROKEN at event 2") {
		t.Errorf("output %q does not name event 2", out)
	}
}
