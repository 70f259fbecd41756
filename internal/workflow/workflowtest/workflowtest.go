// Package workflowtest is the contract that every workflow.Store
// implementation must meet. Each implementation's tests call Run; a store
// that applies conditional writes atomically itself (MemoryStore) also calls
// RunConcurrentUpdates.
package workflowtest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/testing/clocktest"
	"github.com/finance/fbdi-notify/internal/workflow"
)

var t0 = time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)

// Sample returns a workflow with every field set, expiring a day after now.
func Sample(id string, now time.Time) *workflow.State {
	return &workflow.State{
		TransactionID: id, UserID: "123", Kind: workflow.KindBudgetTransfer, Fingerprint: "f1",
		Status: workflow.StatusWaiting, Step: 3, PollSeq: 2, Deadline: now.Add(2 * time.Hour),
		ParkedAt: now.Add(-time.Minute), ParkTicket: 42,
		Pending:    &workflow.Pending{Op: workflow.OpSubmit, Step: 3, Since: now, LeaseUntil: now.Add(time.Minute)},
		DocumentID: "900001",
		Plan: workflow.Plan{Account: "fin$/budgetaryControl$/import$", FileName: "XccBudgetInterface_602.zip",
			Jobs: []workflow.PlannedJob{{Step: 3, Job: workflow.JobSpec{Package: "/p/", Definition: "D",
				Params: "{interface_options_id},{document_id},N,N"}}},
			Vars: map[string]string{"interface_options_id": "51", "source_budget": "MIC, HQ"}},
		Steps: []workflow.StepLog{
			{Number: 1, Name: workflow.StepPreparingData, Status: "completed", Message: "2 lines",
				StartedAt: now, EndedAt: now.Add(time.Second)},
			{Number: 3, Name: workflow.StepInterfaceLoader, Status: "processing", RequestID: "14557",
				DocumentID: "900001", StartedAt: now.Add(2 * time.Second)},
		},
		Error: "", Invalid: true, Notified: true,
		Rejections: []workflow.Rejection{{At: now, MessageID: "m-2", Fingerprint: "f2", Reason: "conflict"}},
		CreatedAt:  now, UpdatedAt: now.Add(3 * time.Second), EndedAt: now.Add(4 * time.Second),
		ExpiresAt: now.Add(24 * time.Hour),
	}
}

