// Command notify is the NotifyFunction: it delivers the notification SQS
// queue's messages to the users' WebSocket connections (notifier.QueueHandler).
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notifier"
)

func main() {
	log := lambdaenv.Logger(os.Getenv)
	retention, err := lambdaenv.Duration(os.Getenv, "HISTORY_RETENTION", history.DefaultRetention)
	endpoint := os.Getenv("MANAGEMENT_ENDPOINT")
	cfg, cfgErr := lambdaenv.AWSConfig(os.Getenv)
	if err != nil || cfgErr != nil || endpoint == "" {
		log.Error("bad configuration", "retention_error", err, "aws_error", cfgErr, "management_endpoint_set", endpoint != "")
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	api := notifier.NewManagementClient(cfg, endpoint)
	n := notifier.New(connection.NewDynamoStore(db, os.Getenv("CONNECTIONS_TABLE"), time.Now),
		history.NewDynamoStore(db, os.Getenv("NOTIFICATIONS_TABLE"), time.Now), api,
		notifier.Options{Logger: log, Retention: retention})
	h := notifier.NewQueueHandler(n, sqs.NewFromConfig(cfg), os.Getenv("NOTIFICATION_DLQ_URL"), log)
	lambda.Start(h.Handle)
}
