package dynamo

// Coverage log: while a clinician is away, the triage worker records each
// thread it sent to their cover, so that on return the clinician gets a
// digest (counts only). One partition per absence; items expire after
// coverageTTL.

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/carepost/carepost/shared/resources"
)

const coverageTTL = 400 * 24 * time.Hour

func coveragePK(pid, sub string, from time.Time) string {
	return "PRAC#" + pid + "#COVER#" + sub + "#" + tkey(from)
}

// AddCovered records that thread tid went to the cover of clinician sub
// during the absence that began at from. Recording twice is harmless.
func (s *Store) AddCovered(ctx context.Context, pid, sub string, from time.Time, tid string) error {
	item := key(coveragePK(pid, sub, from), "TH#"+tid)
	item[resources.AttrTTL] = &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(coverageTTL).Unix(), 10)}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return mapErr(err, "coverage log")
}

// Covered lists the threads recorded for clinician sub's absence that began
// at from.
func (s *Store) Covered(ctx context.Context, pid, sub string, from time.Time) ([]string, error) {
	var ids []string
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :t)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: coveragePK(pid, sub, from)},
			":t":  &types.AttributeValueMemberS{Value: "TH#"},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, mapErr(err, "coverage log")
		}
		for _, it := range out.Items {
			ids = append(ids, strings.TrimPrefix(str(it, "sk"), "TH#"))
		}
	}
	return ids, nil
}

// MarkDigest claims the return digest of that absence; false when it was
// claimed already (the digest went out, or is going out).
func (s *Store) MarkDigest(ctx context.Context, pid, sub string, from time.Time) (bool, error) {
	item := key(coveragePK(pid, sub, from), "DIGEST")
	item[resources.AttrTTL] = &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(coverageTTL).Unix(), 10)}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		err = mapErr(err, "digest marker")
		if carepost.ErrorCode(err) == carepost.CodeConflict {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// UnmarkDigest releases the claim so a failed digest is tried again.
func (s *Store) UnmarkDigest(ctx context.Context, pid, sub string, from time.Time) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(coveragePK(pid, sub, from), "DIGEST")})
	return mapErr(err, "digest marker")
}
