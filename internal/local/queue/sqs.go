package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	if opts.BatchSize > maxSQSBatch {
		opts.BatchSize = maxSQSBatch
	}
	runMapping(ctx, &sqsSource{api: api, url: queueURL, arn: arn, region: arnRegion(arn)}, queueURL, h, opts)
	return nil
}

// sqsSource is a queue of an SQS API.
type sqsSource struct {
	api      SQSAPI
	url, arn string
	region   string
}

// receive long-polls for up to max messages, waiting at most wait (whole
// seconds, as SQS takes it).
func (s *sqsSource) receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error) {
	out, err := s.api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(s.url), MaxNumberOfMessages: int32(max), WaitTimeSeconds: int32((wait + time.Second - 1) / time.Second),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return nil, err
	}
	return s.records(out.Messages), nil
}

// delete deletes recs in one DeleteMessageBatch.
func (s *sqsSource) delete(ctx context.Context, recs []events.SQSMessage) error {
	entries := make([]types.DeleteMessageBatchRequestEntry, len(recs))
	for i, r := range recs {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(r.ReceiptHandle)}
	}
	out, err := s.api.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.url), Entries: entries})
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range out.Failed {
		errs = append(errs, fmt.Errorf("delete %s: %s", aws.ToString(f.Id), aws.ToString(f.Code)))
	}
	return errors.Join(errs...)
}

// records builds the records of the SQS event Lambda delivers for msgs.
func (s *sqsSource) records(msgs []types.Message) []events.SQSMessage {
	recs := make([]events.SQSMessage, 0, len(msgs))
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:        m.Attributes,
			MessageAttributes: make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes)),
			EventSourceARN:    s.arn, EventSource: "aws:sqs", AWSRegion: s.region,
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
		recs = append(recs, rec)
	}
	return recs
}

// arnRegion returns the region field of an ARN (arn:aws:sqs:REGION:...).
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}
