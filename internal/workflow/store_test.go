package workflow_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/awstest"
	"github.com/finance/fbdi-notify/internal/workflow"
	"github.com/finance/fbdi-notify/internal/workflow/workflowtest"
)

func TestMemoryStore(t *testing.T) {
	workflowtest.TestStore(t, func(_ testing.TB, now func() time.Time) workflow.Store {
		return workflow.NewMemoryStore(now)
	})
}

func TestDynamoStore(t *testing.T) {
	db := awstest.DynamoDB(t)
	workflowtest.TestStore(t, func(tb testing.TB, now func() time.Time) workflow.Store {
		return workflow.NewDynamoStore(db, newTable(tb), now)
	})
}

// newTable creates a workflows table on moto_server from TableInput, with
// TTL on, deleted when the test ends.
func newTable(tb testing.TB) string {
	tb.Helper()
	return awstest.Table(tb, awstest.DynamoDB(tb), workflow.TableInput(awstest.UniqueName(tb, "workflows")), workflow.TTLAttribute)
}

// The embedded store must apply concurrent conditional writes atomically, as
// DynamoDB does.
func TestMemoryStoreConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	s := workflow.NewMemoryStore(time.Now)
	if err := s.Create(ctx, workflowtest.Sample("602", time.Now())); err != nil {
		t.Fatal(err)
	}
	const n = 8
	reads := make([]*workflow.State, n)
	for i := range reads {
		st, err := s.Get(ctx, "602")
		if err != nil {
			t.Fatal(err)
		}
		st.PollSeq = int64(100 + i)
		reads[i] = st
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, st := range reads {
		wg.Go(func() { errs[i] = s.Update(ctx, st) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, workflow.ErrVersion):
			t.Fatalf("Update = %v, want nil or ErrVersion", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent updates of one version succeeded, want 1", wins)
	}
}
