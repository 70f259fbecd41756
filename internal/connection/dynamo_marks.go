package connection

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ClaimWelcome sets the row's welcomedAt to at with one UpdateItem,
// conditional on the row being live and welcomedAt absent.
func (s *DynamoStore) ClaimWelcome(ctx context.Context, id string, at time.Time) error {
	if !validKey(id) {
		return ErrNotFound
	}
	old, err := s.update(ctx, &dynamodb.UpdateItemInput{
		Key:                 key(id),
		UpdateExpression:    aws.String("SET #w = :at"),
		ConditionExpression: aws.String("attribute_exists(#id) AND #exp > :now AND attribute_not_exists(#w)"),
		ExpressionAttributeNames: map[string]string{
			"#id": attrID, "#exp": attrExpiresAt, "#w": attrWelcomedAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": str(at.UTC().Format(connectedFormat)), ":now": num(s.now().Unix()),
		},
	})
	switch {
	case errors.Is(err, errCondition) && old[attrWelcomedAt] != nil && s.liveRow(old):
		return ErrWelcomed
	case errors.Is(err, errCondition):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("connection: claim welcome %s: %w", id, err)
	}
	return nil
}

// ReleaseWelcome removes the row's welcomedAt with one UpdateItem,
// conditional on it being at.
func (s *DynamoStore) ReleaseWelcome(ctx context.Context, id string, at time.Time) error {
	if !validKey(id) {
		return nil
	}
	_, err := s.update(ctx, &dynamodb.UpdateItemInput{
		Key:                       key(id),
		UpdateExpression:          aws.String("REMOVE #w"),
		ConditionExpression:       aws.String("#w = :at"),
		ExpressionAttributeNames:  map[string]string{"#w": attrWelcomedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(at.UTC().Format(connectedFormat))},
	})
	if err != nil && !errors.Is(err, errCondition) {
		return fmt.Errorf("connection: release welcome %s: %w", id, err)
	}
	return nil
}

// Spend counts cost units on the row's rateWindow and rateUnits. It first
// adds to the current window with one UpdateItem, conditional on the row
// being live, its window being the current one and the units staying within
// the limit. When that fails because the window is older (the first spend
// of a window), a second UpdateItem starts the current window, conditional
// on the row's window still being older; if another spend started it
// meanwhile, the first step is tried once more.
func (s *DynamoStore) Spend(ctx context.Context, id string, cost int, limit Limit) (time.Duration, error) {
	if !validKey(id) {
		return 0, ErrNotFound
	}
	start, left := limit.window(s.now())
	if cost > limit.Units {
		return left, ErrRateLimited
	}
	names := map[string]string{"#id": attrID, "#exp": attrExpiresAt, "#win": attrRateWindow, "#units": attrRateUnits}
	values := map[string]types.AttributeValue{
		":now": num(s.now().Unix()), ":win": num(start), ":cost": num(int64(cost)),
		":max": num(int64(limit.Units - cost)),
	}
	for range 2 {
		old, err := s.update(ctx, &dynamodb.UpdateItemInput{
			Key:                       key(id),
			UpdateExpression:          aws.String("SET #units = #units + :cost"),
			ConditionExpression:       aws.String("attribute_exists(#id) AND #exp > :now AND #win = :win AND #units <= :max"),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		})
		switch {
		case err == nil:
			return 0, nil
		case !errors.Is(err, errCondition):
			return 0, fmt.Errorf("connection: spend %s: %w", id, err)
		case !s.liveRow(old):
			return 0, ErrNotFound
		case numAttr(old, attrRateWindow) >= start:
			return left, ErrRateLimited
		}
		_, err = s.update(ctx, &dynamodb.UpdateItemInput{
			Key:                       key(id),
			UpdateExpression:          aws.String("SET #win = :win, #units = :cost"),
			ConditionExpression:       aws.String("attribute_exists(#id) AND (attribute_not_exists(#win) OR #win < :win)"),
			ExpressionAttributeNames:  map[string]string{"#id": attrID, "#win": attrRateWindow, "#units": attrRateUnits},
			ExpressionAttributeValues: map[string]types.AttributeValue{":win": values[":win"], ":cost": values[":cost"]},
		})
		if err == nil {
			return 0, nil
		}
		if !errors.Is(err, errCondition) {
			return 0, fmt.Errorf("connection: spend %s: %w", id, err)
		}
	}
	// Started by another spend twice over: only a clock far behind the
	// others' does that. Refused rather than looping.
	return left, ErrRateLimited
}

// errCondition marks an UpdateItem refused by its condition.
var errCondition = errors.New("condition failed")

// update makes one UpdateItem on the table that returns the old row when
// the condition fails; that error matches errCondition.
func (s *DynamoStore) update(ctx context.Context, in *dynamodb.UpdateItemInput) (map[string]types.AttributeValue, error) {
	in.TableName = aws.String(s.table)
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	_, err := s.client.UpdateItem(ctx, in)
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return failed.Item, errCondition
	}
	return nil, err
}

// liveRow reports whether an old row returned by a failed condition exists
// and has not expired.
func (s *DynamoStore) liveRow(row map[string]types.AttributeValue) bool {
	return row != nil && row[attrID] != nil && s.now().Unix() < numAttr(row, attrExpiresAt)
}

// numAttr returns the number attribute name of row, 0 when absent or not a number.
func numAttr(row map[string]types.AttributeValue, name string) int64 {
	v, ok := row[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(v.Value, 10, 64)
	return n
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
