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
			NextResumeAt: t0.Add(-time.Minute), Jobs: map[string]time.Time{"602": t0}}
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
	t.Run("breaker opens, one probe, closes, resumes spaced", func(t *testing.T) {
		clock := clocktest.New(t0)
		g := oraclegate.New(newStore(t), "a.example.com", oraclegate.Config{Threshold: 3, Window: 10 * time.Second,
			ProbeInterval: 30 * time.Second, ResumeSpacing: time.Second}, clock.Now, nil)
		for i := range 3 {
			if d, err := g.Admit(ctx, false); err != nil || !d.Allow || d.Probe || d.Open {
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
		d, err := g.Admit(ctx, false)
		if err != nil || d.Allow || !d.Open || d.Wait != 30*time.Second {
			t.Fatalf("admit after 3 refusals: %+v, %v; want open, to wait 30s", d, err)
		}
		clock.Advance(30 * time.Second)
		probe, err := g.Admit(ctx, true)
		if err != nil || !probe.Allow || !probe.Probe || !probe.Open {
			t.Fatalf("admit at the probe time: %+v, %v; want the probe", probe, err)
		}
		if other, _ := g.Admit(ctx, true); other.Allow {
			t.Fatalf("a second caller got %+v while the probe is out", other)
		}
		if open, err := g.Record(ctx, true, false); err != nil || !open { // Oracle still down
			t.Fatalf("Record of a refused probe: open %v, %v; want open", open, err)
		}
		if d, _ := g.Admit(ctx, true); d.Allow || d.Wait != 30*time.Second {
			t.Fatalf("after a failed probe: %+v; want to wait another 30s", d)
		}
		clock.Advance(30 * time.Second)
		if probe, _ = g.Admit(ctx, true); !probe.Probe {
			t.Fatalf("second probe: %+v", probe)
		}
		if open, err := g.Record(ctx, true, true); err != nil || open {
			t.Fatalf("Record of an accepted probe: open %v, %v; want closed", open, err)
		}
		var waits []time.Duration
		for range 3 {
			d, err := g.Admit(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			waits = append(waits, d.Wait)
		}
		if fmt.Sprint(waits) != "[0s 1s 2s]" {
			t.Errorf("resumed workflows wait %v, want [0s 1s 2s]", waits)
		}
		if d, _ := g.Admit(ctx, false); !d.Allow || d.Open {
			t.Errorf("a workflow that was not parked: %+v, want allowed, closed", d)
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
		if d, _ := g.Admit(ctx, false); !d.Allow {
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
// callers asking at once, exactly one gets the probe, and never more than
// MaxRunningJobs hold a slot.
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
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := oraclegate.New(store, "a", cfg, clock.Now, nil)
			d, err := g.Admit(ctx, true)
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
		}()
	}
	wg.Wait()
	if probes != 1 || slots != 3 {
		t.Errorf("%d concurrent callers: %d probes, %d slots; want 1 and 3", n, probes, slots)
	}
}
