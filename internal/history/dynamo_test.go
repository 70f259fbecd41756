package history_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/history/historytest"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

func TestDynamoStore(t *testing.T) {
	client := awstest.DynamoDB(t)
	historytest.Run(t, func(t *testing.T, now func() time.Time) history.Store {
		return history.NewDynamoStore(client, newTable(t, client), now)
	})
}

// TestDynamoStoreCalls pins the DynamoDB calls each operation makes, for the
// cost table of docs/design.md#cost-per-request: they grow with the page or
// the user's unread items.
func TestDynamoStoreCalls(t *testing.T) {
	ctx := awstest.Context(t)
	cfg, calls := awstest.CountCalls(t)
	client := dynamodb.NewFromConfig(cfg)
	now := time.Now()
	s := history.NewDynamoStore(client, newTable(t, client), func() time.Time { return now })
	var ids []string
	add := func(user string) error {
		n := notification.General("hello", nil)
		n.Stamp(now)
		ids = append(ids, n.ID)
		_, err := s.Add(ctx, history.Item{UserID: user, Notification: n, ExpiresAt: now.Add(time.Hour)})
		return err
	}
	for range 5 {
		if err := add("user-a"); err != nil {
			t.Fatal(err)
		}
	}
	if err := add("user-b"); err != nil {
		t.Fatal(err)
	}

	calls.Check(t, ctx, []awstest.CallsCase{
		{Name: "Add", Op: func(ctx context.Context) error { return add("user-a") },
			Want: map[string]int{"GetItem": 1, "TransactWriteItems": 1}},
		{Name: "Add of a duplicate", Op: func(ctx context.Context) error {
			p, err := s.Add(ctx, history.Item{UserID: "user-a", Notification: notification.Notification{ID: ids[0]},
				ExpiresAt: now.Add(time.Hour)})
			if p != 1 {
				t.Errorf("Add of a duplicate = %d, want position 1", p)
			}
			return err
		}, Want: map[string]int{"GetItem": 2, "TransactWriteItems": 1}},
		{Name: "Position", Op: func(ctx context.Context) error {
			_, err := s.Position(ctx, "user-a", ids[2])
			return err
		}, Want: map[string]int{"GetItem": 1}},
		{Name: "After from the start", Op: func(ctx context.Context) error {
			_, err := s.After(ctx, "user-a", 0, history.Filter{}, 100)
			return err
		}, Want: map[string]int{"GetItem": 1, "Query": 1}},
		{Name: "After a page", Op: func(ctx context.Context) error {
			page, err := s.After(ctx, "user-a", 1, history.Filter{}, 2)
			if !page.HasMore {
				t.Error("hasMore = false, want true")
			}
			return err
		}, Want: map[string]int{"GetItem": 1, "Query": 1}},
		{Name: "Before", Op: func(ctx context.Context) error {
			_, err := s.Before(ctx, "user-a", 0, history.Filter{}, 50)
			return err
		}, Want: map[string]int{"GetItem": 1, "Query": 1}},
		{Name: "UnreadCount", Op: func(ctx context.Context) error {
			n, err := s.UnreadCount(ctx, "user-a")
			if n != 6 {
				t.Errorf("UnreadCount = %d, want 6", n)
			}
			return err
		}, Want: map[string]int{"GetItem": 1, "Query": 1}},
		{Name: "MarkRead of two ids, one twice, and an unknown one", Op: func(ctx context.Context) error {
			return s.MarkRead(ctx, "user-a", []string{ids[0], ids[1], ids[1], "unknown"})
		}, Want: map[string]int{"GetItem": 3, "UpdateItem": 2}},
		{Name: "MarkRead of nothing", Op: func(ctx context.Context) error {
			return s.MarkRead(ctx, "user-a", nil)
		}, Want: map[string]int{}},
		{Name: "MarkAllRead moves the watermark in one update", Op: func(ctx context.Context) error {
			return s.MarkAllRead(ctx, "user-a")
		}, Want: map[string]int{"UpdateItem": 1}},
		{Name: "UnreadCount after MarkAllRead", Op: func(ctx context.Context) error {
			n, err := s.UnreadCount(ctx, "user-a")
			if n != 0 {
				t.Errorf("UnreadCount = %d, want 0", n)
			}
			return err
		}, Want: map[string]int{"GetItem": 1, "Query": 1}},
		{Name: "MarkAllRead of a user with nothing", Op: func(ctx context.Context) error {
			return s.MarkAllRead(ctx, "user-nobody")
		}, Want: map[string]int{"UpdateItem": 1}},
	})
}

