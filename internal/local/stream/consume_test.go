package stream_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/finance/fbdi-notify/internal/local/stream"
)

// These tests run Consume against fakeStream, for what moto_server cannot
// show: shards that close, child shards, expired iterators. They need no
// network.

func TestConsumeRefusesInvalidOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    stream.Options
		wantErr string // part of the error, naming what is wrong
	}{
		{name: "prefix rule", opts: stream.Options{Filters: []string{`{"dynamodb":{"NewImage":{"userId":{"S":[{"prefix":"u-"}]}}}}`}},
			wantErr: `{"prefix":"u-"} at dynamodb.NewImage.userId.S`},
		{name: "exists rule", opts: stream.Options{Filters: []string{`{"dynamodb":{"NewImage":{"userId":[{"exists":true}]}}}`}},
			wantErr: `{"exists":true}`},
		{name: "numeric rule", opts: stream.Options{Filters: []string{`{"dynamodb":{"SizeBytes":[{"numeric":[">",10]}]}}`}},
			wantErr: `{"numeric":[">",10]}`},
		{name: "anything-but rule", opts: stream.Options{Filters: []string{`{"eventName":[{"anything-but":["REMOVE"]}]}`}},
			wantErr: `anything-but`},
		{name: "or rule", opts: stream.Options{Filters: []string{`{"$or":[{"eventName":["INSERT"]},{"eventName":["MODIFY"]}]}`}},
			wantErr: `"$or"`},
		{name: "unsupported rule in the second filter", opts: stream.Options{Filters: []string{`{"eventName":["INSERT"]}`, `{"eventName":[{"suffix":"Y"}]}`}},
			wantErr: `filter 2`},
		{name: "value not in an array", opts: stream.Options{Filters: []string{`{"eventName":"INSERT"}`}},
			wantErr: `eventName`},
		{name: "empty array", opts: stream.Options{Filters: []string{`{"eventName":[]}`}},
			wantErr: `empty array at eventName`},
		{name: "nested array", opts: stream.Options{Filters: []string{`{"eventName":[["INSERT"]]}`}},
			wantErr: `["INSERT"] at eventName`},
		{name: "invalid JSON", opts: stream.Options{Filters: []string{`{"eventName":["INSERT"]`}},
			wantErr: `invalid JSON`},
		{name: "not an object", opts: stream.Options{Filters: []string{`["INSERT"]`}},
			wantErr: `JSON object`},
		{name: "unknown starting position", opts: stream.Options{StartingPosition: "AT_TIMESTAMP"},
			wantErr: `AT_TIMESTAMP`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeStream{}
			fake.addShard("s1", "", false)
			fake.put("s1", time.Now(), "a")
			rec := newRecorder(succeed)
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			tt.opts.StartingPosition = cmpOr(tt.opts.StartingPosition, stream.TrimHorizon)
			err := stream.Consume(ctx, fake, fakeARN, rec.handle, tt.opts)
			if !errors.Is(err, stream.ErrInvalidOptions) {
				t.Fatalf("Consume: %v, want ErrInvalidOptions", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not name %q", err, tt.wantErr)
			}
			if n := rec.calls.Load(); n != 0 {
				t.Errorf("handler called %d times", n)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestConsumeFailsForUnknownStream(t *testing.T) {
	fake := &fakeStream{}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	err := stream.Consume(ctx, fake, fakeARN+"-gone", newRecorder(succeed).handle, stream.Options{})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("Consume: %v, want the ResourceNotFoundException", err)
	}
}

// TestChildShardAfterParent: the child shard is read only once its parent
// is finished, even while the parent's batch is being retried.
func TestChildShardAfterParent(t *testing.T) {
	fake := &fakeStream{}
	fake.addShard("parent", "", false)
	fake.addShard("child", "parent", false)
	fake.put("parent", time.Now(), "p1", "p2")
	fake.close("parent")
	fake.put("child", time.Now(), "c1", "c2")
	rec := newRecorder(func(call int, _ events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		if call == 1 {
			return events.DynamoDBEventResponse{}, errors.New("first attempt fails")
		}
		return events.DynamoDBEventResponse{}, nil
	})
	stop := consume(t, fake, fakeARN, rec.handle, stream.Options{StartingPosition: stream.TrimHorizon, MaximumRetryAttempts: -1})
	var got []string
	for range 3 {
		got = append(got, rec.nextIDs(t))
	}
	stop()
	if want := []string{"p1,p2", "p1,p2", "c1,c2"}; !slices.Equal(got, want) {
		t.Errorf("batches %q, want %q", got, want)
	}
	calls := fake.calls()
	parentEnd := slices.Index(calls, "GetRecords parent 2 end")
	childStart := slices.Index(calls, "GetShardIterator child TRIM_HORIZON")
	if parentEnd < 0 || childStart < parentEnd {
		t.Errorf("child shard read before its parent was finished: calls %q", calls)
	}
}

// TestNewShardFoundLater: a shard that appears while Consume runs is found
// and read from its trim horizon, even when the mapping starts at LATEST.
func TestNewShardFoundLater(t *testing.T) {
	fake := &fakeStream{}
	fake.addShard("a", "", false)
	fake.addShard("b", "a", true)
	fake.put("a", time.Now(), "old")
	rec := newRecorder(succeed)
	api := watch(fake)
	consume(t, api, fakeARN, rec.handle, stream.Options{StartingPosition: stream.Latest})
	api.wait(t)
	fake.put("a", time.Now(), "a1")
	if got := rec.nextIDs(t); got != "a1" {
		t.Fatalf("first batch %q, want a1 (LATEST skips old)", got)
	}
	fake.put("b", time.Now(), "b1", "b2")
	fake.show("b")
	fake.close("a")
	if got := rec.nextIDs(t); got != "b1,b2" {
		t.Errorf("second batch %q, want b1,b2", got)
	}
}

// TestLatestSkipsClosedShards: with LATEST, a shard closed when Consume
// starts has nothing new and is not read; its open child is read from
// LATEST.
func TestLatestSkipsClosedShards(t *testing.T) {
	fake := &fakeStream{}
	fake.addShard("closed", "", false)
	fake.addShard("open", "closed", false)
	fake.put("closed", time.Now(), "x1")
	fake.close("closed")
	fake.put("open", time.Now(), "y0")
	rec := newRecorder(succeed)
	api := watch(fake)
	stop := consume(t, api, fakeARN, rec.handle, stream.Options{})
	api.wait(t)
	fake.put("open", time.Now(), "y1")
	if got := rec.nextIDs(t); got != "y1" {
		t.Errorf("first batch %q, want y1", got)
	}
	stop()
	for _, c := range fake.calls() {
		if strings.Contains(c, " closed ") {
			t.Errorf("closed shard read: %q", c)
		}
	}
}

func TestMaximumRecordAgeSkipsOldRecords(t *testing.T) {
	fake := &fakeStream{}
	fake.addShard("s", "", false)
	old, fresh := time.Now().Add(-time.Hour), time.Now()
	fake.put("s", old, "old1")
	fake.put("s", fresh, "new1")
	fake.put("s", old, "old2")
	fake.put("s", fresh, "new2")
	rec := newRecorder(succeed)
	consume(t, fake, fakeARN, rec.handle, stream.Options{StartingPosition: stream.TrimHorizon, MaximumRecordAge: 30 * time.Minute})
	if got := rec.nextIDs(t); got != "new1,new2" {
		t.Errorf("batch %q, want new1,new2", got)
	}
}

// TestRecoversFromGetRecordsErrors: after a failed GetRecords call (an
// expired iterator) the reader takes a new iterator after the last record
// it handled: nothing is lost or delivered twice.
func TestRecoversFromGetRecordsErrors(t *testing.T) {
	fake := &fakeStream{}
	fake.addShard("s", "", false)
	fake.put("s", time.Now(), "a", "b")
	failed := false
	fake.getRecordsErr = func(_ string, pos int) error {
		if pos == 1 && !failed {
			failed = true
			return &types.ExpiredIteratorException{Message: aws.String("Iterator expired")}
		}
		return nil
	}
	rec := newRecorder(succeed)
	consume(t, fake, fakeARN, rec.handle, stream.Options{StartingPosition: stream.TrimHorizon, BatchSize: 1})
	got := []string{rec.nextIDs(t), rec.nextIDs(t)}
	fake.put("s", time.Now(), "c")
	got = append(got, rec.nextIDs(t))
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("batches %q, want %q", got, want)
	}
	if !slices.Contains(fake.calls(), "GetShardIterator s AFTER_SEQUENCE_NUMBER") {
		t.Errorf("no new iterator after the checkpoint: calls %q", fake.calls())
	}
}

// TestReadsOnFromTrimHorizonWhenCheckpointTrimmed: when the records after
// the checkpoint are trimmed by the time the reader needs a new iterator,
// it goes on from the trim horizon instead of asking for the checkpoint
// again.
func TestReadsOnFromTrimHorizonWhenCheckpointTrimmed(t *testing.T) {
	fake := &fakeStream{}
	fake.addShard("s", "", false)
	fake.put("s", time.Now(), "a", "b", "c")
	failed := false
	fake.getRecordsErr = func(shard string, pos int) error {
		if pos == 1 && !failed {
			failed = true
			fake.shard(shard).trimmed = 2 // a and b are gone
			return &types.ExpiredIteratorException{Message: aws.String("Iterator expired")}
		}
		return nil
	}
	rec := newRecorder(succeed)
	consume(t, fake, fakeARN, rec.handle, stream.Options{StartingPosition: stream.TrimHorizon, BatchSize: 1})
	if got := []string{rec.nextIDs(t), rec.nextIDs(t)}; !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("batches %q, want a then c (b was trimmed)", got)
	}
	if calls := fake.calls(); !slices.Contains(calls, "GetShardIterator s AFTER_SEQUENCE_NUMBER") {
		t.Errorf("no iterator asked after the checkpoint: calls %q", calls)
	}
}

// TestInvocationTimeout: a handler still running at the timeout counts as
// failed and the batch is retried; its context ends at the timeout.
func TestInvocationTimeout(t *testing.T) {
	fake := &fakeStream{}
	fake.addShard("s", "", false)
	fake.put("s", time.Now(), "a")
	release := make(chan struct{})
	defer close(release)
	ctxErr := make(chan error, 1)
	var calls atomic.Int64
	rec := newRecorder(succeed)
	h := func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		if calls.Add(1) == 1 {
			rec.events <- ev
			<-ctx.Done()
			ctxErr <- ctx.Err()
			<-release // hangs on, as a handler that ignores its context
			return events.DynamoDBEventResponse{}, nil
		}
		return rec.handle(ctx, ev)
	}
	consume(t, fake, fakeARN, h, stream.Options{StartingPosition: stream.TrimHorizon, Timeout: 50 * time.Millisecond,
		MaximumRetryAttempts: -1})
	if got := []string{rec.nextIDs(t), rec.nextIDs(t)}; !slices.Equal(got, []string{"a", "a"}) {
		t.Errorf("batches %q, want the timed-out batch retried", got)
	}
	if err := <-ctxErr; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("handler context ended with %v, want DeadlineExceeded", err)
	}
}
