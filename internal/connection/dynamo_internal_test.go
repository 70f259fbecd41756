package connection

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

	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

var errBoom = errors.New("boom")

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 250_000_000, time.UTC)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// TestPutItemShape pins the stored attributes: the welcome function reads
// them from the stream and template.yaml declares the TTL attribute.
func TestPutItemShape(t *testing.T) {
	tests := []struct {
		name string
		c    Connection
		want map[string]types.AttributeValue
	}{
		{
			name: "all fields",
			c:    New("abc=", "123", t0, "203.0.113.7", "Mozilla/5.0"),
			want: map[string]types.AttributeValue{
				"connectionId": s("abc="), "userId": s("123"), "connectedAt": s("2026-03-01T10:00:00.25Z"),
				"expiresAt": n("1772367300"), "sourceIp": s("203.0.113.7"), "userAgent": s("Mozilla/5.0"),
			},
		},
		{
			name: "no source IP nor user agent",
			c:    New("def=", "123", t0.In(time.FixedZone("CET", 3600)), "", ""),
			want: map[string]types.AttributeValue{
				"connectionId": s("def="), "userId": s("123"), "connectedAt": s("2026-03-01T10:00:00.25Z"),
				"expiresAt": n("1772367300"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *dynamodb.PutItemInput
			fake := &awstest.FakeDynamoDB{PutItemFn: func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
				got = in
				return &dynamodb.PutItemOutput{}, nil
			}}
			if err := NewDynamoStore(fakeDB{FakeDynamoDB: fake}, "conns", nil).Put(context.Background(), tt.c); err != nil {
				t.Fatal(err)
			}
			if aws.ToString(got.TableName) != "conns" || got.ConditionExpression != nil {
				t.Errorf("PutItem table %q condition %v, want conns and none", aws.ToString(got.TableName), got.ConditionExpression)
			}
			if !reflect.DeepEqual(got.Item, tt.want) {
				t.Errorf("item = %#v\nwant %#v", got.Item, tt.want)
			}
		})
	}
}

// TestByUserFollowsPages checks that ByUser asks the byUser index, filters
// on the clock and reads every page.
func TestByUserFollowsPages(t *testing.T) {
	row := func(id string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"connectionId": s(id), "userId": s("u"),
			"connectedAt": s("2026-03-01T10:00:00Z"), "expiresAt": n("1772367300")}
	}
	var calls []*dynamodb.QueryInput
	fake := &awstest.FakeDynamoDB{QueryFn: func(in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
		calls = append(calls, in)
		if in.ExclusiveStartKey == nil {
			return &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{row("c1"), row("c2")},
				LastEvaluatedKey: map[string]types.AttributeValue{"connectionId": s("c2"), "userId": s("u")}}, nil
		}
		return &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{row("c3")}}, nil
	}}
	conns, err := NewDynamoStore(fakeDB{FakeDynamoDB: fake}, "conns", func() time.Time { return t0 }).ByUser(context.Background(), "u")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range conns {
		ids = append(ids, c.ID)
	}
	if !reflect.DeepEqual(ids, []string{"c1", "c2", "c3"}) {
		t.Errorf("ByUser = %v, want c1 c2 c3", ids)
	}
	if len(calls) != 2 {
		t.Fatalf("%d Query calls, want 2", len(calls))
	}
	first := calls[0]
	if aws.ToString(first.IndexName) != "byUser" || first.FilterExpression == nil {
		t.Errorf("Query index %q filter %v, want byUser with a filter", aws.ToString(first.IndexName), first.FilterExpression)
	}
	var nowValue bool
	for _, v := range first.ExpressionAttributeValues {
		if reflect.DeepEqual(v, n("1772359200")) { // t0 in epoch seconds
			nowValue = true
		}
	}
	if !nowValue {
		t.Errorf("Query values %v do not hold the clock's epoch second 1772359200", first.ExpressionAttributeValues)
	}
	if got := calls[1].ExclusiveStartKey["connectionId"]; !reflect.DeepEqual(got, s("c2")) {
		t.Errorf("second Query starts at %v, want the first page's LastEvaluatedKey", got)
	}
}

func TestGetDecodes(t *testing.T) {
	tests := []struct {
		name     string
		item     map[string]types.AttributeValue
		wantErr  error // nil: success
		wantFail bool  // any error other than ErrNotFound
	}{
		{name: "live", item: map[string]types.AttributeValue{"connectionId": s("c"), "userId": s("u"),
			"connectedAt": s("2026-03-01T10:00:00Z"), "expiresAt": n("1772359201")}},
		{name: "expired this second", item: map[string]types.AttributeValue{"connectionId": s("c"), "userId": s("u"),
			"connectedAt": s("2026-03-01T10:00:00Z"), "expiresAt": n("1772359200")}, wantErr: ErrNotFound},
		{name: "missing", item: nil, wantErr: ErrNotFound},
		{name: "bad connectedAt", item: map[string]types.AttributeValue{"connectionId": s("c"), "userId": s("u"),
			"connectedAt": s("yesterday"), "expiresAt": n("1772367300")}, wantFail: true},
		{name: "expiresAt of the wrong type", item: map[string]types.AttributeValue{"connectionId": s("c"),
			"userId": s("u"), "connectedAt": s("2026-03-01T10:00:00Z"), "expiresAt": s("soon")}, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &awstest.FakeDynamoDB{GetItemFn: func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
				if !aws.ToBool(in.ConsistentRead) {
					t.Error("GetItem is not a consistent read")
				}
				return &dynamodb.GetItemOutput{Item: tt.item}, nil
			}}
			c, err := NewDynamoStore(fakeDB{FakeDynamoDB: fake}, "conns", func() time.Time { return t0 }).Get(context.Background(), "c")
			switch {
			case tt.wantFail:
				if err == nil || errors.Is(err, ErrNotFound) {
					t.Errorf("Get = %v, want a decoding error", err)
				}
			case !errors.Is(err, tt.wantErr):
				t.Errorf("Get error = %v, want %v", err, tt.wantErr)
			case err == nil && (c.ID != "c" || c.UserID != "u"):
				t.Errorf("Get = %+v", c)
			}
		})
	}
}

