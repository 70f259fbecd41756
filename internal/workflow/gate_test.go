package workflow_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// sendTransfers sends n budget transfers, transaction ids tx-1 .. tx-n, and
// returns their ids.
func sendTransfers(h *harness, n int) []string {
	h.tb.Helper()
	body, err := os.ReadFile("testdata/budget_transfer.json")
	if err != nil {
		h.tb.Fatal(err)
	}
	var ids []string
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("tx-%d", i)
		h.q.send(h.tb, strings.Replace(string(body), `"transaction_id": "602"`, `"transaction_id": "`+id+`"`, 1))
		ids = append(ids, id)
	}
	return ids
}

// deployedTimings is the deployed configuration's timing (template.yaml):
// polls every 10 s, retries from 5 s up to 60 s, 10 attempts per step.
func deployedTimings(c *workflow.Config) {
	c.PollInterval = 10 * time.Second
}

// outage runs 20 transfers against an Oracle that is down for everyone for
// 2 minutes, then back; it returns the requests Oracle received during the
// outage, and checks that every transfer then completes with one upload.
func outage(t *testing.T, gcfg *oraclegate.Config) int {
	h := newGatedHarness(t, backends()[0], gcfg, deployedTimings)
	h.timed(100 * time.Millisecond)
	h.sim.SetDown(true)
	ids := sendTransfers(h, 20)
	h.runFor(2 * time.Minute)
	during := h.sim.Requests()
	h.sim.SetDown(false)
	took := h.finish(time.Hour)
	for _, id := range ids {
		assertEnded(t, h, id, workflow.StatusSucceeded)
	}
	if n := len(h.sim.Uploads()); n != len(ids) {
		t.Errorf("uploads = %d, want one per transfer: %d", n, len(ids))
	}
	t.Logf("Oracle requests during the 2-minute outage with 20 transfers waiting: %d; all completed %s after it ended",
		during, took)
	return during
}

// TestOutageWithoutBreaker measures the baseline: each workflow retries on
// its own with backoff.
func TestOutageWithoutBreaker(t *testing.T) {
	if n := outage(t, nil); n < 20*3 {
		t.Errorf("without the breaker Oracle got %d requests; want at least 3 tries of each of 20 workflows", n)
	}
}

// TestOutageOpensBreaker: Oracle down for everyone for 2 minutes with 20
// transfers waiting. The breaker opens after 5 refusals; the workflows park
// (not failed) and Oracle sees one probe per 30 s interval instead of a
// retry per workflow; when it is back, every parked workflow completes.
func TestOutageOpensBreaker(t *testing.T) {
	cfg := oraclegate.Config{Threshold: 5, Window: 30 * time.Second, ProbeInterval: 30 * time.Second,
		ResumeSpacing: time.Second}
	n := outage(t, &cfg)
	// 5 refusals open it, then at most one probe per interval (plus one at the boundary).
	if max := 5 + int(2*time.Minute/cfg.ProbeInterval) + 1; n > max {
		t.Errorf("with the breaker Oracle got %d requests during the outage, want at most %d", n, max)
	}
}

// TestBurstBoundedByJobSlots: a burst of 50 transfers never has more than
// the configured 3 jobs running in Oracle at once, and all complete.
func TestBurstBoundedByJobSlots(t *testing.T) {
	const slots = 3
	h := newGatedHarness(t, backends()[0], &oraclegate.Config{MaxRunningJobs: slots}, func(c *workflow.Config) {
		c.PollInterval = time.Second
	})
	h.timed(100 * time.Millisecond)
	ids := sendTransfers(h, 50)
	h.finish(3 * time.Hour)
	for _, id := range ids {
		assertEnded(t, h, id, workflow.StatusSucceeded)
	}
	got := h.sim.MaxConcurrentJobs()
	t.Logf("most jobs running in Oracle at once: %d (slots %d), %d submissions", got, slots, len(h.sim.Submissions()))
	if got > slots || got == 0 {
		t.Errorf("most jobs running at once = %d, want between 1 and %d", got, slots)
	}
}

// TestParkedPastDeadlineFails: Oracle never comes back; a workflow parked
// behind the open breaker fails at its step's deadline, saying Oracle was
// unavailable, and was told once that it waits.
func TestParkedPastDeadlineFails(t *testing.T) {
	h := newGatedHarness(t, backends()[0], &oraclegate.Config{Threshold: 1, ProbeInterval: 30 * time.Second},
		func(c *workflow.Config) { c.Deadline = 5 * time.Minute })
	h.timed(100 * time.Millisecond)
	h.sim.SetDown(true)
	ids := sendTransfers(h, 3)
	h.finish(time.Hour)
	for _, id := range ids {
		st := assertEnded(t, h, id, workflow.StatusFailed)
		contains(t, "error", st.Error, "Oracle was unavailable")
	}
	parked := 0
	for _, n := range retryNotes(h, "123") {
		if strings.Contains(n.Message, "waits for it to come back") {
			parked++
		}
	}
	if parked == 0 || parked > len(ids) {
		t.Errorf("notices of a parked transfer = %d, want one per parked transfer (at most %d)", parked, len(ids))
	}
}

// TestSweptWorkflowGivesBackItsJobSlot: with one job slot, a transfer whose
// polls are all lost is failed at its deadline by the sweeper, which gives
// the slot back: a transfer sent afterwards runs, instead of waiting for the
// slot to expire (hours) and failing at its own deadline as "Oracle was busy".
func TestSweptWorkflowGivesBackItsJobSlot(t *testing.T) {
	h := newGatedHarness(t, backends()[0], &oraclegate.Config{MaxRunningJobs: 1}, func(c *workflow.Config) {
		c.PollInterval = time.Second
		c.Deadline = 10 * time.Minute
	})
	h.timed(100 * time.Millisecond)
	h.sent.drop = func(body string) bool {
		return pollSeq(body) >= 1 && strings.Contains(body, `"transaction_id":"tx-1"`)
	}
	first := sendTransfers(h, 1)[0]
	h.finish(time.Hour)
	st := assertEnded(t, h, first, workflow.StatusFailed)
	contains(t, "error", st.Error, "within 10m")

	body, err := os.ReadFile("testdata/budget_transfer.json")
	if err != nil {
		t.Fatal(err)
	}
	h.q.send(t, strings.Replace(string(body), `"transaction_id": "602"`, `"transaction_id": "tx-2"`, 1))
	h.finish(time.Hour)
	if st := h.state("tx-2"); st.Status != workflow.StatusSucceeded {
		t.Errorf("the transfer sent after the swept one: %s (%s); want it to get the freed slot", st.Status, st.Error)
	}
}
