package main

import (
	"testing"

	"github.com/finance/fbdi-notify/internal/testing/envtest"
)

// deployed is the environment template.yaml and Lambda give the function.
var deployed = envtest.With(envtest.AWS, map[string]string{
	"MANAGEMENT_ENDPOINT": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
	"CONNECTIONS_TABLE":   "fbdi-connections",
	"STACK_NAME":          "fbdi-notify-prod",
})

func TestLoadConfig(t *testing.T) {
	envtest.Run(t, loadConfig, []envtest.Case[struct{}]{
		{Name: "deployed", Env: deployed},
		{Name: "local gateway, no stack name", Env: envtest.With(deployed, map[string]string{"MANAGEMENT_ENDPOINT": "http://127.0.0.1:3001", "STACK_NAME": ""})},
		{Name: "empty environment", Env: nil, Problems: envtest.Unset("MANAGEMENT_ENDPOINT is not set", "CONNECTIONS_TABLE is not set")},
		{Name: "no connections table", Env: envtest.With(deployed, map[string]string{"CONNECTIONS_TABLE": ""}),
			Problems: []string{"CONNECTIONS_TABLE is not set"}},
		{Name: "WebSocket URL instead of the management API", Env: envtest.With(deployed, map[string]string{"MANAGEMENT_ENDPOINT": "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod"}),
			Problems: []string{"MANAGEMENT_ENDPOINT is not an absolute http or https URL"}},
	}, func(t testing.TB, env map[string]string, _ struct{}, cfg config) {
		if cfg.ManagementEndpoint != env["MANAGEMENT_ENDPOINT"] || cfg.ConnectionsTable != env["CONNECTIONS_TABLE"] ||
			cfg.StackName != env["STACK_NAME"] {
			t.Errorf("config %+v does not hold the environment's values", cfg)
		}
	})
}
