// Command worker is the WorkerFunction: it runs the FBDI workflows of the
// workflow SQS queue (workflow.Worker), calling Oracle and telling users
// through the notifier.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/secret"
	"github.com/finance/fbdi-notify/internal/workflow"
)

func main() {
	log := lambdaenv.Logger(os.Getenv)
	ctx := context.Background()
	awsCfg, awsErr := lambdaenv.AWSConfig(os.Getenv)
	wf := workflow.DefaultConfig()
	wf.QueueURL = os.Getenv("WORKFLOW_QUEUE_URL")
	wf.DataAccessSet, wf.AutoPostCriteriaID = os.Getenv("ORACLE_DATA_ACCESS_SET"), os.Getenv("ORACLE_AUTOPOST_CRITERIA_ID")
	var pollErr, deadlineErr error
	wf.PollInterval, pollErr = lambdaenv.Duration(os.Getenv, "ORACLE_POLL_INTERVAL", wf.PollInterval)
	wf.Deadline, deadlineErr = lambdaenv.Duration(os.Getenv, "WORKFLOW_DEADLINE", wf.Deadline)
	retention, retentionErr := lambdaenv.Duration(os.Getenv, "HISTORY_RETENTION", history.DefaultRetention)
	oc := oracle.Config{BaseURL: os.Getenv("ORACLE_BASE_URL"), Username: os.Getenv("ORACLE_USERNAME"), Password: os.Getenv("ORACLE_PASSWORD")}
	var secretErr error
	if arn := os.Getenv("ORACLE_SECRET_ARN"); arn != "" && awsErr == nil {
		var f map[string]string
		f, secretErr = secret.FetchFields(ctx, secretsmanager.NewFromConfig(awsCfg), arn, "base_url", "username", "password")
		oc.BaseURL, oc.Username, oc.Password = f["base_url"], f["username"], f["password"]
	}
	db, q := dynamodb.NewFromConfig(awsCfg), sqs.NewFromConfig(awsCfg)
	endpoint := os.Getenv("MANAGEMENT_ENDPOINT")
	api := notifier.NewManagementClient(awsCfg, endpoint)
	n := notifier.New(connection.NewDynamoStore(db, os.Getenv("CONNECTIONS_TABLE"), time.Now),
		history.NewDynamoStore(db, os.Getenv("NOTIFICATIONS_TABLE"), time.Now), api,
		notifier.Options{Logger: log, Retention: retention})
	notify := func(ctx context.Context, userID string, note notification.Notification) error {
		_, err := n.Notify(ctx, userID, note)
		return err
	}
	engine, engineErr := workflow.NewEngine(workflow.NewDynamoStore(db, os.Getenv("WORKFLOWS_TABLE"), time.Now),
		oracle.New(oc, nil), q, notify, wf, workflow.Options{Logger: log})
	if err := errors.Join(awsErr, pollErr, deadlineErr, retentionErr, secretErr, engineErr); err != nil || oc.BaseURL == "" || endpoint == "" {
		log.Error("bad configuration", "err", err, "oracle_base_url_set", oc.BaseURL != "", "management_endpoint_set", endpoint != "")
		os.Exit(1)
	}
	lambda.Start(workflow.NewWorker(engine, q, os.Getenv("WORKFLOW_DLQ_URL"), log).Handle)
}
