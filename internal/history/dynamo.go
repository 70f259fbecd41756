package history

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute and index names of the notifications table.
const (
	attrUserID    = "userId"
	attrID        = "id"
	attrExpiresAt = "expiresAt"
	attrUnread    = "unread"
	indexUnread   = "unread"
)

// writeConcurrency bounds the UpdateItem calls that MarkRead and MarkAllRead
// run at once.
const writeConcurrency = 8

// dynamoAPI is the part of *dynamodb.Client that DynamoStore uses.
type dynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var (
	_ Store     = (*DynamoStore)(nil)
	_ dynamoAPI = (*dynamodb.Client)(nil)
)

// DynamoStore is a Store backed by the DynamoDB table that template.yaml
// declares as NotificationsTable (its tests run on that definition). It is safe for concurrent use and never scans.
//
// DynamoDB calls per method: Add one conditional PutItem; After and Before one
// strongly consistent Query (more only when expired items not yet removed by
// TTL fill the page); UnreadCount one Query with Select COUNT on the sparse
// unread index; MarkRead one conditional UpdateItem per distinct ID;
// MarkAllRead one Query on the unread index plus one UpdateItem per unread
// item. The unread index is eventually consistent, so UnreadCount may lag a
// write by a fraction of a second. ExpiresAt is kept to the second.
type DynamoStore struct {
	client dynamoAPI
	table  string
	now    func() time.Time
}

// NewDynamoStore returns a store that keeps notifications in table through
// client (usually a *dynamodb.Client). now is the clock that decides expiry;
// nil means time.Now.
func NewDynamoStore(client dynamoAPI, table string, now func() time.Time) *DynamoStore {
	if now == nil {
		now = time.Now
	}
	return &DynamoStore{client: client, table: table, now: now}
}

// Add stores item with one PutItem conditioned on the ID being new, so a
// redelivered notification leaves the stored one unchanged.
func (s *DynamoStore) Add(ctx context.Context, item Item) error {
	r, err := newRecord(item, s.now())
	if err != nil {
		return err
	}
	av, err := attributevalue.MarshalMap(r)
	if err != nil {
		return fmt.Errorf("history: add %s: %w", r.ID, err)
	}
	expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrID))).Build()
	if err != nil {
		return fmt.Errorf("history: add %s: %w", r.ID, err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     av,
		ConditionExpression:      expr.Condition(),
		ExpressionAttributeNames: expr.Names(),
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("history: add %s: %w", r.ID, err)
	}
	return nil
}

// After returns up to limit live items with IDs greater than afterID, oldest
// first. Limits are clamped to [1, MaxLimit], with DefaultLimit for <= 0.
func (s *DynamoStore) After(ctx context.Context, userID, afterID string, limit int) ([]Item, bool, error) {
	return s.page(ctx, "after", userID, afterID, limit, true)
}

// Before returns up to limit live items with IDs less than beforeID (the
// newest when beforeID is empty), newest first. Limits are clamped like After's.
func (s *DynamoStore) Before(ctx context.Context, userID, beforeID string, limit int) ([]Item, bool, error) {
	return s.page(ctx, "before", userID, beforeID, limit, false)
}

// page queries the user's items beyond cursor in the given direction. It asks
// for limit+1 items to learn whether more follow, and keeps reading while
// expired items (filtered out) leave the page short.
func (s *DynamoStore) page(ctx context.Context, op, userID, cursor string, limit int, forward bool) ([]Item, bool, error) {
	if len(cursor) > MaxIDLength {
		return nil, false, fmt.Errorf("history: %s %.64q: %w", op, cursor, ErrInvalid)
	}
	limit = clampLimit(limit)
	if !validUser(userID) {
		return []Item{}, false, nil
	}
	keyCond := expression.Key(attrUserID).Equal(expression.Value(userID))
	switch {
	case cursor == "":
	case forward:
		keyCond = keyCond.And(expression.Key(attrID).GreaterThan(expression.Value(cursor)))
	default:
		keyCond = keyCond.And(expression.Key(attrID).LessThan(expression.Value(cursor)))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).WithFilter(s.liveFilter()).Build()
	if err != nil {
		return nil, false, fmt.Errorf("history: %s %q: %w", op, cursor, err)
	}
	pages := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    expr.KeyCondition(),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(forward),
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(limit + 1)),
	})
	items := make([]Item, 0, limit+1)
	for len(items) <= limit && pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("history: %s %q for user %s: %w", op, cursor, userID, err)
		}
		var records []record
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &records); err != nil {
			return nil, false, fmt.Errorf("history: %s %q for user %s: %w", op, cursor, userID, err)
		}
		for _, r := range records {
			it, err := r.item()
			if err != nil {
				return nil, false, fmt.Errorf("history: %s %q for user %s: %w", op, cursor, userID, err)
			}
			items = append(items, it)
		}
	}
	if len(items) > limit {
		return items[:limit], true, nil
	}
	return items, false, nil
}

