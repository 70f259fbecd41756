package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Handler is an SQS-triggered Lambda handler.
type Handler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// SourceOptions configure an event-source mapping.
type SourceOptions struct {
	BatchSize   int           // messages per invocation, default 10
	Window      time.Duration // MaximumBatchingWindow: wait this long to fill a batch, default 0
	Concurrency int           // concurrent invocations, default 2
	Timeout     time.Duration // per-invocation timeout, default the queue's visibility timeout
	Logger      *slog.Logger
}

// longPoll is how long a poller waits for a message, as Lambda's does.
const longPoll = 20 * time.Second

// receiveRetry is how long a poller waits after a failed receive.
const receiveRetry = time.Second

// source is the queue side of an event-source mapping: a queue of the
// embedded Broker (Consume) or of an SQS API (PollSQS).
type source interface {
	// receive waits up to wait for up to max messages and returns them as
	// the records of Lambda's event.
	receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error)
	// delete removes handled records from the queue.
	delete(ctx context.Context, recs []events.SQSMessage) error
}

// Consume runs an event-source mapping from the named queue to h until ctx
// ends, as Lambda's SQS poller does: it receives batches, invokes h, deletes
// the messages that succeeded and leaves the others (all of them when h
// returns an error) to become visible again after the visibility timeout.
// Items in the response's BatchItemFailures are the failed ones
// (ReportBatchItemFailures); an item identifier that is not in the batch
// fails the whole batch, as on AWS.
func (b *Broker) Consume(ctx context.Context, name string, h Handler, opts SourceOptions) error {
	b.mu.Lock()
	q, ok := b.queues[name]
	if ok && opts.Timeout <= 0 {
		opts.Timeout = q.cfg.VisibilityTimeout
	}
	b.mu.Unlock()
	if !ok {
		return fmt.Errorf("localqueue: consume %s: %w", name, ErrNoQueue)
	}
	runMapping(ctx, brokerSource{b: b, name: name}, name, h, opts)
	return nil
}

// brokerSource is a queue of the embedded Broker.
type brokerSource struct {
	b    *Broker
	name string
}

func (s brokerSource) receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error) {
	msgs, err := s.b.Receive(s.name, max, 0, wait, ctx.Done())
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	return s.b.Event(s.name, msgs).Records, nil
}

func (s brokerSource) delete(_ context.Context, recs []events.SQSMessage) error {
	var errs []error
	for _, r := range recs {
		errs = append(errs, s.b.Delete(s.name, r.ReceiptHandle))
	}
	return errors.Join(errs...)
}

// runMapping runs opts.Concurrency pollers of src until ctx ends, each
// receiving a batch, invoking h and deleting what succeeded. queue names src
// in logs.
func runMapping(ctx context.Context, src source, queue string, h Handler, opts SourceOptions) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 10
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 2
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Go(func() { poll(ctx, src, queue, h, opts) })
	}
	wg.Wait()
}

func poll(ctx context.Context, src source, queue string, h Handler, opts SourceOptions) {
	for ctx.Err() == nil {
		recs, err := src.receive(ctx, opts.BatchSize, longPoll)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			opts.Logger.Error("receive failed; retrying", "queue", queue, "error", err)
			select {
			case <-ctx.Done():
			case <-time.After(receiveRetry):
			}
			continue
		}
		if len(recs) == 0 {
			continue
		}
		if opts.Window > 0 && len(recs) < opts.BatchSize {
			more, _ := src.receive(ctx, opts.BatchSize-len(recs), opts.Window)
			recs = append(recs, more...)
		}
		invoke(ctx, src, queue, h, events.SQSEvent{Records: recs}, opts)
	}
}

// invoke runs h on one batch, as Lambda would (bounded by the timeout, with
// a Lambda context whose request id the handler logs), and deletes the
// records that succeeded.
func invoke(ctx context.Context, src source, queue string, h Handler, ev events.SQSEvent, opts SourceOptions) {
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.Timeout)
	ictx = lambdacontext.NewContext(ictx, &lambdacontext.LambdaContext{AwsRequestID: newUUID()})
	resp, err := safeInvoke(ictx, h, ev)
	cancel()
	var failed map[string]bool
	if err == nil {
		failed, err = failedItems(ev, resp)
	}
	if err != nil {
		opts.Logger.Warn("invocation failed; batch returns to the queue", "queue", queue, "messages", len(ev.Records), "error", err)
		return
	}
	done := make([]events.SQSMessage, 0, len(ev.Records))
	for _, r := range ev.Records {
		if failed[r.MessageId] {
			opts.Logger.Info("message failed; it returns after the visibility timeout", "queue", queue, "message_id", r.MessageId,
				"receive_count", r.Attributes["ApproximateReceiveCount"])
			continue
		}
		done = append(done, r)
	}
	if len(done) == 0 {
		return
	}
	// A message whose delete fails comes back and is handled again, as on
	// Lambda: the handlers are idempotent.
	if err := src.delete(context.WithoutCancel(ctx), done); err != nil {
		opts.Logger.Warn("delete failed; messages will be handled again", "queue", queue, "messages", len(done), "error", err)
	}
}

// failedItems returns the IDs of the messages of ev that resp reports as
// failed (ReportBatchItemFailures), or an error if resp names a message that
// is not in the batch: Lambda then fails the whole batch.
func failedItems(ev events.SQSEvent, resp events.SQSEventResponse) (map[string]bool, error) {
	ids := make(map[string]bool, len(ev.Records))
	for _, r := range ev.Records {
		ids[r.MessageId] = true
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if !ids[f.ItemIdentifier] {
			return nil, fmt.Errorf("batch item failure names unknown message %q", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}

func safeInvoke(ctx context.Context, h Handler, ev events.SQSEvent) (resp events.SQSEventResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return h(ctx, ev)
}

// Event builds the SQS event Lambda would deliver for msgs of the named queue.
func (b *Broker) Event(name string, msgs []Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId: m.ID, ReceiptHandle: m.ReceiptHandle, Body: m.Body, Md5OfBody: m.MD5OfBody,
			Md5OfMessageAttributes: m.MD5OfAttributes,
			Attributes:             b.systemAttributes(m),
			MessageAttributes:      map[string]events.SQSMessageAttribute{},
			EventSourceARN:         b.QueueARN(name), EventSource: "aws:sqs", AWSRegion: b.opts.Region,
		}
		for k, a := range m.Attributes {
			attr := events.SQSMessageAttribute{DataType: a.DataType, StringListValues: []string{}, BinaryListValues: [][]byte{}}
			if isBinary(a.DataType) {
				attr.BinaryValue = a.BinaryValue
			} else {
				v := a.StringValue
				attr.StringValue = &v
			}
			rec.MessageAttributes[k] = attr
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}
