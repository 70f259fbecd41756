// Command message is the MessageFunction: it answers the client messages of
// routes $default, ping, resume, history, mark_read and status (route.Message).
// Resume posts through the management API at MANAGEMENT_ENDPOINT, or at the
// event's https://{domainName}/{stage} when that is unset.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/preference"
	"github.com/finance/fbdi-notify/internal/route"
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
	conns := connection.NewDynamoStore(db, cfg.ConnectionsTable, time.Now)
	hist := history.NewDynamoStore(db, cfg.NotificationsTable, time.Now)
	h := route.NewMessage(route.MessageConfig{
		Connections: conns,
		History:     hist,
		Posters: func(endpoint string) route.Poster { // called once per endpoint; Message keeps the Poster
			return notifier.New(conns, hist, notifier.NewManagementClient(cfg.AWS, endpoint),
				notifier.Options{Logger: log, Metrics: rec})
		},
		Endpoint:    cfg.ManagementEndpoint,
		Status:      workflow.NewService(workflow.NewDynamoStore(db, cfg.WorkflowsTable, time.Now)).Status,
		Logger:      log,
		RateLimit:   cfg.RateLimit,
		Metrics:     rec,
		Preferences: route.Preferences{Store: preference.NewDynamoStore(db, cfg.NotificationsTable), Defaults: cfg.Preferences},
	})
	lambda.Start(metrics.Flushing(rec, h.Handle))
}
