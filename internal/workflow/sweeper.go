package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/oracle"
)

// DefaultSweepPageSize is how many due workflows one sweep handles at most.
const DefaultSweepPageSize = 100

// SweepOptions tune a Sweeper. The zero value of every field selects its default.
type SweepOptions struct {
	Logger *slog.Logger     // default: discard
	Now    func() time.Time // clock; default time.Now
	// PageSize bounds the workflows one sweep handles; the rest wait for
	// the next sweep. Default DefaultSweepPageSize.
	PageSize int
	// Reserve is the time a sweep keeps before its invocation's deadline:
	// it takes no further workflow after that. Default
	// Config.CheckpointReserve.
	Reserve time.Duration
	// Gate, when set, is the Oracle gate whose job slots the workflows the
	// sweeper ends give back (it never asks the Gate for a call).
	Gate Gate
	// Metrics records the workflows the sweeper ends (Workflows, and
	// WorkflowsStranded for those past their step's deadline) and, with
	// Connections, the ConnectionsOpen gauge. Default nil: nothing is
	// recorded.
	Metrics *metrics.Recorder
	// Connections, when set with Metrics, is counted on every sweep for
	// the ConnectionsOpen gauge (connection.DynamoStore.Count: a Scan,
	// which is why it runs here, on a schedule, and never on a request).
	Connections Counter
}

// Counter counts the connections open now: the part of
// connection.DynamoStore (or MemoryStore) the Sweeper uses.
type Counter interface {
	Count(ctx context.Context) (int, error)
}

// Sweeper is the handler of SweeperFunction, run on a schedule. It reads
// the workflows that are overdue (Store.Due, an index of the workflows not
// done with, never a scan) and makes each one move on:
//
//   - one that ended but whose owner was not told gets its final notifications;
//   - one whose pending Oracle call outlived its lease fails "in doubt",
//     without calling Oracle;
//   - one past its step's deadline fails with a cause;
//   - any other gets its continuation again: the next poll message, with
//     the next sequence number, so that a lost or dead-lettered one is
//     replaced and a late one is stale.
//
// It never calls Oracle. Every change is a conditional write, so two
// sweeps, or a sweep and a worker, acting on one workflow at once do no
// harm: one wins, the other re-reads or leaves it. Safe for concurrent use.
type Sweeper struct {
	engine   *Engine
	log      *slog.Logger
	now      func() time.Time
	pageSize int
	reserve  time.Duration
	conns    Counter
}

// NewSweeper returns a Sweeper over store that sends continuations to
// cfg.QueueURL through sender and tells users through notify. It returns an
// error if cfg is not valid or a dependency is missing.
func NewSweeper(store Store, sender Sender, notify NotifyFunc, cfg Config, opts SweepOptions) (*Sweeper, error) {
	e, err := NewEngine(store, noOracle{}, sender, notify, cfg, Options{Logger: opts.Logger, Now: opts.Now, Gate: opts.Gate,
		Metrics: opts.Metrics})
	if err != nil {
		return nil, err
	}
	s := &Sweeper{engine: e, log: e.log, now: e.now, pageSize: opts.PageSize, reserve: opts.Reserve,
		conns: opts.Connections}
	if s.pageSize <= 0 {
		s.pageSize = DefaultSweepPageSize
	}
	if s.reserve <= 0 {
		s.reserve = cfg.CheckpointReserve
	}
	return s, nil
}

// SweepResult is what one sweep did; the Lambda function returns it.
type SweepResult struct {
	Due      int `json:"due"`      // overdue workflows read from the index
	Resumed  int `json:"resumed"`  // given their continuation again
	Failed   int `json:"failed"`   // ended as failed (deadline passed, call in doubt)
	Notified int `json:"notified"` // ended earlier; final notifications delivered now
	Skipped  int `json:"skipped"`  // moved on meanwhile, busy, or left for the next sweep
	Errors   int `json:"errors"`   // could not be handled; due again next sweep
}

