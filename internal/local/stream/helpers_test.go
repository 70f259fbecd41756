package stream_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/finance/fbdi-notify/internal/local/stream"
	"github.com/finance/fbdi-notify/internal/testing/bgtest"
)

// guard bounds every wait; it only turns a hang into a failure.
const guard = 30 * time.Second

// consume runs Consume in the background until the returned stop is
// called, which cancels it and fails tb unless Consume returns nil soon.
func consume(tb testing.TB, api stream.StreamsAPI, arn string, h stream.Handler, opts stream.Options) (stop func()) {
	tb.Helper()
	return bgtest.Background(tb, "Consume", guard, func(ctx context.Context) error {
		return stream.Consume(ctx, api, arn, h, opts)
	})
}

// behaviour decides the outcome of the call-th invocation (from 1).
type behaviour func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// succeed is the behaviour of a handler that always succeeds.
func succeed(int, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return events.DynamoDBEventResponse{}, nil
}

// recorder is a handler that hands every event it gets to the test, then
// behaves as told.
type recorder struct {
	behave behaviour
	calls  atomic.Int64
	events chan events.DynamoDBEvent
}

func newRecorder(behave behaviour) *recorder {
	return &recorder{behave: behave, events: make(chan events.DynamoDBEvent, 1000)}
}

func (r *recorder) handle(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	r.events <- ev
	return r.behave(int(r.calls.Add(1)), ev)
}

// next returns the next event the handler got.
func (r *recorder) next(tb testing.TB) events.DynamoDBEvent {
	tb.Helper()
	select {
	case ev := <-r.events:
		return ev
	case <-time.After(guard):
		tb.Fatal("timed out waiting for an invocation")
		return events.DynamoDBEvent{}
	}
}

// nextIDs returns the ids of the records of the next event, joined with
// commas ("a,b,c").
func (r *recorder) nextIDs(tb testing.TB) string {
	tb.Helper()
	return ids(r.next(tb))
}

// ids returns the "id" keys of the event's records, joined with commas.
func ids(ev events.DynamoDBEvent) string {
	out := make([]string, len(ev.Records))
	for i, rec := range ev.Records {
		out[i] = rec.Change.Keys["id"].String()
	}
	return strings.Join(out, ",")
}

// watched wraps a StreamsAPI and closes ready once the first GetRecords
// call has returned: from then on a LATEST reader sees every new record.
type watched struct {
	stream.StreamsAPI
	once  sync.Once
	ready chan struct{}
}

func watch(api stream.StreamsAPI) *watched {
	return &watched{StreamsAPI: api, ready: make(chan struct{})}
}

func (w *watched) GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	out, err := w.StreamsAPI.GetRecords(ctx, in, optFns...)
	if err == nil {
		w.once.Do(func() { close(w.ready) })
	}
	return out, err
}

// wait returns once the first GetRecords call has returned.
func (w *watched) wait(tb testing.TB) {
	tb.Helper()
	select {
	case <-w.ready:
	case <-time.After(guard):
		tb.Fatal("timed out waiting for the first GetRecords call")
	}
}

// debugLogger logs everything a Consume says into b.
func debugLogger(b *bgtest.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
