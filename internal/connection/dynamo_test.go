package connection_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/connection/connectiontest"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

func TestDynamoStore(t *testing.T) {
	client := awstest.DynamoDB(t)
	connectiontest.Run(t, func(t *testing.T, now func() time.Time) connection.Store {
		return connection.NewDynamoStore(client, newTable(t, client), now)
	})
}

// TestDynamoStoreCalls pins the DynamoDB calls each operation makes: the
// docs/design.md#cost-per-request reports them as the cost of a connect, a
// disconnect and a fan-out.
func TestDynamoStoreCalls(t *testing.T) {
	ctx := awstest.Context(t)
	cfg, calls := awstest.CountCalls(t)
	client := dynamodb.NewFromConfig(cfg)
	now := time.Now()
	s := connection.NewDynamoStore(client, newTable(t, client), func() time.Time { return now })
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

	limit := connection.Limit{Units: 10, Window: time.Hour}
	calls.Check(t, ctx, []awstest.CallsCase{
		{Name: "connect: Put", Op: func(ctx context.Context) error {
			return s.Put(ctx, connection.New("a-4", "user-a", now, "198.51.100.9", "agent"))
		}, Want: map[string]int{"PutItem": 1}},
		{Name: "disconnect: Delete", Op: func(ctx context.Context) error {
			return s.Delete(ctx, "a-4")
		}, Want: map[string]int{"DeleteItem": 1}},
		{Name: "Delete of a missing ID", Op: func(ctx context.Context) error {
			return s.Delete(ctx, "never-put")
		}, Want: map[string]int{"DeleteItem": 1}},
		{Name: "Get", Op: func(ctx context.Context) error {
			_, err := s.Get(ctx, "a-1")
			return err
		}, Want: map[string]int{"GetItem": 1}},
		{Name: "ByUser with three connections", Op: func(ctx context.Context) error {
			conns, err := s.ByUser(ctx, "user-a")
			if len(conns) != 3 {
				t.Errorf("ByUser = %d connections, want 3", len(conns))
			}
			return err
		}, Want: map[string]int{"Query": 1}},
		{Name: "ByUser of an unknown user", Op: func(ctx context.Context) error {
			_, err := s.ByUser(ctx, "user-z")
			return err
		}, Want: map[string]int{"Query": 1}},
		{Name: "welcome: ClaimWelcome", Op: func(ctx context.Context) error {
			return s.ClaimWelcome(ctx, "a-1", now)
		}, Want: map[string]int{"UpdateItem": 1}},
		{Name: "ClaimWelcome of a welcomed connection", Op: func(ctx context.Context) error {
			if err := s.ClaimWelcome(ctx, "a-1", now); !errors.Is(err, connection.ErrWelcomed) {
				t.Errorf("second ClaimWelcome = %v, want ErrWelcomed", err)
			}
			return nil
		}, Want: map[string]int{"UpdateItem": 1}},
		{Name: "message: first Spend of a window", Op: func(ctx context.Context) error {
			_, err := s.Spend(ctx, "a-1", 1, limit)
			return err
		}, Want: map[string]int{"UpdateItem": 2}},
		{Name: "message: Spend", Op: func(ctx context.Context) error {
			_, err := s.Spend(ctx, "a-1", 1, limit)
			return err
		}, Want: map[string]int{"UpdateItem": 1}},
		{Name: "message: Spend refused", Op: func(ctx context.Context) error {
			if _, err := s.Spend(ctx, "a-1", limit.Units, limit); !errors.Is(err, connection.ErrRateLimited) {
				t.Errorf("Spend over the limit = %v, want ErrRateLimited", err)
			}
			return nil
		}, Want: map[string]int{"UpdateItem": 1}},
		{Name: "sweeper: Count of a small table", Op: func(ctx context.Context) error {
			n, err := s.Count(ctx)
			if n != 4 {
				t.Errorf("Count = %d, want 4", n)
			}
			return err
		}, Want: map[string]int{"Scan": 1}},
		{Name: "Get of an empty ID makes no call", Op: func(ctx context.Context) error {
			_, err := s.Get(ctx, "")
			if err == nil {
				t.Error("Get(\"\") = nil error, want ErrNotFound")
			}
			return nil
		}, Want: map[string]int{}},
	})
}

// newTable creates a fresh connections table on moto_server as template.yaml
// declares it, TTL included, deleted when the test ends.
func newTable(tb testing.TB, client *dynamodb.Client) string {
	tb.Helper()
	return awstest.TemplateTable(tb, client, "ConnectionsTable")
}
