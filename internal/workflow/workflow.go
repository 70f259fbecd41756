// Package workflow runs the FBDI workflows of docs/protocol.md#workflow-steps: a budget
// transfer or a journal import goes through five steps (Preparing Data,
// Upload to UCM, Interface Loader, then Budget Import and Verify Results, or
// Journal Import and AutoPost), each reported to the user as an
// oracle_upload_progress notification.
//
// The Engine drives one workflow as far as it can without waiting and keeps
// its state in a Store (DynamoStore in Lambda, MemoryStore locally). While
// an Oracle ESS job runs, nothing sleeps: the Engine checkpoints the
// workflow as waiting and sends itself a delayed poll message through the
// workflow queue. The Worker is the SQS edge (events.SQSEvent in, partial
// batch failures out); Service answers the status route.
//
// # At most once towards Oracle
//
// SQS delivers at least once and Lambda may die at any instruction, so every
// Oracle side effect (uploadFileToUCM, submitESSJobRequest) is bracketed by
// two conditional writes of the workflow item:
//
//  1. intent: Pending{Op, Step, Since, LeaseUntil} is written conditionally
//     on the version read. Only one invocation can win it.
//  2. the call to Oracle.
//  3. checkpoint: the DocumentID or RequestID is written and Pending cleared,
//     again conditionally on the version (retried on transient DynamoDB
//     errors; an ambiguous earlier attempt is recognised by re-reading).
//
// A later delivery that finds a result skips the call (resume). One that
// finds Pending with a live lease leaves the message for a later retry
// (another invocation is at work). One that finds Pending with an expired
// lease knows an invocation died between steps 1 and 3: Oracle may or may
// not have accepted the call, and the Engine cannot ask Oracle (neither
// operation takes an idempotency key), so it fails the workflow "in doubt"
// and names the operation for an operator, instead of calling again: at most
// once. Likewise a side-effecting call that times out or loses its
// connection is in doubt, while HTTP 5xx, 408 and 429 and connection refusals
// mean Oracle did not accept it, so Pending is cleared and the step is tried
// again after a few seconds through a delayed continuation message
// (retryLater), never by waiting for the queue's visibility timeout.
//
// # Polling
//
// The workflow item holds PollSeq, the sequence number of the one poll
// message that may drive a waiting workflow; polls with another number are
// dropped as stale or duplicate. To continue, the Engine first sends poll
// N+1 and only then advances PollSeq to N+1 conditionally. A crash in between
// leaves poll N current, and its redelivery sends N+1 again; the duplicate
// N+1 is dropped by whichever copy is processed second. The other order
// (advance, then send) would let a crash lose the chain.
package workflow

import (
	"errors"
	"fmt"
	"time"
)

// Kind names the two workflows of docs/protocol.md#workflow-queue.
type Kind string

// Kinds of workflow.
const (
	KindBudgetTransfer Kind = "budget_transfer"
	KindJournalImport  Kind = "journal_import"
)

// Status is where a workflow stands.
type Status string

// Workflow statuses. Succeeded and Failed are terminal.
const (
	StatusRunning   Status = "running"   // a step is in progress in some invocation
	StatusWaiting   Status = "waiting"   // an Oracle job runs; a poll message is scheduled
	StatusSucceeded Status = "succeeded" // every step completed
	StatusFailed    Status = "failed"    // a step failed; Error says why
)

// Terminal reports whether s is Succeeded or Failed.
func (s Status) Terminal() bool { return s == StatusSucceeded || s == StatusFailed }

// TotalSteps is the number of steps of every workflow.
const TotalSteps = 5

// Step names, exactly as docs/protocol.md#workflow-steps spells them.
const (
	StepPreparingData   = "Preparing Data"
	StepUploadToUCM     = "Upload to UCM"
	StepInterfaceLoader = "Interface Loader"
	StepBudgetImport    = "Budget Import"
	StepVerifyResults   = "Verify Results"
	StepJournalImport   = "Journal Import"
	StepAutoPost        = "AutoPost"
)

// action is what a step does.
type action int

const (
	actPrepare action = iota + 1 // validate the lines, build the CSV and the zip
	actUpload                    // uploadFileToUCM
	actJob                       // submitESSJobRequest, then wait for the job and verify it
	actVerify                    // re-check every job of the workflow and its children
)

// stepDef is one step of a workflow.
type stepDef struct {
	name string
	act  action
}

// steps returns the steps of kind k, numbered from 1.
func steps(k Kind) []stepDef {
	switch k {
	case KindBudgetTransfer:
		return []stepDef{{StepPreparingData, actPrepare}, {StepUploadToUCM, actUpload},
			{StepInterfaceLoader, actJob}, {StepBudgetImport, actJob}, {StepVerifyResults, actVerify}}
	case KindJournalImport:
		return []stepDef{{StepPreparingData, actPrepare}, {StepUploadToUCM, actUpload},
			{StepInterfaceLoader, actJob}, {StepJournalImport, actJob}, {StepAutoPost, actJob}}
	}
	return nil
}

// stepName returns the name of step number n of kind k, or "" if there is none.
func stepName(k Kind, n int) string {
	s := steps(k)
	if n < 1 || n > len(s) {
		return ""
	}
	return s[n-1].name
}

// Errors callers branch on. Errors returned by this package wrap them.
var (
	// ErrNotFound means the store has no workflow with that transaction ID.
	ErrNotFound = errors.New("workflow: not found")
	// ErrExists means Create found a workflow with that transaction ID.
	ErrExists = errors.New("workflow: already exists")
	// ErrVersion means Update found a stored version other than the one read:
	// another invocation changed the workflow in between.
	ErrVersion = errors.New("workflow: version conflict")
	// ErrInvalid means a message can never be processed as it is (bad JSON,
	// unknown kind, invalid lines, a payload that conflicts with an earlier
	// one): it must not be retried. The Worker sends it to the dead-letter
	// queue. Errors wrapping it are *InvalidError values.
	ErrInvalid = errors.New("workflow: invalid message")
	// ErrBusy means another invocation holds the lease on the workflow's
	// pending Oracle call; the message should be retried later.
	ErrBusy = errors.New("workflow: busy")
)

// InvalidError is a message that cannot be processed, with a reason that is
// safe to show to the user who sent it and to an operator.
type InvalidError struct {
	Reason        string // readable, e.g. "line 2: amount is required"
	TransactionID string // from the message, when it could be read
	UserID        string // from the message, when it could be read
}

// Error returns "workflow: invalid message: " and the reason.
func (e *InvalidError) Error() string { return fmt.Sprintf("%v: %s", ErrInvalid, e.Reason) }

// Unwrap returns ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Defaults for Config.
const (
	DefaultPollInterval = 10 * time.Second
	DefaultDeadline     = 2 * time.Hour
	MaxDelay            = 900 * time.Second // the largest SQS DelaySeconds
	DefaultLease        = 15 * time.Minute  // the longest Lambda invocation
	DefaultRetention    = 30 * 24 * time.Hour
	DefaultMaxAttempts  = 10
	DefaultRetryBase    = 5 * time.Second  // the first retry comes within it
	DefaultRetryMax     = 60 * time.Second // the longest wait between two retries

	DefaultMaxReceives       = 5 // template.yaml's WorkflowQueue maxReceiveCount
	DefaultCheckpointReserve = 10 * time.Second
	DefaultSweepGrace        = 2 * time.Minute
)
