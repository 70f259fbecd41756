// Command sweeper is the SweeperFunction: run on a schedule, it finds the
// workflows that are overdue (workflow.Sweeper, through the workflows
// table's "due" index) and resumes or fails each one, telling its owner
// through the notifier. It never calls Oracle. Each run also records the
// connections open now (ConnectionsOpen), counted with a Scan of the
// connections table.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/workflow"
)

func main() {
	log := lambdaenv.Logger(os.Getenv)
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(1)
	}
	rec := metrics.New(os.Stdout, cfg.StackName, nil)
	db := dynamodb.NewFromConfig(cfg.AWS)
	q := sqs.NewFromConfig(cfg.AWS)
	n, err := notifier.NewDeployed(cfg.AWS, db, q, cfg.Deployed, log, rec)
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(1)
	}
	notify := func(ctx context.Context, userID string, note notification.Notification) error {
		_, err := n.Notify(ctx, userID, note)
		return err
	}
	gate := oraclegate.New(oraclegate.NewDynamoStore(db, cfg.WorkflowsTable), cfg.OracleHost, cfg.Gate, nil, log)
	s, err := workflow.NewSweeper(workflow.NewDynamoStore(db, cfg.WorkflowsTable, time.Now), q,
		notify, cfg.Workflow, workflow.SweepOptions{Logger: log, Gate: gate, Metrics: rec,
			Connections: connection.NewDynamoStore(db, cfg.ConnectionsTable, time.Now)})
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(1)
	}
	lambda.Start(metrics.Flushing(rec, s.Handle))
}
