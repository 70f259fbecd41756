package workflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/local/oraclesim"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// The fault tests of docs/design.md#no-workflow-without-an-end: whatever
// happens, every workflow ends succeeded or failed, its owner is told, and
// Oracle is never called twice for one upload or submission.

// pollSeq returns the sequence number of a poll message body, or 0.
func pollSeq(body string) int64 {
	var p workflow.Poll
	if json.Unmarshal([]byte(body), &p) != nil || p.Action != workflow.ActionPoll {
		return 0
	}
	return p.Seq
}

// assertEnded checks the stored workflow's final state and that it left the due index.
func assertEnded(tb testing.TB, h *harness, txID string, want workflow.Status) *workflow.State {
	tb.Helper()
	st := h.state(txID)
	if st.Status != want || !st.Notified || st.Pending != nil || !st.DueAt.IsZero() {
		tb.Fatalf("stored workflow: status %s notified %v pending %+v due %v; want %s, notified, nothing pending, not due",
			st.Status, st.Notified, st.Pending, st.DueAt, want)
	}
	return st
}

// TestPanicAtEachStep: a notifier bug that panics at step n on every
// delivery makes SQS deliver the message again; on its last delivery
// before the redrive policy (MaxReceives) the workflow fails with a cause
// instead of staying running, and the user gets oracle_upload_failed.
func TestPanicAtEachStep(t *testing.T) {
	for n := 1; n <= workflow.TotalSteps; n++ {
		t.Run(fmt.Sprintf("step %d", n), func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b backend) {
				h := newHarness(t, b)
				h.sendFile("budget_transfer.json")
				_, dlq := h.q.urls()
				panicking := func(ctx context.Context, userID string, note notification.Notification) error {
					if note.Type == notification.TypeUploadProgress && note.StepNumber == n &&
						note.Status == notification.StatusProcessing {
						panic(fmt.Sprintf("notifier bug at step %d", n))
					}
					return h.inbox.notify(ctx, userID, note)
				}
				engine, err := workflow.NewEngine(h.store, h.oracle, h.sent, panicking, h.cfg, workflow.Options{Now: h.clock.Now})
				if err != nil {
					t.Fatal(err)
				}
				h.worker = workflow.NewWorker(engine, h.sent, dlq, nil)
				h.finish(time.Hour)

				st := assertEnded(t, h, "602", workflow.StatusFailed)
				if st.Step != n {
					t.Errorf("failed at step %d, want %d", st.Step, n)
				}
				// The panicking notification never reached the user; every other one did.
				want := slices.DeleteFunc(failedAt(n), func(s string) bool { return s == fmt.Sprintf("%d:processing", n) })
				assertSequence(t, h, "123", want)
				contains(t, "error", lastFailure(t, h, "123").Error, "could not be completed", "failed 5 times",
					"internal error", "send it again under a new transaction ID")
				assertNoDeadLetters(t, h)
				if n > 2 {
					assertUploads(t, h, 1)
				}
			})
		})
	}
}

// TestLostPollIsReplaced: the first poll message is lost (or
// dead-lettered); the sweeper sends the continuation again with the next
// sequence number and the workflow completes, each Oracle call made once.
func TestLostPollIsReplaced(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		h.sent.drop = func(body string) bool { return pollSeq(body) == 1 }
		h.sendFile("budget_transfer.json")
		h.drain()
		if st := h.state("602"); st.Status != workflow.StatusWaiting || st.PollSeq != 1 {
			t.Fatalf("after the lost poll: status %s poll %d; want waiting for poll 1", st.Status, st.PollSeq)
		}
		took := h.finish(time.Hour)
		assertEnded(t, h, "602", workflow.StatusSucceeded)
		assertSequence(t, h, "123", successSequence())
		assertUploads(t, h, 1)
		assertDefinitions(t, h, "InterfaceLoaderController", "BudgetImport")
		assertNoDeadLetters(t, h)
		t.Logf("completed %s of simulated time after the lost poll", took)
		// Due a poll interval plus the grace after it was sent, found by the next sweep.
		if limit := h.cfg.SweepGrace + h.sweepEvery + 10*time.Minute; took > limit {
			t.Errorf("took %s of simulated time to complete, want at most %s", took, limit)
		}
	})
}

