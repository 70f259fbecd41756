package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/finance/fbdi-notify/internal/oracle"
)

// prepareStep runs Preparing Data: validate the lines, build the CSV and the
// zip, and resolve the plan of the later steps.
func (r *run) prepareStep() error {
	if r.req == nil {
		return r.fail("internal error: Preparing Data needs the original message", "")
	}
	p, err := prepare(r.req, r.e.cfg)
	if err != nil {
		var inv *InvalidError
		if !errors.As(err, &inv) {
			return r.fail("internal error while preparing the data", "")
		}
		r.st.Invalid = true
		if ferr := r.fail(inv.Reason, ""); ferr != nil {
			return ferr
		}
		return &InvalidError{Reason: inv.Reason, TransactionID: r.st.TransactionID, UserID: r.st.UserID}
	}
	r.zip = p.zip
	r.st.Plan = p.plan
	return r.completeStep(fmt.Sprintf("Built %s with %d lines (%d bytes zipped)", p.csv, p.lines, len(p.zip)))
}

// uploadStep runs Upload to UCM, at most once (see sideEffect).
func (r *run) uploadStep() error {
	if r.st.DocumentID != "" { // checkpointed by an earlier invocation
		return r.completeStep(uploadedMessage(r.st))
	}
	if err := r.checkPending(); err != nil || r.st.Status != StatusRunning {
		return err
	}
	if r.zip == nil { // an earlier invocation built it; the zip is not stored, so build it again
		if r.req == nil {
			return r.fail("internal error: Upload to UCM needs the original message", "")
		}
		p, err := prepare(r.req, r.e.cfg)
		if err != nil {
			return r.fail("internal error: the data could not be prepared again", "")
		}
		r.zip = p.zip
	}
	if ok, err := r.admit("upload to UCM"); !ok {
		return err
	}
	doc := oracle.Document{Content: r.zip, FileName: r.st.Plan.FileName, Account: r.st.Plan.Account}
	err := r.sideEffect(OpUpload, func(ctx context.Context) (string, error) {
		return r.e.oracle.UploadFileToUCM(ctx, doc)
	}, func(st *State, documentID string) {
		st.DocumentID = documentID
		if l := st.step(st.Step); l != nil {
			l.DocumentID = documentID
		}
	})
	if err != nil || r.st.Status != StatusRunning {
		return err
	}
	return r.completeStep(uploadedMessage(r.st))
}

func uploadedMessage(st *State) string {
	return fmt.Sprintf("Uploaded %s to %s as document %s", st.Plan.FileName, st.Plan.Account, st.DocumentID)
}

// jobStep submits the current step's ESS job, at most once, then waits for it.
func (r *run) jobStep() error {
	if r.rec().RequestID == "" {
		if err := r.checkPending(); err != nil || r.st.Status != StatusRunning {
			return err
		}
		job, err := r.job(r.st.Step)
		if err != nil {
			return r.fail(err.Error(), "")
		}
		if ok, err := r.admit("submission of " + job.Definition); !ok {
			return err
		}
		if ok, err := r.takeSlot(job.Definition); !ok {
			return err
		}
		err = r.sideEffect(OpSubmit, func(ctx context.Context) (string, error) {
			return r.e.oracle.SubmitESSJob(ctx, job)
		}, func(st *State, requestID string) {
			if l := st.step(st.Step); l != nil {
				l.RequestID = requestID
				l.Message = fmt.Sprintf("Submitted %s as ESS request %s", job.Definition, requestID)
			}
		})
		if err != nil || r.st.Status != StatusRunning {
			return err
		}
	}
	return r.wait()
}

// job returns the ESS job of step n with its parameters rendered.
func (r *run) job(n int) (oracle.Job, error) {
	spec, ok := r.st.Plan.job(n)
	if !ok {
		return oracle.Job{}, fmt.Errorf("internal error: no job is planned for step %d", n)
	}
	t, err := parseTemplate(spec.Params)
	if err != nil {
		return oracle.Job{}, fmt.Errorf("%s parameters: %w", spec.Definition, err)
	}
	params, err := t.render(withDocument(r.st.Plan.Vars, r.st.DocumentID))
	if err != nil {
		return oracle.Job{}, fmt.Errorf("%s parameters: %w", spec.Definition, err)
	}
	return oracle.Job{Package: spec.Package, Definition: spec.Definition, Params: params}, nil
}

