package stream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/finance/fbdi-notify/internal/local/stream"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/internal/testing/bgtest"
)

// These tests read real streams of moto_server through the DynamoDB
// Streams API. moto gives every table one shard that never closes, so the
// shard life cycle is tested against fakeStream instead.

// motoTable is a table of moto_server with a NEW_IMAGE stream.
type motoTable struct {
	db      *dynamodb.Client
	streams *dynamodbstreams.Client
	name    string
	arn     string // the stream's
}

func newMotoTable(tb testing.TB) *motoTable {
	tb.Helper()
	db := awstest.DynamoDB(tb)
	name := awstest.UniqueName(tb, "stream")
	awstest.Table(tb, db, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: dbtypes.ScalarAttributeTypeS}},
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: dbtypes.KeyTypeHash}},
		BillingMode:          dbtypes.BillingModePayPerRequest,
		StreamSpecification:  &dbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: dbtypes.StreamViewTypeNewImage},
	}, "")
	out, err := db.DescribeTable(awstest.Context(tb), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		tb.Fatalf("describe table %s: %v", name, err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if arn == "" {
		tb.Fatalf("table %s has no stream", name)
	}
	return &motoTable{db: db, streams: dynamodbstreams.NewFromConfig(awstest.Config(tb)), name: name, arn: arn}
}

// put writes an item with the given id and attributes (besides id).
func (m *motoTable) put(tb testing.TB, id string, attrs map[string]dbtypes.AttributeValue) {
	tb.Helper()
	item := map[string]dbtypes.AttributeValue{"id": &dbtypes.AttributeValueMemberS{Value: id}}
	for k, v := range attrs {
		item[k] = v
	}
	if _, err := m.db.PutItem(awstest.Context(tb), &dynamodb.PutItemInput{TableName: aws.String(m.name), Item: item}); err != nil {
		tb.Fatalf("put %s: %v", id, err)
	}
}

// puts writes new items with the given ids, one INSERT record each. The put
// is conditional on the item being new: when the SDK retries a put whose
// first attempt landed (moto_server under the load of the whole test run
// answers 5xx at times), the retry fails instead of adding a second record.
func (m *motoTable) puts(tb testing.TB, ids ...string) {
	tb.Helper()
	for _, id := range ids {
		_, err := m.db.PutItem(awstest.Context(tb), &dynamodb.PutItemInput{TableName: aws.String(m.name),
			Item:                map[string]dbtypes.AttributeValue{"id": &dbtypes.AttributeValueMemberS{Value: id}},
			ConditionExpression: aws.String("attribute_not_exists(id)")})
		var exists *dbtypes.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &exists) {
			tb.Fatalf("put %s: %v", id, err)
		}
	}
}

func (m *motoTable) update(tb testing.TB, id, attr, value string) {
	tb.Helper()
	if _, err := m.db.UpdateItem(awstest.Context(tb), &dynamodb.UpdateItemInput{
		TableName: aws.String(m.name), Key: map[string]dbtypes.AttributeValue{"id": &dbtypes.AttributeValueMemberS{Value: id}},
		UpdateExpression:          aws.String("SET #a = :v"),
		ExpressionAttributeNames:  map[string]string{"#a": attr},
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":v": &dbtypes.AttributeValueMemberS{Value: value}},
	}); err != nil {
		tb.Fatalf("update %s: %v", id, err)
	}
}

func (m *motoTable) delete(tb testing.TB, id string) {
	tb.Helper()
	if _, err := m.db.DeleteItem(awstest.Context(tb), &dynamodb.DeleteItemInput{
		TableName: aws.String(m.name), Key: map[string]dbtypes.AttributeValue{"id": &dbtypes.AttributeValueMemberS{Value: id}},
	}); err != nil {
		tb.Fatalf("delete %s: %v", id, err)
	}
}

