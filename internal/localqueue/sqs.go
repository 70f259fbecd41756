package localqueue

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is the part of the SQS client that PollSQS uses.
type SQSAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// maxSQSBatch is the most messages one ReceiveMessage returns.
const maxSQSBatch = 10

// receiveRetry is how long PollSQS waits after a failed ReceiveMessage.
const receiveRetry = time.Second

// PollSQS runs an event-source mapping from a queue of a real SQS API (AWS,
// or moto_server through AWS_ENDPOINT_URL) to h until ctx ends, as Lambda's
// SQS poller does: it long-polls batches of up to opts.BatchSize messages
// (at most 10), invokes h with the event Lambda builds, deletes the
// messages that succeeded and leaves the others to SQS, which makes them
// visible again after the visibility timeout and moves them to the
// dead-letter queue after the redrive policy's maximum receives. Failures
// are read as Consume reads them (ReportBatchItemFailures). The invocation
// timeout defaults to the queue's visibility timeout.
//
// It returns an error at once if the queue's attributes cannot be read
// (no such queue); later receive errors are logged and retried.
func PollSQS(ctx context.Context, api SQSAPI, queueURL string, h Handler, opts SourceOptions) error {
	attrs, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn, types.QueueAttributeNameVisibilityTimeout}})
	if err != nil {
		return fmt.Errorf("localqueue: poll %s: %w", queueURL, err)
	}
	arn := attrs.Attributes[string(types.QueueAttributeNameQueueArn)]
	if opts.Timeout <= 0 {
		secs, err := strconv.Atoi(attrs.Attributes[string(types.QueueAttributeNameVisibilityTimeout)])
		if err != nil {
			return fmt.Errorf("localqueue: poll %s: visibility timeout: %w", queueURL, err)
		}
		opts.Timeout = time.Duration(secs) * time.Second
	}
	if opts.BatchSize <= 0 || opts.BatchSize > maxSQSBatch {
		opts.BatchSize = maxSQSBatch
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 2
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &sqsPoller{api: api, url: queueURL, arn: arn, region: arnRegion(arn), h: h, opts: opts}
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Go(func() { p.run(ctx) })
	}
	wg.Wait()
	return nil
}

type sqsPoller struct {
	api      SQSAPI
	url, arn string
	region   string
	h        Handler
	opts     SourceOptions
}

func (p *sqsPoller) run(ctx context.Context) {
	for ctx.Err() == nil {
		msgs, err := p.receive(ctx, p.opts.BatchSize, 20*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.opts.Logger.Error("receive failed; retrying", "queue", p.url, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(receiveRetry):
			}
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		if p.opts.Window > 0 && len(msgs) < p.opts.BatchSize {
			more, _ := p.receive(ctx, p.opts.BatchSize-len(msgs), p.opts.Window)
			msgs = append(msgs, more...)
		}
		p.invoke(ctx, msgs)
	}
}

// receive long-polls for up to max messages, waiting at most wait (whole
// seconds, as SQS takes it).
func (p *sqsPoller) receive(ctx context.Context, max int, wait time.Duration) ([]types.Message, error) {
	out, err := p.api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(p.url), MaxNumberOfMessages: int32(max), WaitTimeSeconds: int32((wait + time.Second - 1) / time.Second),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// invoke runs the handler on one batch and deletes what succeeded.
func (p *sqsPoller) invoke(ctx context.Context, msgs []types.Message) {
	ev := p.event(msgs)
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.Timeout)
	resp, err := safeInvoke(ictx, p.h, ev)
	cancel()
	var failed map[string]bool
	if err == nil {
		failed, err = failedItems(ev, resp)
	}
	if err != nil {
		p.opts.Logger.Warn("invocation failed; batch returns to the queue", "queue", p.url, "messages", len(msgs), "err", err)
		return
	}
	var done []types.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		id := aws.ToString(m.MessageId)
		if failed[id] {
			p.opts.Logger.Info("message failed; it returns after the visibility timeout", "queue", p.url, "message_id", id,
				"receive_count", m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
			continue
		}
		done = append(done, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(done) == 0 {
		return
	}
	// A message whose delete fails comes back and is handled again, as on
	// Lambda: the handlers are idempotent.
	out, err := p.api.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.url), Entries: done})
	if err != nil {
		p.opts.Logger.Warn("delete failed; the batch will be handled again", "queue", p.url, "messages", len(done), "err", err)
		return
	}
	for _, f := range out.Failed {
		p.opts.Logger.Warn("delete failed; the message will be handled again", "queue", p.url, "code", aws.ToString(f.Code))
	}
}

// event builds the SQS event Lambda delivers for msgs.
func (p *sqsPoller) event(msgs []types.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:        m.Attributes,
			MessageAttributes: make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes)),
			EventSourceARN:    p.arn, EventSource: "aws:sqs", AWSRegion: p.region,
		}
		if rec.Attributes == nil {
			rec.Attributes = map[string]string{}
		}
		for k, a := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{
				DataType: aws.ToString(a.DataType), StringValue: a.StringValue, BinaryValue: a.BinaryValue,
				StringListValues: append([]string{}, a.StringListValues...), BinaryListValues: append([][]byte{}, a.BinaryListValues...),
			}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// arnRegion returns the region field of an ARN (arn:aws:sqs:REGION:...).
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}
