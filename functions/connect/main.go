// Command connect is the ConnectFunction: it authenticates $connect with the
// upstream web application's JWT and records the connection (route.Connect).
// The signing secret comes from JWT_SECRET (local/dev) or, deployed, from the
// Secrets Manager secret JWT_SECRET_ARN: a plain string, or a JSON object
// holding it under the key "JWT_SECRET".
package main

import (
	"cmp"
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/finance/fbdi-notify/internal/auth"
	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/internal/secret"
)

func main() {
	log := lambdaenv.Logger(os.Getenv)
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(1)
	}
	key := cfg.JWTSecret
	if key == "" {
		key, err = secret.Fetch(context.Background(), secretsmanager.NewFromConfig(cfg.AWS), cfg.JWTSecretARN, "JWT_SECRET")
	}
	verifier, verr := auth.NewVerifier([]byte(key), auth.DefaultLeeway, time.Now, auth.WithTokenTypes(cfg.TokenTypes...))
	if err = cmp.Or(err, verr); err != nil {
		log.Error("no usable JWT signing key", "error", err)
		os.Exit(1)
	}
	conns := connection.NewDynamoStore(dynamodb.NewFromConfig(cfg.AWS), cfg.ConnectionsTable, time.Now)
	rec := metrics.New(os.Stdout, cfg.StackName, nil)
	h := route.NewConnect(verifier, conns, time.Now, log).WithMetrics(rec)
	lambda.Start(metrics.Flushing(rec, h.Handle))
}
