package oracle

import "strings"

// State is the state of an Enterprise Scheduling Service (ESS) job request,
// as Oracle spells it (RequestStatus of the ESSJobStatusRF finder).
//
// Every terminal state is exactly one of Succeeded or Failed; every other
// state, including UNKNOWN and any string this package does not know, is in
// progress, so a caller keeps polling until its own deadline.
type State string

// ESS states. Terminal: SUCCEEDED, WARNING, ERROR, CANCELLED, EXPIRED,
// VALIDATION_FAILED, FINISHED, ERROR_MANUAL_RECOVERY. The others are in progress.
const (
	StateWait                State = "WAIT"                  // waiting to be dispatched
	StateReady               State = "READY"                 // dispatched, waiting for a processor
	StateRunning             State = "RUNNING"               // running
	StateBlocked             State = "BLOCKED"               // blocked by an incompatible request
	StateHold                State = "HOLD"                  // held by an operator
	StatePaused              State = "PAUSED"                // waiting for its child requests
	StatePendingValidation   State = "PENDING_VALIDATION"    // submitted, not yet validated
	StateCancelling          State = "CANCELLING"            // cancel requested, not yet acknowledged
	StateCompleted           State = "COMPLETED"             // executable done, post-processing running
	StateErrorAutoRetry      State = "ERROR_AUTO_RETRY"      // failed, Oracle will retry it
	StateSucceeded           State = "SUCCEEDED"             // terminal: success
	StateWarning             State = "WARNING"               // terminal: finished with warnings (e.g. rejected rows)
	StateError               State = "ERROR"                 // terminal: failed
	StateCancelled           State = "CANCELLED"             // terminal: cancelled
	StateExpired             State = "EXPIRED"               // terminal: expired before it could run
	StateValidationFailed    State = "VALIDATION_FAILED"     // terminal: submission failed validation
	StateFinished            State = "FINISHED"              // terminal: the request and all its children finished
	StateErrorManualRecovery State = "ERROR_MANUAL_RECOVERY" // terminal for us: needs an operator
	StateUnknown             State = "UNKNOWN"               // Oracle does not know; keep polling
)

// ParseState returns s trimmed and upper-cased as a State. It does not
// validate: an unknown string stays as it is and counts as in progress.
func ParseState(s string) State {
	return State(strings.ToUpper(strings.TrimSpace(s)))
}

// Terminal reports whether the request will not change state any more.
func (s State) Terminal() bool { return s.Succeeded() || s.Failed() }

// Succeeded reports whether the request ended without failing: SUCCEEDED or
// FINISHED. FINISHED ("the request and all child requests are finished") says
// nothing about the children's outcome; neither does SUCCEEDED, since a
// SUCCEEDED parent can have a WARNING child. A caller checks ChildJobs (and the
// log) before calling a transfer complete in both cases.
func (s State) Succeeded() bool {
	return s == StateSucceeded || s == StateFinished
}

// Failed reports whether the request ended without success: WARNING, ERROR,
// CANCELLED, EXPIRED, VALIDATION_FAILED or ERROR_MANUAL_RECOVERY. WARNING
// counts as failed because, for FBDI imports, it means rows were rejected and
// the transfer is not complete. ERROR_AUTO_RETRY is not failed: Oracle retries.
func (s State) Failed() bool {
	switch s {
	case StateWarning, StateError, StateCancelled, StateExpired, StateValidationFailed, StateErrorManualRecovery:
		return true
	}
	return false
}
