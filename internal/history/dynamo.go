package history

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithytime "github.com/aws/smithy-go/time"
)

// Rows of the notifications table, all under the user's partition key
// (docs/design.md#order-and-positions):
//
//   - the counter, sort key counterKey: seq (the last position taken) and
//     readUpTo (the MarkAllRead watermark); it never expires;
//   - one item row per notification, sort key positionKey(position): the
//     record, so a key-condition Query on the table reads a user's items in
//     position order, strongly consistent;
//   - one marker per notification, sort key markerPrefix+ID: its position,
//     so that an ID is stored once and can be found (MarkRead, legacy cursors).
const (
	counterKey   = "seq"
	markerPrefix = "i#"

	attrUserID     = "userId"
	attrKey        = "id"
	attrPos        = "pos"
	attrSeq        = "seq"
	attrReadUpTo   = "readUpTo"
	attrExpiresAt  = "expiresAt"
	attrUnread     = "unreadPos"
	attrUnreadCat  = "unreadCat"
	attrCategory   = "cat"
	attrArchived   = "archived"
	indexUnread    = "unreadPos"
	indexUnreadCat = "unreadCat"
)

// writeConcurrency bounds the calls that MarkRead runs at once.
const writeConcurrency = 8

// Retries of Add when another Add took the position first: up to
// addAttempts transactions, with a full-jitter wait below addBackoffCap.
const (
	addAttempts   = 8
	addBackoffCap = 50 * time.Millisecond
)

// dynamoAPI is the part of *dynamodb.Client that DynamoStore uses.
type dynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var (
	_ Store     = (*DynamoStore)(nil)
	_ dynamoAPI = (*dynamodb.Client)(nil)
)

// DynamoStore is a Store backed by the DynamoDB table that template.yaml
// declares as NotificationsTable (its tests run on that definition). It is
// safe for concurrent use and never scans.
//
// DynamoDB calls per method: Add one strongly consistent GetItem of the
// counter and one TransactWriteItems (counter, marker, item), again for each
// retry when a concurrent Add took the position, plus one GetItem of the
// marker for a duplicate; After and Before one GetItem of the counter (the
// watermark) and one strongly consistent Query (more only when expired items
// not yet removed by TTL fill the page); Position one GetItem; UnreadCount
// one GetItem and one Query with Select COUNT on the sparse unread index;
// MarkRead one GetItem and one conditional UpdateItem per distinct ID;
// MarkAllRead one UpdateItem. The unread index is eventually consistent, so
// UnreadCount may lag a write by a fraction of a second. ExpiresAt is kept to
// the second.
type DynamoStore struct {
	client dynamoAPI
	table  string
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

// NewDynamoStore returns a store that keeps notifications in table through
// client (usually a *dynamodb.Client). now is the clock that decides expiry;
// nil means time.Now.
func NewDynamoStore(client dynamoAPI, table string, now func() time.Time) *DynamoStore {
	if now == nil {
		now = time.Now
	}
	return &DynamoStore{client: client, table: table, now: now, sleep: smithytime.SleepWithContext}
}

func (s *DynamoStore) key(userID, sortKey string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrUserID: &types.AttributeValueMemberS{Value: userID},
		attrKey:    &types.AttributeValueMemberS{Value: sortKey},
	}
}

// counter is the user's counter row.
type counter struct {
	Seq      Position `dynamodbav:"seq"`
	ReadUpTo Position `dynamodbav:"readUpTo"`
}

// counter reads the user's counter row, strongly consistent; zero if none.
func (s *DynamoStore) counter(ctx context.Context, userID string) (counter, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            s.key(userID, counterKey),
		ConsistentRead: aws.Bool(true),
	})
	var c counter
	if err == nil {
		err = attributevalue.UnmarshalMap(out.Item, &c)
	}
	return c, err
}

// Add stores item at the user's next position: it reads the counter (N) and
// writes in one transaction the counter as N+1 (on condition that it is
// still N), the ID's marker and the item row (each on condition that it does
// not exist). So positions become visible in the order they are taken. If
// the marker exists the ID is a duplicate: its position is returned and
// nothing changes. If the counter moved, Add tries again.
func (s *DynamoStore) Add(ctx context.Context, item Item) (Position, error) {
	id := item.Notification.ID
	if _, err := newRecord(item, 1, s.now()); err != nil {
		return 0, err
	}
	for attempt := 1; ; attempt++ {
		c, err := s.counter(ctx, item.UserID)
		if err != nil {
			return 0, fmt.Errorf("history: add %s: read counter: %w", id, err)
		}
		in, err := s.addInput(item, c.Seq)
		if err != nil {
			return 0, err
		}
		_, err = s.client.TransactWriteItems(ctx, in)
		if err == nil {
			return c.Seq + 1, nil
		}
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			return 0, fmt.Errorf("history: add %s: %w", id, err)
		}
		if r := canceled.CancellationReasons; len(r) == 3 && aws.ToString(r[1].Code) == "ConditionalCheckFailed" {
			p, err := s.Position(ctx, item.UserID, id)
			if !errors.Is(err, ErrNotFound) { // else expired meanwhile: store it again
				return p, err
			}
		}
		if attempt == addAttempts {
			return 0, fmt.Errorf("history: add %s (%d attempts): %w: %w", id, attempt, ErrContention, err)
		}
		if err := s.sleep(ctx, rand.N(addBackoffCap)); err != nil {
			return 0, fmt.Errorf("history: add %s: %w", id, err)
		}
	}
}