// verifyStep runs Verify Results: it checks every job of the workflow and
// their children once more, and waits if any is still running.
func (r *run) verifyStep() error {
	if ok, err := r.admit("reading of the jobs' status"); !ok {
		return err
	}
	v := r.inspectStep()
	switch v.outcome {
	case failed:
		return r.fail(v.reason, v.log)
	case succeeded:
		return r.completeStep(v.message)
	}
	if v.unavailable != "" {
		return r.retryLater(nil, v.what, v.unavailable)
	}
	return r.wait()
}

// Outcomes of an inspection.
const (
	pending = iota
	succeeded
	failed
)

// verdict is what Oracle says about one or more jobs.
type verdict struct {
	outcome int
	message string // pending or succeeded: what the audit trail says
	reason  string // failed: why, readable
	log     string // failed: Oracle's log excerpt, when there is one
	// unavailable is set when Oracle could not answer for now (a transient
	// failure, e.g. "HTTP 503"): the read is retried (retryLater); what
	// names it for the user.
	unavailable, what string
}

// inspectStep inspects the job of the current step, or every job for Verify Results.
func (r *run) inspectStep() verdict {
	if r.def().act != actVerify {
		spec, _ := r.st.Plan.job(r.st.Step)
		return r.inspect(spec.Definition, r.rec().RequestID)
	}
	var msgs []string
	for _, j := range r.st.Plan.Jobs {
		l := r.st.step(j.Step)
		if l == nil || l.RequestID == "" {
			continue
		}
		v := r.inspect(j.Job.Definition, l.RequestID)
		if v.outcome != succeeded {
			return v
		}
		msgs = append(msgs, v.message)
	}
	if len(msgs) == 0 {
		return verdict{outcome: failed, reason: "internal error: no Oracle job to verify"}
	}
	return verdict{outcome: succeeded, message: "Verified: " + strings.Join(msgs, "; ")}
}

// inspect asks Oracle about the ESS request id (a job of definition def) and
// its children. A job is done when it and all its children are terminal; it
// succeeded only if all of them did: a SUCCEEDED parent with a WARNING or
// ERROR child failed, and the child's log (the rejected rows) is the detail.
// An Oracle error that may pass leaves the verdict pending, so that the next
// poll asks again until the deadline.
func (r *run) inspect(def, id string) verdict {
	state, err := r.e.oracle.JobStatus(r.ctx, id)
	r.observe(err == nil || !oracle.IsTransient(err))
	if err != nil {
		return r.oracleVerdict(err, def, id, "status")
	}
	if !state.Terminal() {
		return verdict{outcome: pending, message: fmt.Sprintf("%s (ESS request %s) is %s", def, id, state)}
	}
	if state.Failed() {
		return r.withLog(verdict{outcome: failed, reason: fmt.Sprintf("%s (ESS request %s) ended in %s%s",
			def, id, state, stateHint(state))}, def, id)
	}
	children, err := r.e.oracle.ChildJobs(r.ctx, id)
	if err != nil && !errors.Is(err, oracle.ErrNotFound) { // not found: Oracle lists no tree, so no children
		return r.oracleVerdict(err, def, id, "child jobs")
	}
	for _, c := range children {
		if !c.State.Terminal() {
			return verdict{outcome: pending, message: fmt.Sprintf("%s (ESS request %s) is %s; its child job %s is %s",
				def, id, state, c.RequestID, c.State)}
		}
	}
	for _, c := range children {
		if c.State.Failed() {
			name := c.Name
			if name == "" {
				name = "job"
			}
			return r.withLog(verdict{outcome: failed, reason: fmt.Sprintf("%s (ESS request %s) ended %s, but its child %s "+
				"(ESS request %s) ended in %s%s", def, id, state, name, c.RequestID, c.State, stateHint(c.State))},
				def, c.RequestID)
		}
	}
	msg := fmt.Sprintf("%s (ESS request %s) ended %s", def, id, state)
	if n := len(children); n > 0 {
		msg += fmt.Sprintf(" with %d child job(s) succeeded", n)
	}
	return verdict{outcome: succeeded, message: msg}
}

