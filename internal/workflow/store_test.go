package workflow_test

import (
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

// newTable creates a workflows table on moto_server from TableInput.
func newTable(tb testing.TB) string {
	tb.Helper()
	db := awstest.DynamoDB(tb)
	name := awstest.UniqueName(tb, "workflows")
	if _, err := db.CreateTable(awstest.Context(tb), workflow.TableInput(name)); err != nil {
		tb.Fatalf("create table %s: %v", name, err)
	}
	return name
}
