package workflow

import (
	"maps"
	"slices"
	"time"
)

// State is one workflow: the item of the workflows table. Every change is
// written conditionally on Version (see Store.Update).
type State struct {
	TransactionID string // key
	UserID        string // owner: gets the notifications; the only user who may read the status
	Kind          Kind   // budget_transfer or journal_import (as sent, when the message was invalid)
	Fingerprint   string // of the message that created it: tells a duplicate from a conflict
	Version       int64  // optimistic concurrency: 1 after Create, +1 each Update

	Status   Status    // running, waiting, succeeded or failed
	Step     int       // current step, 1..TotalSteps: the one running, waiting or that ended the workflow
	PollSeq  int64     // sequence of the one poll message that may drive the workflow (0: none yet)
	Deadline time.Time // while waiting: when the current job is given up
	Pending  *Pending  // an Oracle call that may be in flight; nil when none
	ParkedAt time.Time // when the workflow began waiting for Oracle's breaker to close; zero when not parked
	// ParkTicket is the Gate's park ticket of a parked workflow (its turn
	// to resume after the outage, oldest first); 0 when it has none.
	ParkTicket int64

	DocumentID string    // UCM DocumentId once uploaded
	Plan       Plan      // resolved by Preparing Data; used by later steps
	Steps      []StepLog // audit trail, one entry per step started, in order
	Error      string    // why the workflow failed (with Oracle's log excerpt when there is one)
	Invalid    bool      // failed because the message was invalid: redeliveries go to the dead-letter queue again
	Notified   bool      // the final notification has been delivered to the notifier

	Rejections []Rejection // later messages for the same transaction that conflicted with it (newest last)

	CreatedAt time.Time // when the first message was processed
	UpdatedAt time.Time // last change
	EndedAt   time.Time // when it succeeded or failed
	ExpiresAt time.Time // TTL: UpdatedAt + Config.Retention
	// DueAt is when the Sweeper looks at the workflow if nothing else has
	// moved it on (see Engine.dueAt); zero once it ended and its owner was
	// told, which takes it out of the store's due index.
	DueAt time.Time
}

// StepLog is the audit record of one step.
type StepLog struct {
	Number     int       // 1..TotalSteps
	Name       string    // e.g. "Interface Loader"
	Status     string    // notification.StatusProcessing, StatusCompleted or StatusFailed
	Message    string    // what happened, readable
	RequestID  string    // ESS request ID of the step's job, once submitted
	DocumentID string    // UCM DocumentId, for Upload to UCM
	StartedAt  time.Time // when the step began
	EndedAt    time.Time // when it completed or failed; zero while in progress

	// Retries of a call Oracle did not accept (see Engine.retryLater).
	Attempts  int       // calls of this step that Oracle did not accept (refused, or unavailable for a read)
	LastError string    // why the last one was not accepted, e.g. "HTTP 503"
	RefusedAt time.Time // when the last one was not accepted
	NextTryAt time.Time // when the step is tried again; zero when no retry is scheduled
}

// Pending is the recorded intent of an Oracle call with side effects,
// written before the call and cleared with its result.
type Pending struct {
	Op         string    // OpUpload or OpSubmit
	Step       int       // the step that makes the call
	Since      time.Time // when the intent was recorded
	LeaseUntil time.Time // until then the invocation that wrote it may still be running
}

// Oracle operations recorded in Pending.
const (
	OpUpload = "uploadFileToUCM"
	OpSubmit = "submitESSJobRequest"
)

// Plan is what Preparing Data resolved from the message, the configuration
// and the lines, so that later invocations (which only have a poll message)
// submit exactly what the first one decided.
type Plan struct {
	Account  string            // UCM account
	FileName string            // name of the zip in UCM
	Jobs     []PlannedJob      // one per job step
	Vars     map[string]string // placeholder values; document_id is added at submission
}

// PlannedJob is the ESS job of one step.
type PlannedJob struct {
	Step int     // step number
	Job  JobSpec // package, definition and parameter template
}

// Rejection records a message that was refused because the transaction
// already existed with other content.
type Rejection struct {
	At          time.Time // when it was refused
	MessageID   string    // SQS message ID
	Fingerprint string    // of the refused message
	Reason      string    // readable
}

// maxRejections bounds the rejections kept on one workflow.
const maxRejections = 20

// step returns the audit record of step n, or nil.
func (s *State) step(n int) *StepLog {
	for i := range s.Steps {
		if s.Steps[i].Number == n {
			return &s.Steps[i]
		}
	}
	return nil
}

// job returns the planned job of step n, or false.
func (p Plan) job(n int) (JobSpec, bool) {
	for _, j := range p.Jobs {
		if j.Step == n {
			return j.Job, true
		}
	}
	return JobSpec{}, false
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	c := *s
	if s.Pending != nil {
		p := *s.Pending
		c.Pending = &p
	}
	c.Plan.Jobs = slices.Clone(s.Plan.Jobs)
	c.Plan.Vars = maps.Clone(s.Plan.Vars)
	c.Steps = slices.Clone(s.Steps)
	c.Rejections = slices.Clone(s.Rejections)
	return &c
}
