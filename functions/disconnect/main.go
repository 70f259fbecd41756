// Command disconnect is the DisconnectFunction: it forgets a connection on
// $disconnect (route.Disconnect).
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/route"
)

func main() {
	log := lambdaenv.Logger(os.Getenv)
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(1)
	}
	conns := connection.NewDynamoStore(dynamodb.NewFromConfig(cfg.AWS), cfg.ConnectionsTable, time.Now)
	lambda.Start(route.NewDisconnect(conns, log).Handle)
}
