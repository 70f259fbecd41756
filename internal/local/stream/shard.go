package stream

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// errTimedOut is the failure of an invocation that outlived Options.Timeout.
var errTimedOut = errors.New("invocation timed out")

// readShard delivers the records of one shard, starting at from, until the
// shard is finished (it returns true) or ctx ends (false).
func (c *consumer) readShard(ctx context.Context, shard string, from types.ShardIteratorType) bool {
	log := c.log.With("shard", shard)
	var iterator *string
	checkpoint := "" // sequence number of the last record done with
	failures := 0    // consecutive failed API calls
	fail := func(msg string, err error) bool {
		if ctx.Err() != nil {
			return false
		}
		failures++
		log.Warn(msg, "failures", failures, "error", err)
		return sleep(ctx, backoff(failures))
	}
	for ctx.Err() == nil {
		if iterator == nil {
			in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(c.arn), ShardId: aws.String(shard), ShardIteratorType: from}
			if checkpoint != "" {
				in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(checkpoint)
			}
			out, err := c.api.GetShardIterator(ctx, in)
			var notFound *types.ResourceNotFoundException
			var trimmed *types.TrimmedDataAccessException
			switch {
			case errors.As(err, &notFound):
				log.Info("shard is gone; done with it", "error", err)
				return true
			case errors.As(err, &trimmed) && checkpoint != "":
				log.Warn("records after the checkpoint were trimmed; reading from the trim horizon", "checkpoint", checkpoint, "error", err)
				checkpoint, from = "", types.ShardIteratorTypeTrimHorizon
				continue
			case err != nil:
				if !fail("get shard iterator failed; retrying", err) {
					return false
				}
				continue
			case out.ShardIterator == nil:
				log.Info("shard has no iterator; done with it")
				return true
			}
			iterator = out.ShardIterator
		}
		out, err := c.api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iterator, Limit: aws.Int32(int32(c.opts.BatchSize))})
		if err != nil {
			// A new iterator from the checkpoint is right whatever went
			// wrong: expired iterator, trimmed records or a server error.
			iterator = nil
			if !fail("get records failed; retrying", err) {
				return false
			}
			continue
		}
		failures = 0
		if len(out.Records) > 0 {
			if !c.deliver(ctx, shard, out.Records) {
				return false
			}
			checkpoint = sequenceNumber(out.Records[len(out.Records)-1])
		}
		if out.NextShardIterator == nil {
			log.Info("shard finished")
			return true
		}
		iterator = out.NextShardIterator
		if len(out.Records) == 0 && !sleep(ctx, c.opts.PollInterval) {
			return false
		}
	}
	return false
}

// deliver hands recs, the records of one GetRecords call, to the handler:
// it drops the records no filter matches, then invokes the handler with the
// others until they succeed, are skipped after MaximumRetryAttempts
// retries, or are too old. It returns false if ctx ended before the records
// were done with.
func (c *consumer) deliver(ctx context.Context, shard string, recs []types.Record) bool {
	batch := make([]events.DynamoDBEventRecord, 0, len(recs))
	for _, r := range recs {
		ev, err := c.record(r)
		if err != nil {
			c.log.Warn("record has attributes of unknown type; they are left out", "shard", shard,
				"sequence_number", ev.Change.SequenceNumber, "error", err)
		}
		if !c.matches(ev) {
			continue
		}
		batch = append(batch, ev)
	}
	retries := 0
	for {
		batch = c.fresh(shard, batch)
		if len(batch) == 0 {
			return true
		}
		rest, err := c.invoke(ctx, batch)
		if err == nil {
			return true
		}
		if c.opts.MaximumRetryAttempts >= 0 && retries >= c.opts.MaximumRetryAttempts {
			c.log.Warn("retries exhausted; records skipped", "shard", shard, "attempts", retries+1,
				"sequence_numbers", sequenceNumbers(rest), "error", err)
			return true
		}
		retries++
		c.log.Warn("invocation failed; retrying", "shard", shard, "retry", retries,
			"sequence_numbers", sequenceNumbers(rest), "error", err)
		batch = rest
		if !sleep(ctx, backoff(retries)) {
			return false
		}
	}
}

// matches reports whether ev is to be delivered: no filters, or one of them
// matches.
func (c *consumer) matches(ev events.DynamoDBEventRecord) bool {
	if len(c.filters) == 0 {
		return true
	}
	doc, err := recordDocument(ev)
	if err != nil {
		// Cannot happen: the record is plain data. Delivering it is the
		// side that loses nothing.
		c.log.Error("record cannot be matched against the filters; delivering it", "sequence_number", ev.Change.SequenceNumber, "error", err)
		return true
	}
	for _, p := range c.filters {
		if p.match(doc) {
			return true
		}
	}
	return false
}

// fresh returns the records of batch not older than MaximumRecordAge, and
// logs the others.
func (c *consumer) fresh(shard string, batch []events.DynamoDBEventRecord) []events.DynamoDBEventRecord {
	if c.opts.MaximumRecordAge <= 0 {
		return batch
	}
	cutoff := time.Now().Add(-c.opts.MaximumRecordAge)
	kept := batch[:0:0]
	for _, r := range batch {
		if r.Change.ApproximateCreationDateTime.Before(cutoff) {
			c.log.Warn("record older than the maximum record age; skipped", "shard", shard,
				"sequence_number", r.Change.SequenceNumber, "created", r.Change.ApproximateCreationDateTime.Time)
			continue
		}
		kept = append(kept, r)
	}
	return kept
}

// invoke calls the handler once with batch. It returns a nil error when the
// batch succeeded; otherwise the error and the records to retry: all of
// them, or with ReportBatchItemFailures those from the earliest failed
// record on.
func (c *consumer) invoke(ctx context.Context, batch []events.DynamoDBEventRecord) ([]events.DynamoDBEventRecord, error) {
	ev := events.DynamoDBEvent{Records: batch}
	resp, err := c.call(ctx, ev)
	if err != nil {
		return batch, err
	}
	if !c.opts.ReportBatchItemFailures || len(resp.BatchItemFailures) == 0 {
		return nil, nil
	}
	index := make(map[string]int, len(batch))
	for i, r := range batch {
		index[r.Change.SequenceNumber] = i
	}
	first := len(batch)
	for _, f := range resp.BatchItemFailures {
		i, ok := index[f.ItemIdentifier]
		if !ok {
			return batch, fmt.Errorf("batch item failure names no record of the batch: %q", f.ItemIdentifier)
		}
		first = min(first, i)
	}
	return batch[first:], fmt.Errorf("handler reported %d failed records, the first %s", len(resp.BatchItemFailures), batch[first].Change.SequenceNumber)
}

// call runs the handler with its own context, bounded by Timeout and not
// cancelled when ctx ends. A panic is an error; so is a handler still
// running at the timeout, whose result is then ignored.
func (c *consumer) call(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
	defer cancel()
	type result struct {
		resp events.DynamoDBEventResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				c.log.Error("handler panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				done <- result{err: fmt.Errorf("handler panicked: %v", r)}
			}
		}()
		resp, err := c.h(ictx, ev)
		done <- result{resp, err}
	}()
	select {
	case r := <-done:
		return r.resp, r.err
	case <-ictx.Done():
		select {
		case r := <-done: // returned just as time ran out
			return r.resp, r.err
		default:
			return events.DynamoDBEventResponse{}, fmt.Errorf("%w after %v", errTimedOut, c.opts.Timeout)
		}
	}
}