// stateHint explains a failed state.
func stateHint(s oracle.State) string {
	switch s {
	case oracle.StateWarning:
		return ": Oracle rejected some rows"
	case oracle.StateError:
		return ": Oracle could not process the data"
	}
	return ""
}

// oracleVerdict turns an error reading a job into a verdict: credentials
// refused or an unknown request fail the workflow; anything else may pass,
// so it waits for the next poll.
func (r *run) oracleVerdict(err error, def, id, what string) verdict {
	r.log.Warn("oracle read failed", "ess_request_id", id, "what", what, "error", err)
	switch {
	case errors.Is(err, oracle.ErrUnauthorized):
		return verdict{outcome: failed, reason: fmt.Sprintf("Oracle refused the integration user's credentials "+
			"(HTTP 401/403) while reading %s (ESS request %s); an operator must fix the credentials or roles", def, id)}
	case errors.Is(err, oracle.ErrNotFound):
		return verdict{outcome: failed, reason: fmt.Sprintf("Oracle does not know ESS request %s (%s)", id, def)}
	}
	v := verdict{outcome: pending, message: fmt.Sprintf("%s (ESS request %s): Oracle's %s could not be read; retrying",
		def, id, what)}
	var oe *oracle.Error
	if errors.As(err, &oe) && oe.Kind == oracle.Transient {
		v.unavailable = failureText(oe.StatusCode)
		v.what = fmt.Sprintf("reading of the %s of %s (ESS request %s)", what, def, id)
	}
	return v
}

// withLog adds to v, a failed job's verdict, the log excerpt of request id
// (a job of definition def): the rejected rows, the detail the user needs.
// A read Oracle refused for now (a transient failure) is retried like a
// status poll (the verdict stays pending, with unavailable set) while
// retries remain before Config.MaxAttempts and the step's deadline; after
// that, or for any other failure, the workflow fails with a note that the
// log could not be read.
func (r *run) withLog(v verdict, def, id string) verdict {
	text, err := r.e.oracle.JobLog(r.ctx, id)
	r.observe(err == nil || !oracle.IsTransient(err))
	if err != nil {
		var oe *oracle.Error
		if errors.As(err, &oe) && oe.Kind == oracle.Transient && r.logRetryLeft() {
			r.log.Warn("oracle read failed", "ess_request_id", id, "what", "log", "error", err)
			return verdict{outcome: pending, unavailable: failureText(oe.StatusCode),
				what:    fmt.Sprintf("reading of the log of %s (ESS request %s)", def, id),
				message: fmt.Sprintf("%s (ESS request %s) failed; Oracle's log could not be read yet; retrying", def, id)}
		}
		r.log.Warn("oracle job log unavailable", "ess_request_id", id, "error", err)
		v.log = fmt.Sprintf("(the log of ESS request %s could not be read)", id)
		return v
	}
	if strings.TrimSpace(text) != "" {
		v.log = fmt.Sprintf("Oracle log of ESS request %s:\n%s", id, strings.TrimSpace(text))
	}
	return v
}

// logRetryLeft reports whether a read of a failed job's log may be retried:
// another attempt stays under Config.MaxAttempts and the longest backoff
// still ends before the step's deadline, so retryLater will not give up on
// it (which would fail the workflow without saying why the job failed).
func (r *run) logRetryLeft() bool {
	if r.rec().Attempts+1 >= r.e.cfg.MaxAttempts {
		return false
	}
	return r.st.Deadline.IsZero() || r.e.now().Add(r.e.cfg.RetryMax).Before(r.st.Deadline)
}
