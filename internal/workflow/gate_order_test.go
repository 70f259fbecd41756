package workflow_test

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/internal/workflow"
	"github.com/finance/fbdi-notify/internal/workflow/workflowtest"
)

// sendTransfer sends one budget transfer whose transaction id is id.
func sendTransfer(h *harness, id string) {
	h.tb.Helper()
	body, err := os.ReadFile("testdata/budget_transfer.json")
	if err != nil {
		h.tb.Fatal(err)
	}
	h.q.send(h.tb, strings.Replace(string(body), `"transaction_id": "602"`, `"transaction_id": "`+id+`"`, 1))
}

// TestParkedResumeOldestFirst: five transfers are parked behind the open
// breaker one after another (tx-1 first). When Oracle is back, a new
// transfer's call is the probe that closes the breaker, and the parked
// transfers' continuations come back newest first, all at once; yet their
// uploads happen oldest first, ResumeSpacing apart.
func TestParkedResumeOldestFirst(t *testing.T) {
	const spacing = 10 * time.Second
	h := newGatedHarness(t, backends()[0], &oraclegate.Config{Threshold: 1, ProbeInterval: 30 * time.Second,
		ResumeSpacing: spacing})
	h.timed(100 * time.Millisecond)

	type upload struct {
		file string
		at   time.Time
	}
	var uploads []upload // in the order Oracle accepted them
	h.mu.Lock()
	h.afterOracle = func(op string, _ int) error {
		if op == workflow.OpUpload {
			all := h.sim.Uploads()
			uploads = append(uploads, upload{file: all[len(all)-1].FileName, at: h.clock.Now()})
		}
		return nil
	}
	h.mu.Unlock()
	// While holding, the continuations the workers send are kept back
	// (drop runs under the sender's lock) instead of reaching the queue.
	var holding atomic.Bool
	var held []string
	h.sent.drop = func(body string) bool {
		if holding.Load() {
			held = append(held, body)
		}
		return holding.Load()
	}

	h.sim.SetDown(true)
	sendTransfer(h, "tx-1")
	h.drain() // its upload is refused: the breaker opens, and tx-1 retries after RetryBase
	holding.Store(true)
	h.clock.Advance(h.cfg.RetryBase)
	h.drain() // the retry finds the breaker open: tx-1 is parked
	parked := []string{"tx-1"}
	for _, id := range []string{"tx-2", "tx-3", "tx-4", "tx-5"} {
		sendTransfer(h, id)
		h.drain() // parked at once
		parked = append(parked, id)
	}
	holding.Store(false)
	if len(held) != len(parked) {
		t.Fatalf("continuations held: %d, want one per parked transfer: %d", len(held), len(parked))
	}
	var last time.Time
	for _, id := range parked {
		st := h.state(id)
		if !st.ParkedAt.After(last) {
			t.Fatalf("%s parked at %v, want after the one before (%v)", id, st.ParkedAt, last)
		}
		last = st.ParkedAt
	}

	h.sim.SetDown(false)
	h.clock.Advance(30 * time.Second) // the probe is due
	sendTransfer(h, "tx-probe")       // the first to ask: its call is the probe
	for i := len(held) - 1; i >= 0; i-- {
		h.q.send(t, held[i]) // newest first
	}
	h.finish(time.Hour)
	for _, id := range append(parked, "tx-probe") {
		assertEnded(t, h, id, workflow.StatusSucceeded)
	}

	if len(uploads) != len(parked)+1 || !strings.Contains(uploads[0].file, "tx-probe") {
		t.Fatalf("uploads %+v; want the probe's first, then one per parked transfer", uploads)
	}
	resumed := uploads[1:]
	for _, u := range uploads {
		t.Logf("upload %s at %s", u.file, u.at.Sub(t0))
	}
	for i, id := range parked {
		if !strings.Contains(resumed[i].file, "_"+id+".") {
			t.Errorf("upload %d after the probe is %s, want %s's: parked transfers resume oldest first",
				i+1, resumed[i].file, id)
		}
		if i == 0 {
			continue
		}
		if gap := resumed[i].at.Sub(resumed[i-1].at); gap < spacing || gap >= 2*spacing {
			t.Errorf("upload %d came %s after the one before, want ResumeSpacing (%s) apart", i+1, gap, spacing)
		}
	}
}

// TestParkTicketStored: the park ticket and ParkedAt survive a round-trip
// through each store (the DynamoDB one on moto_server).
func TestParkTicketStored(t *testing.T) {
	for _, tc := range []struct {
		name     string
		newStore func(t *testing.T, now func() time.Time) workflow.Store
	}{
		{name: "memory", newStore: func(_ *testing.T, now func() time.Time) workflow.Store {
			return workflow.NewMemoryStore(now)
		}},
		{name: "dynamodb", newStore: func(t *testing.T, now func() time.Time) workflow.Store {
			return workflow.NewDynamoStore(awstest.DynamoDB(t), newTable(t), now)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := tc.newStore(t, func() time.Time { return t0 })
			st := workflowtest.Sample("602", t0)
			st.ParkedAt, st.ParkTicket = t0.Add(-time.Minute), 42
			if err := s.Create(ctx, st); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, "602")
			if err != nil {
				t.Fatal(err)
			}
			if !got.ParkedAt.Equal(st.ParkedAt) || got.ParkTicket != 42 {
				t.Errorf("stored ParkedAt %v, ParkTicket %d; want %v, 42", got.ParkedAt, got.ParkTicket, st.ParkedAt)
			}
		})
	}
}
