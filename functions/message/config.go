package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/preference"
	"github.com/finance/fbdi-notify/internal/route"
)

// config is the MessageFunction's configuration, read once at its cold start.
type config struct {
	AWS                aws.Config // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	ConnectionsTable   string     // CONNECTIONS_TABLE
	NotificationsTable string     // NOTIFICATIONS_TABLE
	WorkflowsTable     string     // WORKFLOWS_TABLE
	// ManagementEndpoint (MANAGEMENT_ENDPOINT) is where resume posts; when
	// unset, each event's https://{domainName}/{stage}.
	ManagementEndpoint string
	// RateLimit is each connection's budget of client messages:
	// MESSAGE_RATE_LIMIT units per MESSAGE_RATE_WINDOW (default
	// route.DefaultRateLimit, 100 per 10s; a resume costs more, route.Cost).
	RateLimit connection.Limit

	// StackName (STACK_NAME, which the template sets to the stack's name;
	// optional) is the Stack dimension of the function's metrics; unset,
	// "local".
	StackName string
	// Preferences (PREFERENCE_DEFAULTS, optional) are the operator's
	// channels per category (preference.ParseDefaults); unset, in_app
	// only for every category.
	Preferences preference.Defaults
}

// loadConfig reads the configuration through getenv. The error lists every
// missing or bad variable.
func loadConfig(getenv func(string) string) (config, error) {
	env := lambdaenv.New(getenv)
	c := config{
		AWS:                env.AWS(),
		ConnectionsTable:   env.Required("CONNECTIONS_TABLE"),
		NotificationsTable: env.Required("NOTIFICATIONS_TABLE"),
		WorkflowsTable:     env.Required("WORKFLOWS_TABLE"),
		ManagementEndpoint: env.OptionalURL("MANAGEMENT_ENDPOINT"),
		StackName:          env.Optional("STACK_NAME"),
		Preferences:        preference.ReadDefaults(env),
		RateLimit: connection.Limit{
			Units:  route.DefaultRateLimit.Units,
			Window: env.Duration("MESSAGE_RATE_WINDOW", route.DefaultRateLimit.Window),
		},
	}
	c.RateLimit.Units = env.Int("MESSAGE_RATE_LIMIT", route.DefaultRateLimit.Units, 1)
	if c.RateLimit.Window < time.Millisecond {
		env.Problem("MESSAGE_RATE_WINDOW must be at least 1ms")
	}
	return c, env.Err()
}
