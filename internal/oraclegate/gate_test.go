package oraclegate_test

import (
	"testing"

	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/oraclegate/gatetest"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

func TestMemoryStore(t *testing.T) {
	newStore := func(*testing.T) oraclegate.Store { return oraclegate.NewMemoryStore() }
	gatetest.Run(t, newStore)
	// Concurrency only in memory: moto's conditional writes are not atomic.
	gatetest.RunConcurrent(t, newStore)
}

func TestDynamoStore(t *testing.T) {
	db := awstest.DynamoDB(t)
	gatetest.Run(t, func(t *testing.T) oraclegate.Store {
		return oraclegate.NewDynamoStore(db, awstest.TemplateTable(t, db, "WorkflowsTable"))
	})
}
