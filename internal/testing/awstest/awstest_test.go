package awstest_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

// tableInput is a table keyed by pk (S) with a GSI on gk (S).
func tableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("gk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("byG"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("gk"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	}
}

// TestTable checks that Table makes the table described, active, with TTL
// as asked, and deletes it when the test that made it ends.
func TestTable(t *testing.T) {
	client := awstest.DynamoDB(t)
	ctx := awstest.Context(t)
	tests := []struct {
		name    string
		ttl     string
		wantTTL types.TimeToLiveStatus
	}{
		{name: "with TTL", ttl: "expiresAt", wantTTL: types.TimeToLiveStatusEnabled},
		{name: "without TTL", ttl: "", wantTTL: types.TimeToLiveStatusDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var name string
			t.Run("in use", func(t *testing.T) {
				name = awstest.Table(t, client, tableInput(awstest.UniqueName(t, "table")), tt.ttl)
				out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
				if err != nil {
					t.Fatal(err)
				}
				if out.Table.TableStatus != types.TableStatusActive || len(out.Table.GlobalSecondaryIndexes) != 1 ||
					aws.ToString(out.Table.GlobalSecondaryIndexes[0].IndexName) != "byG" {
					t.Errorf("table %s is %s with indexes %v, want ACTIVE with byG", name, out.Table.TableStatus,
						out.Table.GlobalSecondaryIndexes)
				}
				ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
				if err != nil {
					t.Fatal(err)
				}
				desc := ttl.TimeToLiveDescription
				if desc.TimeToLiveStatus != tt.wantTTL || tt.ttl != "" && aws.ToString(desc.AttributeName) != tt.ttl {
					t.Errorf("TTL %s on %q, want %s on %q", desc.TimeToLiveStatus, aws.ToString(desc.AttributeName), tt.wantTTL, tt.ttl)
				}
			})
			_, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if _, gone := errors.AsType[*types.ResourceNotFoundException](err); !gone {
				t.Errorf("DescribeTable after the test = %v, want ResourceNotFoundException", err)
			}
		})
	}
}

// TestQueue checks that Queue makes a working queue and deletes it when the
// test that made it ends.
func TestQueue(t *testing.T) {
	client := awstest.SQS(t)
	ctx := awstest.Context(t)
	var url string
	t.Run("in use", func(t *testing.T) {
		url = awstest.Queue(t, client, "queue")
		if !strings.Contains(url, "queue-") {
			t.Errorf("URL %s does not name the queue after its prefix", url)
		}
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("hi")}); err != nil {
			t.Fatal(err)
		}
	})
	_, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url)})
	if _, gone := errors.AsType[*sqstypes.QueueDoesNotExist](err); !gone {
		t.Errorf("GetQueueAttributes after the test = %v, want QueueDoesNotExist", err)
	}
}

// failFirst answers the first request with a retryable DynamoDB error and
// passes the others on; it counts the requests that reach it.
type failFirst struct {
	next     http.RoundTripper
	requests atomic.Int32
}

func (f *failFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	if f.requests.Add(1) == 1 {
		return &http.Response{StatusCode: http.StatusInternalServerError, Request: req,
			Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
			Body:   http.NoBody}, nil
	}
	return f.next.RoundTrip(req)
}

