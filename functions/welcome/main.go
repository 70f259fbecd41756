// Command welcome is the WelcomeFunction: it reads the connections table's
// stream and sends connection_established to every new connection once it is
// live (notifier.WelcomeHandler), once per connection: it claims each
// welcome on the connection's row first (dynamodb:UpdateItem on the
// connections table), then posts (execute-api:ManageConnections).
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/finance/fbdi-notify/internal/connection"
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
	api := notifier.NewManagementClient(cfg.AWS, cfg.ManagementEndpoint)
	conns := connection.NewDynamoStore(dynamodb.NewFromConfig(cfg.AWS), cfg.ConnectionsTable, time.Now)
	rec := metrics.New(os.Stdout, cfg.StackName, nil)
	n := notifier.New(nil, nil, api, notifier.Options{Logger: log, Metrics: rec}) // PostTo alone uses neither store
	h := notifier.NewWelcomeHandler(n, notifier.WelcomeOptions{Logger: log, Claims: conns})
	lambda.Start(metrics.Flushing(rec, h.Handle))
}
