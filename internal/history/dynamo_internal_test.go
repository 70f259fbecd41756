package history

import (
	"context"
	"errors"
	"reflect"
	"strings"
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

// fakeDB adds TransactWriteItems to awstest.FakeDynamoDB.
type fakeDB struct {
	awstest.FakeDynamoDB
	TransactFn func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error)
}

func (f *fakeDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput,
	_ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return f.TransactFn(in)
}

// counterAt answers the counter GetItem with seq; marker GetItems with pos.
func counterAt(seq, pos string) func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
	return func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		if in.Key["id"].(*types.AttributeValueMemberS).Value == "seq" {
			return &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{"seq": n(seq)}}, nil
		}
		return &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{"pos": n(pos), "expiresAt": n("1772362800")}}, nil
	}
}

func canceled(codes ...string) error {
	e := &types.TransactionCanceledException{}
	for _, c := range codes {
		e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
	}
	return e
}

// TestAddTransactionShape pins the rows Add writes and the conditions that
// make positions follow the counter and a redelivery a no-op.
func TestAddTransactionShape(t *testing.T) {
	note := notification.Notification{ID: "01JNKQ7Y2V0000000000000000", Type: "notification", Timestamp: t0.Truncate(time.Millisecond),
		Message: "hi", Cursor: "c99"}
	payload := `{"id":"01JNKQ7Y2V0000000000000000","type":"notification","timestamp":"2026-03-01T10:00:00.25Z","message":"hi"}`
	var got *dynamodb.TransactWriteItemsInput
	fake := &fakeDB{FakeDynamoDB: awstest.FakeDynamoDB{GetItemFn: counterAt("41", "")},
		TransactFn: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
			got = in
			return &dynamodb.TransactWriteItemsOutput{}, nil
		}}
	p, err := NewDynamoStore(fake, "notes", func() time.Time { return t0 }).Add(context.Background(),
		Item{UserID: "123", Notification: note, ExpiresAt: t0.Add(time.Hour)})
	if err != nil || p != 42 {
		t.Fatalf("Add = %d, %v; want 42", p, err)
	}
	ti := got.TransactItems
	if len(ti) != 3 {
		t.Fatalf("%d transact items, want 3", len(ti))
	}
	u := ti[0].Update
	if u == nil || aws.ToString(u.ConditionExpression) != "#seq = :seq" || aws.ToString(u.UpdateExpression) != "SET #seq = :next" ||
		!reflect.DeepEqual(u.ExpressionAttributeValues, map[string]types.AttributeValue{":seq": n("41"), ":next": n("42")}) ||
		!reflect.DeepEqual(u.Key, map[string]types.AttributeValue{"userId": s("123"), "id": s("seq")}) {
		t.Errorf("counter update = %+v", u)
	}
	wantMarker := map[string]types.AttributeValue{"userId": s("123"), "id": s("i#" + note.ID), "pos": n("42"), "expiresAt": n("1772362800")}
	wantItem := map[string]types.AttributeValue{"userId": s("123"), "id": s("p00000000000000000042"), "nid": s(note.ID),
		"pos": n("42"), "payload": s(payload), "expiresAt": n("1772362800"), "unreadPos": n("42"),
		"cat": s("general"), "unreadCat": s("123#general")}
	for i, want := range []map[string]types.AttributeValue{wantMarker, wantItem} {
		put := ti[i+1].Put
		if put == nil || !reflect.DeepEqual(put.Item, want) {
			t.Errorf("put %d = %v\nwant %v", i, put, want)
			continue
		}
		if aws.ToString(put.ConditionExpression) != "attribute_not_exists(#k)" || put.ExpressionAttributeNames["#k"] != "id" {
			t.Errorf("put %d condition = %q", i, aws.ToString(put.ConditionExpression))
		}
	}
}

func TestAddOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		errs     []error // the transactions' results, in turn
		wantPos  Position
		wantErr  error
		attempts int
	}{
		{name: "first counter: no condition on seq", errs: []error{nil}, wantPos: 8, attempts: 1},
		{name: "counter moved: retried", errs: []error{canceled("ConditionalCheckFailed", "None", "None"), nil},
			wantPos: 8, attempts: 2},
		{name: "conflict with another transaction: retried",
			errs: []error{canceled("TransactionConflict", "None", "None"), nil}, wantPos: 8, attempts: 2},
		{name: "duplicate id: its stored position", errs: []error{canceled("None", "ConditionalCheckFailed", "None")},
			wantPos: 3, attempts: 1},
		{name: "duplicate while the counter moved: still a duplicate",
			errs: []error{canceled("ConditionalCheckFailed", "ConditionalCheckFailed", "None")}, wantPos: 3, attempts: 1},
		{name: "contention every time", errs: []error{canceled("ConditionalCheckFailed", "None", "None")},
			wantErr: ErrContention, attempts: addAttempts},
		{name: "other failures", errs: []error{errBoom}, wantErr: errBoom, attempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			fake := &fakeDB{FakeDynamoDB: awstest.FakeDynamoDB{GetItemFn: counterAt("7", "3")},
				TransactFn: func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
					err := tt.errs[min(calls, len(tt.errs)-1)]
					calls++
					return &dynamodb.TransactWriteItemsOutput{}, err
				}}
			st := NewDynamoStore(fake, "notes", func() time.Time { return t0 })
			st.sleep = func(context.Context, time.Duration) error { return nil }
			p, err := st.Add(context.Background(), Item{UserID: "u", Notification: notification.Notification{ID: "01A"},
				ExpiresAt: t0.Add(time.Hour)})
			if p != tt.wantPos || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Add = %d, %v; want %d, %v", p, err, tt.wantPos, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "history: add 01A") {
				t.Errorf("error %q does not name the operation", err)
			}
			if calls != tt.attempts {
				t.Errorf("%d transactions, want %d", calls, tt.attempts)
			}
		})
	}
}

