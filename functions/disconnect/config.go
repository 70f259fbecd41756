package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
)

// config is the DisconnectFunction's configuration, read once at its cold start.
type config struct {
	AWS              aws.Config // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	ConnectionsTable string     // CONNECTIONS_TABLE
}

// loadConfig reads the configuration through getenv. The error lists every
// missing or bad variable.
func loadConfig(getenv func(string) string) (config, error) {
	env := lambdaenv.New(getenv)
	c := config{AWS: env.AWS(), ConnectionsTable: env.Required("CONNECTIONS_TABLE")}
	return c, env.Err()
}
