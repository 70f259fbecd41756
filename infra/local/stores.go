package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/local/samtemplate"
	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/preference"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// localTables names the template's tables in the local DynamoDB mode
// (RESOURCE_PREFIX + this).
var localTables = map[string]string{
	"ConnectionsTable":   "connections",
	"NotificationsTable": "notifications",
	"WorkflowsTable":     "workflows",
}

// stores are the three stores of the system.
type stores struct {
	connections connectionStore
	history     history.Store
	preferences preference.Store // rows of the notifications table, as deployed
	workflows   workflow.Store
	gate        oraclegate.Store // the Oracle breaker and job slots, beside the workflows
	mail        mail.Ledger      // rows of the notifications table, as deployed
}

// connectionStore is the connection store, which the sweeper also counts
// (ConnectionsOpen).
type connectionStore interface {
	connection.Store
	workflow.Counter
}

// newStores returns the embedded stores when db is nil, else DynamoDB stores
// through db (the API that AWS_ENDPOINT_URL names), with the template's
// tables (keys, indexes, stream and TTL, as CloudFormation makes them)
// created when missing.
func newStores(ctx context.Context, cfg config, tmpl *samtemplate.Template, db *dynamodb.Client) (stores, error) {
	if db == nil {
		return stores{
			connections: connection.NewMemoryStore(time.Now),
			history:     history.NewMemoryStore(time.Now),
			preferences: preference.NewMemoryStore(),
			workflows:   workflow.NewMemoryStore(time.Now),
			gate:        oraclegate.NewMemoryStore(),
			mail:        mail.NewMemoryLedger(),
		}, nil
	}
	for logicalID, suffix := range localTables {
		spec, err := tmpl.Table(logicalID)
		if err != nil {
			return stores{}, err
		}
		if err := ensureTable(ctx, db, spec, cfg.ResourcePrefix+suffix); err != nil {
			return stores{}, err
		}
	}
	return stores{
		connections: connection.NewDynamoStore(db, cfg.ResourcePrefix+localTables["ConnectionsTable"], time.Now),
		history:     history.NewDynamoStore(db, cfg.ResourcePrefix+localTables["NotificationsTable"], time.Now),
		preferences: preference.NewDynamoStore(db, cfg.ResourcePrefix+localTables["NotificationsTable"]),
		workflows:   workflow.NewDynamoStore(db, cfg.ResourcePrefix+localTables["WorkflowsTable"], time.Now),
		gate:        oraclegate.NewDynamoStore(db, cfg.ResourcePrefix+localTables["WorkflowsTable"]),
		mail:        mail.NewDynamoLedger(db, cfg.ResourcePrefix+localTables["NotificationsTable"]),
	}, nil
}

// ensureTable creates the table of spec under name unless it exists, waits
// until it is active, and turns its TTL on as the template does.
func ensureTable(ctx context.Context, db *dynamodb.Client, spec samtemplate.TableSpec, name string) error {
	_, err := db.CreateTable(ctx, spec.CreateTableInput(name))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	if spec.TTLAttribute == "" {
		return nil
	}
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe TTL of %s: %w", name, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == spec.TTLAttribute &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(spec.TTLAttribute), Enabled: aws.Bool(true)}}); err != nil {
		return fmt.Errorf("turn on TTL of %s: %w", name, err)
	}
	return nil
}
