package workflow

import (
	"context"
	"errors"

	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/oracle"
)

// The values of the Call dimension of metrics.OracleErrors: the Oracle ERP
// Integration Service operations the Engine calls, one per Oracle method
// (the REST finders ESSJobStatusRF, ESSExecutionDetailsRF and
// ESSJobExecutionDetailsRF serve the last three). A fixed set: never a
// request id.
const (
	CallUploadFileToUCM                = "uploadFileToUCM"
	CallSubmitESSJobRequest            = "submitESSJobRequest"
	CallGetESSJobStatus                = "getESSJobStatus"
	CallGetESSExecutionDetails         = "getESSExecutionDetails" // the child jobs
	CallDownloadESSJobExecutionDetails = "downloadESSJobExecutionDetails"
)

// The values of the Outcome dimension of metrics.Workflows.
const (
	OutcomeCompleted = "completed"
	OutcomeFailed    = "failed"
)

// kindOther is the Kind dimension of a workflow whose kind is neither known
// kind (an invalid message records the kind it names, whatever it is): the
// dimension stays bounded.
const kindOther = "other"

// kindDim is the Kind dimension of k.
func kindDim(k Kind) metrics.Dim {
	switch k {
	case KindBudgetTransfer, KindJournalImport:
		return metrics.Kind(string(k))
	}
	return metrics.Kind(kindOther)
}

// ended records that st ended with outcome (OutcomeCompleted or
// OutcomeFailed): once by Outcome, once by Kind and Outcome, so that an
// alarm on Outcome=failed needs no metric math. Call it once per workflow,
// after the write that ended it succeeded.
func (e *Engine) ended(st *State, outcome string) {
	e.metrics.Count(metrics.Workflows, 1, metrics.Outcome(outcome))
	e.metrics.Count(metrics.Workflows, 1, kindDim(st.Kind), metrics.Outcome(outcome))
}

// stepDone records the time step l of st took, from its StartedAt to its
// EndedAt: both kept in the workflow, so the time spans every continuation
// and invocation of the step. Only completed steps are recorded: a failed
// step's time (often a deadline) would blur how long the steps take.
func (e *Engine) stepDone(st *State, l StepLog) {
	if l.StartedAt.IsZero() || l.EndedAt.Before(l.StartedAt) {
		return
	}
	e.metrics.Duration(metrics.StepDuration, l.EndedAt.Sub(l.StartedAt), kindDim(st.Kind), metrics.Step(l.Name))
}

// breaker records the BreakerOpen gauge: 1 when the Gate said the breaker
// is open, 0 when closed.
func (e *Engine) breaker(open bool) {
	v := 0.0
	if open {
		v = 1
	}
	e.metrics.Gauge(metrics.BreakerOpen, v)
}

// meteredOracle counts the failed calls of an Oracle by Call
// (metrics.OracleErrors).
type meteredOracle struct {
	oc  Oracle
	rec *metrics.Recorder
}

// failed counts err, if any, against call.
func (m meteredOracle) failed(call string, err error) {
	if err != nil {
		m.rec.Count(metrics.OracleErrors, 1, metrics.Call(call))
	}
}

func (m meteredOracle) UploadFileToUCM(ctx context.Context, d oracle.Document) (string, error) {
	id, err := m.oc.UploadFileToUCM(ctx, d)
	m.failed(CallUploadFileToUCM, err)
	return id, err
}

func (m meteredOracle) SubmitESSJob(ctx context.Context, j oracle.Job) (string, error) {
	id, err := m.oc.SubmitESSJob(ctx, j)
	m.failed(CallSubmitESSJobRequest, err)
	return id, err
}

func (m meteredOracle) JobStatus(ctx context.Context, requestID string) (oracle.State, error) {
	s, err := m.oc.JobStatus(ctx, requestID)
	m.failed(CallGetESSJobStatus, err)
	return s, err
}

// ChildJobs does not count ErrNotFound: Oracle lists no tree for a job
// without children, and the Engine reads that as none.
func (m meteredOracle) ChildJobs(ctx context.Context, requestID string) ([]oracle.JobInfo, error) {
	jobs, err := m.oc.ChildJobs(ctx, requestID)
	if !errors.Is(err, oracle.ErrNotFound) {
		m.failed(CallGetESSExecutionDetails, err)
	}
	return jobs, err
}

func (m meteredOracle) JobLog(ctx context.Context, requestID string) (string, error) {
	text, err := m.oc.JobLog(ctx, requestID)
	m.failed(CallDownloadESSJobExecutionDetails, err)
	return text, err
}
