package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/deadletter"
)

// Worker is the handler of WorkerFunction: it feeds the messages of the
// workflow queue to an Engine. It is safe for concurrent use.
type Worker struct {
	engine *Engine
	sender Sender
	dlqURL string
	log    *slog.Logger
}

// NewWorker returns a Worker that processes messages with engine and sends
// messages that must not be retried to the dead-letter queue dlqURL through
// sender. A nil logger discards.
func NewWorker(engine *Engine, sender Sender, dlqURL string, logger *slog.Logger) *Worker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{engine: engine, sender: sender, dlqURL: dlqURL, log: logger}
}

// Handle processes each record of an SQS event (the function is configured
// with ReportBatchItemFailures). A record that may succeed later (DynamoDB,
// SQS or Oracle unavailable, another invocation busy with the workflow) is
// reported as a batch item failure, so SQS delivers it again after its
// visibility timeout. A record that can never be processed (bad JSON,
// unknown kind, invalid lines, a conflicting payload) is sent to the
// dead-letter queue with a failure_reason and reported as done; if that send
// fails it is reported as failed, so the queue's redrive policy keeps it. A
// panic is recovered, logged and handled as an invalid record. Handle never
// returns an error itself.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, rec := range ev.Records {
		if err := w.handleRecord(ctx, rec); err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// handleRecord processes one record; an error means "deliver it again".
func (w *Worker) handleRecord(ctx context.Context, rec events.SQSMessage) (err error) {
	log := w.log.With("message_id", rec.MessageId)
	d := Delivery{MessageID: rec.MessageId}
	d.ReceiveCount, _ = strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic while processing a message", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = w.afterPanic(ctx, rec, d)
		}
	}()
	err = w.engine.Process(ctx, []byte(rec.Body), d)
	var inv *InvalidError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inv):
		return w.deadLetter(ctx, rec, inv.Reason)
	}
	log.Warn("message will be delivered again", "receive_count", d.ReceiveCount, "err", err)
	return err
}

// afterPanic records the message as invalid, as far as that still works,
// and dead-letters it.
func (w *Worker) afterPanic(ctx context.Context, rec events.SQSMessage, d Delivery) error {
	const reason = "internal error while processing the message"
	func() {
		defer func() {
			if p := recover(); p != nil {
				w.log.Error("panic while recording a failed message", "message_id", rec.MessageId, "panic", fmt.Sprint(p))
			}
		}()
		tx, user := PeekIDs([]byte(rec.Body))
		_ = w.engine.reject(ctx, &InvalidError{Reason: reason, TransactionID: tx, UserID: user}, []byte(rec.Body), d)
	}()
	return w.deadLetter(ctx, rec, reason)
}

// deadLetter sends the record's body to the dead-letter queue with the reason.
func (w *Worker) deadLetter(ctx context.Context, rec events.SQSMessage, reason string) error {
	if err := deadletter.Send(ctx, w.sender, w.dlqURL, rec, reason); err != nil {
		w.log.Error("dead-letter send failed; the message stays on the queue", "message_id", rec.MessageId, "err", err)
		return fmt.Errorf("workflow: dead-letter %s: %w", rec.MessageId, err)
	}
	w.log.Warn("message sent to the dead-letter queue", "message_id", rec.MessageId, "reason", reason)
	return nil
}
