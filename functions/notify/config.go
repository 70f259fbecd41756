package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
)

// config is the NotifyFunction's configuration, read once at its cold start.
type config struct {
	AWS                aws.Config // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	ConnectionsTable   string     // CONNECTIONS_TABLE
	NotificationsTable string     // NOTIFICATIONS_TABLE
	ManagementEndpoint string     // MANAGEMENT_ENDPOINT, https://{api}.execute-api.{region}.amazonaws.com/{stage}
	// DeadLetterURL (NOTIFICATION_DLQ_URL) receives malformed messages;
	// when unset they are left to the queue's redrive policy.
	DeadLetterURL string
	Retention     time.Duration // HISTORY_RETENTION; default history.DefaultRetention
}

// loadConfig reads the configuration through getenv. The error lists every
// missing or bad variable.
func loadConfig(getenv func(string) string) (config, error) {
	env := lambdaenv.New(getenv)
	c := config{
		AWS:                env.AWS(),
		ConnectionsTable:   env.Required("CONNECTIONS_TABLE"),
		NotificationsTable: env.Required("NOTIFICATIONS_TABLE"),
		ManagementEndpoint: env.URL("MANAGEMENT_ENDPOINT"),
		DeadLetterURL:      env.OptionalURL("NOTIFICATION_DLQ_URL"),
		Retention:          env.Duration("HISTORY_RETENTION", history.DefaultRetention),
	}
	return c, env.Err()
}