// TestMotoStreamsAPI checks that moto_server answers the three calls
// Consume makes, so that a failure of the other tests points at Consume.
func TestMotoStreamsAPI(t *testing.T) {
	m := newMotoTable(t)
	m.puts(t, "a")
	ctx := awstest.Context(t)
	desc, err := m.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(m.arn)})
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	if len(desc.StreamDescription.Shards) == 0 {
		t.Fatal("DescribeStream: no shard")
	}
	it, err := m.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(m.arn),
		ShardId: desc.StreamDescription.Shards[0].ShardId, ShardIteratorType: "TRIM_HORIZON"})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	recs, err := m.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("GetRecords: %v", err)
	}
	if len(recs.Records) != 1 || recs.NextShardIterator == nil {
		t.Fatalf("GetRecords: %d records, next iterator %v; want 1 record and an open shard", len(recs.Records), recs.NextShardIterator)
	}
}

func TestConsumeDeliversInsert(t *testing.T) {
	m := newMotoTable(t)
	m.put(t, "a", map[string]dbtypes.AttributeValue{
		"text":   &dbtypes.AttributeValueMemberS{Value: "hello"},
		"count":  &dbtypes.AttributeValueMemberN{Value: "42.5"},
		"blob":   &dbtypes.AttributeValueMemberB{Value: []byte{0, 1, 255}},
		"live":   &dbtypes.AttributeValueMemberBOOL{Value: true},
		"none":   &dbtypes.AttributeValueMemberNULL{Value: true},
		"list":   &dbtypes.AttributeValueMemberL{Value: []dbtypes.AttributeValue{&dbtypes.AttributeValueMemberS{Value: "x"}, &dbtypes.AttributeValueMemberN{Value: "1"}}},
		"map":    &dbtypes.AttributeValueMemberM{Value: map[string]dbtypes.AttributeValue{"k": &dbtypes.AttributeValueMemberBOOL{Value: false}}},
		"tags":   &dbtypes.AttributeValueMemberSS{Value: []string{"p", "q"}},
		"nums":   &dbtypes.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"blobs":  &dbtypes.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"userId": &dbtypes.AttributeValueMemberS{Value: "u-1"},
	})
	rec := newRecorder(succeed)
	consume(t, m.streams, m.arn, rec.handle, stream.Options{StartingPosition: stream.TrimHorizon, Region: "eu-west-1"})
	ev := rec.next(t)
	if len(ev.Records) != 1 {
		t.Fatalf("%d records, want 1", len(ev.Records))
	}
	r := ev.Records[0]
	if r.EventName != "INSERT" || r.EventSource != "aws:dynamodb" || r.EventSourceArn != m.arn || r.AWSRegion != "eu-west-1" ||
		r.EventID == "" || r.EventVersion == "" {
		t.Errorf("record header %+v", r)
	}
	c := r.Change
	if c.SequenceNumber == "" || c.SizeBytes <= 0 || c.StreamViewType != "NEW_IMAGE" || c.ApproximateCreationDateTime.IsZero() {
		t.Errorf("stream record: sequence %q size %d view %q created %v", c.SequenceNumber, c.SizeBytes, c.StreamViewType, c.ApproximateCreationDateTime)
	}
	if got := c.Keys["id"]; len(c.Keys) != 1 || got.DataType() != events.DataTypeString || got.String() != "a" {
		t.Errorf("keys %v, want id=a", c.Keys)
	}
	want := map[string]string{
		"id":     `{"S":"a"}`,
		"text":   `{"S":"hello"}`,
		"count":  `{"N":"42.5"}`,
		"blob":   `{"B":"AAH/"}`,
		"live":   `{"BOOL":true}`,
		"none":   `{"NULL":true}`,
		"list":   `{"L":[{"S":"x"},{"N":"1"}]}`,
		"map":    `{"M":{"k":{"BOOL":false}}}`,
		"tags":   `{"SS":["p","q"]}`,
		"nums":   `{"NS":["1","2"]}`,
		"blobs":  `{"BS":["AQ==","Ag=="]}`,
		"userId": `{"S":"u-1"}`,
	}
	if len(c.NewImage) != len(want) {
		t.Errorf("new image has %d attributes, want %d", len(c.NewImage), len(want))
	}
	for name, w := range want {
		if got := canonical(t, c.NewImage[name]); got != w {
			t.Errorf("NewImage.%s = %s, want %s", name, got, w)
		}
	}
	if c.OldImage != nil {
		t.Errorf("old image %v in a NEW_IMAGE stream", c.OldImage)
	}
}

