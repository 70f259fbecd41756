package workflow

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/finance/fbdi-notify/internal/oracle"
)

// Checkpoint retries: a result Oracle gave must not be lost to a DynamoDB blip.
const (
	checkpointAttempts = 4
	checkpointBackoff  = 100 * time.Millisecond // doubled after each attempt
	leaseMargin        = 30 * time.Second       // added to the invocation's remaining time
	detachedTimeout    = 10 * time.Second       // to record a failure after the context ended
)

// sideEffect makes one Oracle call that changes Oracle (an upload or a
// submission) at most once:
//
//  1. it records the intent (Pending, with a lease) conditionally on the
//     version read; a concurrent invocation that read the same version
//     fails here and re-reads;
//  2. it calls Oracle;
//  3. it checkpoints the result with apply, clearing Pending, conditionally
//     on the version of step 1 (see checkpoint).
//
// If the invocation has less time left than Config.OracleTimeout plus
// Config.CheckpointReserve, it makes no call and hands the workflow on to a
// new invocation instead (continueLater), so that an answer Oracle gives is
// always checkpointed; unless the invocation had less than that from the
// start (a function timeout too short for the configuration), when a new
// one would fare no better: then it logs a warning and calls.
//
// A crash between 1 and 3 leaves Pending behind; checkPending turns it into
// an "in doubt" failure once its lease has expired. The caller checks
// r.st.Status afterwards: the call may have failed the workflow.
func (r *run) sideEffect(op string, call func(context.Context) (string, error), apply func(*State, string)) error {
	now := r.e.now()
	step := r.st.Step
	if dl, ok := r.ctx.Deadline(); ok {
		left, need := dl.Sub(now), r.e.cfg.OracleTimeout+r.e.cfg.CheckpointReserve
		switch {
		case left >= need:
		case r.budget >= need:
			return r.continueLater(fmt.Sprintf("%s left, %s needed for %s and its checkpoint",
				left.Round(time.Millisecond), need, op))
		default: // a new invocation would have no more: continuing would never end
			r.log.Warn("the invocation is shorter than Oracle's timeout plus the checkpoint reserve; calling Oracle anyway",
				"left", left.Round(time.Millisecond).String(), "needed", need.String(), "op", op)
		}
	}
	r.st.Pending = &Pending{Op: op, Step: step, Since: now, LeaseUntil: now.Add(r.lease())}
	if err := r.save(); err != nil {
		return err
	}
	intent := *r.st.Pending
	result, err := call(r.ctx)
	if err != nil {
		if c := classify(op, err); c != ambiguous {
			r.observe(c != notAccepted)
		}
		return r.callFailed(intent, err)
	}
	r.observe(true)
	r.log.Info("oracle accepted", "op", op, "step", step, "result", result)
	if h := r.e.hooks.AfterOracle; h != nil {
		if err := h(op, step); err != nil {
			return fmt.Errorf("workflow: %s: after %s: %w", r.st.TransactionID, op, err)
		}
	}
	if err := r.checkpoint(intent, result, apply); err != nil {
		return err
	}
	if h := r.e.hooks.AfterCheckpoint; h != nil {
		if err := h(op, step); err != nil {
			return fmt.Errorf("workflow: %s: after checkpoint of %s: %w", r.st.TransactionID, op, err)
		}
	}
	return nil
}

// lease is how long an intent protects its invocation: until the Lambda
// context's deadline (after which the invocation cannot be running) plus a
// margin, or Config.Lease when the context has none.
func (r *run) lease() time.Duration {
	if dl, ok := r.ctx.Deadline(); ok {
		return max(time.Until(dl), 0) + leaseMargin
	}
	return r.e.cfg.Lease
}

