// Package stream feeds the records of a DynamoDB table's stream, read
// through the real DynamoDB Streams API (AWS, or moto_server through an
// endpoint), to a handler with the semantics of Lambda's DynamoDB
// event-source mapping: one reader per shard, records of a shard strictly in
// order, a child shard only after its parent, filter criteria, retries of a
// failing batch up to MaximumRetryAttempts, MaximumRecordAge and
// ReportBatchItemFailures.
//
// The local stack uses it to invoke WelcomeFunction for the new rows of the
// connections table.
package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamsAPI is the part of the DynamoDB Streams client that Consume uses.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Handler is a DynamoDB-stream-triggered Lambda handler.
type Handler func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Starting positions of Options.StartingPosition.
const (
	Latest      = "LATEST"
	TrimHorizon = "TRIM_HORIZON"
)

// Options are the event-source mapping's settings, as in template.yaml.
type Options struct {
	// BatchSize is the most records per invocation; default 100, at most
	// 1000 (the most one GetRecords call returns).
	BatchSize int
	// StartingPosition is where the shards open when Consume starts are
	// read from: Latest (the default) or TrimHorizon. With Latest, shards
	// already closed at start are not read. Shards found later are read
	// from TrimHorizon.
	StartingPosition string
	// MaximumRetryAttempts is how many times a failing batch is retried
	// before its records are skipped (logged at Warn): 0 means no retry,
	// -1 (any negative value) retries until the records are older than
	// MaximumRecordAge, forever when that is 0. The zero value is 0, as in
	// the mapping's API; the template's default is -1.
	MaximumRetryAttempts int
	// MaximumRecordAge skips (and logs) records whose
	// ApproximateCreationDateTime is older, checked before every
	// invocation; 0 means no limit.
	MaximumRecordAge time.Duration
	// Filters are FilterCriteria patterns (JSON); a record is delivered if
	// it matches any of them, and dropped without a retry otherwise. No
	// filters deliver every record. Supported: nested objects and arrays of
	// exact scalar values (strings, numbers, booleans, null).
	Filters []string
	// ReportBatchItemFailures makes Consume read the response's
	// BatchItemFailures, whose ItemIdentifier is a record's SequenceNumber.
	ReportBatchItemFailures bool
	// PollInterval is the wait after a GetRecords call that returned no
	// record; default 250ms.
	PollInterval time.Duration
	// Timeout bounds each invocation; default 60s. A handler still running
	// then counts as failed, and its result is ignored.
	Timeout time.Duration
	// Region is the records' AWSRegion; default the region the stream
	// reports in each record.
	Region string
	// Logger receives what Consume skips, retries and fails; default none.
	Logger *slog.Logger
}

// Defaults of Options.
const (
	defaultBatchSize    = 100
	maxBatchSize        = 1000
	defaultPollInterval = 250 * time.Millisecond
	defaultTimeout      = 60 * time.Second
)

// describeInterval is how often Consume looks for new shards; it also looks
// as soon as a shard is finished.
const describeInterval = 5 * time.Second

// Retry waits, after a failed invocation or API call: retryMin doubling up
// to retryMax.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 2 * time.Second
)

// ErrInvalidOptions is wrapped by the error Consume returns for options it
// cannot honour: an unknown StartingPosition, or a filter pattern that is
// invalid or uses a rule it does not support.
var ErrInvalidOptions = errors.New("invalid options")

// Consume runs the mapping from the stream streamARN to h until ctx ends.
// It returns an error at once if the stream cannot be described or an
// option is invalid (ErrInvalidOptions: a StartingPosition other than
// Latest or TrimHorizon, or a filter pattern that is invalid or
// unsupported); later API errors are logged and retried.
//
// Every shard has its own reader, which invokes h with the shard's records
// strictly in order, one batch at a time; a child shard is read once its
// parent is finished (or when the parent is unknown). The stream is
// described again every few seconds, and whenever a shard is finished, to
// find new shards.
//
// When ctx ends Consume starts nothing new and returns nil once every
// reader has stopped. An invocation in flight keeps its own context (not
// cancelled by ctx) until it returns or reaches Timeout.
func Consume(ctx context.Context, api StreamsAPI, streamARN string, h Handler, opts Options) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return fmt.Errorf("localstream: consume %s: %w", streamARN, err)
	}
	filters, err := compileFilters(opts.Filters)
	if err != nil {
		return fmt.Errorf("localstream: consume %s: %w: %w", streamARN, ErrInvalidOptions, err)
	}
	c := &consumer{api: api, arn: streamARN, h: h, opts: opts, filters: filters, log: opts.Logger.With("stream", streamARN)}
	shards, err := c.describe(ctx)
	if err != nil {
		return fmt.Errorf("localstream: consume %s: %w", streamARN, err)
	}
	c.run(ctx, shards)
	return nil
}

