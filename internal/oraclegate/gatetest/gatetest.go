// Package gatetest is the contract suite of oraclegate.Store: every
// implementation runs the same tests (Run), and the ones that must apply
// concurrent writes atomically also RunConcurrent.
package gatetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
)

// NewStore returns an empty store.
type NewStore func(t *testing.T) oraclegate.Store

var t0 = time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)

// Run runs the contract tests against the stores newStore returns.
func Run(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	t.Run("put and get round-trip, conditional on the version", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Get(ctx, "a.example.com"); !errors.Is(err, oraclegate.ErrNotFound) {
			t.Fatalf("get before put: %v, want ErrNotFound", err)
		}
		st := &oraclegate.State{Instance: "a.example.com", WindowStart: t0, Refusals: 2, OpenedAt: t0.Add(time.Second),
			NextProbeAt: t0.Add(31 * time.Second), ProbeUntil: t0.Add(time.Minute), ClosedAt: t0.Add(-time.Hour),
			NextTicket: 7, FirstTicket: 3, Jobs: map[string]time.Time{"602": t0}}
		if err := s.Put(ctx, st); err != nil || st.Version != 1 {
			t.Fatalf("put: %v, version %d; want nil, 1", err, st.Version)
		}
		got, err := s.Get(ctx, "a.example.com")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(st) {
			t.Errorf("got %+v\nwant %+v", got, st)
		}
		stale := got.Clone()
		got.Refusals = 3
		if err := s.Put(ctx, got); err != nil || got.Version != 2 {
			t.Fatalf("second put: %v, version %d", err, got.Version)
		}
		if err := s.Put(ctx, stale); !errors.Is(err, oraclegate.ErrConflict) {
			t.Errorf("put of a stale version: %v, want ErrConflict", err)
		}
		if err := s.Put(ctx, &oraclegate.State{Instance: "a.example.com"}); !errors.Is(err, oraclegate.ErrConflict) {
			t.Errorf("put of a new item over an existing one: %v, want ErrConflict", err)
		}
		if _, err := s.Get(ctx, "b.example.com"); !errors.Is(err, oraclegate.ErrNotFound) {
			t.Errorf("another instance: %v, want ErrNotFound", err)
		}
	})
	t.Run("breaker opens, one probe, closes", func(t *testing.T) {
		clock := clocktest.New(t0)
		g := oraclegate.New(newStore(t), "a.example.com", oraclegate.Config{Threshold: 3, Window: 10 * time.Second,
			ProbeInterval: 30 * time.Second, ResumeSpacing: time.Second}, clock.Now, nil)
		for i := range 3 {
			if d, err := g.Admit(ctx, 0); err != nil || !d.Allow || d.Probe || d.Open || d.Ticket != 0 {
				t.Fatalf("admit %d while closed: %+v, %v", i, d, err)
			}
			open, err := g.Record(ctx, false, false)
			if err != nil {
				t.Fatal(err)
			}
			if want := i == 2; open != want { // the third refusal opens it
				t.Fatalf("Record of refusal %d: open %v, want %v", i+1, open, want)
			}
		}
		d, err := g.Admit(ctx, 0)
		if err != nil || d.Allow || !d.Open || d.Wait != 30*time.Second || d.Ticket != 1 {
			t.Fatalf("admit after 3 refusals: %+v, %v; want open, to wait 30s, ticket 1", d, err)
		}
		clock.Advance(30 * time.Second)
		probe, err := g.Admit(ctx, 1)
		if err != nil || !probe.Allow || !probe.Probe || !probe.Open || probe.Ticket != 0 {
			t.Fatalf("admit at the probe time: %+v, %v; want the probe", probe, err)
		}
		if other, _ := g.Admit(ctx, 0); other.Allow || other.Ticket != 2 {
			t.Fatalf("a second caller got %+v while the probe is out; want to wait, ticket 2", other)
		}
		if open, err := g.Record(ctx, true, false); err != nil || !open { // Oracle still down
			t.Fatalf("Record of a refused probe: open %v, %v; want open", open, err)
		}
		if d, _ := g.Admit(ctx, 2); d.Allow || d.Wait != 30*time.Second || d.Ticket != 0 {
			t.Fatalf("after a failed probe: %+v; want to wait another 30s, no new ticket", d)
		}
		clock.Advance(30 * time.Second)
		if probe, _ = g.Admit(ctx, 1); !probe.Probe {
			t.Fatalf("second probe: %+v", probe)
		}
		if open, err := g.Record(ctx, true, true); err != nil || open {
			t.Fatalf("Record of an accepted probe: open %v, %v; want closed", open, err)
		}
		if d, _ := g.Admit(ctx, 0); !d.Allow || d.Open || d.Reserved {
			t.Errorf("a workflow that was not parked: %+v, want allowed, closed", d)
		}
	})
	t.Run("parked workflows resume oldest first, ResumeSpacing apart, whatever the order they ask", func(t *testing.T) {
		clock := clocktest.New(t0)
		g := oraclegate.New(newStore(t), "a.example.com", oraclegate.Config{Threshold: 1,
			ProbeInterval: 30 * time.Second, ResumeSpacing: 2 * time.Second}, clock.Now, nil)
		if open, err := g.Record(ctx, false, false); err != nil || !open {
			t.Fatalf("Record of a refusal: open %v, %v; want open", open, err)
		}
		var tickets []int64
		for range 5 {
			d, err := g.Admit(ctx, 0)
			if err != nil || d.Allow || !d.Open {
				t.Fatalf("admit while open: %+v, %v; want to wait", d, err)
			}
			tickets = append(tickets, d.Ticket)
			clock.Advance(time.Second)
		}
		if fmt.Sprint(tickets) != "[1 2 3 4 5]" {
			t.Fatalf("tickets of 5 workflows parked in turn: %v, want [1 2 3 4 5]", tickets)
		}
		clock.Advance(30 * time.Second)
		if d, _ := g.Admit(ctx, 0); !d.Probe { // a workflow that was not parked
			t.Fatalf("admit at the probe time: %+v, want the probe", d)
		}
		if open, err := g.Record(ctx, true, true); err != nil || open {
			t.Fatalf("Record of an accepted probe: open %v, %v; want closed", open, err)
		}
		type ask struct {
			ticket int64
			after  time.Duration // clock advance before asking
			wait   time.Duration // want; 0: allowed
		}
		for _, a := range []ask{
			{ticket: 5, wait: 8 * time.Second}, // they ask newest first
			{ticket: 4, wait: 6 * time.Second},
			{ticket: 3, wait: 4 * time.Second},
			{ticket: 2, wait: 2 * time.Second},
			{ticket: 1},
			{ticket: 0},  // not parked: not delayed
			{ticket: 99}, // not a ticket of this item: not delayed
			{ticket: 3, after: 3 * time.Second, wait: time.Second}, // its slot is at 4s
			{ticket: 2},                          // late for its slot (2s): goes
			{ticket: 3, after: time.Second},      // at its slot
			{ticket: 5, after: 10 * time.Second}, // long after
		} {
			clock.Advance(a.after)
			d, err := g.Admit(ctx, a.ticket)
			if err != nil {
				t.Fatal(err)
			}
			want := oraclegate.Decision{Allow: a.wait == 0, Wait: a.wait, Reserved: a.wait != 0}
			if d != want {
				t.Errorf("ticket %d asking %s after the close: %+v, want %+v", a.ticket,
					clock.Now().Sub(t0.Add(35*time.Second)), d, want)
			}
		}
	})
	t.Run("a second outage while the first's parked workflows resume: theirs keep their turn", func(t *testing.T) {
		clock := clocktest.New(t0)
		g := oraclegate.New(newStore(t), "a.example.com", oraclegate.Config{Threshold: 1,
			ProbeInterval: 30 * time.Second, ResumeSpacing: 10 * time.Second}, clock.Now, nil)
		admit := func(ticket int64) oraclegate.Decision {
			t.Helper()
			d, err := g.Admit(ctx, ticket)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		g.Record(ctx, false, false) //nolint:errcheck // opens
		for range 4 {
			admit(0) // tickets 1..4
		}
		clock.Advance(30 * time.Second)
		admit(0)                  // the probe
		g.Record(ctx, true, true) //nolint:errcheck // closes at C: slots of 1..4 at C, C+10s, C+20s, C+30s
		clock.Advance(15 * time.Second)
		if open, _ := g.Record(ctx, false, false); !open {
			t.Fatal("a refusal did not open the breaker again")
		}
		if d := admit(3); d.Allow || !d.Open || d.Ticket != 0 {
			t.Fatalf("ticket 3 during the second outage: %+v; want to wait, keeping its ticket", d)
		}
		if d := admit(0); d.Ticket != 5 {
			t.Fatalf("the first parked in the second outage: %+v, want ticket 5", d)
		}
		clock.Advance(30 * time.Second)
		admit(0)                  // the probe
		g.Record(ctx, true, true) //nolint:errcheck // closes at C2
		for _, tc := range []struct {
			ticket int64
			wait   time.Duration // want; 0: allowed
		}{
			{5, 20 * time.Second}, // after 3 and 4, whose turns had not come
			{4, 10 * time.Second},
			{3, 0},
			{2, 0}, // its turn came during the first resume: it goes
		} {
			if d := admit(tc.ticket); d.Wait != tc.wait || d.Allow != (tc.wait == 0) {
				t.Errorf("ticket %d after the second outage: %+v, want to wait %s", tc.ticket, d, tc.wait)
			}
		}
	})
	t.Run("refusals outside the window do not open", func(t *testing.T) {
		clock := clocktest.New(t0)
		g := oraclegate.New(newStore(t), "a.example.com", oraclegate.Config{Threshold: 2, Window: 10 * time.Second},
			clock.Now, nil)
		for range 3 {
			if open, err := g.Record(ctx, false, false); err != nil || open {
				t.Fatalf("Record: open %v, %v; want closed", open, err)
			}
			clock.Advance(11 * time.Second)
		}
		if d, _ := g.Admit(ctx, 0); !d.Allow {
			t.Errorf("after refusals 11s apart: %+v, want allowed", d)
		}
	})
	t.Run("job slots", func(t *testing.T) {
		clock := clocktest.New(t0)
		g := oraclegate.New(newStore(t), "a.example.com", oraclegate.Config{MaxRunningJobs: 2, SlotTTL: time.Hour},
			clock.Now, nil)
		for _, tc := range []struct {
			owner string
			want  bool
		}{{"1", true}, {"2", true}, {"1", true}, {"3", false}} {
			if ok, err := g.Acquire(ctx, tc.owner); err != nil || ok != tc.want {
				t.Fatalf("acquire %s: %v, %v; want %v", tc.owner, ok, err, tc.want)
			}
		}
		if err := g.Release(ctx, "1"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := g.Acquire(ctx, "3"); !ok {
			t.Fatal("acquire 3 after 1 released: no slot")
		}
		clock.Advance(2 * time.Hour) // 2 and 3 never released
		if ok, _ := g.Acquire(ctx, "4"); !ok {
			t.Fatal("acquire after the slots' TTL: no slot")
		}
	})
}

// RunConcurrent checks that concurrent gates over one store agree: of many
// callers asking at once, exactly one gets the probe, the others each get a
// park ticket of their own, and never more than MaxRunningJobs hold a slot.
func RunConcurrent(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	store := newStore(t)
	clock := clocktest.New(t0)
	cfg := oraclegate.Config{Threshold: 1, ProbeInterval: time.Second, MaxRunningJobs: 3}
	oraclegate.New(store, "a", cfg, clock.Now, nil).Record(ctx, false, false) //nolint:errcheck
	clock.Advance(time.Second)
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	probes, slots := 0, 0
	tickets := map[int64]bool{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := oraclegate.New(store, "a", cfg, clock.Now, nil)
			d, err := g.Admit(ctx, 0)
			ok, aerr := g.Acquire(ctx, fmt.Sprint(i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil || aerr != nil {
				t.Errorf("admit: %v; acquire: %v", err, aerr)
			}
			if d.Probe {
				probes++
			}
			if ok {
				slots++
			}
			if d.Ticket != 0 {
				tickets[d.Ticket] = true
			}
		}()
	}
	wg.Wait()
	if probes != 1 || slots != 3 {
		t.Errorf("%d concurrent callers: %d probes, %d slots; want 1 and 3", n, probes, slots)
	}
	for i := int64(1); i < n; i++ {
		if !tickets[i] {
			t.Errorf("%d concurrent callers: tickets %v, want each of 1..%d once", n, tickets, n-1)
			break
		}
	}
}
