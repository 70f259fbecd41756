package history_test

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/finance/fbdi-notify/internal/awstest"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/history/historytest"
	"github.com/finance/fbdi-notify/internal/notification"
)

func TestDynamoStore(t *testing.T) {
	client := awstest.DynamoDB(t)
	historytest.Run(t, func(t *testing.T, now func() time.Time) history.Store {
		return history.NewDynamoStore(client, newTable(t, client), now)
	})
}

// TestDynamoStoreCalls pins the DynamoDB calls each operation makes, for the
// README's cost table: they grow with the page or the user's unread items.
func TestDynamoStoreCalls(t *testing.T) {
	ctx := awstest.Context(t)
	raw := awstest.DynamoDB(t)
	client := &countingClient{client: raw}
	now := time.Now()
	s := history.NewDynamoStore(client, newTable(t, raw), func() time.Time { return now })
	var ids []string
	add := func(user string) error {
		n := notification.General("hello", nil)
		n.Stamp(now)
		ids = append(ids, n.ID)
		return s.Add(ctx, history.Item{UserID: user, Notification: n, ExpiresAt: now.Add(time.Hour)})
	}
	for range 5 {
		if err := add("user-a"); err != nil {
			t.Fatal(err)
		}
	}
	if err := add("user-b"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		op   func(ctx context.Context) error
		want map[string]int // SDK operation -> calls
	}{
		{name: "Add", op: func(ctx context.Context) error { return add("user-a") },
			want: map[string]int{"PutItem": 1}},
		{name: "Add of a duplicate", op: func(ctx context.Context) error {
			return s.Add(ctx, history.Item{UserID: "user-a", Notification: notification.Notification{ID: ids[0]},
				ExpiresAt: now.Add(time.Hour)})
		}, want: map[string]int{"PutItem": 1}},
		{name: "After from the start", op: func(ctx context.Context) error {
			_, _, err := s.After(ctx, "user-a", "", 100)
			return err
		}, want: map[string]int{"Query": 1}},
		{name: "After a page", op: func(ctx context.Context) error {
			_, more, err := s.After(ctx, "user-a", ids[0], 2)
			if !more {
				t.Error("hasMore = false, want true")
			}
			return err
		}, want: map[string]int{"Query": 1}},
		{name: "Before", op: func(ctx context.Context) error {
			_, _, err := s.Before(ctx, "user-a", "", 50)
			return err
		}, want: map[string]int{"Query": 1}},
		{name: "UnreadCount", op: func(ctx context.Context) error {
			n, err := s.UnreadCount(ctx, "user-a")
			if n != 6 {
				t.Errorf("UnreadCount = %d, want 6", n)
			}
			return err
		}, want: map[string]int{"Query": 1}},
		{name: "MarkRead of two ids, one twice, and an unknown one", op: func(ctx context.Context) error {
			return s.MarkRead(ctx, "user-a", []string{ids[0], ids[1], ids[1], "unknown"})
		}, want: map[string]int{"UpdateItem": 3}},
		{name: "MarkRead of nothing", op: func(ctx context.Context) error {
			return s.MarkRead(ctx, "user-a", nil)
		}, want: map[string]int{}},
		{name: "MarkAllRead updates only the unread items", op: func(ctx context.Context) error {
			return s.MarkAllRead(ctx, "user-a")
		}, want: map[string]int{"Query": 1, "UpdateItem": 4}},
		{name: "MarkAllRead with nothing unread", op: func(ctx context.Context) error {
			return s.MarkAllRead(ctx, "user-a")
		}, want: map[string]int{"Query": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client.reset()
			if err := tt.op(ctx); err != nil {
				t.Fatal(err)
			}
			if got := client.reset(); !maps.Equal(got, tt.want) {
				t.Errorf("calls = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDynamoStoreMarkReadWritesNothingNew checks, in the raw table, that
// marking unknown or other users' IDs creates no item: an unconditional
// UpdateItem would create key-only items that the store hides (they have no
// expiresAt) but that TTL never deletes.
func TestDynamoStoreMarkReadWritesNothingNew(t *testing.T) {
	ctx := awstest.Context(t)
	client := awstest.DynamoDB(t)
	table := newTable(t, client)
	now := time.Now()
	s := history.NewDynamoStore(client, table, func() time.Time { return now })
	n := notification.General("for a", nil)
	n.Stamp(now)
	if err := s.Add(ctx, history.Item{UserID: "user-a", Notification: n, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRead(ctx, "user-b", []string{n.ID, "01ARZ3NDEKTSV4RRFFQ69G5FAV"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRead(ctx, "user-a", []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV"}); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]int32{"user-a": 1, "user-b": 0} {
		out, err := client.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(table),
			KeyConditionExpression:    aws.String("userId = :u"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":u": &types.AttributeValueMemberS{Value: user}},
			Select:                    types.SelectCount,
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.Count != want {
			t.Errorf("%s has %d items in the table, want %d", user, out.Count, want)
		}
	}
}

// TestDynamoStoreManyUnread runs MarkAllRead and UnreadCount over more unread
// items than one batch of concurrent updates.
func TestDynamoStoreManyUnread(t *testing.T) {
	ctx := awstest.Context(t)
	client := awstest.DynamoDB(t)
	now := time.Now()
	s := history.NewDynamoStore(client, newTable(t, client), func() time.Time { return now })
	const count = 75
	for i := range count {
		n := notification.General(fmt.Sprintf("n%d", i), nil)
		n.Stamp(now)
		if err := s.Add(ctx, history.Item{UserID: "u", Notification: n, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.UnreadCount(ctx, "u"); err != nil || n != count {
		t.Fatalf("UnreadCount = %d, %v; want %d", n, err, count)
	}
	if err := s.MarkAllRead(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.UnreadCount(ctx, "u"); err != nil || n != 0 {
		t.Fatalf("UnreadCount after MarkAllRead = %d, %v; want 0", n, err)
	}
}

// newTable creates a fresh notifications table on moto_server from
// history.TableInput and deletes it when the test ends.
func newTable(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	ctx := awstest.Context(t)
	name := awstest.UniqueName(t, "notifications")
	if _, err := client.CreateTable(ctx, history.TableInput(name)); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Logf("delete table %s: %v", name, err)
		}
	})
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("wait for table %s: %v", name, err)
	}
	return name
}

// countingClient forwards to a *dynamodb.Client and counts the calls by
// operation. It implements exactly the methods DynamoStore asks for, so a
// store that needed another operation would not compile here.
type countingClient struct {
	client *dynamodb.Client
	mu     sync.Mutex
	calls  map[string]int
}

func (c *countingClient) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
}

// reset returns the counts so far and starts again from zero.
func (c *countingClient) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = map[string]int{}
	if calls == nil {
		calls = map[string]int{}
	}
	return calls
}

func (c *countingClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.count("PutItem")
	return c.client.PutItem(ctx, in, optFns...)
}

func (c *countingClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.count("UpdateItem")
	return c.client.UpdateItem(ctx, in, optFns...)
}

func (c *countingClient) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.count("Query")
	return c.client.Query(ctx, in, optFns...)
}
