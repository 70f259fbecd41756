package workflow

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
)

// backoff is the wait before the next try after attempt calls of a step
// were not accepted (1 after the first): full jitter, a random duration up
// to RetryBase doubled attempt-1 times, at most RetryMax and MaxDelay,
// rounded up to the second that SQS's DelaySeconds counts in.
func (e *Engine) backoff(attempt int) time.Duration {
	ceiling := min(e.cfg.RetryMax, MaxDelay)
	if exp := float64(e.cfg.RetryBase) * math.Pow(2, float64(max(attempt, 1)-1)); exp < float64(ceiling) {
		ceiling = time.Duration(exp)
	}
	j := min(max(e.jitter(), 0), 1)
	d := time.Duration(j * float64(ceiling))
	return time.Duration(delaySeconds(d)) * time.Second
}

// retryLater handles a call of the current step that Oracle did not accept
// (what names it for the user, why is the failure: "HTTP 503"). intent is
// the recorded intent of a side-effecting call, nil for a read. It records
// the attempt on the step (Attempts, LastError, NextTryAt: the status route
// shows them), tells the user that Oracle is unavailable and when the next
// try is, and hands the workflow on to a continuation message delayed by
// the backoff. After Config.MaxAttempts calls, or when the next try would
// come after the step's deadline, the workflow fails instead, saying that
// Oracle was unavailable. It returns errContinued when a retry was
// scheduled.
func (r *run) retryLater(intent *Pending, what, why string) error {
	now := r.e.now()
	attempts := r.rec().Attempts + 1
	if attempts >= r.e.cfg.MaxAttempts {
		r.log.Warn("oracle retries exhausted", "step", r.st.Step, "attempt", attempts, "reason", why)
		return r.fail(fmt.Sprintf("Oracle was unavailable: it did not accept the %s after %d attempts (%s); "+
			"send the transfer again later", what, attempts, why), "")
	}
	delay := r.e.backoff(attempts)
	next := now.Add(delay)
	if !r.st.Deadline.IsZero() && !next.Before(r.st.Deadline) {
		r.log.Warn("oracle retries exhausted", "step", r.st.Step, "attempt", attempts, "reason", why,
			"deadline", r.st.Deadline)
		return r.fail(fmt.Sprintf("Oracle was unavailable: it did not accept the %s before the step's deadline "+
			"(%d attempts, last: %s); send the transfer again later", what, attempts, why), "")
	}
	record := func(st *State) {
		if intent != nil {
			st.Pending = nil
		}
		l := r.rec()
		l.Attempts, l.LastError, l.RefusedAt, l.NextTryAt = attempts, why, now, next
		l.Message = retryMessage(what, why, next)
	}
	if err := r.saveRetry(intent, record); err != nil {
		return err
	}
	if r.st.Status.Terminal() || r.rec().Attempts != attempts {
		return nil // another invocation moved the workflow on meanwhile
	}
	r.log.Info("oracle retry scheduled", "step", r.st.Step, "attempt", attempts, "reason", why,
		"delay", delay.String(), "next_try_at", next)
	r.e.metrics.Count(metrics.OracleRetries, 1)
	r.sendRetry()
	return r.continueAfter(delay, "oracle unavailable: "+why)
}

// saveRetry applies record and saves, re-reading the workflow after a
// concurrent change as long as it still holds intent (for a read, intent is
// nil and the change is returned as ErrVersion, so that Process reads the
// workflow again).
func (r *run) saveRetry(intent *Pending, record func(*State)) error {
	var err error
	for range checkpointAttempts {
		record(r.st)
		if err = r.save(); intent == nil || !errors.Is(err, ErrVersion) {
			return err
		}
		cur, gerr := r.e.store.Get(r.ctx, r.st.TransactionID)
		if gerr != nil {
			return gerr
		}
		r.st = cur
		if !sameIntent(cur.Pending, *intent) {
			return fmt.Errorf("workflow: %s: the intent of %s changed meanwhile: %w", cur.TransactionID, intent.Op, ErrVersion)
		}
	}
	return err
}

// retryMessage is what the user and the audit trail read while a step waits
// for its next try.
func retryMessage(what, why string, next time.Time) string {
	return fmt.Sprintf("Oracle is unavailable (%s did not go through: %s); next try at %s",
		what, why, next.UTC().Format("15:04:05 UTC"))
}

// sendRetry tells the owner that the current step waits for its next try:
// an oracle_upload_progress of the step, status processing, once per
// attempt (its ID derives from the attempt, so a redelivery does not
// repeat it).
func (r *run) sendRetry() {
	l := *r.rec()
	n := notification.UploadProgress(r.st.TransactionID, l.Name, l.Number, TotalSteps,
		notification.StatusProcessing, l.Message)
	n.Kind = noteKind(r.st.Kind)
	r.bestEffort(r.e.deliver(r.ctx, r.st.UserID, n, l.RefusedAt, ordStep(l.Number, notification.StatusProcessing),
		"retry "+strconv.Itoa(l.Attempts)))
}
