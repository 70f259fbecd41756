package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/deadletter"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
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
// panic while processing a record is logged and the record reported as a
// batch item failure (lambdaenv.Recover): SQS delivers it again. On its
// last delivery before the redrive policy moves it to the dead-letter queue
// (Config.MaxReceives), its workflow fails with a cause instead, and the
// user is told (see handleRecord). Handle never returns an error itself.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	ctx, log := lambdaenv.Invocation(ctx, w.log)
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, rec := range ev.Records {
		ctx, log := lambdaenv.With(ctx, log, "message_id", rec.MessageId)
		if err := w.handleRecord(ctx, log, rec); err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// handleRecord processes one record; an error means "deliver it again".
// On the record's last delivery (Config.MaxReceives), a panic or an error
// that would have it delivered again fails its workflow instead
// (Engine.GiveUp): the redrive policy would dead-letter it next, leaving the
// workflow unfinished. The record is then reported done, or failed (for the
// redrive policy) if the failure could not be recorded.
func (w *Worker) handleRecord(ctx context.Context, log *slog.Logger, rec events.SQSMessage) error {
	d := Delivery{MessageID: rec.MessageId}
	d.ReceiveCount, _ = strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	err := w.process(ctx, log, rec, d)
	if err == nil {
		return nil
	}
	if last := w.engine.cfg.MaxReceives; last > 0 && d.ReceiveCount >= last {
		log.Error("last delivery failed; giving the workflow up", "receive_count", d.ReceiveCount, "error", err)
		if gerr := w.giveUp(ctx, log, rec, d, err); gerr != nil {
			log.Error("workflow not given up; the redrive policy dead-letters the message", "error", gerr)
			return err
		}
		return nil
	}
	log.Warn("message will be delivered again", "receive_count", d.ReceiveCount, "error", err)
	return err
}

// process runs the record through the Engine, turning a panic into an
// error; an invalid record is dead-lettered.
func (w *Worker) process(ctx context.Context, log *slog.Logger, rec events.SQSMessage, d Delivery) (err error) {
	defer lambdaenv.Recover(log, &err)
	err = w.engine.Process(ctx, []byte(rec.Body), d)
	var inv *InvalidError
	if errors.As(err, &inv) {
		return w.deadLetter(ctx, log, rec, inv.Reason)
	}
	return err
}

// giveUp runs Engine.GiveUp, turning a panic into an error.
func (w *Worker) giveUp(ctx context.Context, log *slog.Logger, rec events.SQSMessage, d Delivery, cause error) (err error) {
	defer lambdaenv.Recover(log, &err)
	return w.engine.GiveUp(ctx, []byte(rec.Body), d, cause)
}

// deadLetter sends the record's body to the dead-letter queue with the reason.
func (w *Worker) deadLetter(ctx context.Context, log *slog.Logger, rec events.SQSMessage, reason string) error {
	if err := deadletter.Send(ctx, w.sender, w.dlqURL, rec, reason); err != nil {
		log.Error("dead-letter send failed; the message stays on the queue", "error", err)
		return fmt.Errorf("workflow: dead-letter %s: %w", rec.MessageId, err)
	}
	log.Warn("message sent to the dead-letter queue", "reason", reason)
	return nil
}
