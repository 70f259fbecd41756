package main

import (
	"maps"
	"strings"
	"testing"
)

// deployed is the environment template.yaml and Lambda give the function.
var deployed = map[string]string{
	"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI", "AWS_SESSION_TOKEN": "FwoGZXIvYXdz",
	"LOG_LEVEL": "info", "AWS_ENDPOINT_URL": "",
	"CONNECTIONS_TABLE": "fbdi-connections",
	"JWT_SECRET_ARN":    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf",
}

// with returns env changed by edits; an empty value unsets the variable.
func with(env map[string]string, edits map[string]string) map[string]string {
	out := maps.Clone(env)
	maps.Copy(out, edits)
	return out
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string // every problem, in order; none for a valid environment
	}{
		{name: "deployed", env: deployed},
		{name: "key in the environment instead of a secret",
			env: with(deployed, map[string]string{"JWT_SECRET_ARN": "", "JWT_SECRET": "local-development-secret"})},
		{name: "empty environment", env: nil, want: []string{
			"AWS_REGION is not set (nor AWS_DEFAULT_REGION)",
			"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
			"CONNECTIONS_TABLE is not set",
			"JWT_SECRET_ARN is not set (nor JWT_SECRET)",
		}},
		{name: "no table, key in the environment",
			env:  with(deployed, map[string]string{"CONNECTIONS_TABLE": "", "JWT_SECRET_ARN": "", "JWT_SECRET": "local-development-secret"}),
			want: []string{"CONNECTIONS_TABLE is not set"}},
		{name: "bad AWS endpoint", env: with(deployed, map[string]string{"AWS_ENDPOINT_URL": "localhost:5000"}),
			want: []string{"AWS_ENDPOINT_URL is not an absolute http or https URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string { return tt.env[k] })
			got := ""
			if err != nil {
				got = err.Error()
			}
			if want := strings.Join(tt.want, "\n"); got != want {
				t.Fatalf("loadConfig() error:\n%s\nwant:\n%s", got, want)
			}
			if strings.Contains(got, "local-development-secret") || strings.Contains(got, "wJalrXUtnFEMI") {
				t.Errorf("the error quotes a secret: %s", got)
			}
			if err != nil {
				return
			}
			if cfg.ConnectionsTable != tt.env["CONNECTIONS_TABLE"] || cfg.JWTSecret != tt.env["JWT_SECRET"] ||
				cfg.JWTSecretARN != tt.env["JWT_SECRET_ARN"] || cfg.AWS.Region != tt.env["AWS_REGION"] {
				t.Errorf("config %+v does not hold the environment's values", cfg)
			}
		})
	}
}
