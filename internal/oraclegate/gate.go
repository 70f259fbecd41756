// Package oraclegate keeps, for each Oracle instance, the state that all
// workers share: a circuit breaker that stops every workflow calling an
// Oracle that refuses calls (one probe at a time tests whether it is back),
// and the slots that bound the ESS jobs running in it at once. The state is
// one item per instance in a Store (DynamoDB deployed), changed only by
// conditional writes, so concurrent workers agree without a lock.
package oraclegate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"
)

// Errors of a Store.
var (
	// ErrNotFound is returned by Store.Get when the instance has no item yet.
	ErrNotFound = errors.New("oraclegate: not found")
	// ErrConflict is returned by Store.Put when the item changed since it was read.
	ErrConflict = errors.New("oraclegate: changed concurrently")
)

// State is the shared state of one Oracle instance.
type State struct {
	Instance string // key: the host of Oracle's base URL
	Version  int64  // 1 after the first Put, +1 each Put

	WindowStart time.Time // start of the window in which Refusals are counted
	Refusals    int       // calls Oracle did not accept since WindowStart
	OpenedAt    time.Time // when the breaker opened; zero while it is closed
	NextProbeAt time.Time // while open: when the next probe may go
	ProbeUntil  time.Time // while open: a probe is out until then (its lease)
	ClosedAt    time.Time // when the breaker last closed
	// NextResumeAt is the time the next workflow resumed after an outage
	// may call Oracle: each one takes it and pushes it by ResumeSpacing.
	NextResumeAt time.Time
	// Jobs holds the owners (transaction ids) of the job slots, with when
	// each took its slot.
	Jobs map[string]time.Time
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	c := *s
	c.Jobs = maps.Clone(s.Jobs)
	return &c
}

// Store keeps the State of each instance.
type Store interface {
	// Get returns the state of instance, or ErrNotFound.
	Get(ctx context.Context, instance string) (*State, error)
	// Put writes s if the stored version is s.Version (no item when it is
	// 0), and then increments s.Version; it returns ErrConflict otherwise.
	Put(ctx context.Context, s *State) error
}

// Config tunes a Gate. The zero value of every field selects its default.
type Config struct {
	Threshold     int           // refusals within Window that open the breaker; default 5
	Window        time.Duration // default 30s
	ProbeInterval time.Duration // how long the breaker stays open before a probe, and after a failed one; default 30s
	ProbeLease    time.Duration // how long a probe is given before another may go; default 2m
	ResumeSpacing time.Duration // between two workflows resuming after the breaker closed; default 1s
	// MaxRunningJobs bounds the ESS jobs running at once in the instance
	// (Acquire); 0 means no bound.
	MaxRunningJobs int
	// SlotTTL frees a job slot that was never released (its workflow
	// ended without releasing it); default 3h.
	SlotTTL time.Duration
}

// Defaults of Config.
const (
	DefaultThreshold     = 5
	DefaultWindow        = 30 * time.Second
	DefaultProbeInterval = 30 * time.Second
	DefaultProbeLease    = 2 * time.Minute
	DefaultResumeSpacing = time.Second
	DefaultSlotTTL       = 3 * time.Hour
)

func (c Config) withDefaults() Config {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Threshold <= 0 {
		c.Threshold = DefaultThreshold
	}
	set(&c.Window, DefaultWindow)
	set(&c.ProbeInterval, DefaultProbeInterval)
	set(&c.ProbeLease, DefaultProbeLease)
	set(&c.ResumeSpacing, DefaultResumeSpacing)
	set(&c.SlotTTL, DefaultSlotTTL)
	return c
}

// Gate is the breaker and the job slots of one Oracle instance. Safe for
// concurrent use, in one process or many: every change is a conditional
// write, retried on a conflict.
type Gate struct {
	store    Store
	instance string
	cfg      Config
	now      func() time.Time
	log      *slog.Logger
}

// New returns the Gate of instance (the host of Oracle's base URL) over
// store. now is the clock (nil: time.Now); a nil logger discards.
func New(store Store, instance string, cfg Config, now func() time.Time, log *slog.Logger) *Gate {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Gate{store: store, instance: instance, cfg: cfg.withDefaults(), now: now, log: log}
}

// Decision is the answer of Admit.
type Decision struct {
	Allow bool          // the call may go now
	Probe bool          // it is the probe of an open breaker: report its outcome with Record
	Wait  time.Duration // when not allowed: how long to wait before asking again
	// Reserved is set when a resumed caller was given a later resume slot:
	// it calls Admit again after Wait with resumed false, and may go.
	Reserved bool
	// Open is set when the breaker is open: the call is its probe, or
	// waits (the BreakerOpen metric).
	Open bool
}

// maxConflicts bounds the re-reads of one change.
const maxConflicts = 10