// checkpoint records result and clears the intent. A failed write is
// retried a few times: after a version conflict (another writer, such as a
// conflicting message's rejection record, changed the item) the result is
// applied to the fresh item if it still holds this intent; an earlier
// attempt that did land (the answer was lost) is recognised by its result.
// If the intent is gone, another invocation has already declared the call
// in doubt and the result is only logged.
func (r *run) checkpoint(intent Pending, result string, apply func(*State, string)) error {
	backoff := checkpointBackoff
	var err error
	for attempt := 1; attempt <= checkpointAttempts; attempt++ {
		if attempt > 1 {
			if serr := r.e.sleep(r.ctx, backoff); serr != nil {
				break
			}
			backoff *= 2
			cur, gerr := r.e.store.Get(r.ctx, r.st.TransactionID)
			switch {
			case gerr != nil:
				err = gerr
				continue
			case hasResult(cur, intent, result):
				r.st = cur
				return nil
			case !sameIntent(cur.Pending, intent):
				r.st = cur
				r.log.Error("oracle result lost: the intent was cleared by another invocation",
					"op", intent.Op, "step", intent.Step, "result", result)
				return fmt.Errorf("workflow: %s: checkpoint %s result %s: the intent is gone: %w",
					cur.TransactionID, intent.Op, result, ErrVersion)
			}
			r.st = cur
		}
		r.st.Pending = nil
		apply(r.st, result)
		if err = r.save(); err == nil {
			return nil
		}
		r.log.Warn("checkpoint write failed", "op", intent.Op, "attempt", attempt, "error", err)
	}
	r.log.Error("oracle result not checkpointed; a redelivery will report it in doubt",
		"op", intent.Op, "step", intent.Step, "result", result, "error", err)
	return fmt.Errorf("workflow: %s: checkpoint %s result %s: %w", r.st.TransactionID, intent.Op, result, err)
}

// hasResult reports whether st already records result for intent.
func hasResult(st *State, intent Pending, result string) bool {
	if intent.Op == OpUpload {
		return st.DocumentID == result
	}
	l := st.step(intent.Step)
	return l != nil && l.RequestID == result
}

func sameIntent(p *Pending, want Pending) bool {
	return p != nil && p.Op == want.Op && p.Step == want.Step && p.Since.Equal(want.Since) &&
		p.LeaseUntil.Equal(want.LeaseUntil)
}

// checkPending looks at an intent left by an earlier invocation. While its
// lease runs, that invocation may still be at work: ErrBusy, retry later.
// After, it stopped between calling Oracle and recording the answer, so the
// call is in doubt and the workflow fails instead of calling again.
func (r *run) checkPending() error {
	p := r.st.Pending
	if p == nil {
		return nil
	}
	if r.e.now().Before(p.LeaseUntil) {
		return fmt.Errorf("workflow: %s: %s of step %d in progress since %s: %w",
			r.st.TransactionID, p.Op, p.Step, p.Since.Format(time.RFC3339), ErrBusy)
	}
	r.log.Error("oracle call in doubt", "op", p.Op, "step", p.Step, "since", p.Since)
	return r.fail(r.inDoubt(*p, "the worker stopped after sending it and before recording Oracle's answer"), "")
}

// inDoubt explains to the user and the operator which call may or may not
// have been accepted, and what to check.
func (r *run) inDoubt(p Pending, why string) string {
	at := p.Since.UTC().Format(time.RFC3339)
	if p.Op == OpUpload {
		return fmt.Sprintf("The upload of %s to UCM (account %s) is in doubt: %s at %s. Oracle may or may not have "+
			"stored the file; it was not uploaded again, to avoid a duplicate. An operator must check UCM and, "+
			"if needed, send the transfer again under a new transaction ID.",
			r.st.Plan.FileName, r.st.Plan.Account, why, at)
	}
	def := "the job"
	if spec, ok := r.st.Plan.job(p.Step); ok {
		def = spec.Definition + " (" + spec.Package + ")"
	}
	return fmt.Sprintf("The submission of %s for step %d (%s) is in doubt: %s at %s. Oracle may or may not have "+
		"started the job; it was not submitted again, to avoid running it twice. An operator must check the "+
		"scheduled processes submitted around that time and finish or re-run the transfer by hand.",
		def, p.Step, stepName(r.st.Kind, p.Step), why, at)
}

// Kinds of failed side-effecting call.
const (
	notAccepted  = iota + 1 // Oracle surely did not act: retry
	ambiguous               // Oracle may have acted: in doubt
	unauthorized            // credentials or roles: fail
	rejected                // ReqstId -1: fail
	refused                 // another permanent error: fail
)

