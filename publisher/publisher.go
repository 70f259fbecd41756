// Package publisher sends messages to the FBDI notification system's two
// queues from upstream Go programs (docs/protocol.md): notifications to the
// notification queue, and budget transfers and journal imports to the
// workflow queue. It validates every message before sending it, with the
// system's own Go validators where they are exported (the workflow message
// and its lines, user ids) and with the JSON Schemas of schemas/, so that a
// message the system would refuse is an error here and nothing is sent.
//
// The Python package in publisher/python offers the same operations to
// Django and Celery code; docs/migration.md maps the old task_notifications
// calls to both.
//
// Both queues are standard SQS queues: a message has no group or
// deduplication id. Delivery is at least once; a notification sent with an
// ID is stored once however often it is delivered, and a transfer is keyed by
// its transaction ID.
package publisher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Environment variables that name the queues, for programs that configure
// the publisher from their environment (the Python package reads the same
// names). The package itself reads no environment.
const (
	EnvNotificationQueueURL = "FBDI_NOTIFICATION_QUEUE_URL" // the stack output NotificationQueueURL
	EnvWorkflowQueueURL     = "FBDI_WORKFLOW_QUEUE_URL"     // the stack output WorkflowQueueURL
)

// ErrInvalid is matched (errors.Is) by every *InvalidError.
var ErrInvalid = errors.New("publisher: invalid message")

// ErrNoQueue is returned when a message is sent to a queue whose URL the
// Publisher was not given.
var ErrNoQueue = errors.New("publisher: no queue URL")

// InvalidError is a message the system would refuse; it was not sent.
type InvalidError struct {
	Field  string // the field at fault as a path (lines[1].amount), or "" when the reason names it
	Reason string // readable, e.g. "line 2: amount is required"
}

// Error returns "publisher: invalid message: ", the field and the reason.
func (e *InvalidError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%v: %s", ErrInvalid, e.Reason)
	}
	return fmt.Sprintf("%v: %s: %s", ErrInvalid, e.Field, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Sender is the SQS method the Publisher uses; *sqs.Client has it.
type Sender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Publisher sends validated messages to the two queues. It is safe for
// concurrent use when its Sender is (*sqs.Client is).
type Publisher struct {
	client          Sender
	notificationURL string
	workflowURL     string
}

// New returns a Publisher that sends with client to the notification queue
// at notificationQueueURL and the workflow queue at workflowQueueURL. A URL
// may be empty when that queue is not used: sending to it returns ErrNoQueue.
func New(client Sender, notificationQueueURL, workflowQueueURL string) *Publisher {
	return &Publisher{client: client, notificationURL: notificationQueueURL, workflowURL: workflowQueueURL}
}

// Notify validates n and sends it to the notification queue. It returns the
// SQS message ID, an *InvalidError (nothing sent) when the system would
// refuse n, ErrNoQueue, or the error of SendMessage.
func (p *Publisher) Notify(ctx context.Context, n Notification) (string, error) {
	body, err := n.body()
	if err != nil {
		return "", err
	}
	return p.send(ctx, "notification", p.notificationURL, body)
}

// SubmitBudgetTransfer validates t as a budget_transfer and sends it to the
// workflow queue. It returns the SQS message ID, an *InvalidError (nothing
// sent) when the system would refuse t, ErrNoQueue, or the error of
// SendMessage.
func (p *Publisher) SubmitBudgetTransfer(ctx context.Context, t Transfer) (string, error) {
	return p.submit(ctx, KindBudgetTransfer, t)
}

// SubmitJournalImport validates t as a journal_import and sends it to the
// workflow queue, as SubmitBudgetTransfer does.
func (p *Publisher) SubmitJournalImport(ctx context.Context, t Transfer) (string, error) {
	return p.submit(ctx, KindJournalImport, t)
}

func (p *Publisher) submit(ctx context.Context, kind string, t Transfer) (string, error) {
	body, err := t.body(kind)
	if err != nil {
		return "", err
	}
	return p.send(ctx, kind, p.workflowURL, body)
}

// send sends body, already validated, to the queue at url.
func (p *Publisher) send(ctx context.Context, what, url string, body []byte) (string, error) {
	if url == "" {
		return "", fmt.Errorf("%w for a %s", ErrNoQueue, what)
	}
	out, err := p.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(body))})
	if err != nil {
		return "", fmt.Errorf("publisher: send %s: %w", what, err)
	}
	return aws.ToString(out.MessageId), nil
}

// marshal encodes v as JSON; a value encoding/json cannot write is invalid.
func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &InvalidError{Reason: fmt.Sprintf("cannot be written as JSON: %v", err)}
	}
	return b, nil
}
