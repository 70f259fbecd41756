package history

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

var errBoom = errors.New("boom")

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 250_000_000, time.UTC) // epoch second 1772359200

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// resolve returns expr with every #name and :value placeholder of in replaced.
func resolve(expr *string, names map[string]string, values map[string]types.AttributeValue) string {
	out := aws.ToString(expr)
	for k, v := range names {
		out = strings.ReplaceAll(out, k, v)
	}
	for k, v := range values {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out = strings.ReplaceAll(out, k, "'"+v.Value+"'")
		case *types.AttributeValueMemberN:
			out = strings.ReplaceAll(out, k, v.Value)
		}
	}
	return out
}

// TestAddItemShape pins the stored attributes and the condition that makes a
// redelivery a no-op.
func TestAddItemShape(t *testing.T) {
	note := notification.Notification{ID: "01JNKQ7Y2V0000000000000000", Type: "notification", Timestamp: t0.Truncate(time.Millisecond),
		Message: "hi"}
	payload := `{"id":"01JNKQ7Y2V0000000000000000","type":"notification","timestamp":"2026-03-01T10:00:00.25Z","message":"hi"}`
	tests := []struct {
		name string
		item Item
		want map[string]types.AttributeValue
	}{
		{name: "unread", item: Item{UserID: "123", Notification: note, ExpiresAt: t0.Add(time.Hour)},
			want: map[string]types.AttributeValue{"userId": s("123"), "id": s(note.ID), "payload": s(payload),
				"expiresAt": n("1772362800"), "unread": s(note.ID)}},
		{name: "read: no unread attribute, so not in the index", item: Item{UserID: "123", Notification: note,
			Read: true, ExpiresAt: t0.Add(time.Hour)},
			want: map[string]types.AttributeValue{"userId": s("123"), "id": s(note.ID), "payload": s(payload),
				"expiresAt": n("1772362800")}},
		{name: "no expiry: the default retention", item: Item{UserID: "123", Notification: note, Read: true},
			want: map[string]types.AttributeValue{"userId": s("123"), "id": s(note.ID), "payload": s(payload),
				"expiresAt": n("1774951200")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *dynamodb.PutItemInput
			fake := &awstest.FakeDynamoDB{PutItemFn: func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
				got = in
				return &dynamodb.PutItemOutput{}, nil
			}}
			if err := NewDynamoStore(fake, "notes", func() time.Time { return t0 }).Add(context.Background(), tt.item); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Item, tt.want) {
				t.Errorf("item = %v\nwant %v", got.Item, tt.want)
			}
			if cond := resolve(got.ConditionExpression, got.ExpressionAttributeNames, got.ExpressionAttributeValues); cond != "attribute_not_exists (id)" {
				t.Errorf("condition = %q, want attribute_not_exists (id)", cond)
			}
		})
	}
}

func TestAddErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{name: "duplicate id is not an error", err: &types.ConditionalCheckFailedException{Message: aws.String("exists")}},
		{name: "wrapped duplicate is not an error either", err: errors.Join(errBoom, &types.ConditionalCheckFailedException{})},
		{name: "other failures are", err: errBoom, wantErr: true},
		{name: "throttling is", err: &types.ProvisionedThroughputExceededException{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &awstest.FakeDynamoDB{PutItemFn: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return nil, tt.err }}
			err := NewDynamoStore(fake, "notes", nil).Add(context.Background(),
				Item{UserID: "u", Notification: notification.Notification{ID: "01A"}})
			if tt.wantErr && (!errors.Is(err, tt.err) || !strings.HasPrefix(err.Error(), "history: add 01A: ")) {
				t.Errorf("Add = %v, want it to wrap %v", err, tt.err)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("Add = %v, want nil", err)
			}
		})
	}
}

// TestMarkReadUpdate pins the update: remove "unread" only where it exists,
// so unknown IDs create no key-only item and read items are not rewritten.
func TestMarkReadUpdate(t *testing.T) {
	var (
		mu   sync.Mutex
		keys []string
	)
	fake := &awstest.FakeDynamoDB{UpdateItemFn: func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		if got := resolve(in.UpdateExpression, in.ExpressionAttributeNames, nil); got != "REMOVE unread\n" {
			t.Errorf("update = %q, want REMOVE unread", got)
		}
		if got := resolve(in.ConditionExpression, in.ExpressionAttributeNames, nil); got != "attribute_exists (unread)" {
			t.Errorf("condition = %q, want attribute_exists (unread)", got)
		}
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, in.Key["userId"].(*types.AttributeValueMemberS).Value+"/"+in.Key["id"].(*types.AttributeValueMemberS).Value)
		if in.Key["id"].(*types.AttributeValueMemberS).Value == "gone" {
			return nil, &types.ConditionalCheckFailedException{}
		}
		return &dynamodb.UpdateItemOutput{}, nil
	}}
	err := NewDynamoStore(fake, "notes", nil).MarkRead(context.Background(), "u", []string{"a", "gone", "", "a", strings.Repeat("x", 1025), "b"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(slices.Sorted(slices.Values(keys)), " "); got != "u/a u/b u/gone" {
		t.Errorf("updated %s, want u/a u/b u/gone", got)
	}
}

// TestMarkReadFailure checks that a failed update is reported and stops
// starting new ones.
func TestMarkReadFailure(t *testing.T) {
	var (
		mu    sync.Mutex
		calls int
	)
	fake := &awstest.FakeDynamoDB{UpdateItemFn: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return nil, errBoom
	}}
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = string(rune('A'+i%26)) + strings.Repeat("z", i)
	}
	err := NewDynamoStore(fake, "notes", nil).MarkRead(context.Background(), "u", ids)
	if !errors.Is(err, errBoom) || !strings.HasPrefix(err.Error(), "history: mark read for user u: ") {
		t.Errorf("MarkRead = %v, want the update's error wrapped", err)
	}
	// A slot is freed only after its failure cancelled the rest, so no
	// update starts once the first writeConcurrency have failed.
	if calls > writeConcurrency {
		t.Errorf("%d updates started, want at most %d: a failure must stop the rest", calls, writeConcurrency)
	}
}

