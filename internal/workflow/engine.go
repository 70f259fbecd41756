package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	smithytime "github.com/aws/smithy-go/time"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/oraclegate"
)

// Oracle is the part of *oracle.Client that the Engine uses.
type Oracle interface {
	UploadFileToUCM(ctx context.Context, d oracle.Document) (documentID string, err error)
	SubmitESSJob(ctx context.Context, j oracle.Job) (requestID string, err error)
	JobStatus(ctx context.Context, requestID string) (oracle.State, error)
	ChildJobs(ctx context.Context, requestID string) ([]oracle.JobInfo, error)
	JobLog(ctx context.Context, requestID string) (string, error)
}

// Gate is the part of *oraclegate.Gate that the Engine uses: the circuit
// breaker and the job slots of the Oracle instance, shared by all workers.
type Gate interface {
	Admit(ctx context.Context, ticket int64) (oraclegate.Decision, error)
	Record(ctx context.Context, probe, accepted bool) (open bool, err error)
	Acquire(ctx context.Context, owner string) (bool, error)
	Release(ctx context.Context, owner string) error
}

// Sender is the part of *sqs.Client that sends messages: poll messages to
// the workflow queue, and failed messages to the dead-letter queue.
type Sender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// NotifyFunc delivers n to the user: it stores it in the user's history
// (where an ID already stored is ignored) and posts it to the user's
// connections. The Engine sets n.ID and n.Timestamp itself.
type NotifyFunc func(ctx context.Context, userID string, n notification.Notification) error

// Hooks let tests stop an invocation at the points that matter for
// exactly-once: an error returned by a hook aborts the invocation right
// there, as a crash would (nothing after it runs; Process returns the error).
// Nil hooks do nothing.
type Hooks struct {
	// AfterOracle runs after Oracle accepted a side effect (op is OpUpload
	// or OpSubmit, step its step number), before its result is checkpointed.
	AfterOracle func(op string, step int) error
	// AfterCheckpoint runs after the result of a side effect was checkpointed.
	AfterCheckpoint func(op string, step int) error
}

// Options tune an Engine. The zero value of every field selects its default.
type Options struct {
	// Logger is the default logger; a Process call logs through the
	// invocation's logger in its context instead (lambdaenv.LoggerFrom),
	// which the Worker attaches with the message's ID. Default: discard.
	Logger *slog.Logger
	Now    func() time.Time // clock; default time.Now
	// Sleep waits d or until ctx ends. It is used only between attempts of a
	// checkpoint write that DynamoDB failed, never to wait for Oracle.
	// Default: smithy-go's time.SleepWithContext.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random number in [0, 1): the fraction of the backoff
	// ceiling that a retry waits (full jitter). Default math/rand/v2's Float64.
	Jitter func() float64
	// Gate, when set, is asked before every Oracle call and told whether
	// Oracle accepted it (see Engine.admit); nil calls Oracle regardless.
	Gate  Gate
	Hooks Hooks
	// Metrics records the workflows that end (Workflows), the time each
	// completed step took (StepDuration), the Oracle calls that failed
	// (OracleErrors) or are retried (OracleRetries), the workflows parked
	// behind an open breaker (WorkflowsParked) and the breaker's state as
	// the Gate reports it (BreakerOpen). Default nil: nothing is recorded.
	Metrics *metrics.Recorder
}

// Engine runs workflows. It is safe for concurrent use; every change to a
// workflow is a conditional write, so concurrent deliveries of the same
// message cannot both act.
type Engine struct {
	store  Store
	oracle Oracle
	sender Sender
	notify NotifyFunc
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	jitter func() float64
	gate   Gate
	hooks  Hooks
	// metrics records the Engine's metrics (see Options.Metrics); nil
	// records nothing.
	metrics *metrics.Recorder
}

