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
	// NextTicket is the last park ticket handed out (0: none yet). Tickets
	// number the workflows parked behind the open breaker in the order they
	// were parked, across outages.
	NextTicket int64
	// FirstTicket is the ticket that resumes first after the breaker closes:
	// set when it opens, to the first ticket of that outage, or to an
	// earlier one whose resume slot had not come yet (see Admit).
	FirstTicket int64
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
	// Ticket, when not 0, is the park ticket handed to a caller that had
	// none and must wait for the open breaker: it keeps it and passes it to
	// Admit until it is allowed.
	Ticket int64
	// Reserved is set when the breaker is closed but the caller's ticket
	// resumes later: it asks again after Wait, with its ticket, and goes.
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

// Admit says whether a call to Oracle may go now; ticket is the caller's
// park ticket, 0 when it has none.
//
// While the breaker is open, one caller at a time is granted the probe once
// NextProbeAt has come; the others wait, and a caller without a ticket is
// handed the next one (Decision.Ticket, one conditional write): tickets
// number the parked workflows oldest first.
//
// While it is closed, a caller without a ticket goes. After an outage the
// parked workflows resume oldest first, ResumeSpacing apart, whatever the
// order in which they ask: ticket t has the slot ClosedAt + (t -
// FirstTicket) × ResumeSpacing; before it, the caller waits for it
// (Reserved), from it on, it goes. A ticket older than FirstTicket (whose
// turn came before the breaker last opened) goes at once. Resuming writes
// nothing.
func (g *Gate) Admit(ctx context.Context, ticket int64) (Decision, error) {
	var d Decision
	err := g.update(ctx, func(s *State) bool {
		now := g.now()
		d = Decision{}
		if s.OpenedAt.IsZero() {
			d.Allow = true
			if ticket == 0 || ticket < s.FirstTicket || ticket > s.NextTicket { // none, an older one, an unknown one
				return false
			}
			slot := s.ClosedAt.Add(time.Duration(ticket-s.FirstTicket) * g.cfg.ResumeSpacing)
			if slot.After(now) {
				d = Decision{Wait: slot.Sub(now), Reserved: true}
			}
			return false
		}
		d.Open = true
		if now.Before(s.NextProbeAt) || now.Before(s.ProbeUntil) {
			d.Wait = later(s.NextProbeAt, s.ProbeUntil).Sub(now)
			if ticket != 0 {
				return false
			}
			s.NextTicket++
			d.Ticket = s.NextTicket
			return true
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
			s.Refusals, s.WindowStart = 0, time.Time{}
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
			s.FirstTicket = g.firstTicket(s, now)
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

// firstTicket returns the ticket that resumes first after the outage that
// opens now: the first one not yet handed out, or, when the workflows
// parked through the last outage were still resuming, the first of them
// whose slot has not come. So they keep their turn, before this outage's.
func (g *Gate) firstTicket(s *State, now time.Time) int64 {
	next := s.NextTicket + 1
	if s.FirstTicket == 0 || s.ClosedAt.IsZero() {
		return next
	}
	came := max(int64(now.Sub(s.ClosedAt)/g.cfg.ResumeSpacing)+1, 0) // the slots at ClosedAt, +spacing, ... up to now
	return min(next, s.FirstTicket+came)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
