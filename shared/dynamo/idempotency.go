package dynamo

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/resources"
)

// Idempotency records live 24 hours; a pending record whose request died is
// taken over after pendingLease.
const (
	idemTTL      = 24 * time.Hour
	pendingLease = 30 * time.Second
)

func idemPK(pid, sub, k string) string { return "PRAC#" + pid + "#IDEM#" + sub + "#" + k }

// Begin implements carepost.Idempotency.
func (s *Store) Begin(ctx context.Context, pid, sub, k, hash string, now time.Time) (*carepost.StoredResponse, error) {
	pk := idemPK(pid, sub, k)
	item := key(pk, "IDEM")
	item["hash"] = &types.AttributeValueMemberS{Value: hash}
	item["state"] = &types.AttributeValueMemberS{Value: "pending"}
	item["lease"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(pendingLease).Unix(), 10)}
	item[resources.AttrTTL] = &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(idemTTL).Unix(), 10)}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		// New key, or a pending record whose request died (lease over).
		ConditionExpression:                 aws.String("attribute_not_exists(pk) OR (#s = :pending AND lease < :now AND #h = :hash)"),
		ExpressionAttributeNames:            map[string]string{"#s": "state", "#h": "hash"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":pending": &types.AttributeValueMemberS{Value: "pending"}, ":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}, ":hash": &types.AttributeValueMemberS{Value: hash}},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !asCCF(err, &ccf) {
		return nil, mapErr(err, "idempotency record")
	}
	old := ccf.Item
	if str(old, "hash") != hash {
		return nil, carepost.Errorf(carepost.CodeIdempotencyMismatch, "this Idempotency-Key was used with a different request body")
	}
	if str(old, "state") != "done" {
		return nil, &carepost.Error{Code: carepost.CodeConflict, Message: "a request with this Idempotency-Key is still in progress; retry shortly", Transient: true}
	}
	return &carepost.StoredResponse{Status: int(num(old, "status")), Body: bin(old, "body")}, nil
}

// Complete implements carepost.Idempotency.
func (s *Store) Complete(ctx context.Context, pid, sub, k string, r carepost.StoredResponse) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(idemPK(pid, sub, k), "IDEM"),
		UpdateExpression:          aws.String("SET #s = :done, #st = :status, body = :body"),
		ExpressionAttributeNames:  map[string]string{"#s": "state", "#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":done": &types.AttributeValueMemberS{Value: "done"}, ":status": &types.AttributeValueMemberN{Value: strconv.Itoa(r.Status)}, ":body": &types.AttributeValueMemberB{Value: nonEmpty(r.Body)}},
	})
	return mapErr(err, "idempotency record")
}

// Abandon implements carepost.Idempotency: a failed request's key is freed
// so the client's retry runs again.
func (s *Store) Abandon(ctx context.Context, pid, sub, k string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(idemPK(pid, sub, k), "IDEM"),
		ConditionExpression:       aws.String("#s = :pending"),
		ExpressionAttributeNames:  map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pending": &types.AttributeValueMemberS{Value: "pending"}},
	})
	if err != nil && carepost.ErrorCode(mapErr(err, "")) == carepost.CodeConflict {
		return nil
	}
	return mapErr(err, "idempotency record")
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}