// addInput is the transaction that stores item at position seq+1.
func (s *DynamoStore) addInput(item Item, seq Position) (*dynamodb.TransactWriteItemsInput, error) {
	r, err := newRecord(item, seq+1, s.now())
	if err != nil {
		return nil, err
	}
	av, err := attributevalue.MarshalMap(r)
	if err != nil {
		return nil, fmt.Errorf("history: add %s: %w", r.ID, err)
	}
	notExists := aws.String("attribute_not_exists(#k)")
	names := map[string]string{"#k": attrKey}
	counterCond := "#seq = :seq"
	values := map[string]types.AttributeValue{
		":seq":  &types.AttributeValueMemberN{Value: strconv.FormatUint(uint64(seq), 10)},
		":next": &types.AttributeValueMemberN{Value: strconv.FormatUint(uint64(seq+1), 10)},
	}
	if seq == 0 {
		counterCond = "attribute_not_exists(#seq)"
		delete(values, ":seq")
	}
	marker := s.key(r.UserID, markerPrefix+r.ID)
	marker[attrPos] = av[attrPos]
	marker[attrExpiresAt] = av[attrExpiresAt]
	return &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       s.key(r.UserID, counterKey),
			UpdateExpression:          aws.String("SET #seq = :next"),
			ConditionExpression:       aws.String(counterCond),
			ExpressionAttributeNames:  map[string]string{"#seq": attrSeq},
			ExpressionAttributeValues: values,
		}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: marker,
			ConditionExpression: notExists, ExpressionAttributeNames: names}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: av,
			ConditionExpression: notExists, ExpressionAttributeNames: names}},
	}}, nil
}