// NewEngine returns an Engine that keeps workflows in store, calls oc, sends
// poll messages to cfg.QueueURL through sender and tells users through
// notify. It returns an error if cfg is not valid (see Config.Validate).
func NewEngine(store Store, oc Oracle, sender Sender, notify NotifyFunc, cfg Config, opts Options) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil || oc == nil || sender == nil || notify == nil {
		return nil, errors.New("workflow: NewEngine needs a store, an Oracle client, a sender and a notify function")
	}
	e := &Engine{store: store, oracle: oc, sender: sender, notify: notify, cfg: cfg,
		log: opts.Logger, now: opts.Now, sleep: opts.Sleep, jitter: opts.Jitter, gate: opts.Gate, hooks: opts.Hooks,
		metrics: opts.Metrics}
	if opts.Metrics != nil {
		e.oracle = meteredOracle{oc: oc, rec: opts.Metrics}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.sleep == nil {
		e.sleep = smithytime.SleepWithContext
	}
	if e.jitter == nil {
		e.jitter = rand.Float64
	}
	return e, nil
}

// Delivery describes one receipt of a queue message.
type Delivery struct {
	MessageID    string // SQS message ID
	ReceiveCount int    // ApproximateReceiveCount: 1 on the first delivery; 0 if unknown
}

// maxReloads bounds how often one Process call re-reads a workflow that
// another invocation changed under it.
const maxReloads = 5

// Process handles one message body from the workflow queue and drives its
// workflow as far as it can without waiting. It returns:
//
//   - nil when the message is done with: the workflow advanced, is waiting
//     for Oracle, was handed on to a delayed continuation (a retry of what
//     Oracle did not accept, a breaker that is open, no job slot), ended
//     (successfully or not: the user was told), or the message was a
//     duplicate or a stale poll;
//   - an error wrapping ErrInvalid (an *InvalidError) when the message can
//     never be processed: it was recorded (a failed workflow, or a rejection
//     on the existing one) and the user told when known; it must not be
//     retried but kept in the dead-letter queue;
//   - any other error when a retry may succeed (DynamoDB or SQS failed,
//     so that a continuation could not be sent, another invocation holds
//     the workflow (ErrBusy), or a hook simulated a crash).
func (e *Engine) Process(ctx context.Context, body []byte, d Delivery) error {
	msg, err := ParseMessage(body)
	if err != nil {
		var inv *InvalidError
		if !errors.As(err, &inv) {
			return err
		}
		return e.reject(ctx, inv, body, d)
	}
	r := &run{e: e, ctx: ctx, d: d, req: msg.Request, body: body, budget: -1}
	if dl, ok := ctx.Deadline(); ok {
		r.budget = dl.Sub(e.now())
	}
	txID := ""
	if msg.Poll != nil {
		txID = msg.Poll.TransactionID
	} else {
		txID = msg.Request.TransactionID
	}
	r.log = lambdaenv.LoggerFrom(ctx, e.log).With("transaction_id", txID)
	for attempt := 1; ; attempt++ {
		err = r.once(txID, msg.Poll)
		if errors.Is(err, errContinued) {
			return nil
		}
		if !errors.Is(err, ErrVersion) || attempt == maxReloads {
			return err
		}
		r.log.Info("workflow changed concurrently; reading it again", "attempt", attempt)
	}
}

// run is the processing of one message.
type run struct {
	e    *Engine
	ctx  context.Context
	d    Delivery
	req  *Request // nil when a poll drives the workflow
	body []byte   // the message, sent again to continue a step that needs the request
	st   *State
	zip  []byte // the FBDI zip, once built in this invocation
	log  *slog.Logger
	// keepDue keeps the workflow's DueAt on save: set for a write that
	// records something beside the workflow's progress (a rejection).
	keepDue bool
	// budget is the time the invocation had left when this message's
	// processing began; -1 when its context has no deadline.
	budget time.Duration
	// probe is set when the Gate granted the next Oracle call the probe of
	// an open breaker.
	probe bool
	// stranded is set when the Sweeper fails the workflow because its
	// step's deadline passed (metrics.WorkflowsStranded).
	stranded bool
}

