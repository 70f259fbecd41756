// Command worker is the WorkerFunction: it runs the FBDI workflows of the
// workflow SQS queue (workflow.Worker), calling Oracle and telling users
// through the notifier. The Oracle endpoint is ORACLE_BASE_URL (https);
// deployed, the integration user comes from the Secrets Manager secret
// ORACLE_SECRET_ARN, a JSON object with the keys username and password.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/secret"
	"github.com/finance/fbdi-notify/internal/workflow"
)

func main() {
	log := lambdaenv.Logger(os.Getenv)
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(1)
	}
	if cfg.OracleSecretARN != "" {
		f, err := secret.FetchFields(context.Background(), secretsmanager.NewFromConfig(cfg.AWS), cfg.OracleSecretARN,
			"username", "password")
		if err != nil {
			log.Error("no usable Oracle secret", "error", err)
			os.Exit(1)
		}
		cfg.Oracle.Username, cfg.Oracle.Password = f["username"], f["password"]
	}

	rec := metrics.New(os.Stdout, cfg.StackName, nil)
	db, q := dynamodb.NewFromConfig(cfg.AWS), sqs.NewFromConfig(cfg.AWS)
	n, err := notifier.NewDeployed(cfg.AWS, db, q, cfg.Deployed, log, rec)
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(1)
	}
	notify := func(ctx context.Context, userID string, note notification.Notification) error {
		_, err := n.Notify(ctx, userID, note)
		return err
	}
	gate := oraclegate.New(oraclegate.NewDynamoStore(db, cfg.WorkflowsTable), cfg.Oracle.Host(), cfg.Gate, nil, log)
	engine, err := workflow.NewEngine(workflow.NewDynamoStore(db, cfg.WorkflowsTable, time.Now),
		oracle.New(cfg.Oracle, nil), q, notify, cfg.Workflow, workflow.Options{Logger: log, Gate: gate, Metrics: rec})
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(1)
	}
	lambda.Start(metrics.Flushing(rec, workflow.NewWorker(engine, q, cfg.DeadLetterURL, log).Handle))
}