// MarkRead marks the user's items with those IDs as read: one UpdateItem per
// distinct ID, removing the unread attribute on condition that it exists, so
// unknown IDs, other users' IDs and items already read change nothing.
func (s *DynamoStore) MarkRead(ctx context.Context, userID string, ids []string) error {
	if !validUser(userID) {
		return nil
	}
	var todo []string
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if validID(id) && !seen[id] {
			seen[id] = true
			todo = append(todo, id)
		}
	}
	if err := s.clearUnread(ctx, userID, todo); err != nil {
		return fmt.Errorf("history: mark read for user %s: %w", userID, err)
	}
	return nil
}

// MarkAllRead marks every live unread item of the user as read: it reads their
// IDs from the sparse unread index, then updates each.
func (s *DynamoStore) MarkAllRead(ctx context.Context, userID string) error {
	if !validUser(userID) {
		return nil
	}
	var ids []string
	err := s.queryUnread(ctx, userID, false, func(out *dynamodb.QueryOutput) {
		for _, av := range out.Items {
			if id, ok := av[attrID].(*types.AttributeValueMemberS); ok {
				ids = append(ids, id.Value)
			}
		}
	})
	if err == nil {
		err = s.clearUnread(ctx, userID, ids)
	}
	if err != nil {
		return fmt.Errorf("history: mark all read for user %s: %w", userID, err)
	}
	return nil
}

// UnreadCount counts the user's live unread items with a Query that selects
// COUNT on the sparse unread index.
func (s *DynamoStore) UnreadCount(ctx context.Context, userID string) (int, error) {
	if !validUser(userID) {
		return 0, nil
	}
	var n int
	err := s.queryUnread(ctx, userID, true, func(out *dynamodb.QueryOutput) { n += int(out.Count) })
	if err != nil {
		return 0, fmt.Errorf("history: unread count for user %s: %w", userID, err)
	}
	return n, nil
}

// queryUnread queries the user's live entries of the unread index, only
// counting them or projecting their IDs, and hands each page to each.
func (s *DynamoStore) queryUnread(ctx context.Context, userID string, count bool, each func(*dynamodb.QueryOutput)) error {
	b := expression.NewBuilder().
		WithKeyCondition(expression.Key(attrUserID).Equal(expression.Value(userID))).
		WithFilter(s.liveFilter())
	if !count {
		b = b.WithProjection(expression.NamesList(expression.Name(attrID)))
	}
	expr, err := b.Build()
	if err != nil {
		return err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(indexUnread),
		KeyConditionExpression:    expr.KeyCondition(),
		FilterExpression:          expr.Filter(),
		ProjectionExpression:      expr.Projection(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}
	if count {
		in.Select = types.SelectCount
	}
	pages := dynamodb.NewQueryPaginator(s.client, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		each(out)
	}
	return nil
}

// clearUnread removes the unread attribute of the user's items with those IDs,
// up to writeConcurrency at a time, and returns the first failure. An item
// that does not exist or is already read fails the condition and is skipped.
func (s *DynamoStore) clearUnread(ctx context.Context, userID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	expr, err := expression.NewBuilder().
		WithCondition(expression.AttributeExists(expression.Name(attrUnread))).
		WithUpdate(expression.Remove(expression.Name(attrUnread))).
		Build()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		first   error // the first failed call
		stopped error // why no more calls were started
	)
	sem := make(chan struct{}, writeConcurrency)
	for _, id := range ids {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if stopped = ctx.Err(); stopped != nil {
			break // a call failed, or the caller gave up
		}
		wg.Go(func() {
			defer func() { <-sem }()
			_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(s.table),
				Key: map[string]types.AttributeValue{
					attrUserID: &types.AttributeValueMemberS{Value: userID},
					attrID:     &types.AttributeValueMemberS{Value: id},
				},
				UpdateExpression:         expr.Update(),
				ConditionExpression:      expr.Condition(),
				ExpressionAttributeNames: expr.Names(),
			})
			if err != nil && !conditionFailed(err) {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("%s: %w", id, err)
				}
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return stopped
}

// liveFilter keeps items whose TTL has not passed.
func (s *DynamoStore) liveFilter() expression.ConditionBuilder {
	return expression.Name(attrExpiresAt).GreaterThan(expression.Value(s.now().Unix()))
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
