package connection_test

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/finance/fbdi-notify/internal/awstest"
	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/connection/connectiontest"
)

func TestDynamoStore(t *testing.T) {
	client := awstest.DynamoDB(t)
	connectiontest.Run(t, func(t *testing.T, now func() time.Time) connection.Store {
		return connection.NewDynamoStore(client, newTable(t, client), now)
	})
}

// TestDynamoStoreCalls pins the DynamoDB calls each operation makes: the
// README reports them as the cost of a connect, a disconnect and a fan-out.
func TestDynamoStoreCalls(t *testing.T) {
	ctx := awstest.Context(t)
	raw := awstest.DynamoDB(t)
	client := &countingClient{client: raw}
	now := time.Now()
	s := connection.NewDynamoStore(client, newTable(t, raw), func() time.Time { return now })
	for _, c := range []connection.Connection{
		connection.New("a-1", "user-a", now, "", ""),
		connection.New("a-2", "user-a", now, "", ""),
		connection.New("a-3", "user-a", now, "", ""),
		connection.New("b-1", "user-b", now, "", ""),
	} {
		if err := s.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name string
		op   func(ctx context.Context) error
		want map[string]int // SDK operation -> calls
	}{
		{name: "connect: Put", op: func(ctx context.Context) error {
			return s.Put(ctx, connection.New("a-4", "user-a", now, "198.51.100.9", "agent"))
		}, want: map[string]int{"PutItem": 1}},
		{name: "disconnect: Delete", op: func(ctx context.Context) error {
			return s.Delete(ctx, "a-4")
		}, want: map[string]int{"DeleteItem": 1}},
		{name: "Delete of a missing ID", op: func(ctx context.Context) error {
			return s.Delete(ctx, "never-put")
		}, want: map[string]int{"DeleteItem": 1}},
		{name: "Get", op: func(ctx context.Context) error {
			_, err := s.Get(ctx, "a-1")
			return err
		}, want: map[string]int{"GetItem": 1}},
		{name: "ByUser with three connections", op: func(ctx context.Context) error {
			conns, err := s.ByUser(ctx, "user-a")
			if len(conns) != 3 {
				t.Errorf("ByUser = %d connections, want 3", len(conns))
			}
			return err
		}, want: map[string]int{"Query": 1}},
		{name: "ByUser of an unknown user", op: func(ctx context.Context) error {
			_, err := s.ByUser(ctx, "user-z")
			return err
		}, want: map[string]int{"Query": 1}},
		{name: "Get of an empty ID makes no call", op: func(ctx context.Context) error {
			_, err := s.Get(ctx, "")
			if err == nil {
				t.Error("Get(\"\") = nil error, want ErrNotFound")
			}
			return nil
		}, want: map[string]int{}},
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

// newTable creates a fresh connections table on moto_server from
// connection.TableInput and deletes it when the test ends.
func newTable(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	ctx := awstest.Context(t)
	name := awstest.UniqueName(t, "connections")
	if _, err := client.CreateTable(ctx, connection.TableInput(name)); err != nil {
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

func (c *countingClient) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.count("DeleteItem")
	return c.client.DeleteItem(ctx, in, optFns...)
}

func (c *countingClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count("GetItem")
	return c.client.GetItem(ctx, in, optFns...)
}

func (c *countingClient) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.count("Query")
	return c.client.Query(ctx, in, optFns...)
}