// TestUnreadQueries checks that UnreadCount and MarkAllRead read only the
// sparse index, filter on the clock and follow every page.
func TestUnreadQueries(t *testing.T) {
	var queries []*dynamodb.QueryInput
	var mu sync.Mutex
	var updated []string
	fake := &awstest.FakeDynamoDB{
		QueryFn: func(in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
			queries = append(queries, in)
			if in.ExclusiveStartKey == nil {
				return &dynamodb.QueryOutput{Count: 2, Items: []map[string]types.AttributeValue{{"id": s("a")}, {"id": s("b")}},
					LastEvaluatedKey: map[string]types.AttributeValue{"userId": s("u"), "id": s("b"), "unread": s("b")}}, nil
			}
			return &dynamodb.QueryOutput{Count: 1, Items: []map[string]types.AttributeValue{{"id": s("c")}}}, nil
		},
		UpdateItemFn: func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
			mu.Lock()
			defer mu.Unlock()
			updated = append(updated, in.Key["id"].(*types.AttributeValueMemberS).Value)
			return &dynamodb.UpdateItemOutput{}, nil
		},
	}
	st := NewDynamoStore(fake, "notes", func() time.Time { return t0 })
	count, err := st.UnreadCount(context.Background(), "u")
	if err != nil || count != 3 {
		t.Errorf("UnreadCount = %d, %v; want 3 over two pages", count, err)
	}
	if err := st.MarkAllRead(context.Background(), "u"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(slices.Sorted(slices.Values(updated)), " "); got != "a b c" {
		t.Errorf("MarkAllRead updated %s, want a b c", got)
	}
	if len(queries) != 4 {
		t.Fatalf("%d queries, want 4", len(queries))
	}
	for i, q := range queries {
		key := resolve(q.KeyConditionExpression, q.ExpressionAttributeNames, q.ExpressionAttributeValues)
		filter := resolve(q.FilterExpression, q.ExpressionAttributeNames, q.ExpressionAttributeValues)
		if aws.ToString(q.IndexName) != "unread" || key != "userId = 'u'" || filter != "expiresAt > 1772359200" {
			t.Errorf("query %d: index %q key %q filter %q", i, aws.ToString(q.IndexName), key, filter)
		}
	}
	if queries[0].Select != types.SelectCount || queries[2].Select == types.SelectCount {
		t.Errorf("selects = %q, %q; want COUNT for UnreadCount only", queries[0].Select, queries[2].Select)
	}
}

func TestPageQuery(t *testing.T) {
	tests := []struct {
		name    string
		forward bool
		cursor  string
		wantKey string
	}{
		{name: "after", forward: true, cursor: "01B", wantKey: "(userId = 'u') AND (id > '01B')"},
		{name: "after nothing", forward: true, cursor: "", wantKey: "userId = 'u'"},
		{name: "before", forward: false, cursor: "01B", wantKey: "(userId = 'u') AND (id < '01B')"},
		{name: "newest", forward: false, cursor: "", wantKey: "userId = 'u'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *dynamodb.QueryInput
			fake := &awstest.FakeDynamoDB{QueryFn: func(in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
				got = in
				return &dynamodb.QueryOutput{}, nil
			}}
			st := NewDynamoStore(fake, "notes", func() time.Time { return t0 })
			var err error
			if tt.forward {
				_, _, err = st.After(context.Background(), "u", tt.cursor, 10)
			} else {
				_, _, err = st.Before(context.Background(), "u", tt.cursor, 10)
			}
			if err != nil {
				t.Fatal(err)
			}
			key := resolve(got.KeyConditionExpression, got.ExpressionAttributeNames, got.ExpressionAttributeValues)
			if key != tt.wantKey || got.IndexName != nil || aws.ToBool(got.ScanIndexForward) != tt.forward ||
				aws.ToInt32(got.Limit) != 11 || !aws.ToBool(got.ConsistentRead) {
				t.Errorf("query key %q index %v forward %v limit %d consistent %v",
					key, got.IndexName, aws.ToBool(got.ScanIndexForward), aws.ToInt32(got.Limit), aws.ToBool(got.ConsistentRead))
			}
		})
	}
}

func TestPageDecodeFailure(t *testing.T) {
	fake := &awstest.FakeDynamoDB{QueryFn: func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
		return &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{
			{"userId": s("u"), "id": s("01A"), "payload": s("{not json"), "expiresAt": n("1772362800")},
		}}, nil
	}}
	items, _, err := NewDynamoStore(fake, "notes", func() time.Time { return t0 }).After(context.Background(), "u", "", 10)
	if err == nil || items != nil || !strings.Contains(err.Error(), "decode 01A") {
		t.Errorf("After = %v, %v; want a decoding error naming the item", items, err)
	}
}