// Handle runs one sweep for a scheduled event. It returns an error only if
// the index could not be read; a workflow that could not be handled is
// logged and stays due for the next sweep. First it records the
// connections open now (see SweepOptions.Connections); a failed count is
// logged and the sweep goes on.
func (s *Sweeper) Handle(ctx context.Context, _ events.EventBridgeEvent) (SweepResult, error) {
	ctx, log := lambdaenv.Invocation(ctx, s.log)
	s.countConnections(ctx, log)
	var res SweepResult
	ids, err := s.engine.store.Due(ctx, s.now(), s.pageSize)
	if err != nil {
		log.Error("sweep: due workflows not read", "error", err)
		return res, fmt.Errorf("workflow: sweep: %w", err)
	}
	res.Due = len(ids)
	for i, id := range ids {
		if dl, ok := ctx.Deadline(); ok && dl.Sub(s.now()) < s.reserve {
			log.Warn("sweep stopped before its deadline; the rest wait for the next sweep", "left", len(ids)-i)
			res.Skipped += len(ids) - i
			break
		}
		outcome, err := s.engine.sweep(ctx, id)
		switch {
		case err != nil:
			res.Errors++
			log.Error("sweep: workflow not handled", "transaction_id", id, "error", err)
			continue
		case outcome == sweptResumed:
			res.Resumed++
		case outcome == sweptFailed:
			res.Failed++
		case outcome == sweptNotified:
			res.Notified++
		default:
			res.Skipped++
		}
	}
	log.Info("sweep done", "due", res.Due, "resumed", res.Resumed, "failed", res.Failed,
		"notified", res.Notified, "skipped", res.Skipped, "errors", res.Errors)
	return res, nil
}

// countConnections records the ConnectionsOpen gauge.
func (s *Sweeper) countConnections(ctx context.Context, log *slog.Logger) {
	if s.conns == nil || s.engine.metrics == nil {
		return
	}
	n, err := s.conns.Count(ctx)
	if err != nil {
		log.Error("sweep: connections not counted", "error", err)
		return
	}
	s.engine.metrics.Gauge(metrics.ConnectionsOpen, float64(n))
}

// Outcomes of sweeping one workflow.
const (
	sweptSkipped = iota
	sweptResumed
	sweptFailed
	sweptNotified
)

// sweep acts on the overdue workflow txID, re-reading it after a
// concurrent change.
func (e *Engine) sweep(ctx context.Context, txID string) (int, error) {
	r := &run{e: e, ctx: ctx, log: lambdaenv.LoggerFrom(ctx, e.log).With("transaction_id", txID)}
	for attempt := 1; ; attempt++ {
		outcome, err := r.sweepOnce(txID)
		if errors.Is(err, errContinued) {
			return sweptResumed, nil
		}
		if !errors.Is(err, ErrVersion) || attempt == maxReloads {
			return outcome, err
		}
	}
}

func (r *run) sweepOnce(txID string) (int, error) {
	st, err := r.e.store.Get(r.ctx, txID)
	switch {
	case errors.Is(err, ErrNotFound): // expired since the index was read
		return sweptSkipped, nil
	case err != nil:
		return sweptSkipped, err
	}
	r.st = st
	r.stranded = false
	now := r.e.now()
	if st.DueAt.IsZero() || now.Before(st.DueAt) { // moved on since the index was read
		return sweptSkipped, nil
	}
	switch {
	case st.Status.Terminal():
		r.log.Warn("sweep: final notification not delivered yet; delivering it")
		return sweptNotified, r.ensureFinal()
	case st.Pending != nil:
		if err := r.checkPending(); errors.Is(err, ErrBusy) {
			return sweptSkipped, nil
		} else if err != nil {
			return sweptSkipped, err
		}
		return sweptFailed, nil
	case !st.Deadline.IsZero() && !now.Before(st.Deadline):
		r.log.Warn("sweep: step deadline passed", "step", st.Step, "status", st.Status)
		r.stranded = true
		return sweptFailed, r.fail(r.deadlineReason(), "")
	case needsRequest(st):
		// Only the original message can run this step: SQS delivers it
		// again, or the sender re-sends it. Look again at the deadline.
		r.log.Info("sweep: the step waits for its original message", "step", st.Step)
		return sweptSkipped, r.save()
	}
	r.log.Warn("sweep: continuation overdue; sending it again", "step", st.Step, "status", st.Status,
		"poll_seq", st.PollSeq)
	return sweptResumed, r.continueLater("overdue")
}