// TestOracleDownPastDeadline: Oracle answers no status request for longer
// than the deadline, and the poll chain is lost too: the sweeper fails the
// workflow once the deadline has passed, within one sweep, saying why.
func TestOracleDownPastDeadline(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		const deadline = 10 * time.Minute
		h := newHarness(t, b, func(c *workflow.Config) { c.Deadline = deadline })
		h.sim.FailNext(oraclesim.OpJobStatus, oraclesim.HTTP503, 1000)
		h.sent.drop = func(body string) bool { return pollSeq(body) >= 2 }
		h.sendFile("budget_transfer.json")
		h.finish(3 * time.Hour)

		st := assertEnded(t, h, "602", workflow.StatusFailed)
		assertSequence(t, h, "123", withRetries(failedAt(3), 3, 1))
		contains(t, "error", lastFailure(t, h, "123").Error, "Oracle was unavailable: Interface Loader did not finish within 10m",
			"reading of the status of InterfaceLoaderController", "HTTP 503")
		assertDefinitions(t, h, "InterfaceLoaderController")
		started := st.Steps[len(st.Steps)-1].StartedAt
		t.Logf("failed %s after the step started", st.EndedAt.Sub(started))
		if late := st.EndedAt.Sub(started); late < deadline || late > deadline+h.sweepEvery {
			t.Errorf("failed %s after the step started; want within the deadline %s plus one sweep %s", late, deadline, h.sweepEvery)
		}
	})
}

// TestKilledBeforeCheckpointSweptInDoubt: the worker dies between
// Oracle's acceptance of a submission and its checkpoint, and every
// redelivery comes while the lease still runs, so the last one leaves the
// workflow to the sweeper: once the lease has expired, the sweeper fails it
// in doubt without calling Oracle again.
func TestKilledBeforeCheckpointSweptInDoubt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		h.step = 5 * time.Second
		h.afterOracle = crashOnce(workflow.OpSubmit, 3)
		h.sendFile("budget_transfer.json")
		h.drain()
		if st := h.state("602"); st.Status != workflow.StatusRunning || st.Pending == nil {
			t.Fatalf("after the redeliveries: status %s pending %+v; want running with the call pending", st.Status, st.Pending)
		}
		lease := h.state("602").Pending.LeaseUntil
		var swept workflow.SweepResult
		for h.clock.Now().Before(lease.Add(2 * h.sweepEvery)) {
			h.clock.Advance(h.sweepEvery)
			res := h.sweep()
			swept.Failed += res.Failed
			if res.Failed > 0 && h.clock.Now().Before(lease) {
				t.Fatalf("swept at %s, before the lease ended at %s", h.clock.Now(), lease)
			}
		}
		st := assertEnded(t, h, "602", workflow.StatusFailed)
		if swept.Failed != 1 || st.EndedAt.Before(lease) {
			t.Errorf("sweeps failed %d workflows, the last at %s; want 1, after the lease ended at %s", swept.Failed, st.EndedAt, lease)
		}
		assertDefinitions(t, h, "InterfaceLoaderController")
		if got := h.sim.Calls(oraclesim.OpSubmit); got != 1 {
			t.Errorf("submit calls = %d, want 1: a call in doubt is never made again", got)
		}
		assertSequence(t, h, "123", failedAt(3))
		contains(t, "error", lastFailure(t, h, "123").Error, "submission of InterfaceLoaderController", "in doubt",
			"not submitted again")
	})
}