// once reads the workflow and acts on it once.
func (r *run) once(txID string, p *Poll) error {
	st, err := r.e.store.Get(r.ctx, txID)
	if p != nil {
		switch {
		case errors.Is(err, ErrNotFound):
			r.log.Warn("poll for an unknown workflow dropped")
			return nil
		case err != nil:
			return err
		}
		r.st = st
		if p.Seq != st.PollSeq {
			r.log.Info("stale poll dropped", "seq", p.Seq, "current", st.PollSeq)
			return nil
		}
		switch st.Status {
		case StatusWaiting:
			return r.check()
		case StatusRunning: // the invocation that sent this poll's successor stopped early
			return r.resume()
		}
		return r.ensureFinal()
	}

	switch {
	case errors.Is(err, ErrNotFound):
		return r.create()
	case err != nil:
		return err
	}
	r.st = st
	if st.Fingerprint != r.req.Fingerprint {
		return r.rejectConflict(r.req.UserID, r.req.Fingerprint, fmt.Sprintf(
			"transaction %s was already received with different content, so this message was not processed; "+
				"send changes under a new transaction ID", st.TransactionID))
	}
	if st.Invalid {
		if err := r.ensureFinal(); err != nil {
			return err
		}
		return &InvalidError{Reason: st.Error, TransactionID: st.TransactionID, UserID: st.UserID}
	}
	switch st.Status {
	case StatusWaiting:
		if r.e.now().Before(st.DueAt) {
			r.log.Info("duplicate message: the workflow is waiting for Oracle")
			return nil
		}
		// Its poll is overdue: lost, or dead-lettered. Continue as the poll would.
		r.log.Info("original message re-sent for an overdue workflow; resuming it", "poll_seq", st.PollSeq)
		return r.check()
	case StatusRunning:
		return r.resume()
	}
	return r.ensureFinal()
}

// create starts the workflow of a new request.
func (r *run) create() error {
	now := r.e.now()
	q := r.req
	st := &State{TransactionID: q.TransactionID, UserID: q.UserID, Kind: q.Kind, Fingerprint: q.Fingerprint,
		Status: StatusRunning, CreatedAt: now}
	r.st = st
	r.startStep(1, now)
	r.touch(now)
	if err := r.e.store.Create(r.ctx, st); err != nil {
		if errors.Is(err, ErrExists) { // a concurrent delivery created it first
			return fmt.Errorf("%w: %w", ErrVersion, err)
		}
		return err
	}
	r.log.Info("workflow started", "kind", q.Kind, "user_id", q.UserID)
	r.sendStarted()
	r.sendStep(notification.StatusProcessing)
	return r.advance()
}

// resume continues a running workflow whose previous invocation stopped
// early, first re-sending the notifications of where it stands, in case that
// invocation stopped before sending them (their IDs are the same, so the
// history keeps one copy).
func (r *run) resume() error {
	r.log.Info("resuming workflow", "step", r.st.Step)
	if r.st.Step == 1 {
		r.sendStarted()
	} else if prev := r.st.step(r.st.Step - 1); prev != nil && prev.Status == notification.StatusCompleted {
		r.sendProgress(*prev, notification.StatusCompleted)
	}
	r.sendStep(notification.StatusProcessing)
	return r.advance()
}

