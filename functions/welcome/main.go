// Command welcome is the WelcomeFunction: it reads the connections table's
// stream and sends connection_established to every new connection once it is
// live (notifier.WelcomeHandler). It needs no table access, only
// execute-api:ManageConnections.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"

	"github.com/finance/fbdi-notify/internal/notifier"
)

func main() {
	var level slog.Level
	_ = level.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))) // unset or unknown: info
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
	endpoint := os.Getenv("MANAGEMENT_ENDPOINT")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil || endpoint == "" {
		log.Error("bad configuration", "aws_error", err, "management_endpoint_set", endpoint != "")
		os.Exit(1)
	}
	api := apigatewaymanagementapi.NewFromConfig(cfg, func(o *apigatewaymanagementapi.Options) { o.BaseEndpoint = aws.String(endpoint) })
	n := notifier.New(nil, nil, api, notifier.Options{Logger: log}) // PostTo alone uses neither store
	h := notifier.NewWelcomeHandler(n, notifier.WelcomeOptions{Logger: log})
	lambda.Start(h.Handle)
}
