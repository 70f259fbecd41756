package mail_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

// runLedger is the Ledger contract, which both ledgers meet.
func runLedger(t *testing.T, newLedger func(t *testing.T) mail.Ledger) {
	ctx := context.Background()
	due := start.Add(time.Minute)
	stale := start.Add(-time.Hour)
	arm := func(t *testing.T, l mail.Ledger, due, stale time.Time, want bool) {
		t.Helper()
		got, err := l.Arm(ctx, "u1", due, stale)
		if err != nil || got != want {
			t.Fatalf("Arm(due %s) = %v, %v; want %v", due.Format(time.TimeOnly), got, err, want)
		}
	}
	get := func(t *testing.T, l mail.Ledger) mail.Row {
		t.Helper()
		r, err := l.Get(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	t.Run("ArmOnceWhilePending", func(t *testing.T) {
		l := newLedger(t)
		if r := get(t, l); r != (mail.Row{}) {
			t.Fatalf("new user's row %+v; want zero", r)
		}
		arm(t, l, due, stale, true)
		arm(t, l, due.Add(time.Minute), stale, false)
		if r := get(t, l); !r.DueAt.Equal(due) || r.Stored != 2 {
			t.Fatalf("row %+v; want due %s, stored 2", r, due)
		}
		if r, _ := l.Get(ctx, "u2"); r != (mail.Row{}) {
			t.Fatalf("u2's row %+v; want zero", r)
		}
	})

	t.Run("StalePendingReplaced", func(t *testing.T) {
		l := newLedger(t)
		arm(t, l, due, stale, true)
		later := due.Add(2 * time.Hour)
		arm(t, l, later, due.Add(time.Second), true)
		if r := get(t, l); !r.DueAt.Equal(later) {
			t.Fatalf("due %s; want the new %s", r.DueAt, later)
		}
	})

	t.Run("DoneClearsUnlessStoredMoved", func(t *testing.T) {
		l := newLedger(t)
		arm(t, l, due, stale, true)
		r := get(t, l)
		arm(t, l, due, stale, false) // a notification while handling
		cleared, err := l.Done(ctx, "u1", 7, r.Stored)
		if err != nil || cleared {
			t.Fatalf("Done after another notification = %v, %v; want not cleared", cleared, err)
		}
		if r := get(t, l); r.Cursor != 7 || r.DueAt.IsZero() {
			t.Fatalf("row %+v; want cursor 7 and still due", r)
		}
		r = get(t, l)
		if cleared, err := l.Done(ctx, "u1", 9, r.Stored); err != nil || !cleared {
			t.Fatalf("Done = %v, %v; want cleared", cleared, err)
		}
		if r := get(t, l); r.Cursor != history.Position(9) || !r.DueAt.IsZero() {
			t.Fatalf("row %+v; want cursor 9, nothing due", r)
		}
		arm(t, l, due, stale, true)
	})

	t.Run("DisarmOnlyItsOwn", func(t *testing.T) {
		l := newLedger(t)
		arm(t, l, due, stale, true)
		if err := l.Disarm(ctx, "u1", due.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		arm(t, l, due, stale, false)
		if err := l.Disarm(ctx, "u1", due); err != nil {
			t.Fatal(err)
		}
		arm(t, l, due, stale, true)
	})
}

func TestMemoryLedger(t *testing.T) {
	runLedger(t, func(*testing.T) mail.Ledger { return mail.NewMemoryLedger() })
}

// TestDynamoLedger runs the contract on the notifications table as
// template.yaml declares it.
func TestDynamoLedger(t *testing.T) {
	client := awstest.DynamoDB(t)
	runLedger(t, func(t *testing.T) mail.Ledger {
		return mail.NewDynamoLedger(client, awstest.TemplateTable(t, client, "NotificationsTable"))
	})
}

// TestDynamoLedgerCalls pins the DynamoDB calls of each operation, for the
// cost table of docs/design.md#e-mail.
func TestDynamoLedgerCalls(t *testing.T) {
	ctx := awstest.Context(t)
	cfg, calls := awstest.CountCalls(t)
	client := dynamodb.NewFromConfig(cfg)
	l := mail.NewDynamoLedger(client, awstest.TemplateTable(t, client, "NotificationsTable"))
	calls.Reset()
	calls.Check(t, ctx, []awstest.CallsCase{
		{Name: "Arm of the first notification", Op: func(ctx context.Context) error {
			_, err := l.Arm(ctx, "u1", start, start.Add(-time.Hour))
			return err
		}, Want: map[string]int{"UpdateItem": 1}},
		{Name: "Arm while pending", Op: func(ctx context.Context) error {
			_, err := l.Arm(ctx, "u1", start, start.Add(-time.Hour))
			return err
		}, Want: map[string]int{"UpdateItem": 1}},
		{Name: "Get", Op: func(ctx context.Context) error { _, err := l.Get(ctx, "u1"); return err },
			Want: map[string]int{"GetItem": 1}},
		{Name: "Done", Op: func(ctx context.Context) error { _, err := l.Done(ctx, "u1", 2, 2); return err },
			Want: map[string]int{"UpdateItem": 1}},
	})
}
