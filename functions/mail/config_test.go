package main

import (
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/testing/envtest"
)

// deployed is the environment template.yaml and Lambda give the function.
var deployed = envtest.With(envtest.AWS, map[string]string{
	"NOTIFICATIONS_TABLE":     "fbdi-notifications",
	"MAIL_QUEUE_URL":          "https://sqs.eu-west-1.amazonaws.com/123456789012/fbdi-mail",
	"EMAIL_SENDER":            "notifications@example.com",
	"EMAIL_CONFIGURATION_SET": "fbdi-notify-prod",
	"EMAIL_WINDOW":            "2m",
	"STACK_NAME":              "fbdi-notify-prod",
})

func TestLoadConfig(t *testing.T) {
	envtest.Run(t, loadConfig, []envtest.Case[time.Duration]{
		{Name: "deployed", Env: deployed, Want: 2 * time.Minute},
		{Name: "defaults", Env: envtest.With(deployed, map[string]string{"EMAIL_WINDOW": "", "EMAIL_CONFIGURATION_SET": "", "STACK_NAME": ""}),
			Want: mail.DefaultWindow},
		{Name: "empty environment", Env: nil, Problems: envtest.Unset(
			"NOTIFICATIONS_TABLE is not set",
			"MAIL_QUEUE_URL is not set",
			"EMAIL_SENDER is not set",
		)},
		{Name: "bad values", Env: envtest.With(deployed, map[string]string{"MAIL_QUEUE_URL": "fbdi-mail", "EMAIL_WINDOW": "20m"}),
			Problems: []string{
				"MAIL_QUEUE_URL is not an absolute http or https URL",
				"EMAIL_WINDOW 20m0s is not between 0s and 15m",
			}},
	}, func(t testing.TB, env map[string]string, want time.Duration, cfg config) {
		if cfg.NotificationsTable != env["NOTIFICATIONS_TABLE"] || cfg.Schedule.QueueURL != env["MAIL_QUEUE_URL"] ||
			cfg.Handler.Sender != env["EMAIL_SENDER"] || cfg.Handler.ConfigurationSet != env["EMAIL_CONFIGURATION_SET"] ||
			cfg.Schedule.Window != want || cfg.StackName != env["STACK_NAME"] {
			t.Errorf("config %+v does not hold the environment's values (window want %s)", cfg, want)
		}
	})
}