// Run checks that the stores newStore returns meet the workflow.Store
// contract. newStore must return an empty store whose clock is now; Run calls
// it once per subtest.
func Run(t *testing.T, newStore func(t *testing.T, now func() time.Time) workflow.Store) {
	ctx := context.Background()
	setup := func(t *testing.T) (workflow.Store, *clocktest.Clock) {
		clock := clocktest.New(t0)
		return newStore(t, clock.Now), clock
	}

	t.Run("GetMissing", func(t *testing.T) {
		s, _ := setup(t)
		if _, err := s.Get(ctx, "nope"); !errors.Is(err, workflow.ErrNotFound) {
			t.Fatalf("Get = %v, want ErrNotFound", err)
		}
	})

	// Create then Get round-trips every field.
	t.Run("CreateThenGet", func(t *testing.T) {
		s, _ := setup(t)
		want := Sample("602", t0)
		if err := s.Create(ctx, want); err != nil {
			t.Fatal(err)
		}
		if want.Version != 1 {
			t.Fatalf("Create set Version %d, want 1", want.Version)
		}
		got, err := s.Get(ctx, "602")
		if err != nil {
			t.Fatal(err)
		}
		assertEqual(t, got, want)
	})

	// A second Create of one ID fails and leaves the first.
	t.Run("CreateTwice", func(t *testing.T) {
		s, _ := setup(t)
		if err := s.Create(ctx, Sample("602", t0)); err != nil {
			t.Fatal(err)
		}
		other := Sample("602", t0)
		other.UserID = "999"
		if err := s.Create(ctx, other); !errors.Is(err, workflow.ErrExists) {
			t.Fatalf("second Create = %v, want ErrExists", err)
		}
		got, err := s.Get(ctx, "602")
		if err != nil {
			t.Fatal(err)
		}
		if got.UserID != "123" {
			t.Fatalf("second Create overwrote the item: user %q", got.UserID)
		}
	})

	t.Run("UpdateWithVersionRead", func(t *testing.T) {
		s, _ := setup(t)
		st := Sample("602", t0)
		if err := s.Create(ctx, st); err != nil {
			t.Fatal(err)
		}
		read, err := s.Get(ctx, "602")
		if err != nil {
			t.Fatal(err)
		}
		read.Status = workflow.StatusFailed
		read.Pending = nil
		read.Error = "Oracle job 14557 ended in ERROR"
		read.Steps = append(read.Steps, workflow.StepLog{Number: 4, Name: workflow.StepBudgetImport, Status: "failed"})
		if err := s.Update(ctx, read); err != nil {
			t.Fatal(err)
		}
		if read.Version != 2 {
			t.Fatalf("Update left Version %d, want 2", read.Version)
		}
		got, err := s.Get(ctx, "602")
		if err != nil {
			t.Fatal(err)
		}
		assertEqual(t, got, read)
	})

	// An Update with a stale version changes nothing.
	t.Run("UpdateStaleVersion", func(t *testing.T) {
		s, _ := setup(t)
		if err := s.Create(ctx, Sample("602", t0)); err != nil {
			t.Fatal(err)
		}
		a, _ := s.Get(ctx, "602")
		b, _ := s.Get(ctx, "602")
		a.PollSeq = 3
		if err := s.Update(ctx, a); err != nil {
			t.Fatal(err)
		}
		b.PollSeq = 99
		if err := s.Update(ctx, b); !errors.Is(err, workflow.ErrVersion) {
			t.Fatalf("stale Update = %v, want ErrVersion", err)
		}
		if b.Version != 1 {
			t.Fatalf("failed Update changed Version to %d", b.Version)
		}
		got, _ := s.Get(ctx, "602")
		if got.PollSeq != 3 || got.Version != 2 {
			t.Fatalf("after stale Update: pollSeq %d version %d, want 3 and 2", got.PollSeq, got.Version)
		}
	})

	t.Run("UpdateMissing", func(t *testing.T) {
		s, _ := setup(t)
		st := Sample("missing", t0)
		st.Version = 1
		if err := s.Update(ctx, st); !errors.Is(err, workflow.ErrVersion) {
			t.Fatalf("Update of a missing item = %v, want ErrVersion", err)
		}
		if _, err := s.Get(ctx, "missing"); !errors.Is(err, workflow.ErrNotFound) {
			t.Fatalf("Update created the item: Get = %v", err)
		}
	})

	// The writers run one after another: whether the server applies
	// concurrent conditional writes atomically is DynamoDB's guarantee, not
	// the store's (moto_server does not give it); what the store must do is
	// make every write conditional on the version it read. Exactly one wins.
	t.Run("StaleWriters", func(t *testing.T) {
		s, _ := setup(t)
		staleWriters(t, s, 8, func(reads []*workflow.State) []error {
			errs := make([]error, len(reads))
			for i, st := range reads {
				errs[i] = s.Update(ctx, st)
			}
			return errs
		})
	})

	// Expired items are absent and can be created again.
	t.Run("Expiry", func(t *testing.T) {
		s, clock := setup(t)
		st := Sample("602", t0)
		st.ExpiresAt = t0.Add(time.Hour)
		if err := s.Create(ctx, st); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour + time.Second)
		if _, err := s.Get(ctx, "602"); !errors.Is(err, workflow.ErrNotFound) {
			t.Fatalf("Get of an expired item = %v, want ErrNotFound", err)
		}
		fresh := Sample("602", clock.Now())
		fresh.UserID = "456"
		if err := s.Create(ctx, fresh); err != nil {
			t.Fatalf("Create over an expired item = %v", err)
		}
		got, err := s.Get(ctx, "602")
		if err != nil {
			t.Fatal(err)
		}
		if got.UserID != "456" || got.Version != 1 {
			t.Fatalf("after re-create: user %q version %d, want 456 and 1", got.UserID, got.Version)
		}
	})

	// Returned states are copies: changing one changes nothing stored.
	t.Run("ReturnsCopies", func(t *testing.T) {
		s, _ := setup(t)
		st := Sample("602", t0)
		if err := s.Create(ctx, st); err != nil {
			t.Fatal(err)
		}
		st.Steps[0].Message = "changed after create"
		st.Plan.Vars["source_budget"] = "changed"
		got, _ := s.Get(ctx, "602")
		got.Steps[0].Message = "changed after get"
		got.Pending.Op = "changed"
		again, _ := s.Get(ctx, "602")
		if again.Steps[0].Message != "2 lines" || again.Pending.Op != workflow.OpSubmit ||
			again.Plan.Vars["source_budget"] != "MIC, HQ" {
			t.Fatalf("stored state shares memory with callers: %+v", again)
		}
	})

	// Due lists the workflows due by a time, earliest first, at most limit;
	// a workflow without DueAt (ended, owner told) is not listed.
	t.Run("Due", func(t *testing.T) {
		s, _ := setup(t)
		for _, w := range []struct {
			id  string
			due time.Time
		}{{"late", t0.Add(3 * time.Minute)}, {"early", t0.Add(time.Minute)}, {"done", time.Time{}},
			{"later", t0.Add(time.Hour)}, {"mid", t0.Add(2*time.Minute + 500*time.Millisecond)}} {
			st := Sample(w.id, t0)
			st.DueAt = w.due
			if err := s.Create(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range []struct {
			now   time.Time
			limit int
			want  []string
		}{
			{t0, 10, []string{}},
			{t0.Add(time.Minute), 10, []string{"early"}},
			{t0.Add(5 * time.Minute), 10, []string{"early", "mid", "late"}},
			{t0.Add(5 * time.Minute), 2, []string{"early", "mid"}},
			{t0.Add(2 * time.Hour), 0, []string{}},
		} {
			got, err := s.Due(ctx, tt.now, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
				t.Errorf("Due(%s, %d) = %v, want %v", tt.now.Sub(t0), tt.limit, got, tt.want)
			}
		}
		// Taken out of the index, and put back, by Update.
		st, _ := s.Get(ctx, "early")
		st.DueAt = time.Time{}
		if err := s.Update(ctx, st); err != nil {
			t.Fatal(err)
		}
		mid, _ := s.Get(ctx, "mid")
		mid.DueAt = t0.Add(4 * time.Hour)
		if err := s.Update(ctx, mid); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Due(ctx, t0.Add(5*time.Minute), 10); !reflect.DeepEqual(got, []string{"late"}) {
			t.Errorf("after updates, Due = %v, want [late]", got)
		}
		if got, _ := s.Get(ctx, "late"); !got.DueAt.Equal(t0.Add(3 * time.Minute)) {
			t.Errorf("DueAt read back as %v", got.DueAt)
		}
	})
}

// RunConcurrentUpdates checks, as subtest ConcurrentUpdates, that concurrent
// updates of one version let exactly one win, for a store that applies
// conditional writes atomically itself (MemoryStore). DynamoDB does too, but
// moto_server does not, so DynamoStore runs only the sequential StaleWriters
// of Run. A race shows only now and then, so it runs many rounds, each on a
// new store from newStore (as for Run).
func RunConcurrentUpdates(t *testing.T, newStore func(t *testing.T, now func() time.Time) workflow.Store) {
	t.Run("ConcurrentUpdates", func(t *testing.T) {
		ctx := context.Background()
		for range 200 {
			s := newStore(t, clocktest.New(t0).Now)
			staleWriters(t, s, 8, func(reads []*workflow.State) []error {
				errs := make([]error, len(reads))
				var wg sync.WaitGroup
				for i, st := range reads {
					wg.Go(func() { errs[i] = s.Update(ctx, st) })
				}
				wg.Wait()
				return errs
			})
		}
	})
}

// staleWriters creates a workflow, reads it n times, gives each copy its own
// PollSeq, has write update every copy, and checks that exactly one update
// succeeded, the others failing with ErrVersion, and that the stored state
// is the winner's.
func staleWriters(t *testing.T, s workflow.Store, n int, write func(reads []*workflow.State) []error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Create(ctx, Sample("602", t0)); err != nil {
		t.Fatal(err)
	}
	reads := make([]*workflow.State, n) // all read before any writes
	for i := range reads {
		st, err := s.Get(ctx, "602")
		if err != nil {
			t.Fatal(err)
		}
		st.PollSeq = int64(100 + i)
		reads[i] = st
	}
	var won []int64 // poll seqs of the updates that succeeded
	for i, err := range write(reads) {
		switch {
		case err == nil:
			won = append(won, reads[i].PollSeq)
		case !errors.Is(err, workflow.ErrVersion):
			t.Fatalf("Update = %v, want nil or ErrVersion", err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("updates of one version with poll seqs %v succeeded, want exactly one", won)
	}
	got, err := s.Get(ctx, "602")
	if err != nil || got.PollSeq != won[0] || got.Version != 2 {
		t.Fatalf("stored state = %+v, %v; want the winner's poll seq %d at version 2", got, err, won[0])
	}
}

// assertEqual fails unless got and want hold the same workflow. Times are
// compared as instants; ExpiresAt to the second (the TTL attribute's precision).
func assertEqual(tb testing.TB, got, want *workflow.State) {
	tb.Helper()
	g, w := normalize(got), normalize(want)
	if !reflect.DeepEqual(g, w) {
		tb.Fatalf("stored state differs\n got: %+v\nwant: %+v", g, w)
	}
}

func normalize(s *workflow.State) *workflow.State {
	c := s.Clone()
	utc := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.UTC().Round(0)
		}
	}
	for _, t := range []*time.Time{&c.Deadline, &c.CreatedAt, &c.UpdatedAt, &c.EndedAt} {
		utc(t)
	}
	c.ExpiresAt = time.Unix(c.ExpiresAt.Unix(), 0).UTC()
	if c.Pending != nil {
		utc(&c.Pending.Since)
		utc(&c.Pending.LeaseUntil)
	}
	for i := range c.Steps {
		utc(&c.Steps[i].StartedAt)
		utc(&c.Steps[i].EndedAt)
	}
	for i := range c.Rejections {
		utc(&c.Rejections[i].At)
	}
	return c
}
