package workflow

import (
	"fmt"
	"time"

	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/oraclegate"
)

// admit asks the Gate whether the next Oracle call (what, for the user)
// may go, passing the workflow's park ticket. It reports true when it may
// (always without a Gate, and when the Gate cannot be read: an unreadable
// breaker must not stop the work). When the breaker is open, or a parked
// workflow's turn to resume has not come, the workflow is parked instead
// (see park) and admit returns false with errContinued, or with the error
// of the park.
func (r *run) admit(what string) (bool, error) {
	r.probe = false
	if r.e.gate == nil {
		return true, nil
	}
	d, err := r.e.gate.Admit(r.ctx, r.st.ParkTicket)
	if err != nil {
		r.log.Warn("breaker not read; calling Oracle", "error", err)
		return true, nil
	}
	r.e.breaker(d.Open)
	if d.Allow {
		r.probe = d.Probe
		if d.Probe {
			r.log.Info("breaker probe", "step", r.st.Step)
		}
		if r.st.parked() && !d.Probe { // a probe stays parked until Oracle accepts it (observe)
			r.resumed()
		}
		return true, nil
	}
	return false, r.park(d, what)
}

// park hands the workflow on to a continuation delayed by d.Wait, without
// counting an attempt: the breaker is open (Oracle refused calls of many
// workflows), or the breaker closed and the workflow's turn to resume comes
// later (d.Reserved). It keeps the park ticket the Gate hands it (saved
// with ParkedAt; if the save is lost, the ticket's turn passes unused and
// the workflow gets a new one). The owner is told once per outage that
// Oracle is unavailable. A workflow still parked at its step's deadline
// fails, saying Oracle was unavailable.
func (r *run) park(d oraclegate.Decision, what string) error {
	now := r.e.now()
	next := now.Add(d.Wait)
	if !r.st.Deadline.IsZero() && !next.Before(r.st.Deadline) {
		r.log.Warn("workflow parked past its deadline", "step", r.st.Step)
		return r.fail(fmt.Sprintf("Oracle was unavailable: the %s waited for Oracle to come back until the step's "+
			"deadline; send the transfer again later", what), "")
	}
	first := r.st.ParkedAt.IsZero() && !d.Reserved
	if first {
		r.st.ParkedAt = now
	}
	if d.Ticket != 0 {
		r.st.ParkTicket = d.Ticket
	}
	l := r.rec()
	l.NextTryAt = next
	if d.Reserved {
		l.Message = fmt.Sprintf("Oracle is back; the %s waits for its turn until %s", what,
			next.UTC().Format("15:04:05 UTC"))
	} else {
		l.Message = fmt.Sprintf("Oracle is unavailable (it refused repeated calls; the %s waits for it to come "+
			"back); next try at %s", what, next.UTC().Format("15:04:05 UTC"))
	}
	if err := r.save(); err != nil {
		return err
	}
	r.log.Info("workflow parked", "step", r.st.Step, "wait", d.Wait.String(), "reserved", d.Reserved,
		"ticket", r.st.ParkTicket)
	if first {
		r.e.metrics.Count(metrics.WorkflowsParked, 1)
		n := notification.UploadProgress(r.st.TransactionID, l.Name, l.Number, TotalSteps,
			notification.StatusProcessing, l.Message)
		n.Kind = noteKind(r.st.Kind)
		r.bestEffort(r.e.deliver(r.ctx, r.st.UserID, n, r.st.ParkedAt, ordStep(l.Number, notification.StatusProcessing),
			"parked"))
	}
	return r.continueAfter(d.Wait, "breaker open")
}

// observe tells the Gate whether Oracle accepted the call that admit let
// through, and records the breaker's state the Gate reports (BreakerOpen:
// 1 when a refusal opened it, 0 when a probe closed it). A call accepted
// while the breaker is closed changes nothing, so it is not written.
func (r *run) observe(accepted bool) {
	probe := r.probe
	r.probe = false
	if accepted && r.st.parked() {
		r.resumed()
	}
	if r.e.gate == nil || accepted && !probe {
		return
	}
	open, err := r.e.gate.Record(r.ctx, probe, accepted)
	if err != nil {
		r.log.Warn("breaker not updated", "error", err)
		return
	}
	r.e.breaker(open)
}

// takeSlot takes one of the Oracle instance's job slots before a
// submission. Without one, the workflow waits (queued, not failed) through
// a continuation delayed by the poll interval (at least RetryBase).
func (r *run) takeSlot(definition string) (bool, error) {
	if r.e.gate == nil {
		return true, nil
	}
	ok, err := r.e.gate.Acquire(r.ctx, r.st.TransactionID)
	if err != nil {
		r.log.Warn("job slots not read; submitting", "error", err)
		return true, nil
	}
	if ok {
		return true, nil
	}
	wait := max(r.e.cfg.PollInterval, r.e.cfg.RetryBase)
	now := r.e.now()
	if !r.st.Deadline.IsZero() && !now.Add(wait).Before(r.st.Deadline) {
		return false, r.fail(fmt.Sprintf("Oracle was busy: no slot for %s freed up before the step's deadline "+
			"(too many jobs running at once); send the transfer again later", definition), "")
	}
	l := r.rec()
	l.NextTryAt = now.Add(wait)
	l.Message = fmt.Sprintf("Queued: Oracle runs its most concurrent jobs; %s is submitted when one ends", definition)
	if err := r.save(); err != nil {
		return false, err
	}
	r.log.Info("workflow queued for a job slot", "step", r.st.Step, "wait", wait.String())
	return false, r.continueAfter(wait, "no job slot")
}

// releaseSlot frees the workflow's job slot, if it holds one: its job
// ended, or the workflow did. A failure is logged; the slot's TTL frees it.
func (r *run) releaseSlot() {
	if r.e.gate == nil {
		return
	}
	if err := r.e.gate.Release(r.ctx, r.st.TransactionID); err != nil {
		r.log.Warn("job slot not released", "error", err)
	}
}

// resumed ends the workflow's parking and gives up its ticket; the change
// is saved with the call's intent or its result.
func (r *run) resumed() {
	var parkedFor time.Duration
	if !r.st.ParkedAt.IsZero() {
		parkedFor = r.e.now().Sub(r.st.ParkedAt)
	}
	r.log.Info("workflow resumed", "step", r.st.Step, "parked_for", parkedFor.String(), "ticket", r.st.ParkTicket)
	r.st.ParkedAt, r.st.ParkTicket = time.Time{}, 0
}

// parked reports whether the workflow waits for Oracle's breaker: it was
// parked, or holds a park ticket.
func (s *State) parked() bool { return !s.ParkedAt.IsZero() || s.ParkTicket != 0 }
