package main

import (
	"slices"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/preference"
	"github.com/finance/fbdi-notify/internal/testing/envtest"
)

// deployed is the environment template.yaml and Lambda give the function.
var deployed = envtest.With(envtest.AWS, map[string]string{
	"CONNECTIONS_TABLE":       "fbdi-connections",
	"NOTIFICATIONS_TABLE":     "fbdi-notifications",
	"MANAGEMENT_ENDPOINT":     "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
	"NOTIFICATION_DLQ_URL":    "https://sqs.eu-west-1.amazonaws.com/123456789012/fbdi-notifications-dlq",
	"NOTIFICATION_QUEUE_URL":  "https://sqs.eu-west-1.amazonaws.com/123456789012/fbdi-notifications",
	"HISTORY_RETENTION":       "720h",
	"NOTIFY_RETRY_DELAYS":     "2s, 10s, 1m",
	"NOTIFY_DEADLINE_RESERVE": "5s",
	"NOTIFY_MAX_RECEIVES":     "5",
	"STACK_NAME":              "fbdi-notify-prod",
})

// parsed is what a config holds beyond the environment's strings.
type parsed struct {
	retention time.Duration
	delays    []time.Duration
	reserve   time.Duration
	receives  int // Queue.MaxReceives
}

func TestLoadConfig(t *testing.T) {
	defaults := map[string]string{"HISTORY_RETENTION": "", "NOTIFICATION_DLQ_URL": "", "NOTIFICATION_QUEUE_URL": "",
		"NOTIFY_RETRY_DELAYS": "", "NOTIFY_DEADLINE_RESERVE": "", "NOTIFY_MAX_RECEIVES": "", "STACK_NAME": ""}
	envtest.Run(t, loadConfig, []envtest.Case[parsed]{
		{Name: "deployed", Env: deployed,
			Want: parsed{720 * time.Hour, []time.Duration{2 * time.Second, 10 * time.Second, time.Minute}, 5 * time.Second, 5}},
		{Name: "defaults", Env: envtest.With(deployed, defaults),
			Want: parsed{history.DefaultRetention, notifier.DefaultRetryDelays(), notifier.DefaultReserve, notifier.DefaultMaxReceives}},
		{Name: "no redelivery", Env: envtest.With(deployed, map[string]string{"NOTIFY_RETRY_DELAYS": "none", "NOTIFY_DEADLINE_RESERVE": "2500ms"}),
			Want: parsed{720 * time.Hour, []time.Duration{}, 2500 * time.Millisecond, 5}},
		{Name: "three receives", Env: envtest.With(deployed, map[string]string{"NOTIFY_MAX_RECEIVES": "3"}),
			Want: parsed{720 * time.Hour, notifier.DefaultRetryDelays(), 5 * time.Second, 3}},
		{Name: "empty environment", Env: nil, Problems: envtest.Unset(
			"CONNECTIONS_TABLE is not set",
			"NOTIFICATIONS_TABLE is not set",
			"MANAGEMENT_ENDPOINT is not set",
		)},
		{Name: "bad values", Env: envtest.With(deployed, map[string]string{"MANAGEMENT_ENDPOINT": "abc123/prod",
			"NOTIFICATION_DLQ_URL": "fbdi-notifications-dlq", "HISTORY_RETENTION": "30d",
			"NOTIFICATION_QUEUE_URL": "fbdi-notifications", "NOTIFY_RETRY_DELAYS": "2s,20m", "NOTIFY_DEADLINE_RESERVE": "-1s",
			"NOTIFY_MAX_RECEIVES": "0"}),
			Problems: []string{
				"MANAGEMENT_ENDPOINT is not an absolute http or https URL",
				`HISTORY_RETENTION "30d" is not a duration such as 500ms or 10s`,
				"NOTIFICATION_DLQ_URL is not an absolute http or https URL",
				"NOTIFICATION_QUEUE_URL is not an absolute http or https URL",
				`NOTIFY_RETRY_DELAYS "2s,20m" is not a list of delays from 0s to 15m such as 2s,10s,1m (or none)`,
				`NOTIFY_DEADLINE_RESERVE "-1s" is not a duration such as 500ms or 10s`,
				`NOTIFY_MAX_RECEIVES "0" is not a whole number of at least 1`,
			}},
		{Name: "delay not a duration", Env: envtest.With(deployed, map[string]string{"NOTIFY_RETRY_DELAYS": "2s,,10s"}),
			Problems: []string{`NOTIFY_RETRY_DELAYS "2s,,10s" is not a list of delays from 0s to 15m such as 2s,10s,1m (or none)`}},
	}, func(t testing.TB, env map[string]string, want parsed, cfg config) {
		if cfg.ConnectionsTable != env["CONNECTIONS_TABLE"] || cfg.NotificationsTable != env["NOTIFICATIONS_TABLE"] ||
			cfg.ManagementEndpoint != env["MANAGEMENT_ENDPOINT"] || cfg.DeadLetterURL != env["NOTIFICATION_DLQ_URL"] ||
			cfg.Queue.QueueURL != env["NOTIFICATION_QUEUE_URL"] || cfg.Retention != want.retention ||
			!slices.Equal(cfg.Queue.RetryDelays, want.delays) || (cfg.Queue.RetryDelays == nil) != (want.delays == nil) ||
			cfg.Queue.Reserve != want.reserve || cfg.Queue.MaxReceives != want.receives || cfg.StackName != env["STACK_NAME"] {
			t.Errorf("config %+v does not hold the environment's values (want %+v)", cfg, want)
		}
	})
}

// prefs is what a config holds of PREFERENCE_DEFAULTS and UNREAD_TYPES.
type prefs struct {
	fbdi, other    preference.Channels // Preferences.For("fbdi"), For("any")
	progressUnread bool                // Unread.Unread of an oracle_upload_progress
}

func TestLoadConfigPreferences(t *testing.T) {
	progress := notification.UploadProgress("602", "Upload", 1, 5, notification.StatusProcessing, "")
	envtest.Run(t, loadConfig, []envtest.Case[prefs]{
		{Name: "unset", Env: deployed, Want: prefs{fbdi: preference.InAppOnly, other: preference.InAppOnly}},
		{Name: "set", Env: envtest.With(deployed, map[string]string{
			"PREFERENCE_DEFAULTS": `{"fbdi":{"email":true},"*":{"in_app":false}}`,
			"UNREAD_TYPES":        "oracle_upload_progress, notification"}),
			Want: prefs{fbdi: preference.Channels{InApp: true, Email: true}, other: preference.Channels{}, progressUnread: true}},
		{Name: "bad values", Env: envtest.With(deployed, map[string]string{
			"PREFERENCE_DEFAULTS": `{"fbdi":{"sms":true}}`, "UNREAD_TYPES": "notification,welcome"}),
			Problems: []string{
				`PREFERENCE_DEFAULTS is not a JSON object such as {"general":{"in_app":true,"email":false},"*":{"in_app":true}}: preference defaults: preference: invalid: categories.fbdi.sms: unknown channel; want in_app or email`,
				"UNREAD_TYPES is not a comma-separated list of notification types: unread types: welcome is not a notification type",
			}},
	}, func(t testing.TB, env map[string]string, want prefs, cfg config) {
		got := prefs{fbdi: cfg.Preferences.For("fbdi"), other: cfg.Preferences.For("any"), progressUnread: cfg.Unread.Unread(progress)}
		if got != want {
			t.Errorf("preferences %+v; want %+v", got, want)
		}
	})
}