// deadlineReason tells the owner of a workflow whose step ran out of time
// what happened, in the words of check for a job that is still running.
func (r *run) deadlineReason() string {
	name, limit := r.def().name, formatDuration(r.e.cfg.Deadline)
	if l := r.rec(); !l.NextTryAt.IsZero() && strings.HasPrefix(l.Message, "Oracle is unavailable") {
		return fmt.Sprintf("Oracle was unavailable: %s did not finish within %s (%s); send the transfer again later",
			name, limit, l.Message)
	}
	if r.st.Status == StatusWaiting {
		return fmt.Sprintf("Oracle did not finish %s within %s (%s)", name, limit, r.rec().Message)
	}
	return fmt.Sprintf("%s did not finish within %s: the worker was interrupted and could not continue it "+
		"(Oracle or the workflow queue may have been unavailable); send the transfer again under a new "+
		"transaction ID", name, limit)
}

// GiveUp ends the workflow of a message that failed on its last delivery
// before the queue's redrive policy dead-letters it: cause is the panic
// (lambdaenv.ErrPanic) or the error that SQS would have retried. The
// workflow fails with a cause its owner can read, and the owner is told.
// A stale poll, a workflow that already ended (whose final notifications
// are then delivered), and one whose Oracle call is in progress in another
// invocation (left to the Sweeper) are not failed. It returns an error if
// the failure could not be recorded, and for a message that was refused
// (invalid or conflicting), which the redrive policy must keep.
func (e *Engine) GiveUp(ctx context.Context, body []byte, d Delivery, cause error) error {
	msg, err := ParseMessage(body)
	if err != nil { // its dead-letter send failed: the redrive policy keeps it
		return fmt.Errorf("workflow: give up: %w", err)
	}
	txID := ""
	if msg.Poll != nil {
		txID = msg.Poll.TransactionID
	} else {
		txID = msg.Request.TransactionID
	}
	r := &run{e: e, ctx: ctx, d: d, req: msg.Request, body: body,
		log: lambdaenv.LoggerFrom(ctx, e.log).With("transaction_id", txID)}
	for attempt := 1; ; attempt++ {
		err := r.giveUpOnce(txID, msg, cause)
		if !errors.Is(err, ErrVersion) || attempt == maxReloads {
			return err
		}
	}
}

func (r *run) giveUpOnce(txID string, msg Message, cause error) error {
	st, err := r.e.store.Get(r.ctx, txID)
	switch {
	case errors.Is(err, ErrNotFound):
		r.log.Error("last delivery failed before the workflow was recorded; the message goes to the dead-letter queue",
			"error", cause)
		return nil
	case err != nil:
		return err
	}
	r.st = st
	switch {
	case msg.Request != nil && (msg.Request.Fingerprint != st.Fingerprint || st.Invalid):
		// A refused message whose dead-letter send failed: the redrive policy keeps it.
		if err := r.ensureFinal(); err != nil {
			return err
		}
		return fmt.Errorf("workflow: give up %s: a refused message is left to the redrive policy", txID)
	case st.Status.Terminal():
		return r.ensureFinal()
	case msg.Poll != nil && msg.Poll.Seq != st.PollSeq:
		return nil // stale: another message drives the workflow
	case st.Pending != nil:
		if err := r.checkPending(); !errors.Is(err, ErrBusy) {
			return err
		}
		return nil // the Sweeper fails it once the lease expires
	}
	what := "a temporary error that did not clear"
	if errors.Is(cause, lambdaenv.ErrPanic) {
		what = "an internal error"
	}
	r.log.Error("last delivery failed; failing the workflow", "receive_count", r.d.ReceiveCount, "error", cause)
	return r.fail(fmt.Sprintf("%s could not be completed: it failed %d times because of %s, so the transfer was "+
		"stopped; send it again under a new transaction ID", r.def().name, r.d.ReceiveCount, what), "")
}

// noOracle is the Oracle of the Sweeper's Engine: the Sweeper never calls
// Oracle, and a call by mistake fails instead of reaching it.
type noOracle struct{}

var errNoOracle = &oracle.Error{Kind: oracle.Permanent, Err: errors.New("workflow: the sweeper does not call Oracle")}

func (noOracle) UploadFileToUCM(context.Context, oracle.Document) (string, error) {
	return "", errNoOracle
}
func (noOracle) SubmitESSJob(context.Context, oracle.Job) (string, error)    { return "", errNoOracle }
func (noOracle) JobStatus(context.Context, string) (oracle.State, error)     { return "", errNoOracle }
func (noOracle) ChildJobs(context.Context, string) ([]oracle.JobInfo, error) { return nil, errNoOracle }
func (noOracle) JobLog(context.Context, string) (string, error)              { return "", errNoOracle }