// withDefaults fills the unset options in, and checks the others.
func (o Options) withDefaults() (Options, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = defaultBatchSize
	}
	o.BatchSize = min(o.BatchSize, maxBatchSize)
	switch o.StartingPosition {
	case "":
		o.StartingPosition = Latest
	case Latest, TrimHorizon:
	default:
		return o, fmt.Errorf("%w: starting position %q (want %s or %s)", ErrInvalidOptions, o.StartingPosition, Latest, TrimHorizon)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = defaultPollInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// consumer is one running mapping.
type consumer struct {
	api     StreamsAPI
	arn     string
	h       Handler
	opts    Options
	filters []pattern
	log     *slog.Logger
}

// describe returns every shard of the stream, following the pages of
// DescribeStream.
func (c *consumer) describe(ctx context.Context) ([]types.Shard, error) {
	var shards []types.Shard
	var start *string
	for {
		out, err := c.api.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(c.arn), ExclusiveStartShardId: start})
		if err != nil {
			return nil, fmt.Errorf("describe stream: %w", err)
		}
		if out.StreamDescription == nil {
			return nil, errors.New("describe stream: no stream description")
		}
		shards = append(shards, out.StreamDescription.Shards...)
		start = out.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return shards, nil
		}
	}
}

// shardState is what the coordinator knows of one shard.
type shardState struct {
	parent  string
	from    types.ShardIteratorType // where its reader starts
	started bool
	done    bool // finished, or not to be read
}

// run starts a reader for every shard whose parent is done, finds new
// shards, and returns when ctx has ended and every reader has stopped.
func (c *consumer) run(ctx context.Context, initial []types.Shard) {
	known := map[string]*shardState{}
	for _, s := range initial {
		st := &shardState{parent: aws.ToString(s.ParentShardId), from: types.ShardIteratorType(c.opts.StartingPosition)}
		if c.opts.StartingPosition == Latest && closed(s) {
			st.done = true // nothing new can arrive in it
		}
		known[aws.ToString(s.ShardId)] = st
	}
	finished := make(chan string)
	var wg sync.WaitGroup
	defer wg.Wait()
	ticker := time.NewTicker(describeInterval)
	defer ticker.Stop()
	for {
		for id, st := range known {
			if st.started || st.done {
				continue
			}
			if p, ok := known[st.parent]; ok && !p.done {
				continue
			}
			st.started = true
			wg.Go(func() {
				if c.readShard(ctx, id, st.from) {
					select {
					case finished <- id:
					case <-ctx.Done():
					}
				}
			})
		}
		select {
		case <-ctx.Done():
			return
		case id := <-finished:
			known[id].done = true
		case <-ticker.C:
		}
		shards, err := c.describe(ctx)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("describe stream failed; retrying", "error", err)
			}
			continue
		}
		for _, s := range shards {
			id := aws.ToString(s.ShardId)
			if _, ok := known[id]; !ok {
				c.log.Info("new shard", "shard", id, "parent", aws.ToString(s.ParentShardId))
				known[id] = &shardState{parent: aws.ToString(s.ParentShardId), from: types.ShardIteratorTypeTrimHorizon}
			}
		}
	}
}

// closed reports whether no record can be added to s any more.
func closed(s types.Shard) bool {
	return s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil
}

// backoff returns the wait before the n-th retry (n >= 1).
func backoff(n int) time.Duration {
	d := retryMin
	for i := 1; i < n && d < retryMax; i++ {
		d *= 2
	}
	return min(d, retryMax)
}

// sleep waits d, or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// sequenceNumbers lists the records' sequence numbers, for the logs.
func sequenceNumbers(recs []events.DynamoDBEventRecord) string {
	seqs := make([]string, len(recs))
	for i, r := range recs {
		seqs[i] = r.Change.SequenceNumber
	}
	return strings.Join(seqs, ",")
}
