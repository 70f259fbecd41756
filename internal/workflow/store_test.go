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

// newTable creates a workflows table on moto_server from TableInput, with
// TTL on, deleted when the test ends.
func newTable(tb testing.TB) string {
	tb.Helper()
	return awstest.Table(tb, awstest.DynamoDB(tb), workflow.TableInput(awstest.UniqueName(tb, "workflows")), workflow.TTLAttribute)
}
