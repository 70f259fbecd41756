package workflow_test

import (
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/internal/workflow"
	"github.com/finance/fbdi-notify/internal/workflow/workflowtest"
)

func TestMemoryStore(t *testing.T) {
	newStore := func(t *testing.T, now func() time.Time) workflow.Store {
		return workflow.NewMemoryStore(now)
	}
	workflowtest.Run(t, newStore)
	// The embedded store must apply concurrent conditional writes atomically,
	// as DynamoDB does.
	workflowtest.RunConcurrentUpdates(t, newStore)
}

func TestDynamoStore(t *testing.T) {
	db := awstest.DynamoDB(t)
	workflowtest.Run(t, func(t *testing.T, now func() time.Time) workflow.Store {
		return workflow.NewDynamoStore(db, newTable(t), now)
	})
}

// newTable creates a workflows table on moto_server as template.yaml
// declares it, TTL included, deleted when the test ends.
func newTable(tb testing.TB) string {
	tb.Helper()
	return awstest.TemplateTable(tb, awstest.DynamoDB(tb), "WorkflowsTable")
}
