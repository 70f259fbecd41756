package connection

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute and index names of the connections table.
const (
	attrID          = "connectionId"
	attrUserID      = "userId"
	attrExpiresAt   = "expiresAt"
	attrWelcomedAt  = "welcomedAt" // the welcome claim, RFC 3339 with fractional seconds
	attrRateWindow  = "rateWindow" // start of the rate window, Unix ms
	attrRateUnits   = "rateUnits"  // units spent in that window
	indexByUser     = "byUser"
	connectedFormat = time.RFC3339Nano
)

// dynamoAPI is the part of *dynamodb.Client that DynamoStore uses.
type dynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// item is one row of the connections table.
type item struct {
	ConnectionID string `dynamodbav:"connectionId"`        // partition key
	UserID       string `dynamodbav:"userId"`              // byUser index partition key
	ConnectedAt  string `dynamodbav:"connectedAt"`         // RFC 3339, UTC, with fractional seconds
	ExpiresAt    int64  `dynamodbav:"expiresAt"`           // epoch seconds; TTL attribute
	SourceIP     string `dynamodbav:"sourceIp,omitempty"`  // omitted when unknown
	UserAgent    string `dynamodbav:"userAgent,omitempty"` // omitted when unknown
}

func toItem(c Connection) item {
	return item{ConnectionID: c.ID, UserID: c.UserID, ConnectedAt: c.ConnectedAt.UTC().Format(connectedFormat),
		ExpiresAt: c.ExpiresAt.Unix(), SourceIP: c.SourceIP, UserAgent: c.UserAgent}
}

func (it item) connection() (Connection, error) {
	at, err := time.Parse(connectedFormat, it.ConnectedAt)
	if err != nil {
		return Connection{}, fmt.Errorf("decode %s: connectedAt: %w", it.ConnectionID, err)
	}
	return Connection{ID: it.ConnectionID, UserID: it.UserID, ConnectedAt: at.UTC(),
		ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC(), SourceIP: it.SourceIP, UserAgent: it.UserAgent}, nil
}

var (
	_ Store     = (*DynamoStore)(nil)
	_ dynamoAPI = (*dynamodb.Client)(nil)
)

// DynamoStore is a Store backed by the DynamoDB table that template.yaml
// declares as ConnectionsTable (its tests run on that definition). It is safe for concurrent use.
//
// DynamoDB calls per method: Put one PutItem, Delete one DeleteItem, Get one
// (strongly consistent) GetItem, ByUser one Query on the byUser index per 1 MB
// of the user's rows (in practice one), ClaimWelcome and ReleaseWelcome one
// conditional UpdateItem, Spend one conditional UpdateItem, two for the first
// spend of a window (see Spend). Only Count scans (for the sweeper's
// gauge, never on a request path). ByUser reads a global
// secondary index, so a connection put a moment ago may be missing for a
// fraction of a second. ExpiresAt is kept to the second.
type DynamoStore struct {
	client dynamoAPI
	table  string
	now    func() time.Time
}

// NewDynamoStore returns a store that keeps connections in table through
// client (usually a *dynamodb.Client). now is the clock that decides expiry;
// nil means time.Now.
func NewDynamoStore(client dynamoAPI, table string, now func() time.Time) *DynamoStore {
	if now == nil {
		now = time.Now
	}
	return &DynamoStore{client: client, table: table, now: now}
}

// Put records c with one PutItem, replacing any row with the same ID. It
// returns an error, without calling DynamoDB, if c.ID or c.UserID is empty or
// longer than DynamoDB allows for a key.
func (s *DynamoStore) Put(ctx context.Context, c Connection) error {
	if err := validate(c); err != nil {
		return fmt.Errorf("connection: put %q: %w", c.ID, err)
	}
	av, err := attributevalue.MarshalMap(toItem(c))
	if err != nil {
		return fmt.Errorf("connection: put %s: %w", c.ID, err)
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av}); err != nil {
		return fmt.Errorf("connection: put %s: %w", c.ID, err)
	}
	return nil
}

// Delete removes the connection with that ID with one DeleteItem. Deleting a
// missing ID is not an error.
func (s *DynamoStore) Delete(ctx context.Context, id string) error {
	if !validKey(id) {
		return nil // no row can have this key
	}
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(id)})
	if err != nil {
		return fmt.Errorf("connection: delete %s: %w", id, err)
	}
	return nil
}

// Get returns the connection with that ID, or ErrNotFound if there is none or
// it has expired. It makes one strongly consistent GetItem, so a connection
// put just before is found.
func (s *DynamoStore) Get(ctx context.Context, id string) (Connection, error) {
	if !validKey(id) {
		return Connection{}, ErrNotFound
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(id),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Connection{}, fmt.Errorf("connection: get %s: %w", id, err)
	}
	if out.Item == nil {
		return Connection{}, ErrNotFound
	}
	var it item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Connection{}, fmt.Errorf("connection: get %s: %w", id, err)
	}
	c, err := it.connection()
	if err != nil {
		return Connection{}, fmt.Errorf("connection: get %s: %w", id, err)
	}
	if !live(c.ExpiresAt, s.now()) {
		return Connection{}, ErrNotFound
	}
	return c, nil
}

// ByUser returns the user's live connections with one Query on the byUser
// index, filtered on expiresAt, following LastEvaluatedKey if the user's rows
// exceed one page.
func (s *DynamoStore) ByUser(ctx context.Context, userID string) ([]Connection, error) {
	conns := []Connection{}
	if !validKey(userID) {
		return conns, nil
	}
	expr, err := expression.NewBuilder().
		WithKeyCondition(expression.Key(attrUserID).Equal(expression.Value(userID))).
		WithFilter(expression.Name(attrExpiresAt).GreaterThan(expression.Value(s.now().Unix()))).
		Build()
	if err != nil {
		return nil, fmt.Errorf("connection: by user %s: %w", userID, err)
	}
	pages := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(indexByUser),
		KeyConditionExpression:    expr.KeyCondition(),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("connection: by user %s: %w", userID, err)
		}
		var items []item
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("connection: by user %s: %w", userID, err)
		}
		for _, it := range items {
			c, err := it.connection()
			if err != nil {
				return nil, fmt.Errorf("connection: by user %s: %w", userID, err)
			}
			conns = append(conns, c)
		}
	}
	return conns, nil
}

// Count returns the number of live connections (expiresAt after now):
// the ConnectionsOpen gauge, which the sweeper records on its schedule. It
// Scans the whole table with Select=COUNT and a filter on expiresAt,
// following LastEvaluatedKey page by page (1 MB each): every row is one
// connection, so nothing else needs filtering out.
//
// Cost: a Scan reads every item, filtered or not, so each Count consumes
// RCUs = table size / 4 KB, halved because the read is eventually
// consistent (about one RCU per 8 KB of rows, expired rows that TTL has not
// deleted yet included), and takes time growing with the table. That is why it is never on a request path: the
// sweeper runs it once per run (SweepSchedule, every minute by default). Being eventually
// consistent, it may miss a connection made or count one closed a moment
// before.
func (s *DynamoStore) Count(ctx context.Context) (int, error) {
	expr, err := expression.NewBuilder().
		WithFilter(expression.Name(attrExpiresAt).GreaterThan(expression.Value(s.now().Unix()))).
		Build()
	if err != nil {
		return 0, fmt.Errorf("connection: count: %w", err)
	}
	pages := dynamodb.NewScanPaginator(s.client, &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		Select:                    types.SelectCount,
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("connection: count: %w", err)
		}
		n += int(page.Count)
	}
	return n, nil
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrID: &types.AttributeValueMemberS{Value: id}}
}
