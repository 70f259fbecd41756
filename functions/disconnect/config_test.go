package main

import (
	"testing"

	"github.com/finance/fbdi-notify/internal/testing/envtest"
)

// deployed is the environment template.yaml and Lambda give the function.
var deployed = envtest.With(envtest.AWS, map[string]string{"CONNECTIONS_TABLE": "fbdi-connections"})

func TestLoadConfig(t *testing.T) {
	envtest.Run(t, loadConfig, []envtest.Case[struct{}]{
		{Name: "deployed", Env: deployed},
		{Name: "local AWS API", Env: envtest.With(deployed, map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})},
		{Name: "empty environment", Env: nil, Problems: envtest.Unset("CONNECTIONS_TABLE is not set")},
		{Name: "no table", Env: envtest.With(deployed, map[string]string{"CONNECTIONS_TABLE": ""}), Problems: []string{"CONNECTIONS_TABLE is not set"}},
	}, func(t testing.TB, env map[string]string, _ struct{}, cfg config) {
		if cfg.ConnectionsTable != env["CONNECTIONS_TABLE"] || cfg.AWS.Region != env["AWS_REGION"] {
			t.Errorf("config %+v does not hold the environment's values", cfg)
		}
	})
}
