package workflow_test

import (
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/testing/awstest"
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

// newTable creates a workflows table on moto_server as template.yaml
// declares it, TTL included, deleted when the test ends.
func newTable(tb testing.TB) string {
	tb.Helper()
	return awstest.TemplateTable(tb, awstest.DynamoDB(tb), "WorkflowsTable")
}

// The embedded store must apply concurrent conditional writes atomically, as
// DynamoDB does.
func TestMemoryStoreConcurrentUpdates(t *testing.T) {
	workflowtest.TestConcurrentUpdates(t, func(_ testing.TB, now func() time.Time) workflow.Store {
		return workflow.NewMemoryStore(now)
	})
}
