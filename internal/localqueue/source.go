package localqueue

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
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

// Consume runs an event-source mapping from the named queue to h until ctx
// ends, as Lambda's SQS poller does: it receives batches, invokes h, deletes
// the messages that succeeded and leaves the others (all of them when h
// returns an error) to become visible again after the visibility timeout.
// Items in the response's BatchItemFailures are the failed ones
// (ReportBatchItemFailures); an item identifier that is not in the batch
// fails the whole batch, as on AWS.
func (b *Broker) Consume(ctx context.Context, name string, h Handler, opts SourceOptions) error {
	if !b.exists(name) {
		return fmt.Errorf("localqueue: consume %s: %w", name, ErrNoQueue)
	}
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.poll(ctx, name, h, opts)
		}()
	}
	wg.Wait()
	return nil
}

func (b *Broker) poll(ctx context.Context, name string, h Handler, opts SourceOptions) {
	for ctx.Err() == nil {
		msgs, err := b.Receive(name, opts.BatchSize, 0, 20*time.Second, ctx.Done())
		if err != nil {
			opts.Logger.Error("receive failed", "queue", name, "err", err)
			return
		}
		if len(msgs) == 0 {
			continue
		}
		if opts.Window > 0 && len(msgs) < opts.BatchSize {
			more, _ := b.Receive(name, opts.BatchSize-len(msgs), 0, opts.Window, ctx.Done())
			msgs = append(msgs, more...)
		}
		b.invoke(ctx, name, h, msgs, opts)
	}
}

// invoke runs h on one batch and settles its messages.
func (b *Broker) invoke(ctx context.Context, name string, h Handler, msgs []Message, opts SourceOptions) {
	timeout := opts.Timeout
	if timeout <= 0 {
		b.mu.Lock()
		timeout = b.queues[name].cfg.VisibilityTimeout
		b.mu.Unlock()
	}
	ev := b.Event(name, msgs)
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	resp, err := safeInvoke(ictx, h, ev)
	cancel()
	var failed map[string]bool
	if err == nil {
		failed, err = failedItems(ev, resp)
	}
	if err != nil {
		opts.Logger.Warn("invocation failed; batch returns to the queue", "queue", name, "messages", len(msgs), "err", err)
		return
	}
	for _, m := range msgs {
		if failed[m.ID] {
			opts.Logger.Info("message failed; it returns after the visibility timeout", "queue", name, "message_id", m.ID,
				"receive_count", m.ReceiveCount)
			continue
		}
		_ = b.Delete(name, m.ReceiptHandle)
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