// advance runs steps until the workflow waits for Oracle or ends.
func (r *run) advance() error {
	for range 3 * TotalSteps { // every action changes the status or the step; this bounds a bug
		if r.st.Status != StatusRunning {
			return nil
		}
		var err error
		switch r.def().act {
		case actPrepare:
			err = r.prepareStep()
		case actUpload:
			err = r.uploadStep()
		case actJob:
			err = r.jobStep()
		case actVerify:
			err = r.verifyStep()
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("workflow: %s: step %d made no progress", r.st.TransactionID, r.st.Step)
}

// def returns the definition of the current step.
func (r *run) def() stepDef {
	s := steps(r.st.Kind)
	if r.st.Step < 1 || r.st.Step > len(s) {
		return stepDef{name: StepPreparingData}
	}
	return s[r.st.Step-1]
}

// rec returns the audit record of the current step, creating it if needed.
func (r *run) rec() *StepLog {
	if l := r.st.step(r.st.Step); l != nil {
		return l
	}
	r.st.Steps = append(r.st.Steps, StepLog{Number: r.st.Step, Name: r.def().name})
	return &r.st.Steps[len(r.st.Steps)-1]
}

// startStep makes step n current and in progress, with a fresh deadline.
func (r *run) startStep(n int, now time.Time) {
	r.st.Step = n
	r.st.Status = StatusRunning
	r.st.Deadline = now.Add(r.e.cfg.Deadline)
	l := r.rec()
	*l = StepLog{Number: n, Name: r.def().name, Status: notification.StatusProcessing, StartedAt: now,
		Message: r.def().name + " started"}
}

// touch stamps the update time, the expiry and when the workflow is due.
func (r *run) touch(now time.Time) {
	r.st.UpdatedAt = now
	r.st.ExpiresAt = now.Add(r.e.cfg.Retention).Truncate(time.Second)
	if !r.keepDue {
		r.st.DueAt = r.e.dueAt(r.st, now)
	}
}

// dueAt is when the Sweeper should look at st, written at now, if no
// message has moved it on by then:
//
//   - never, once it ended and its owner was told;
//   - SweepGrace after now if it ended but the final notification is not
//     delivered yet;
//   - the lease end of a pending Oracle call (then it is in doubt);
//   - waiting: when its poll message is due plus SweepGrace;
//   - running: SweepGrace after now (its message is being processed or
//     will be delivered again), or the step's deadline if only the
//     original message can continue the step (see needsRequest);
//   - a step whose retry is scheduled: not before that retry plus SweepGrace;
//
// and never later than the step's deadline.
func (e *Engine) dueAt(st *State, now time.Time) time.Time {
	switch {
	case st.Status.Terminal() && st.Notified:
		return time.Time{}
	case st.Status.Terminal():
		return now.Add(e.cfg.SweepGrace)
	case st.Pending != nil:
		return st.Pending.LeaseUntil
	}
	due := now.Add(e.cfg.SweepGrace)
	switch {
	case st.Status == StatusWaiting:
		due = due.Add(time.Duration(e.cfg.delaySeconds()) * time.Second)
	case needsRequest(st):
		due = st.Deadline
	}
	if l := st.step(st.Step); l != nil && l.NextTryAt.After(now) {
		due = later(due, l.NextTryAt.Add(e.cfg.SweepGrace))
	}
	if !st.Deadline.IsZero() && st.Deadline.Before(due) {
		due = st.Deadline
	}
	return due
}

// needsRequest reports whether only the original message can run st's
// current step: Preparing Data, and Upload to UCM until it is recorded
// (the zip is built from the message's lines; it is not stored).
func needsRequest(st *State) bool {
	s := steps(st.Kind)
	if st.Step < 1 || st.Step > len(s) {
		return false
	}
	switch s[st.Step-1].act {
	case actPrepare:
		return true
	case actUpload:
		return st.DocumentID == ""
	}
	return false
}

// errContinued ends an invocation that handed the workflow on to a new
// message (see continueLater); Process reports the message done.
var errContinued = errors.New("workflow: continued by a new message")

// continueLater hands the running workflow on to a new invocation at once
// (see continueAfter).
func (r *run) continueLater(why string) error { return r.continueAfter(0, why) }

// continueAfter hands the workflow on to a new invocation delay from now
// (whole seconds, at most MaxDelay): it sends the original message again
// when the step needs it, else the next poll message (advancing PollSeq as
// wait does). It returns errContinued, or the error of the send or the
// write.
func (r *run) continueAfter(delay time.Duration, why string) error {
	if needsRequest(r.st) {
		if r.req == nil || r.body == nil {
			return fmt.Errorf("workflow: %s: step %d needs the original message to continue", r.st.TransactionID, r.st.Step)
		}
		if err := r.sendDelayed(string(r.body), delay); err != nil {
			return err
		}
		r.log.Info("workflow continued by its original message", "step", r.st.Step, "why", why,
			"delay", delay.String())
		return errContinued
	}
	next := r.st.PollSeq + 1
	if err := r.sendDelayed(encodePoll(r.st.TransactionID, next), delay); err != nil {
		return err
	}
	r.st.PollSeq = next
	if err := r.save(); err != nil {
		return err
	}
	r.log.Info("workflow continued by a poll message", "step", r.st.Step, "seq", next, "why", why,
		"delay", delay.String())
	return errContinued
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sendDelayed sends body to the workflow queue, delivered after delay
// (rounded up to a second, at most MaxDelay).
func (r *run) sendDelayed(body string, delay time.Duration) error {
	_, err := r.e.sender.SendMessage(r.ctx, &sqs.SendMessageInput{
		QueueUrl:     aws.String(r.e.cfg.QueueURL),
		MessageBody:  aws.String(body),
		DelaySeconds: delaySeconds(delay),
	})
	if err != nil {
		return fmt.Errorf("workflow: %s: send continuation: %w", r.st.TransactionID, err)
	}
	return nil
}

// save writes the workflow conditionally on its version.
func (r *run) save() error {
	r.touch(r.e.now())
	return r.e.store.Update(r.ctx, r.st)
}

// completeStep records the current step as completed with msg and starts
// the next one, or ends the workflow successfully after the last.
func (r *run) completeStep(msg string) error {
	now := r.e.now()
	l := r.rec()
	l.Status, l.Message, l.EndedAt = notification.StatusCompleted, msg, now
	if r.st.Step >= TotalSteps {
		r.st.Status, r.st.EndedAt, r.st.Deadline = StatusSucceeded, now, time.Time{}
		r.releaseSlot()
		done := *l
		if err := r.save(); err != nil {
			return err
		}
		r.e.stepDone(r.st, done)
		r.e.ended(r.st, OutcomeCompleted)
		r.log.Info("workflow succeeded")
		return r.ensureFinal()
	}
	done := *l
	r.startStep(r.st.Step+1, now)
	if err := r.save(); err != nil {
		return err
	}
	r.e.stepDone(r.st, done)
	r.sendProgress(done, notification.StatusCompleted)
	r.sendStep(notification.StatusProcessing)
	return nil
}

// fail ends the workflow at the current step with reason; detail (an Oracle
// log excerpt) is added to the error the user sees.
func (r *run) fail(reason, detail string) error {
	now := r.e.now()
	l := r.rec()
	l.Status, l.Message, l.EndedAt = notification.StatusFailed, reason, now
	r.st.Status, r.st.EndedAt, r.st.Deadline, r.st.Pending = StatusFailed, now, time.Time{}, nil
	r.st.Error = clip(reason, maxReason)
	r.releaseSlot()
	if detail != "" {
		r.st.Error += "\n\n" + clip(detail, maxDetail)
	}
	if err := r.save(); err != nil {
		return err
	}
	r.e.ended(r.st, OutcomeFailed)
	if r.stranded {
		r.e.metrics.Count(metrics.WorkflowsStranded, 1)
	}
	r.log.Warn("workflow failed", "step", r.st.Step, "reason", reason)
	return r.ensureFinal()
}

// Bounds of what a failure keeps: the item stays small and every
// notification far below API Gateway's 128 KB.
const (
	maxReason = 2000
	maxDetail = 6000
)

// wait schedules the next poll and records the workflow as waiting. The
// poll is sent before PollSeq is advanced (see the package documentation).
func (r *run) wait() error {
	next := r.st.PollSeq + 1
	if err := r.sendPoll(next); err != nil {
		return err
	}
	r.st.Status, r.st.PollSeq = StatusWaiting, next
	return r.save()
}

// sendPoll sends the poll message seq, delayed by the poll interval.
func (r *run) sendPoll(seq int64) error {
	_, err := r.e.sender.SendMessage(r.ctx, &sqs.SendMessageInput{
		QueueUrl:     aws.String(r.e.cfg.QueueURL),
		MessageBody:  aws.String(encodePoll(r.st.TransactionID, seq)),
		DelaySeconds: r.e.cfg.delaySeconds(),
	})
	if err != nil {
		return fmt.Errorf("workflow: %s: send poll %d: %w", r.st.TransactionID, seq, err)
	}
	return nil
}

// check runs when a poll finds the workflow waiting: it asks Oracle about
// the current step's jobs and continues, waits again, or fails.
func (r *run) check() error {
	if ok, err := r.admit("reading of the job's status"); !ok {
		return err
	}
	v := r.inspectStep()
	if v.outcome != pending {
		r.releaseSlot()
	}
	switch v.outcome {
	case failed:
		return r.fail(v.reason, v.log)
	case succeeded:
		r.st.Status = StatusRunning
		if err := r.completeStep(v.message); err != nil {
			return err
		}
		return r.advance()
	}
	if v.unavailable != "" {
		return r.retryLater(nil, v.what, v.unavailable)
	}
	if !r.e.now().Before(r.st.Deadline) {
		return r.fail(fmt.Sprintf("Oracle did not finish %s within %s (%s)", r.def().name,
			formatDuration(r.e.cfg.Deadline), v.message), "")
	}
	r.rec().Message = v.message
	return r.wait()
}

// formatDuration writes d the way an operator reads it: "2h", "90m", "45s".
func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
