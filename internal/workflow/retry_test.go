package workflow_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/local/oraclesim"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// retryNotes returns the user's progress notifications saying Oracle is unavailable.
func retryNotes(h *harness, user string) []notification.Notification {
	var out []notification.Notification
	for _, n := range h.inbox.of(user) {
		if n.Type == notification.TypeUploadProgress && strings.HasPrefix(n.Message, "Oracle is unavailable") {
			out = append(out, n)
		}
	}
	return out
}

// TestRefusedUploadRetriedInSeconds: Oracle answers the first upload with
// 503. The queue keeps time like SQS (a failed record comes back after the
// 720 s visibility timeout), so the transfer completes within seconds of
// the refusal only if the step is retried through a delayed continuation;
// exactly one upload is accepted, and the user is told once that Oracle is
// unavailable and when the next try is. The status route shows the attempt.
func TestRefusedUploadRetriedInSeconds(t *testing.T) {
	h := newHarness(t, backends()[0], func(c *workflow.Config) {
		c.RetryBase = 2 * time.Second // the local stack's
		c.PollInterval = time.Second
	})
	h.timed(100 * time.Millisecond)
	h.sim.FailNext(oraclesim.OpUpload, oraclesim.HTTP503, 1)
	var statusDuringRetry workflow.StatusReply
	h.sendFile("budget_transfer.json")
	h.batch() // Preparing Data, then the refused upload
	if reply, found, err := h.status.Status(context.Background(), "123", "602"); err != nil || !found {
		t.Fatalf("status: found %v, %v", found, err)
	} else {
		statusDuringRetry = reply.(workflow.StatusReply)
	}
	h.finish(time.Hour)

	st := assertEnded(t, h, "602", workflow.StatusSucceeded)
	assertSequence(t, h, "123", withRetries(successSequence(), 2, 1))
	assertUploads(t, h, 1)
	if got := h.sim.Calls(oraclesim.OpUpload); got != 2 {
		t.Errorf("upload calls = %d, want 2 (one refused, one accepted)", got)
	}
	notes := retryNotes(h, "123")
	if len(notes) != 1 {
		t.Fatalf("retry notices = %d, want 1", len(notes))
	}
	n := notes[0]
	if n.StepNumber != 2 || n.Status != notification.StatusProcessing {
		t.Errorf("retry notice: step %d status %s; want step 2, processing", n.StepNumber, n.Status)
	}
	contains(t, "retry notice", n.Message, "Oracle is unavailable", "HTTP 503", "next try at 08:00:0")
	took := st.EndedAt.Sub(n.Timestamp)
	t.Logf("time from the refused upload to the completed transfer: %s of simulated time", took)
	if took > 30*time.Second {
		t.Errorf("completed %s after the refused upload; want within seconds (the visibility timeout is %s)",
			took, 720*time.Second)
	}

	cur := statusDuringRetry.Steps[len(statusDuringRetry.Steps)-1]
	if cur.StepNumber != 2 || cur.Attempts != 1 || cur.LastError != "HTTP 503" || cur.NextTryAt == nil ||
		cur.NextTryAt.Sub(n.Timestamp) > 2*time.Second {
		t.Errorf("status during the retry: step %d attempts %d last_error %q next_try_at %v; want step 2, 1, "+
			"HTTP 503, within 2s of the refusal", cur.StepNumber, cur.Attempts, cur.LastError, cur.NextTryAt)
	}
	if up := st.Steps[1]; up.Attempts != 1 || up.LastError != "HTTP 503" {
		t.Errorf("stored upload step: attempts %d last error %q; want 1, HTTP 503", up.Attempts, up.LastError)
	}
}

// TestRetryBackoff: the waits between tries grow exponentially from
// RetryBase up to RetryMax, and full jitter scales them down (whole seconds,
// as SQS's DelaySeconds counts).
func TestRetryBackoff(t *testing.T) {
	tests := []struct {
		name   string
		jitter int64 // millionths of the ceiling
		want   []int32
	}{
		{name: "ceiling", jitter: 1e6, want: []int32{5, 10, 20, 40, 60, 60}},
		{name: "half", jitter: 5e5, want: []int32{3, 5, 10, 20, 30, 30}},
		{name: "none", jitter: 0, want: []int32{0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, backends()[0], func(c *workflow.Config) { c.MaxAttempts = 10 })
			h.jitter.Store(tt.jitter)
			h.sim.FailNext(oraclesim.OpUpload, oraclesim.HTTP503, len(tt.want))
			body := h.sendFile("budget_transfer.json")
			h.drain()
			assertEnded(t, h, "602", workflow.StatusSucceeded)
			var got []int32
			h.sent.mu.Lock()
			for i, b := range h.sent.polls {
				if b == body {
					got = append(got, h.sent.delays[i])
				}
			}
			h.sent.mu.Unlock()
			if !slices.Equal(got, tt.want) {
				t.Errorf("delays of the upload's retries = %v s, want %v s", got, tt.want)
			}
			if n := len(retryNotes(h, "123")); n != len(tt.want) {
				t.Errorf("retry notices = %d, want %d", n, len(tt.want))
			}
		})
	}
}

// TestFailedJobLogReadRetried: a job ends in ERROR and Oracle refuses the
// first reads of its log (503). The log read is retried like a status poll,
// the user is told Oracle is unavailable, and the workflow fails with the
// log's rejected rows once Oracle answers; when it never answers, the
// workflow still fails with the job's reason and a note that the log could
// not be read.
func TestFailedJobLogReadRetried(t *testing.T) {
	const rows = "XCC-00123 Budget entry MIC_HQ_MONTHLY_555 failed the funds check"
	tests := []struct {
		name     string
		refusals int
		reads    int      // log reads Oracle saw
		notices  int      // "Oracle is unavailable" notices
		want     []string // in the oracle_upload_failed error
	}{
		{name: "answers at the third read", refusals: 2, reads: 3, notices: 2,
			want: []string{"BudgetImport", "ended in ERROR", rows}},
		{name: "never answers", refusals: 100, reads: 4, notices: 3,
			want: []string{"BudgetImport", "ended in ERROR", "could not be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, backends()[0], func(c *workflow.Config) { c.MaxAttempts = 4 })
			h.sim.SetOutcome("BudgetImport", oraclesim.Outcome{State: oracle.StateError, Log: rows})
			h.sim.FailNext(oraclesim.OpJobLog, oraclesim.HTTP503, tt.refusals)
			h.sendFile("budget_transfer.json")
			h.drain()
			assertEnded(t, h, "602", workflow.StatusFailed)
			if got := h.sim.Calls(oraclesim.OpJobLog); got != tt.reads {
				t.Errorf("log reads = %d, want %d", got, tt.reads)
			}
			if got := len(retryNotes(h, "123")); got != tt.notices {
				t.Errorf("retry notices = %d, want %d", got, tt.notices)
			}
			contains(t, "error", lastFailure(t, h, "123").Error, tt.want...)
			answered := tt.refusals < tt.reads
			if got := strings.Contains(lastFailure(t, h, "123").Error, rows); got != answered {
				t.Errorf("the error holds the log's rows: %v; want %v (Oracle answered: %v)", got, answered, answered)
			}
		})
	}
}