// canonical returns the compact JSON of v with the members of its sets
// sorted (a set has no order).
func canonical(t *testing.T, v events.DynamoDBAttributeValue) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"SS", "NS", "BS"} {
		if members, ok := doc[set].([]any); ok {
			slices.SortFunc(members, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		}
	}
	out, _ := json.Marshal(doc)
	return string(out)
}

func TestStartingPosition(t *testing.T) {
	tests := []struct {
		name     string
		position string
		want     []string // batches
	}{
		{name: "LATEST skips what was there before", position: stream.Latest, want: []string{"after"}},
		{name: "default is LATEST", position: "", want: []string{"after"}},
		{name: "TRIM_HORIZON reads it", position: stream.TrimHorizon, want: []string{"before", "after"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMotoTable(t)
			m.puts(t, "before")
			rec := newRecorder(succeed)
			api := watch(m.streams)
			consume(t, api, m.arn, rec.handle, stream.Options{StartingPosition: tt.position})
			api.wait(t)
			m.puts(t, "after")
			// The shard is read in order, so once "after" is in, "before"
			// would be too.
			var got []string
			for !slices.Contains(got, "after") {
				got = append(got, strings.Split(rec.nextIDs(t), ",")...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("records %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	tests := []struct {
		name    string
		filters []string
		want    []string // eventName:id of the delivered records; the last one ends the test
	}{
		{name: "inserts only", filters: []string{`{"eventName":["INSERT"]}`},
			want: []string{"INSERT:a", "INSERT:b", "INSERT:end"}},
		{name: "new image attribute", filters: []string{`{"dynamodb":{"NewImage":{"kind":{"S":["keep"]}}}}`},
			want: []string{"INSERT:a", "MODIFY:a", "INSERT:end"}},
		{name: "any of two filters", filters: []string{`{"eventName":["REMOVE"]}`, `{"dynamodb":{"NewImage":{"kind":{"S":["keep"]}}}}`},
			want: []string{"INSERT:a", "MODIFY:a", "REMOVE:b", "INSERT:end"}},
		{name: "no filters", want: []string{"INSERT:a", "INSERT:b", "MODIFY:a", "REMOVE:b", "INSERT:end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMotoTable(t)
			keep := map[string]dbtypes.AttributeValue{"kind": &dbtypes.AttributeValueMemberS{Value: "keep"}}
			drop := map[string]dbtypes.AttributeValue{"kind": &dbtypes.AttributeValueMemberS{Value: "drop"}}
			m.put(t, "a", keep)
			m.put(t, "b", drop)
			m.update(t, "a", "note", "changed")
			m.delete(t, "b")
			m.put(t, "end", keep)
			rec := newRecorder(succeed)
			consume(t, m.streams, m.arn, rec.handle, stream.Options{StartingPosition: stream.TrimHorizon, Filters: tt.filters})
			var got []string
			for !slices.Contains(got, "INSERT:end") {
				ev := rec.next(t)
				if len(ev.Records) == 0 {
					t.Fatal("handler called with an empty batch")
				}
				for _, r := range ev.Records {
					got = append(got, r.EventName+":"+r.Change.Keys["id"].String())
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("delivered %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConsumeFailsForUnknownMotoStream(t *testing.T) {
	m := newMotoTable(t)
	arn := strings.Replace(m.arn, m.name, m.name+"-missing", 1)
	err := stream.Consume(awstest.Context(t), m.streams, arn, newRecorder(succeed).handle, stream.Options{})
	if err == nil || !strings.Contains(err.Error(), "describe stream") {
		t.Fatalf("Consume: %v, want a describe stream error", err)
	}
}

// fail is a handler outcome: an error.
func fail(string) (events.DynamoDBEventResponse, error) {
	return events.DynamoDBEventResponse{}, errors.New("handler failed")
}

// itemFailures is a handler outcome: the batch item failures of ids.
func itemFailures(ids ...string) events.DynamoDBEventResponse {
	var resp events.DynamoDBEventResponse
	for _, id := range ids {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: id})
	}
	return resp
}

// TestFailures: what a failing invocation leads to. Records a, b and c are
// in the stream before Consume starts, so they come in one batch; once the
// expected invocations happened, record z is written: the next invocation
// must be z alone, which proves that no other retry happened.
func TestFailures(t *testing.T) {
	seq := func(ev events.DynamoDBEvent, id string) string {
		for _, r := range ev.Records {
			if r.Change.Keys["id"].String() == id {
				return r.Change.SequenceNumber
			}
		}
		return "not-in-batch-" + id
	}
	tests := []struct {
		name     string
		retries  int  // MaximumRetryAttempts
		report   bool // ReportBatchItemFailures
		behave   func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)
		want     []string // batches before z
		wantLogs string   // in the log, if set
	}{
		{name: "handler error retries the same batch until it succeeds", retries: -1,
			behave: func(call int, _ events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				if call <= 2 {
					return fail("")
				}
				return events.DynamoDBEventResponse{}, nil
			},
			want: []string{"a,b,c", "a,b,c", "a,b,c"}},
		{name: "batch skipped after the maximum retries", retries: 2,
			behave: func(int, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) { return fail("") },
			want:   []string{"a,b,c", "a,b,c", "a,b,c"}, wantLogs: "retries exhausted; records skipped"},
		{name: "no retry", retries: 0,
			behave: func(int, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) { return fail("") },
			want:   []string{"a,b,c"}},
		{name: "panic is retried", retries: -1,
			behave: func(call int, _ events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				if call == 1 {
					panic("handler bug")
				}
				return events.DynamoDBEventResponse{}, nil
			},
			want: []string{"a,b,c", "a,b,c"}, wantLogs: "handler panicked"},
		{name: "batch item failure retries from that record", retries: -1, report: true,
			behave: func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				if call == 1 {
					return itemFailures(seq(ev, "b")), nil
				}
				return events.DynamoDBEventResponse{}, nil
			},
			want: []string{"a,b,c", "b,c"}},
		{name: "earliest of several batch item failures", retries: -1, report: true,
			behave: func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				if call == 1 {
					// Neither the first nor the last reported is the earliest.
					return itemFailures(seq(ev, "c"), seq(ev, "b"), seq(ev, "c")), nil
				}
				return events.DynamoDBEventResponse{}, nil
			},
			want: []string{"a,b,c", "b,c"}},
		{name: "a retried batch item failure counts as a retry", retries: 1, report: true,
			behave: func(_ int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				return itemFailures(seq(ev, "c")), nil
			},
			want: []string{"a,b,c", "c"}, wantLogs: "retries exhausted; records skipped"},
		{name: "unknown item identifier fails the whole batch", retries: -1, report: true,
			behave: func(call int, _ events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				if call == 1 {
					return itemFailures("42"), nil
				}
				return events.DynamoDBEventResponse{}, nil
			},
			want: []string{"a,b,c", "a,b,c"}},
		{name: "empty item identifier fails the whole batch", retries: -1, report: true,
			behave: func(call int, _ events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				if call == 1 {
					return itemFailures(""), nil
				}
				return events.DynamoDBEventResponse{}, nil
			},
			want: []string{"a,b,c", "a,b,c"}},
		{name: "item failures ignored without ReportBatchItemFailures", retries: -1,
			behave: func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				return itemFailures(seq(ev, "b")), nil
			},
			want: []string{"a,b,c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMotoTable(t)
			m.puts(t, "a", "b", "c")
			rec := newRecorder(func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				if ids(ev) == "z" {
					return events.DynamoDBEventResponse{}, nil
				}
				return tt.behave(call, ev)
			})
			logs := &bgtest.Buffer{}
			consume(t, m.streams, m.arn, rec.handle, stream.Options{StartingPosition: stream.TrimHorizon,
				MaximumRetryAttempts: tt.retries, ReportBatchItemFailures: tt.report, Logger: debugLogger(logs)})
			var got []string
			for range tt.want {
				got = append(got, rec.nextIDs(t))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("batches %q, want %q", got, tt.want)
			}
			m.puts(t, "z")
			if got := rec.nextIDs(t); got != "z" {
				t.Errorf("next batch %q, want z alone", got)
			}
			if tt.wantLogs != "" && !strings.Contains(logs.String(), tt.wantLogs) {
				t.Errorf("log has no %q:\n%s", tt.wantLogs, logs)
			}
		})
	}
}

// TestOrderWithinShard: records reach the handler in the order they were
// written, in batches of at most BatchSize, with rising sequence numbers.
func TestOrderWithinShard(t *testing.T) {
	m := newMotoTable(t)
	var want []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("r%02d", i))
	}
	m.puts(t, want...)
	rec := newRecorder(succeed)
	api := watch(m.streams)
	consume(t, api, m.arn, rec.handle, stream.Options{StartingPosition: stream.TrimHorizon, BatchSize: 3})
	api.wait(t)
	for i := 10; i < 20; i++ {
		id := fmt.Sprintf("r%02d", i)
		want = append(want, id)
		m.puts(t, id)
	}
	var got, seqs []string
	for len(got) < len(want) {
		ev := rec.next(t)
		if len(ev.Records) == 0 || len(ev.Records) > 3 {
			t.Fatalf("batch of %d records, want 1 to 3", len(ev.Records))
		}
		for _, r := range ev.Records {
			got = append(got, r.Change.Keys["id"].String())
			seqs = append(seqs, r.Change.SequenceNumber)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
	for i := 1; i < len(seqs); i++ {
		if compareSequence(seqs[i-1], seqs[i]) >= 0 {
			t.Errorf("sequence numbers not rising: %s then %s", seqs[i-1], seqs[i])
		}
	}
}

// compareSequence compares two sequence numbers (decimal strings).
func compareSequence(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// TestConsumeReturnsWhenContextEnds: Consume returns nil once its context
// ends; the invocation in flight keeps its own context, which ends at the
// timeout, not when Consume's context is cancelled.
func TestConsumeReturnsWhenContextEnds(t *testing.T) {
	m := newMotoTable(t)
	m.puts(t, "a")
	entered := make(chan struct{})
	var once sync.Once
	ctxErr := make(chan error, 1)
	h := func(ctx context.Context, _ events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		once.Do(func() { close(entered) })
		<-ctx.Done()
		select {
		case ctxErr <- ctx.Err():
		default:
		}
		return events.DynamoDBEventResponse{}, nil
	}
	stop := consume(t, m.streams, m.arn, h, stream.Options{StartingPosition: stream.TrimHorizon, Timeout: 300 * time.Millisecond})
	select {
	case <-entered:
	case <-time.After(guard):
		t.Fatal("handler not called")
	}
	stop() // fails the test unless Consume returns nil
	select {
	case err := <-ctxErr:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("invocation context ended with %v, want DeadlineExceeded (its timeout)", err)
		}
	case <-time.After(guard):
		t.Fatal("invocation context never ended")
	}
}
