package oraclegate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// KeyPrefix starts the key of an instance's item in the workflows table:
// the unit separator (U+001F) is a control character, which no transaction
// id may hold (docs/protocol.md#workflow-queue), so the two never collide.
const KeyPrefix = "\x1foracle-instance\x1f"

// dynamoAPI is the part of *dynamodb.Client that DynamoStore uses.
type dynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// item is one instance in the table. Times are RFC 3339 strings, omitted
// when zero; it has no dueShard (it is never in the workflows' due index)
// and no expiresAt (it is kept).
type item struct {
	Key         string            `dynamodbav:"transactionId"` // KeyPrefix + instance
	Instance    string            `dynamodbav:"oracleInstance"`
	Version     int64             `dynamodbav:"version"`
	WindowStart string            `dynamodbav:"windowStart,omitempty"`
	Refusals    int               `dynamodbav:"refusals,omitempty"`
	OpenedAt    string            `dynamodbav:"openedAt,omitempty"`
	NextProbeAt string            `dynamodbav:"nextProbeAt,omitempty"`
	ProbeUntil  string            `dynamodbav:"probeUntil,omitempty"`
	ClosedAt    string            `dynamodbav:"closedAt,omitempty"`
	NextTicket  int64             `dynamodbav:"nextTicket,omitempty"`
	FirstTicket int64             `dynamodbav:"firstTicket,omitempty"`
	Jobs        map[string]string `dynamodbav:"jobs,omitempty"` // owner -> since
}

const timeFormat = time.RFC3339Nano

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// DynamoStore is a Store in the workflows table (template.yaml's
// WorkflowsTable): one item per instance, written by PutItem conditional on
// its version, read by a strongly consistent GetItem.
type DynamoStore struct {
	client dynamoAPI
	table  string
}

// NewDynamoStore returns a store that keeps instances in table through client.
func NewDynamoStore(client dynamoAPI, table string) *DynamoStore {
	return &DynamoStore{client: client, table: table}
}

// Get implements Store.
func (d *DynamoStore) Get(ctx context.Context, instance string) (*State, error) {
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"transactionId": &types.AttributeValueMemberS{Value: KeyPrefix + instance}}})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", instance, err)
	}
	if len(out.Item) == 0 {
		return nil, ErrNotFound
	}
	var it item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("decode %s: %w", instance, err)
	}
	var errs []error
	pt := func(field, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(timeFormat, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
		return t.UTC()
	}
	s := &State{Instance: instance, Version: it.Version, WindowStart: pt("windowStart", it.WindowStart),
		Refusals: it.Refusals, OpenedAt: pt("openedAt", it.OpenedAt), NextProbeAt: pt("nextProbeAt", it.NextProbeAt),
		ProbeUntil: pt("probeUntil", it.ProbeUntil), ClosedAt: pt("closedAt", it.ClosedAt),
		NextTicket: it.NextTicket, FirstTicket: it.FirstTicket}
	for o, since := range it.Jobs {
		if s.Jobs == nil {
			s.Jobs = map[string]time.Time{}
		}
		s.Jobs[o] = pt("jobs."+o, since)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("decode %s: %w", instance, err)
	}
	return s, nil
}

// Put implements Store.
func (d *DynamoStore) Put(ctx context.Context, s *State) error {
	it := item{Key: KeyPrefix + s.Instance, Instance: s.Instance, Version: s.Version + 1,
		WindowStart: formatTime(s.WindowStart), Refusals: s.Refusals, OpenedAt: formatTime(s.OpenedAt),
		NextProbeAt: formatTime(s.NextProbeAt), ProbeUntil: formatTime(s.ProbeUntil), ClosedAt: formatTime(s.ClosedAt),
		NextTicket: s.NextTicket, FirstTicket: s.FirstTicket}
	for o, since := range s.Jobs {
		if it.Jobs == nil {
			it.Jobs = map[string]string{}
		}
		it.Jobs[o] = formatTime(since)
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode %s: %w", s.Instance, err)
	}
	cond := expression.AttributeNotExists(expression.Name("transactionId"))
	if s.Version != 0 {
		cond = expression.Name("version").Equal(expression.Value(s.Version))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("condition %s: %w", s.Instance, err)
	}
	_, err = d.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(d.table), Item: av,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values()})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return ErrConflict
	case err != nil:
		return fmt.Errorf("put %s: %w", s.Instance, err)
	}
	s.Version++
	return nil
}