// TestErrorsWrapped checks that an SDK failure reaches the caller wrapped
// with the operation, never as ErrNotFound nor as success.
func TestErrorsWrapped(t *testing.T) {
	fake := &awstest.FakeDynamoDB{
		PutItemFn: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return nil, errBoom },
		DeleteItemFn: func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) {
			return nil, errBoom
		},
		GetItemFn: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) { return nil, errBoom },
		QueryFn:   func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) { return nil, errBoom },
	}
	st := NewDynamoStore(fakeDB{FakeDynamoDB: fake,
		ScanFn: func(*dynamodb.ScanInput) (*dynamodb.ScanOutput, error) { return nil, errBoom }}, "conns", nil)
	ctx := context.Background()
	tests := []struct {
		name string
		op   func() error
		want string
	}{
		{name: "put", op: func() error { return st.Put(ctx, New("c1", "u", t0, "", "")) }, want: "connection: put c1: "},
		{name: "delete", op: func() error { return st.Delete(ctx, "c1") }, want: "connection: delete c1: "},
		{name: "get", op: func() error { _, err := st.Get(ctx, "c1"); return err }, want: "connection: get c1: "},
		{name: "by user", op: func() error {
			conns, err := st.ByUser(ctx, "u")
			if conns != nil {
				t.Errorf("ByUser returned %v with an error", conns)
			}
			return err
		}, want: "connection: by user u: "},
		{name: "count", op: func() error {
			if n, err := st.Count(ctx); n != 0 || err == nil {
				t.Errorf("Count = %d, %v; want 0 and an error", n, err)
			}
			_, err := st.Count(ctx)
			return err
		}, want: "connection: count: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if !errors.Is(err, errBoom) || errors.Is(err, ErrNotFound) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q wrapping the SDK error", err, tt.want+"boom")
			}
		})
	}
}

// fakeDB is awstest.FakeDynamoDB with the Scan that Count makes.
type fakeDB struct {
	*awstest.FakeDynamoDB
	ScanFn func(*dynamodb.ScanInput) (*dynamodb.ScanOutput, error)
}

func (f fakeDB) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	if f.ScanFn == nil {
		panic("fakeDB: unexpected Scan")
	}
	return f.ScanFn(in)
}

// TestCountScansEveryPage pins Count's Scan: Select=COUNT (no item is
// returned), live rows only (expiresAt after now, as ByUser filters), and
// every page summed, following LastEvaluatedKey until there is none.
func TestCountScansEveryPage(t *testing.T) {
	pages := []*dynamodb.ScanOutput{
		{Count: 3, ScannedCount: 4, LastEvaluatedKey: map[string]types.AttributeValue{"connectionId": s("c4")}},
		{Count: 0, ScannedCount: 2, LastEvaluatedKey: map[string]types.AttributeValue{"connectionId": s("c6")}},
		{Count: 2, ScannedCount: 2},
	}
	var ins []*dynamodb.ScanInput
	fake := fakeDB{FakeDynamoDB: &awstest.FakeDynamoDB{}, ScanFn: func(in *dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
		ins = append(ins, in)
		return pages[len(ins)-1], nil
	}}
	n, err := NewDynamoStore(fake, "conns", func() time.Time { return t0 }).Count(context.Background())
	if err != nil || n != 5 {
		t.Fatalf("Count = %d, %v; want 5 (3+0+2 over three pages)", n, err)
	}
	if len(ins) != 3 {
		t.Fatalf("Scan calls = %d, want 3", len(ins))
	}
	for i, in := range ins {
		if aws.ToString(in.TableName) != "conns" || in.Select != types.SelectCount || in.IndexName != nil {
			t.Errorf("scan %d: table %q select %q index %v; want conns, COUNT, the table", i,
				aws.ToString(in.TableName), in.Select, in.IndexName)
		}
		filter := aws.ToString(in.FilterExpression)
		name := ""
		for k, v := range in.ExpressionAttributeNames {
			if v == "expiresAt" && strings.Contains(filter, k+" > ") {
				name = k
			}
		}
		var now string
		for k, v := range in.ExpressionAttributeValues {
			if n, ok := v.(*types.AttributeValueMemberN); ok && strings.HasSuffix(filter, "> "+k) {
				now = n.Value
			}
		}
		if name == "" || now != "1772359200" {
			t.Errorf("scan %d: filter %q names %v values %v; want expiresAt > %d", i, filter,
				in.ExpressionAttributeNames, in.ExpressionAttributeValues, t0.Unix())
		}
	}
	if ins[0].ExclusiveStartKey != nil || !reflect.DeepEqual(ins[1].ExclusiveStartKey, pages[0].LastEvaluatedKey) ||
		!reflect.DeepEqual(ins[2].ExclusiveStartKey, pages[1].LastEvaluatedKey) {
		t.Errorf("ExclusiveStartKeys = %v, %v, %v; want none, then each page's LastEvaluatedKey",
			ins[0].ExclusiveStartKey, ins[1].ExclusiveStartKey, ins[2].ExclusiveStartKey)
	}
}
