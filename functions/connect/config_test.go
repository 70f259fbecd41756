package main

import (
	"slices"
	"testing"

	"github.com/finance/fbdi-notify/internal/testing/envtest"
)

// deployed is the environment template.yaml and Lambda give the function.
var deployed = envtest.With(envtest.AWS, map[string]string{
	"CONNECTIONS_TABLE": "fbdi-connections",
	"JWT_SECRET_ARN":    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf",
	"STACK_NAME":        "fbdi-notify-prod",
})

func TestLoadConfig(t *testing.T) {
	envtest.Run(t, loadConfig, []envtest.Case[struct{}]{
		{Name: "deployed", Env: deployed},
		{Name: "key in the environment instead of a secret",
			Env: envtest.With(deployed, map[string]string{"JWT_SECRET_ARN": "", "JWT_SECRET": "local-development-secret"})},
		{Name: "empty environment", Env: nil, Problems: envtest.Unset(
			"CONNECTIONS_TABLE is not set",
			"JWT_SECRET_ARN is not set (nor JWT_SECRET)",
		)},
		{Name: "no table, key in the environment",
			Env:      envtest.With(deployed, map[string]string{"CONNECTIONS_TABLE": "", "JWT_SECRET_ARN": "", "JWT_SECRET": "local-development-secret"}),
			Problems: []string{"CONNECTIONS_TABLE is not set"}},
		{Name: "no stack name", Env: envtest.With(deployed, map[string]string{"STACK_NAME": ""})},
		{Name: "refresh tokens accepted too", Env: envtest.With(deployed, map[string]string{"ACCEPTED_TOKEN_TYPES": " access, refresh ,"})},
		{Name: "bad AWS endpoint", Env: envtest.With(deployed, map[string]string{"AWS_ENDPOINT_URL": "localhost:5000"}),
			Problems: []string{"AWS_ENDPOINT_URL is not an absolute http or https URL"}},
	}, func(t testing.TB, env map[string]string, _ struct{}, cfg config) {
		if cfg.ConnectionsTable != env["CONNECTIONS_TABLE"] || cfg.JWTSecret != env["JWT_SECRET"] ||
			cfg.JWTSecretARN != env["JWT_SECRET_ARN"] || cfg.AWS.Region != env["AWS_REGION"] || cfg.StackName != env["STACK_NAME"] {
			t.Errorf("config %+v does not hold the environment's values", cfg)
		}
		want := []string{"access"}
		if env["ACCEPTED_TOKEN_TYPES"] != "" {
			want = []string{"access", "refresh"}
		}
		if !slices.Equal(cfg.TokenTypes, want) {
			t.Errorf("TokenTypes = %q, want %q", cfg.TokenTypes, want)
		}
	})
}
