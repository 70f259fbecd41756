// Command notify is the NotifyFunction: it delivers the notification SQS
// queue's messages to the users' WebSocket connections (notifier.QueueHandler).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notifier"
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
	h := notifier.NewQueueHandler(n, q, cfg.DeadLetterURL, log).WithOptions(cfg.Queue)
	lambda.Start(metrics.Flushing(rec, h.Handle))
}
