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
	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/internal/secret"
)

func main() {
	log := lambdaenv.Logger(os.Getenv)
	ctx := context.Background()
	cfg, err := lambdaenv.AWSConfig(os.Getenv)
	key, arn := os.Getenv("JWT_SECRET"), os.Getenv("JWT_SECRET_ARN")
	if err == nil && key == "" && arn != "" {
		key, err = secret.Fetch(ctx, secretsmanager.NewFromConfig(cfg), arn, "JWT_SECRET")
	}
	verifier, verr := auth.NewVerifier([]byte(key), auth.DefaultLeeway, time.Now) // ErrNoSecret if neither is set
	if err = cmp.Or(err, verr); err != nil {
		log.Error("bad configuration: need AWS config and JWT_SECRET or JWT_SECRET_ARN", "err", err)
		os.Exit(1)
	}
	conns := connection.NewDynamoStore(dynamodb.NewFromConfig(cfg), os.Getenv("CONNECTIONS_TABLE"), time.Now)
	h := route.NewConnect(verifier, conns, time.Now, log)
	lambda.Start(h.Handle)
}
