package main

import (
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/route"

	"github.com/finance/fbdi-notify/internal/testing/envtest"
)

// deployed is the environment template.yaml and Lambda give the function.
var deployed = envtest.With(envtest.AWS, map[string]string{
	"CONNECTIONS_TABLE":   "fbdi-connections",
	"NOTIFICATIONS_TABLE": "fbdi-notifications",
	"WORKFLOWS_TABLE":     "fbdi-workflows",
	"MANAGEMENT_ENDPOINT": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
	"STACK_NAME":          "fbdi-notify-prod",
})

func TestLoadConfig(t *testing.T) {
	envtest.Run(t, loadConfig, []envtest.Case[struct{}]{
		{Name: "deployed", Env: deployed},
		{Name: "no management endpoint: each event's", Env: envtest.With(deployed, map[string]string{"MANAGEMENT_ENDPOINT": ""})},
		{Name: "no stack name", Env: envtest.With(deployed, map[string]string{"STACK_NAME": ""})},
		{Name: "empty environment", Env: nil, Problems: envtest.Unset(
			"CONNECTIONS_TABLE is not set",
			"NOTIFICATIONS_TABLE is not set",
			"WORKFLOWS_TABLE is not set",
		)},
		{Name: "rate limit", Env: envtest.With(deployed, map[string]string{"MESSAGE_RATE_LIMIT": "30", "MESSAGE_RATE_WINDOW": "1m"})},
		{Name: "bad rate limit", Env: envtest.With(deployed, map[string]string{"MESSAGE_RATE_LIMIT": "0", "MESSAGE_RATE_WINDOW": "0s"}),
			Problems: []string{`MESSAGE_RATE_LIMIT "0" is not a whole number of at least 1`, "MESSAGE_RATE_WINDOW must be at least 1ms"}},
		{Name: "rate limit not a number", Env: envtest.With(deployed, map[string]string{"MESSAGE_RATE_LIMIT": "many"}),
			Problems: []string{`MESSAGE_RATE_LIMIT "many" is not a whole number of at least 1`}},
		{Name: "bad management endpoint", Env: envtest.With(deployed, map[string]string{"MANAGEMENT_ENDPOINT": "abc123.execute-api.eu-west-1.amazonaws.com/prod"}),
			Problems: []string{"MANAGEMENT_ENDPOINT is not an absolute http or https URL"}},
	}, func(t testing.TB, env map[string]string, _ struct{}, cfg config) {
		if cfg.ConnectionsTable != env["CONNECTIONS_TABLE"] || cfg.NotificationsTable != env["NOTIFICATIONS_TABLE"] ||
			cfg.WorkflowsTable != env["WORKFLOWS_TABLE"] || cfg.ManagementEndpoint != env["MANAGEMENT_ENDPOINT"] ||
			cfg.StackName != env["STACK_NAME"] {
			t.Errorf("config %+v does not hold the environment's values", cfg)
		}
		want := route.DefaultRateLimit
		if env["MESSAGE_RATE_LIMIT"] != "" {
			want = connection.Limit{Units: 30, Window: time.Minute}
		}
		if cfg.RateLimit != want {
			t.Errorf("RateLimit = %+v, want %+v", cfg.RateLimit, want)
		}
	})
}