// classify sorts the error of the call op (OpUpload or OpSubmit). A 503,
// 408 or 429 answer, or a connection that could not be made, means Oracle
// did not act. A 500 or 502 is raised after the request reached Oracle (or
// a proxy forwarded it): for an upload, whose duplicate is only an unused
// UCM document, that too counts as not accepted; for a submission, which
// would import the file twice, it is ambiguous. So is a timeout (the
// client's, the caller's context, or a gateway's 504), a connection lost
// after the request was sent, or a success status whose body cannot be read
// (no DocumentId or ReqstId to record).
func classify(op string, err error) int {
	var oe *oracle.Error
	if !errors.As(err, &oe) {
		return ambiguous
	}
	var dial *net.OpError
	switch {
	case oe.Kind == oracle.Canceled:
		return ambiguous
	case errors.Is(err, oracle.ErrUnauthorized):
		return unauthorized
	case errors.Is(err, oracle.ErrRejected):
		return rejected
	case errors.Is(err, oracle.ErrUnexpectedResponse):
		return ambiguous
	case oe.Kind == oracle.Transient && oe.StatusCode == http.StatusGatewayTimeout:
		return ambiguous
	case oe.Kind == oracle.Transient && op == OpSubmit &&
		(oe.StatusCode == http.StatusInternalServerError || oe.StatusCode == http.StatusBadGateway):
		return ambiguous
	case oe.Kind == oracle.Transient && oe.StatusCode != 0:
		return notAccepted
	case oe.Kind == oracle.Transient && errors.As(err, &dial) && dial.Op == "dial":
		return notAccepted
	case oe.Kind == oracle.Transient:
		return ambiguous
	}
	return refused
}

// callFailed handles the error of a side-effecting call.
func (r *run) callFailed(intent Pending, err error) error {
	r.log.Warn("oracle call failed", "op", intent.Op, "step", intent.Step, "error", err)
	what := r.opLabel(intent)
	var oe *oracle.Error
	status := 0
	if errors.As(err, &oe) {
		status = oe.StatusCode
	}
	switch classify(intent.Op, err) {
	case notAccepted:
		rerr := r.retryLater(&intent, what, failureText(status))
		if rerr == nil || errors.Is(rerr, errContinued) {
			return rerr
		}
		if serr := r.clearIntent(intent); serr != nil {
			r.log.Error("intent not cleared; a redelivery will report the call in doubt", "error", serr)
		}
		return fmt.Errorf("workflow: %s: %s not accepted, retry not scheduled: %w", r.st.TransactionID, intent.Op, rerr)
	case ambiguous:
		// The caller's context may be over: record the failure regardless.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), detachedTimeout)
		defer cancel()
		orig := r.ctx
		r.ctx = ctx
		defer func() { r.ctx = orig }()
		why := "Oracle did not answer in time (" + failureText(status) + ")"
		if errors.Is(err, oracle.ErrUnexpectedResponse) {
			why = "Oracle answered " + failureText(status) + " but its answer could not be read"
		}
		return r.fail(r.inDoubt(intent, why), "")
	case unauthorized:
		return r.fail(fmt.Sprintf("Oracle refused the integration user's credentials (HTTP %d) for the %s; "+
			"an operator must fix the Oracle user, password or roles", status, what), "")
	case rejected:
		return r.fail(fmt.Sprintf("Oracle rejected the %s (ReqstId -1): check the job's parameters and the "+
			"integration user's access", what), "")
	}
	return r.fail(fmt.Sprintf("Oracle refused the %s (%s)", what, failureText(status)), "")
}

// clearIntent removes the intent of a call that Oracle surely did not act
// on, re-reading the workflow if another writer changed it meanwhile.
func (r *run) clearIntent(intent Pending) error {
	var err error
	for range checkpointAttempts {
		r.st.Pending = nil
		if err = r.save(); !errors.Is(err, ErrVersion) {
			return err
		}
		cur, gerr := r.e.store.Get(r.ctx, r.st.TransactionID)
		if gerr != nil {
			return gerr
		}
		r.st = cur
		if !sameIntent(cur.Pending, intent) {
			return nil // no longer ours to clear
		}
	}
	return err
}

// opLabel names a call for a user: "upload to UCM", "submission of BudgetImport".
func (r *run) opLabel(p Pending) string {
	if p.Op == OpUpload {
		return "upload to UCM"
	}
	if spec, ok := r.st.Plan.job(p.Step); ok {
		return "submission of " + spec.Definition
	}
	return "job submission"
}

// failureText describes a failed HTTP exchange without quoting Oracle.
func failureText(status int) string {
	if status == 0 {
		return "no response"
	}
	return fmt.Sprintf("HTTP %d", status)
}
