package main

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/history"
)

// deployed is the environment template.yaml and Lambda give the function.
var deployed = map[string]string{
	"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI", "AWS_SESSION_TOKEN": "FwoGZXIvYXdz",
	"LOG_LEVEL": "info", "AWS_ENDPOINT_URL": "",
	"CONNECTIONS_TABLE":    "fbdi-connections",
	"NOTIFICATIONS_TABLE":  "fbdi-notifications",
	"MANAGEMENT_ENDPOINT":  "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
	"NOTIFICATION_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/fbdi-notifications-dlq",
	"HISTORY_RETENTION":    "720h",
}

// with returns env changed by edits; an empty value unsets the variable.
func with(env map[string]string, edits map[string]string) map[string]string {
	out := maps.Clone(env)
	maps.Copy(out, edits)
	return out
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name          string
		env           map[string]string
		want          []string      // every problem, in order; none for a valid environment
		wantRetention time.Duration // when valid
	}{
		{name: "deployed", env: deployed, wantRetention: 720 * time.Hour},
		{name: "defaults", env: with(deployed, map[string]string{"HISTORY_RETENTION": "", "NOTIFICATION_DLQ_URL": ""}),
			wantRetention: history.DefaultRetention},
		{name: "empty environment", env: nil, want: []string{
			"AWS_REGION is not set (nor AWS_DEFAULT_REGION)",
			"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
			"CONNECTIONS_TABLE is not set",
			"NOTIFICATIONS_TABLE is not set",
			"MANAGEMENT_ENDPOINT is not set",
		}},
		{name: "bad values", env: with(deployed, map[string]string{"MANAGEMENT_ENDPOINT": "abc123/prod",
			"NOTIFICATION_DLQ_URL": "fbdi-notifications-dlq", "HISTORY_RETENTION": "30d"}), want: []string{
			"MANAGEMENT_ENDPOINT is not an absolute http or https URL",
			"NOTIFICATION_DLQ_URL is not an absolute http or https URL",
			`HISTORY_RETENTION "30d" is not a duration such as 500ms or 10s`,
		}},
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
			if err != nil {
				return
			}
			if cfg.ConnectionsTable != tt.env["CONNECTIONS_TABLE"] || cfg.NotificationsTable != tt.env["NOTIFICATIONS_TABLE"] ||
				cfg.ManagementEndpoint != tt.env["MANAGEMENT_ENDPOINT"] || cfg.DeadLetterURL != tt.env["NOTIFICATION_DLQ_URL"] ||
				cfg.Retention != tt.wantRetention {
				t.Errorf("config %+v does not hold the environment's values (retention %v)", cfg, tt.wantRetention)
			}
		})
	}
}
