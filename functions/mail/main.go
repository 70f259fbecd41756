// Command mail is the MailFunction: it e-mails users the notifications they
// did not read in time (the mail queue's due messages) and turns e-mail off
// for addresses that bounce or complain (the SES events queue), by
// mail.Handler.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/preference"
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
	ledger := mail.NewDynamoLedger(db, cfg.NotificationsTable)
	sched, err := mail.NewScheduler(ledger, sqs.NewFromConfig(cfg.AWS), cfg.Schedule, time.Now, log, rec)
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(1)
	}
	h := mail.NewHandler(ledger, history.NewDynamoStore(db, cfg.NotificationsTable, time.Now),
		preference.NewDynamoStore(db, cfg.NotificationsTable), sesv2.NewFromConfig(cfg.AWS), sched, cfg.Handler, log, rec)
	lambda.Start(metrics.Flushing(rec, h.Handle))
}