// TestCountCalls checks that Calls counts every operation once per client
// call, whatever the service, the outcome, the retries or the concurrency.
func TestCountCalls(t *testing.T) {
	ctx := awstest.Context(t)
	cfg, calls := awstest.CountCalls(t)
	db := dynamodb.NewFromConfig(cfg)
	queues := sqs.NewFromConfig(cfg)
	table := awstest.Table(t, db, tableInput(awstest.UniqueName(t, "calls")), "")
	queue := awstest.Queue(t, queues, "calls")
	if got := calls.Reset(); got["CreateTable"] != 1 || got["CreateQueue"] != 1 {
		t.Errorf("setup calls = %v, want one CreateTable and one CreateQueue", got)
	}
	put := func(pk string) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "gk": &types.AttributeValueMemberS{Value: "g"}}})
		return err
	}
	get := func(table string) error {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}})
		return err
	}

	tests := []struct {
		name string
		op   func(t *testing.T) map[string]int // runs the calls and returns the counts it wants
	}{
		{name: "nothing", op: func(*testing.T) map[string]int { return map[string]int{} }},
		{name: "two services", op: func(t *testing.T) map[string]int {
			for _, pk := range []string{"a", "b", "c"} {
				if err := put(pk); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := queues.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String("x")}); err != nil {
				t.Fatal(err)
			}
			return map[string]int{"PutItem": 3, "SendMessage": 1}
		}},
		{name: "a failed call", op: func(t *testing.T) map[string]int {
			if err := get(table + "-missing"); err == nil {
				t.Error("GetItem of a missing table succeeded")
			}
			return map[string]int{"GetItem": 1}
		}},
		{name: "each page of a paginator", op: func(t *testing.T) map[string]int {
			pages := 0
			p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String("byG"),
				KeyConditionExpression:    aws.String("gk = :g"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: "g"}},
				Limit:                     aws.Int32(1)})
			for p.HasMorePages() {
				if _, err := p.NextPage(ctx); err != nil {
					t.Fatal(err)
				}
				pages++
			}
			if pages < 3 {
				t.Errorf("%d pages of one item for three items", pages)
			}
			return map[string]int{"Query": pages}
		}},
		{name: "concurrent calls", op: func(t *testing.T) map[string]int {
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					if err := get(table); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			return map[string]int{"GetItem": 8}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Reset()
			want := tt.op(t)
			if got := calls.Reset(); got == nil || !maps.Equal(got, want) {
				t.Errorf("calls = %v, want %v", got, want)
			}
		})
	}

	t.Run("a retried call counts once", func(t *testing.T) {
		cfg, calls := awstest.CountCalls(t)
		transport := &failFirst{next: http.DefaultTransport}
		cfg.HTTPClient = &http.Client{Transport: transport}
		cfg.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		}
		_, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}})
		if err != nil {
			t.Fatal(err)
		}
		if n := transport.requests.Load(); n != 2 {
			t.Fatalf("%d requests sent, want 2: the first failing, its retry succeeding", n)
		}
		if got, want := calls.Reset(), map[string]int{"GetItem": 1}; !maps.Equal(got, want) {
			t.Errorf("calls = %v, want %v", got, want)
		}
	})
}

// TestFakeDynamoDB checks that each operation runs the function in its
// field (the operation's name + "Fn") with the caller's input and returns its
// results, and fails with ErrUnexpected naming the operation when that field
// is nil.
func TestFakeDynamoDB(t *testing.T) {
	tests := []struct {
		name string // the operation
		run  func(t *testing.T, op string)
	}{
		{name: "GetItem", run: fakeOp((*awstest.FakeDynamoDB).GetItem)},
		{name: "PutItem", run: fakeOp((*awstest.FakeDynamoDB).PutItem)},
		{name: "UpdateItem", run: fakeOp((*awstest.FakeDynamoDB).UpdateItem)},
		{name: "DeleteItem", run: fakeOp((*awstest.FakeDynamoDB).DeleteItem)},
		{name: "Query", run: fakeOp((*awstest.FakeDynamoDB).Query)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, tt.name) })
	}
}

// fakeOp tests the operation op of FakeDynamoDB, whose method is call.
func fakeOp[I, O, Opt any](call func(*awstest.FakeDynamoDB, context.Context, *I, ...Opt) (*O, error)) func(t *testing.T, op string) {
	return func(t *testing.T, op string) {
		ctx := context.Background()
		f := &awstest.FakeDynamoDB{}
		out, err := call(f, ctx, new(I))
		if !errors.Is(err, awstest.ErrUnexpected) || !strings.Contains(err.Error(), op) || out != nil {
			t.Errorf("unset %s = %v, %v; want nil and ErrUnexpected naming it", op, out, err)
		}
		errScripted := errors.New("scripted")
		in, want := new(I), new(O)
		fn := func(got *I) (*O, error) {
			if got != in {
				t.Errorf("%s ran with %p, want the caller's input %p", op, got, in)
			}
			return want, errScripted
		}
		field := reflect.ValueOf(f).Elem().FieldByName(op + "Fn")
		if !field.IsValid() || field.Type() != reflect.TypeOf(fn) {
			t.Fatalf("FakeDynamoDB has no field %sFn of type %T", op, fn)
		}
		field.Set(reflect.ValueOf(fn))
		if out, err := call(f, ctx, in); out != want || err != errScripted {
			t.Errorf("%s = %p, %v; want %p and the function's error", op, out, err, want)
		}
	}
}