// TestMarkAllReadUpdate pins the O(1) mark-all: the watermark takes the
// counter's value in one update.
func TestMarkAllReadUpdate(t *testing.T) {
	var got []*dynamodb.UpdateItemInput
	fake := &fakeDB{FakeDynamoDB: awstest.FakeDynamoDB{UpdateItemFn: func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		got = append(got, in)
		return nil, &types.ConditionalCheckFailedException{} // no counter yet: nothing to do
	}}}
	if err := NewDynamoStore(fake, "notes", nil).MarkAllRead(context.Background(), "u"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || aws.ToString(got[0].UpdateExpression) != "SET #w = #seq" ||
		aws.ToString(got[0].ConditionExpression) != "attribute_exists(#seq)" {
		t.Errorf("updates = %+v, want one SET readUpTo = seq", got)
	}
}

func TestPageQuery(t *testing.T) {
	tests := []struct {
		name    string
		forward bool
		cursor  Position
		lo, hi  string
		noQuery bool
	}{
		{name: "after", forward: true, cursor: 5, lo: "p00000000000000000006", hi: "p18446744073709551615"},
		{name: "after nothing", forward: true, cursor: 0, lo: "p00000000000000000001", hi: "p18446744073709551615"},
		{name: "before", forward: false, cursor: 5, lo: "p00000000000000000001", hi: "p00000000000000000004"},
		{name: "newest", forward: false, cursor: 0, lo: "p00000000000000000001", hi: "p18446744073709551615"},
		{name: "before the first", forward: false, cursor: 1, noQuery: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *dynamodb.QueryInput
			fake := &fakeDB{FakeDynamoDB: awstest.FakeDynamoDB{GetItemFn: counterAt("9", ""),
				QueryFn: func(in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
					got = in
					return &dynamodb.QueryOutput{}, nil
				}}}
			st := NewDynamoStore(fake, "notes", func() time.Time { return t0 })
			var err error
			if tt.forward {
				_, err = st.After(context.Background(), "u", tt.cursor, Filter{}, 10)
			} else {
				_, err = st.Before(context.Background(), "u", tt.cursor, Filter{}, 10)
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.noQuery {
				if got != nil {
					t.Errorf("queried %v, want no query", got.KeyConditionExpression)
				}
				return
			}
			var vals []string
			for _, v := range got.ExpressionAttributeValues {
				if sv, ok := v.(*types.AttributeValueMemberS); ok && strings.HasPrefix(sv.Value, "p") {
					vals = append(vals, sv.Value)
				}
			}
			if len(vals) != 2 || !(vals[0] == tt.lo && vals[1] == tt.hi || vals[1] == tt.lo && vals[0] == tt.hi) ||
				got.IndexName != nil || aws.ToBool(got.ScanIndexForward) != tt.forward ||
				aws.ToInt32(got.Limit) != 11 || !aws.ToBool(got.ConsistentRead) {
				t.Errorf("query bounds %v index %v forward %v limit %d consistent %v",
					vals, got.IndexName, aws.ToBool(got.ScanIndexForward), aws.ToInt32(got.Limit), aws.ToBool(got.ConsistentRead))
			}
		})
	}
}

func TestPageDecodeFailure(t *testing.T) {
	fake := &fakeDB{FakeDynamoDB: awstest.FakeDynamoDB{GetItemFn: counterAt("1", ""),
		QueryFn: func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
			return &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{
				{"userId": s("u"), "id": s("p00000000000000000001"), "nid": s("01A"), "pos": n("1"),
					"payload": s("{not json"), "expiresAt": n("1772362800")},
			}}, nil
		}}}
	page, err := NewDynamoStore(fake, "notes", func() time.Time { return t0 }).After(context.Background(), "u", 0, Filter{}, 10)
	if items := page.Items; err == nil || items != nil || !strings.Contains(err.Error(), "decode 01A") {
		t.Errorf("After = %v, %v; want a decoding error naming the item", page.Items, err)
	}
}