// update applies change to the instance's state and writes it when change
// reports a change, re-reading after a conflict.
func (g *Gate) update(ctx context.Context, change func(s *State) bool) error {
	for range maxConflicts {
		s, err := g.store.Get(ctx, g.instance)
		switch {
		case errors.Is(err, ErrNotFound):
			s = &State{Instance: g.instance}
		case err != nil:
			return fmt.Errorf("oraclegate: %s: %w", g.instance, err)
		}
		if !change(s) {
			return nil
		}
		err = g.store.Put(ctx, s)
		if !errors.Is(err, ErrConflict) {
			if err != nil {
				return fmt.Errorf("oraclegate: %s: %w", g.instance, err)
			}
			return nil
		}
	}
	return fmt.Errorf("oraclegate: %s: %w", g.instance, ErrConflict)
}

// Admit says whether a call to Oracle may go now. While the breaker is
// closed it may; but resumed (the caller waited for an open breaker) takes
// the next resume slot, so that workflows parked during an outage come back
// ResumeSpacing apart, in the order they ask (Reserved: come back after
// Wait, not resumed). While it is open, one caller at a time is granted
// the probe once NextProbeAt has come; the others wait.
func (g *Gate) Admit(ctx context.Context, resumed bool) (Decision, error) {
	var d Decision
	err := g.update(ctx, func(s *State) bool {
		now := g.now()
		d = Decision{}
		if s.OpenedAt.IsZero() {
			if !resumed {
				d.Allow = true
				return false
			}
			slot := later(now, s.NextResumeAt)
			s.NextResumeAt = slot.Add(g.cfg.ResumeSpacing)
			if d.Wait = slot.Sub(now); d.Wait <= 0 {
				d.Wait, d.Allow = 0, true
			} else {
				d.Reserved = true
			}
			return true
		}
		d.Open = true
		if now.Before(s.NextProbeAt) || now.Before(s.ProbeUntil) {
			d.Wait = later(s.NextProbeAt, s.ProbeUntil).Sub(now)
			return false
		}
		s.ProbeUntil = now.Add(g.cfg.ProbeLease)
		d.Allow, d.Probe = true, true
		return true
	})
	return d, err
}

// Record reports the outcome of an admitted call: accepted, or not
// accepted by Oracle (refused, unavailable). A refusal counts towards
// Threshold within Window; reaching it opens the breaker. The probe's
// outcome closes the breaker or keeps it open for another ProbeInterval.
// An accepted call while the breaker is open closes it too. It returns
// whether the breaker is open once the outcome is counted (false with an
// error).
func (g *Gate) Record(ctx context.Context, probe, accepted bool) (isOpen bool, err error) {
	var opened, closed bool
	err = g.update(ctx, func(s *State) bool {
		now := g.now()
		opened, closed = false, false
		open := !s.OpenedAt.IsZero()
		isOpen = open && !accepted
		switch {
		case accepted && open:
			s.OpenedAt, s.NextProbeAt, s.ProbeUntil, s.ClosedAt = time.Time{}, time.Time{}, time.Time{}, now
			s.Refusals, s.WindowStart, s.NextResumeAt = 0, time.Time{}, now
			closed = true
			return true
		case accepted:
			return false
		case open && probe:
			s.NextProbeAt, s.ProbeUntil = now.Add(g.cfg.ProbeInterval), time.Time{}
			return true
		case open:
			return false // a call admitted before the breaker opened
		}
		if s.WindowStart.IsZero() || now.Sub(s.WindowStart) > g.cfg.Window {
			s.WindowStart, s.Refusals = now, 0
		}
		s.Refusals++
		if s.Refusals >= g.cfg.Threshold {
			s.OpenedAt, s.NextProbeAt, s.ProbeUntil = now, now.Add(g.cfg.ProbeInterval), time.Time{}
			opened, isOpen = true, true
		}
		return true
	})
	switch {
	case err != nil:
		return false, err
	case opened:
		g.log.Warn("breaker opened", "oracle_instance", g.instance, "threshold", g.cfg.Threshold,
			"window", g.cfg.Window.String())
	case closed:
		g.log.Info("breaker closed", "oracle_instance", g.instance)
	}
	return isOpen, nil
}

// Acquire takes a job slot for owner (a transaction id), and reports
// whether it has one: true at once if it already holds one or no bound is
// configured; false when MaxRunningJobs slots are taken. A slot older than
// SlotTTL is freed first.
func (g *Gate) Acquire(ctx context.Context, owner string) (bool, error) {
	if g.cfg.MaxRunningJobs <= 0 {
		return true, nil
	}
	var ok bool
	err := g.update(ctx, func(s *State) bool {
		now := g.now()
		ok = false
		if _, held := s.Jobs[owner]; held {
			ok = true
			return false
		}
		for o, since := range s.Jobs {
			if now.Sub(since) > g.cfg.SlotTTL {
				delete(s.Jobs, o)
			}
		}
		if len(s.Jobs) >= g.cfg.MaxRunningJobs {
			return false
		}
		if s.Jobs == nil {
			s.Jobs = map[string]time.Time{}
		}
		s.Jobs[owner], ok = now, true
		return true
	})
	return ok, err
}

// Release frees owner's job slot, if it holds one.
func (g *Gate) Release(ctx context.Context, owner string) error {
	if g.cfg.MaxRunningJobs <= 0 {
		return nil
	}
	return g.update(ctx, func(s *State) bool {
		if _, held := s.Jobs[owner]; !held {
			return false
		}
		delete(s.Jobs, owner)
		return true
	})
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