// Position reads the marker of the user's notification id.
func (s *DynamoStore) Position(ctx context.Context, userID, id string) (Position, error) {
	if !validUser(userID) || !validID(id) {
		return 0, fmt.Errorf("history: position of %.64q for user %.64q: %w", id, userID, ErrNotFound)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            s.key(userID, markerPrefix+id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("history: position of %s for user %s: %w", id, userID, err)
	}
	var m struct {
		Pos       Position `dynamodbav:"pos"`
		ExpiresAt int64    `dynamodbav:"expiresAt"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		return 0, fmt.Errorf("history: position of %s for user %s: %w", id, userID, err)
	}
	if m.Pos == 0 || !(record{ExpiresAt: m.ExpiresAt}).live(s.now()) {
		return 0, fmt.Errorf("history: position of %s for user %s: %w", id, userID, ErrNotFound)
	}
	return m.Pos, nil
}

// After returns up to limit live items matching f at positions greater
// than after, in position order. Limits are clamped to [1, MaxLimit], with
// DefaultLimit for <= 0.
func (s *DynamoStore) After(ctx context.Context, userID string, after Position, f Filter, limit int) (Page, error) {
	return s.page(ctx, "after", userID, after+1, ^Position(0), f, limit, true)
}

// Before returns up to limit live items matching f at positions less than
// before (the newest when before is 0), newest first. Limits are clamped like
// After's.
func (s *DynamoStore) Before(ctx context.Context, userID string, before Position, f Filter, limit int) (Page, error) {
	hi := ^Position(0)
	if before != 0 {
		hi = before - 1
	}
	return s.page(ctx, "before", userID, 1, hi, f, limit, false)
}

// page reads the watermark, then queries the user's item rows between
// positions lo and hi in the given direction, with a filter that keeps live,
// unarchived items matching f. It asks for limit+1 items per Query to learn
// whether more follow, and reads at most ScanPages Query pages.
func (s *DynamoStore) page(ctx context.Context, op, userID string, lo, hi Position, f Filter, limit int, forward bool) (Page, error) {
	limit = clampLimit(limit)
	if !validUser(userID) || lo > hi {
		return Page{Items: []Item{}}, nil
	}
	c, err := s.counter(ctx, userID)
	if err != nil {
		return Page{}, fmt.Errorf("history: %s for user %s: read counter: %w", op, userID, err)
	}
	keyCond := expression.Key(attrUserID).Equal(expression.Value(userID)).
		And(expression.Key(attrKey).Between(expression.Value(positionKey(lo)), expression.Value(positionKey(hi))))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).WithFilter(s.pageFilter(f, c.ReadUpTo)).Build()
	if err != nil {
		return Page{}, fmt.Errorf("history: %s for user %s: %w", op, userID, err)
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
	var (
		records   []record
		stoppedAt Position
	)
	for read := 0; len(records) <= limit && pages.HasMorePages(); read++ {
		if read == ScanPages {
			break
		}
		out, err := pages.NextPage(ctx)
		if err != nil {
			return Page{}, fmt.Errorf("history: %s for user %s: %w", op, userID, err)
		}
		var more []record
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &more); err != nil {
			return Page{}, fmt.Errorf("history: %s for user %s: %w", op, userID, err)
		}
		records = append(records, more...)
		if read == ScanPages-1 && out.LastEvaluatedKey != nil {
			if stoppedAt, err = lastPosition(out.LastEvaluatedKey); err != nil {
				return Page{}, fmt.Errorf("history: %s for user %s: %w", op, userID, err)
			}
		}
	}
	if len(records) > limit+1 {
		records = records[:limit+1]
	}
	page, err := decodePage(op, records, limit, c.ReadUpTo, stoppedAt)
	if err != nil {
		return Page{}, fmt.Errorf("history: %s for user %s: %w", op, userID, err)
	}
	return page, nil
}

// lastPosition is the position of a Query's LastEvaluatedKey on the table.
func lastPosition(key map[string]types.AttributeValue) (Position, error) {
	var k struct {
		Key string `dynamodbav:"id"`
	}
	if err := attributevalue.UnmarshalMap(key, &k); err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(k.Key, "p"), 10, 64)
	if err != nil || !strings.HasPrefix(k.Key, "p") {
		return 0, fmt.Errorf("last evaluated key %q is not an item row", k.Key)
	}
	return Position(n), nil
}

// pageFilter keeps live items that are not archived and match f at watermark
// (record.matches).
func (s *DynamoStore) pageFilter(f Filter, watermark Position) expression.ConditionBuilder {
	cond := s.liveFilter().And(expression.AttributeNotExists(expression.Name(attrArchived)))
	if f.Category != "" {
		cond = cond.And(expression.Name(attrCategory).Equal(expression.Value(f.Category)))
	}
	if f.UnreadOnly {
		cond = cond.And(expression.Name(attrUnread).GreaterThan(expression.Value(watermark)))
	}
	return cond
}

// MarkRead marks the user's items with those IDs as read: per distinct ID,
// one GetItem of its marker (its position) and one UpdateItem removing the
// item row's unread attribute on condition that it exists, so unknown IDs,
// other users' IDs and items already read change nothing. Up to
// writeConcurrency IDs are handled at once.
func (s *DynamoStore) MarkRead(ctx context.Context, userID string, ids []string) error {
	if !validUser(userID) {
		return nil
	}
	if err := s.eachID(ctx, userID, ids, func(ctx context.Context, p Position) error {
		return s.clearUnread(ctx, userID, p)
	}); err != nil {
		return fmt.Errorf("history: mark read for user %s: %w", userID, err)
	}
	return nil
}

// clearUnread removes the unread attribute of the user's item row at p.
func (s *DynamoStore) clearUnread(ctx context.Context, userID string, p Position) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      s.key(userID, positionKey(p)),
		UpdateExpression:         aws.String("REMOVE #u, #uc"),
		ConditionExpression:      aws.String("attribute_exists(#u)"),
		ExpressionAttributeNames: map[string]string{"#u": attrUnread, "#uc": attrUnreadCat},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("%s: %w", positionKey(p), err)
	}
	return nil
}

// MarkRead's per-ID work, shared with Archive: the marker's position, then fn.
func (s *DynamoStore) eachID(ctx context.Context, userID string, ids []string, fn func(ctx context.Context, p Position) error) error {
	var todo []string
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if validID(id) && !seen[id] {
			seen[id] = true
			todo = append(todo, id)
		}
	}
	return s.forEach(ctx, todo, func(ctx context.Context, id string) error {
		p, err := s.Position(ctx, userID, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(ctx, p)
	})
}

// Archive marks the user's items with those IDs archived and no longer
// unread: per distinct ID, one GetItem of its marker and one UpdateItem of
// the item row on condition that it exists. Up to writeConcurrency IDs are
// handled at once.
func (s *DynamoStore) Archive(ctx context.Context, userID string, ids []string) error {
	if !validUser(userID) {
		return nil
	}
	err := s.eachID(ctx, userID, ids, func(ctx context.Context, p Position) error {
		_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       s.key(userID, positionKey(p)),
			UpdateExpression:          aws.String("SET #a = :t REMOVE #u, #uc"),
			ConditionExpression:       aws.String("attribute_exists(#k)"),
			ExpressionAttributeNames:  map[string]string{"#a": attrArchived, "#u": attrUnread, "#uc": attrUnreadCat, "#k": attrKey},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
		})
		if err != nil && !conditionFailed(err) {
			return fmt.Errorf("%s: %w", positionKey(p), err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("history: archive for user %s: %w", userID, err)
	}
	return nil
}

// MarkCategoryRead reads the watermark, then queries the sparse unreadCat
// index (the user's unread items of category above it, the oldest first, at
// most MaxCategoryMarks in one Query) and clears each as MarkRead does, up
// to writeConcurrency at once. The index is eventually consistent: an item
// added a moment before may stay unread.
func (s *DynamoStore) MarkCategoryRead(ctx context.Context, userID, category string) error {
	if !validUser(userID) || category == "" {
		return nil
	}
	c, err := s.counter(ctx, userID)
	if err != nil {
		return fmt.Errorf("history: mark %s read for user %s: read counter: %w", category, userID, err)
	}
	expr, err := expression.NewBuilder().
		WithKeyCondition(expression.Key(attrUnreadCat).Equal(expression.Value(unreadCategoryKey(userID, category))).
			And(expression.Key(attrUnread).GreaterThan(expression.Value(c.ReadUpTo)))).
		Build()
	if err != nil {
		return fmt.Errorf("history: mark %s read for user %s: %w", category, userID, err)
	}
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(indexUnreadCat),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		Limit:                     aws.Int32(MaxCategoryMarks),
	})
	if err != nil {
		return fmt.Errorf("history: mark %s read for user %s: %w", category, userID, err)
	}
	positions := make([]string, 0, len(out.Items))
	for _, key := range out.Items {
		p, err := lastPosition(key)
		if err != nil {
			return fmt.Errorf("history: mark %s read for user %s: %w", category, userID, err)
		}
		positions = append(positions, positionKey(p))
	}
	err = s.forEach(ctx, positions, func(ctx context.Context, key string) error {
		p, _ := lastPosition(map[string]types.AttributeValue{attrKey: &types.AttributeValueMemberS{Value: key}})
		return s.clearUnread(ctx, userID, p)
	})
	if err != nil {
		return fmt.Errorf("history: mark %s read for user %s: %w", category, userID, err)
	}
	return nil
}

// MarkAllRead moves the user's watermark to the last position taken, with one
// UpdateItem of the counter (readUpTo = seq); a user with no counter has
// nothing to mark.
func (s *DynamoStore) MarkAllRead(ctx context.Context, userID string) error {
	if !validUser(userID) {
		return nil
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      s.key(userID, counterKey),
		UpdateExpression:         aws.String("SET #w = #seq"),
		ConditionExpression:      aws.String("attribute_exists(#seq)"),
		ExpressionAttributeNames: map[string]string{"#w": attrReadUpTo, "#seq": attrSeq},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("history: mark all read for user %s: %w", userID, err)
	}
	return nil
}

// UnreadCount reads the watermark, then counts the user's live entries of
// the sparse unread index above it with a Query that selects COUNT.
func (s *DynamoStore) UnreadCount(ctx context.Context, userID string) (int, error) {
	if !validUser(userID) {
		return 0, nil
	}
	c, err := s.counter(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("history: unread count for user %s: read counter: %w", userID, err)
	}
	expr, err := expression.NewBuilder().
		WithKeyCondition(expression.Key(attrUserID).Equal(expression.Value(userID)).
			And(expression.Key(attrUnread).GreaterThan(expression.Value(c.ReadUpTo)))).
		WithFilter(s.liveFilter()).
		Build()
	if err != nil {
		return 0, fmt.Errorf("history: unread count for user %s: %w", userID, err)
	}
	pages := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(indexUnread),
		KeyConditionExpression:    expr.KeyCondition(),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		Select:                    types.SelectCount,
	})
	n := 0
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("history: unread count for user %s: %w", userID, err)
		}
		n += int(out.Count)
	}
	return n, nil
}

// forEach runs fn for each of ids, up to writeConcurrency at a time, and
// returns the first failure; a failure stops starting new calls.
func (s *DynamoStore) forEach(ctx context.Context, ids []string, fn func(ctx context.Context, id string) error) error {
	if len(ids) == 0 {
		return nil
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
			if err := fn(ctx, id); err != nil {
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
