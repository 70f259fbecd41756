package preference_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/finance/fbdi-notify/internal/preference"
	"github.com/finance/fbdi-notify/internal/preference/preferencetest"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

func TestMemoryStore(t *testing.T) {
	preferencetest.Run(t, func(t *testing.T) preference.Store { return preference.NewMemoryStore() })
}

// TestDynamoStore runs the contract on the notifications table as
// template.yaml declares it, the table whose row the store shares.
func TestDynamoStore(t *testing.T) {
	client := awstest.DynamoDB(t)
	preferencetest.Run(t, func(t *testing.T) preference.Store {
		return preference.NewDynamoStore(client, awstest.TemplateTable(t, client, "NotificationsTable"))
	})
}

// TestDynamoStoreCalls pins the DynamoDB calls of each operation, for the
// cost table of docs/design.md#cost-per-request: one per call, whatever the
// number of categories a set names.
func TestDynamoStoreCalls(t *testing.T) {
	ctx := awstest.Context(t)
	cfg, calls := awstest.CountCalls(t)
	client := dynamodb.NewFromConfig(cfg)
	s := preference.NewDynamoStore(client, awstest.TemplateTable(t, client, "NotificationsTable"))
	calls.Reset()
	off := preference.On(false)
	calls.Check(t, ctx, []awstest.CallsCase{
		{Name: "Get of a user without a row", Op: func(ctx context.Context) error { _, err := s.Get(ctx, "u1"); return err },
			Want: map[string]int{"GetItem": 1}},
		{Name: "Set of three categories", Op: func(ctx context.Context) error {
			_, err := s.Set(ctx, "u1", map[string]preference.Change{"a": {InApp: off}, "b": {Email: off}, "c": {InApp: off, Email: off}})
			return err
		}, Want: map[string]int{"UpdateItem": 1}},
		{Name: "SetProfile", Op: func(ctx context.Context) error {
			_, err := s.SetProfile(ctx, "u1", preference.Profile{Email: "a@example.com", Locale: "en"})
			return err
		}, Want: map[string]int{"UpdateItem": 1}},
		{Name: "Get", Op: func(ctx context.Context) error { _, err := s.Get(ctx, "u1"); return err },
			Want: map[string]int{"GetItem": 1}},
		{Name: "MarkBounced", Op: func(ctx context.Context) error { _, err := s.MarkBounced(ctx, "u1", "a@example.com"); return err },
			Want: map[string]int{"UpdateItem": 1}},
	})
}