// TestDynamoStoreInboxCalls pins the DynamoDB calls of the inbox's filtered
// paths, mark read by category and archive, for the table of
// docs/design.md#inbox-filters: a filter reads at most history.ScanPages
// Query pages of limit+1 items, then says where to go on. The user has 30
// unread items, all general but positions 2 and 5 (fbdi).
func TestDynamoStoreInboxCalls(t *testing.T) {
	ctx := awstest.Context(t)
	cfg, calls := awstest.CountCalls(t)
	client := dynamodb.NewFromConfig(cfg)
	now := time.Now()
	s := history.NewDynamoStore(client, newTable(t, client), func() time.Time { return now })
	ids := map[history.Position]string{}
	for i := 1; i <= 30; i++ {
		n := notification.General(fmt.Sprintf("hello %d", i), nil)
		n.Category = notification.CategoryGeneral
		if i == 2 || i == 5 {
			n.Category = notification.CategoryFBDI
		}
		n.Stamp(now)
		p, err := s.Add(ctx, history.Item{UserID: "user-c", Notification: n, ExpiresAt: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ids[p] = n.ID
	}
	fbdi := history.Filter{Category: notification.CategoryFBDI}
	// wantPage checks a page's items (by position), HasMore and Next.
	wantPage := func(t *testing.T, page history.Page, items []history.Position, more bool, next history.Position) {
		t.Helper()
		var got []history.Position
		for _, it := range page.Items {
			p, ok := positionOf(ids, it.Notification.ID)
			if !ok {
				t.Fatalf("item %s is not one of the user's", it.Notification.ID)
			}
			got = append(got, p)
		}
		if fmt.Sprint(got) != fmt.Sprint(items) || page.HasMore != more || page.Next != next {
			t.Errorf("page = items %v, has more %v, next %d; want %v, %v, %d", got, page.HasMore, page.Next, items, more, next)
		}
	}
	unread := func(want int) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			n, err := s.UnreadCount(ctx, "user-c")
			if n != want {
				t.Errorf("UnreadCount = %d, want %d", n, want)
			}
			return err
		}
	}

	calls.Check(t, ctx, []awstest.CallsCase{
		{Name: "Before of a category out of reach stops at ScanPages", Op: func(ctx context.Context) error {
			page, err := s.Before(ctx, "user-c", 0, fbdi, 1)
			wantPage(t, page, nil, true, 15) // read 30 down to 15: 8 pages of 2
			return err
		}, Want: map[string]int{"GetItem": 1, "Query": history.ScanPages}},
		{Name: "Before of a category goes on from Next", Op: func(ctx context.Context) error {
			page, err := s.Before(ctx, "user-c", 15, fbdi, 1)
			wantPage(t, page, []history.Position{5}, true, 5) // stops when it has found limit+1
			return err
		}, Want: map[string]int{"GetItem": 1, "Query": 7}},
		{Name: "After of a category", Op: func(ctx context.Context) error {
			page, err := s.After(ctx, "user-c", 0, fbdi, 1)
			wantPage(t, page, []history.Position{2}, true, 2)
			return err
		}, Want: map[string]int{"GetItem": 1, "Query": 3}},
		{Name: "After of a category, one page holds all", Op: func(ctx context.Context) error {
			page, err := s.After(ctx, "user-c", 0, fbdi, 100)
			wantPage(t, page, []history.Position{2, 5}, false, 0)
			return err
		}, Want: map[string]int{"GetItem": 1, "Query": 1}},
		{Name: "MarkCategoryRead updates each unread item of the category", Op: func(ctx context.Context) error {
			return s.MarkCategoryRead(ctx, "user-c", notification.CategoryGeneral)
		}, Want: map[string]int{"GetItem": 1, "Query": 1, "UpdateItem": 28}},
		{Name: "UnreadCount after MarkCategoryRead", Op: unread(2),
			Want: map[string]int{"GetItem": 1, "Query": 1}},
		{Name: "MarkCategoryRead with nothing left unread", Op: func(ctx context.Context) error {
			return s.MarkCategoryRead(ctx, "user-c", notification.CategoryGeneral)
		}, Want: map[string]int{"GetItem": 1, "Query": 1}},
		{Name: "Before unread only stops at ScanPages", Op: func(ctx context.Context) error {
			page, err := s.Before(ctx, "user-c", 0, history.Filter{UnreadOnly: true}, 1)
			wantPage(t, page, nil, true, 15)
			return err
		}, Want: map[string]int{"GetItem": 1, "Query": history.ScanPages}},
		{Name: "Archive of two ids, one twice, and an unknown one", Op: func(ctx context.Context) error {
			return s.Archive(ctx, "user-c", []string{ids[2], ids[5], ids[5], "01ARZ3NDEKTSV4RRFFQ69G5FAV"})
		}, Want: map[string]int{"GetItem": 3, "UpdateItem": 2}},
		{Name: "Archive of nothing", Op: func(ctx context.Context) error {
			return s.Archive(ctx, "user-c", nil)
		}, Want: map[string]int{}},
		{Name: "UnreadCount after Archive", Op: unread(0),
			Want: map[string]int{"GetItem": 1, "Query": 1}},
		{Name: "Before of an archived category", Op: func(ctx context.Context) error {
			page, err := s.Before(ctx, "user-c", 0, fbdi, 100)
			wantPage(t, page, nil, false, 0)
			return err
		}, Want: map[string]int{"GetItem": 1, "Query": 1}},
	})
}

// positionOf returns the position whose ID is id in ids.
func positionOf(ids map[history.Position]string, id string) (history.Position, bool) {
	for p, v := range ids {
		if v == id {
			return p, true
		}
	}
	return 0, false
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
	if _, err := s.Add(ctx, history.Item{UserID: "user-a", Notification: n, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkAllRead(ctx, "user-b"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRead(ctx, "user-b", []string{n.ID, "01ARZ3NDEKTSV4RRFFQ69G5FAV"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRead(ctx, "user-a", []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV"}); err != nil {
		t.Fatal(err)
	}
	// user-a: the counter, the item and its marker.
	for user, want := range map[string]int32{"user-a": 3, "user-b": 0} {
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
		if _, err := s.Add(ctx, history.Item{UserID: "u", Notification: n, ExpiresAt: now.Add(time.Hour)}); err != nil {
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

// newTable creates a fresh notifications table on moto_server as
// template.yaml declares it, TTL included, deleted when the test ends.
func newTable(tb testing.TB, client *dynamodb.Client) string {
	tb.Helper()
	return awstest.TemplateTable(tb, client, "NotificationsTable")
}