// TestResendResumesStuckWorkflow: the poll is lost; the original message
// sent again before the workflow is overdue is a duplicate, after it
// resumes the workflow, which completes with one upload and one submission
// per job. A different payload stays a conflict.
func TestResendResumesStuckWorkflow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, func(c *workflow.Config) { c.SweepGrace = 10 * time.Minute })
		h.sent.drop = func(body string) bool { return pollSeq(body) == 1 }
		body := h.sendFile("budget_transfer.json")
		h.drain()
		h.step = 0
		stuck := h.state("602")
		if stuck.Status != workflow.StatusWaiting {
			t.Fatalf("status %s, want waiting", stuck.Status)
		}

		h.q.send(t, body) // not overdue yet: a duplicate
		h.drain()
		if st := h.state("602"); st.Version != stuck.Version {
			t.Fatalf("a duplicate before the workflow was overdue changed it: version %d -> %d", stuck.Version, st.Version)
		}

		h.clock.Set(stuck.DueAt)
		h.step = 2 * time.Minute
		h.q.send(t, strings.Replace(body, `"amount": -650`, `"amount": -651`, 1))
		h.q.send(t, body)
		h.drain()
		assertEnded(t, h, "602", workflow.StatusSucceeded)
		assertUploads(t, h, 1)
		assertDefinitions(t, h, "InterfaceLoaderController", "BudgetImport")
		if dl := h.q.deadLetters(t); len(dl) != 1 || !strings.Contains(dl[0].Reason, "different content") {
			t.Errorf("dead letters = %+v; want the conflicting message only", dl)
		}
		seq := h.inbox.sequence("123")
		if got := slices.DeleteFunc(slices.Clone(seq), func(s string) bool { return s == "failed" }); !slices.Equal(got, successSequence()) {
			t.Errorf("notifications = %v; want a success and the conflict's rejection", seq)
		}
	})
}

// TestTooLittleTimeLeftContinues: an invocation that started with enough
// time but has less left than Oracle's timeout plus the checkpoint reserve
// (60 s + 10 s) when it reaches an upload or a submission does not call
// Oracle: it hands the workflow on (the original message for the upload,
// the next poll for a submission) and the next invocation makes the call.
// Memory only: the deadline is in simulated time.
func TestTooLittleTimeLeftContinues(t *testing.T) {
	budget := 100 * time.Second
	tests := []struct {
		name string
		op   string
		step int
		// spend moves the clock on by 50 s within the invocation, before the step's call.
		spend func(h *harness)
	}{
		{name: "upload", op: oraclesim.OpUpload, step: 2, spend: func(h *harness) {
			var once sync.Once
			h.inbox.onNote = func(n notification.Notification) {
				if n.StepNumber == 2 && n.Status == notification.StatusProcessing {
					once.Do(func() { h.clock.Advance(50 * time.Second) })
				}
			}
		}},
		{name: "interface loader submit", op: oraclesim.OpSubmit, step: 3, spend: func(h *harness) {
			h.afterCheckpoint = func(op string, _ int) error {
				if op == workflow.OpUpload {
					h.clock.Advance(50 * time.Second)
				}
				return nil
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, memory)
			h.sendFile("budget_transfer.json")
			tt.spend(h)
			h.short.Store(&budget)
			if _, ok := h.batch(); !ok {
				t.Fatal("nothing to run")
			}
			if got := h.sim.Calls(tt.op); got != 0 {
				t.Fatalf("%d %s calls with 50 s left; want none", got, tt.op)
			}
			st := h.state("602")
			if st.Status != workflow.StatusRunning || st.Step != tt.step || st.Pending != nil {
				t.Fatalf("after the short invocation: status %s step %d pending %+v; want running at step %d, nothing pending",
					st.Status, st.Step, st.Pending, tt.step)
			}
			if h.sent.pollCount() != 1 || h.sent.delays[0] != 0 {
				t.Fatalf("continuations sent %v (delays %v); want one, without delay", h.sent.polls, h.sent.delays)
			}
			h.afterCheckpoint, h.inbox.onNote = nil, nil
			h.drain()
			assertEnded(t, h, "602", workflow.StatusSucceeded)
			assertSequence(t, h, "123", successSequence())
			assertUploads(t, h, 1)
			assertDefinitions(t, h, "InterfaceLoaderController", "BudgetImport")
		})
	}
}

// TestTooShortInvocationStillCalls: an invocation that has less than
// Oracle's timeout plus the reserve from its start (a function timeout too
// short for the configuration) would hand the workflow on for ever: it calls
// Oracle instead.
func TestTooShortInvocationStillCalls(t *testing.T) {
	h := newHarness(t, memory)
	h.sendFile("budget_transfer.json")
	short := 30 * time.Second
	h.short.Store(&short)
	h.batch()
	if got := h.sim.Calls(oraclesim.OpUpload); got != 1 {
		t.Fatalf("upload calls = %d, want 1", got)
	}
	h.drain()
	assertEnded(t, h, "602", workflow.StatusSucceeded)
	assertUploads(t, h, 1)
}
