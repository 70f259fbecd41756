// Package deadletter keeps a queue message that can never be processed on a
// dead-letter queue, where an operator can read it: its original body, why
// it was refused, and the ID it had. The notification and workflow queues'
// handlers use it for malformed messages instead of letting SQS retry them.
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Message attributes of a dead-lettered message.
const (
	AttrFailureReason   = "failure_reason"    // why the message was refused, for an operator
	AttrSourceMessageID = "source_message_id" // the SQS message ID it had on its queue
)

// MaxReason is the most bytes of a reason kept in AttrFailureReason; a
// longer one is cut at a character boundary and ends with "…".
const MaxReason = 1024

// ErrNoQueue means no dead-letter queue is configured: the message is left
// to the source queue's redrive policy.
var ErrNoQueue = errors.New("deadletter: no dead-letter queue")

// Sender is the part of the SQS client (*sqs.Client) Send uses.
type Sender interface {
	SendMessage(ctx context.Context, params *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Send sends msg's body to the queue at queueURL with reason and msg's
// message ID as attributes. An empty body, ID or reason, which SQS would
// refuse or an operator could not read, is replaced by a placeholder. It
// returns an error only when the message could not be kept there.
func Send(ctx context.Context, s Sender, queueURL string, msg events.SQSMessage, reason string) error {
	if queueURL == "" {
		return ErrNoQueue
	}
	body, id := msg.Body, msg.MessageId
	if body == "" {
		body = "(empty body)"
	}
	if id == "" {
		id = "(unknown)"
	}
	if reason == "" {
		reason = "invalid message"
	}
	_, err := s.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(queueURL),
		MessageBody: aws.String(body),
		MessageAttributes: map[string]types.MessageAttributeValue{
			AttrFailureReason:   {DataType: aws.String("String"), StringValue: aws.String(Truncate(reason, MaxReason))},
			AttrSourceMessageID: {DataType: aws.String("String"), StringValue: aws.String(id)},
		},
	})
	if err != nil {
		return fmt.Errorf("deadletter: send %s: %w", id, err)
	}
	return nil
}

// Truncate returns s cut to at most n bytes at a character boundary, with
// "…" appended when it was cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
