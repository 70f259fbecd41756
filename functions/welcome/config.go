package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
)

// config is the WelcomeFunction's configuration, read once at its cold start.
type config struct {
	AWS                aws.Config // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	ManagementEndpoint string     // MANAGEMENT_ENDPOINT, https://{api}.execute-api.{region}.amazonaws.com/{stage}
	ConnectionsTable   string     // CONNECTIONS_TABLE, where each connection's welcome is claimed once

	// StackName (STACK_NAME, which the template sets to the stack's name;
	// optional) is the Stack dimension of the function's metrics; unset,
	// "local".
	StackName string
}

// loadConfig reads the configuration through getenv. The error lists every
// missing or bad variable.
func loadConfig(getenv func(string) string) (config, error) {
	env := lambdaenv.New(getenv)
	c := config{AWS: env.AWS(), ManagementEndpoint: env.URL("MANAGEMENT_ENDPOINT"),
		ConnectionsTable: env.Required("CONNECTIONS_TABLE"), StackName: env.Optional("STACK_NAME")}
	return c, env.Err()
}
