// Command welcome is the WelcomeFunction: it reads the connections table's
// stream and sends connection_established to every new connection once it is
// live (notifier.WelcomeHandler). It needs no table access, only
// execute-api:ManageConnections.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notifier"
)

func main() {
	log := lambdaenv.Logger(os.Getenv)
	endpoint := os.Getenv("MANAGEMENT_ENDPOINT")
	cfg, err := lambdaenv.AWSConfig(os.Getenv)
	if err != nil || endpoint == "" {
		log.Error("bad configuration", "aws_error", err, "management_endpoint_set", endpoint != "")
		os.Exit(1)
	}
	api := notifier.NewManagementClient(cfg, endpoint)
	n := notifier.New(nil, nil, api, notifier.Options{Logger: log}) // PostTo alone uses neither store
	h := notifier.NewWelcomeHandler(n, notifier.WelcomeOptions{Logger: log})
	lambda.Start(h.Handle)
}
