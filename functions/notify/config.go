package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/preference"
)

// config is the NotifyFunction's configuration, read once at its cold start.
type config struct {
	AWS                aws.Config // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	ConnectionsTable   string     // CONNECTIONS_TABLE
	NotificationsTable string     // NOTIFICATIONS_TABLE
	ManagementEndpoint string     // MANAGEMENT_ENDPOINT, https://{api}.execute-api.{region}.amazonaws.com/{stage}
	// DeadLetterURL (NOTIFICATION_DLQ_URL) receives malformed messages and
	// failed deliveries; when unset they are left to the queue's redrive
	// policy and the logs.
	DeadLetterURL string
	Retention     time.Duration // HISTORY_RETENTION; default history.DefaultRetention
	// Queue (NOTIFICATION_QUEUE_URL, the notification queue itself),
	// RetryDelays (NOTIFY_RETRY_DELAYS, comma-separated durations of at most
	// 15m, or "none"; default 2s,10s,1m) and Reserve (NOTIFY_DEADLINE_RESERVE;
	// default notifier.DefaultReserve): the redeliveries of failed posts and
	// the time kept before the deadline (notifier.QueueOptions). Without
	// NOTIFICATION_QUEUE_URL failed posts are not redelivered. Its
	// MaxReceives (NOTIFY_MAX_RECEIVES, at least 1; default
	// notifier.DefaultMaxReceives, 5) must equal the NotificationQueue's
	// redrive policy maxReceiveCount in template.yaml: on that receive a
	// message that fails again is dead-lettered with its reason.
	Queue notifier.QueueOptions
	// StackName (STACK_NAME, which the template sets to the stack's name;
	// optional) is the Stack dimension of the function's metrics; unset,
	// "local".
	StackName string
	// Preferences (PREFERENCE_DEFAULTS, optional) are the operator's
	// channels per category (preference.ParseDefaults); unset, in_app
	// only for every category.
	Preferences preference.Defaults
	// Unread (UNREAD_TYPES, optional) lists the notification types stored
	// unread (notification.ParseUnreadRule); unset,
	// notification.DefaultUnreadTypes.
	Unread notification.UnreadRule
	// Mail (MAIL_QUEUE_URL, EMAIL_WINDOW, EMAIL_UNREAD_DELAY, SMS_ENABLED;
	// mail.ReadOutbox) schedules the e-mail of what users do not see in
	// time; without MAIL_QUEUE_URL nothing is e-mailed.
	Mail mail.OutboxConfig
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
		Queue: notifier.QueueOptions{
			QueueURL:    env.OptionalURL("NOTIFICATION_QUEUE_URL"),
			RetryDelays: retryDelays(env, "NOTIFY_RETRY_DELAYS"),
			Reserve:     env.Duration("NOTIFY_DEADLINE_RESERVE", notifier.DefaultReserve),
			MaxReceives: env.Int("NOTIFY_MAX_RECEIVES", notifier.DefaultMaxReceives, 1),
		},
		StackName:   env.Optional("STACK_NAME"),
		Preferences: preference.ReadDefaults(env),
		Unread:      notifier.ReadUnreadRule(env),
		Mail:        mail.ReadOutbox(env),
	}
	return c, env.Err()
}

// retryDelays reads a list of delays by notifier.ParseRetryDelays.
func retryDelays(env *lambdaenv.Env, name string) []time.Duration {
	v := env.Optional(name)
	delays, err := notifier.ParseRetryDelays(v)
	if err != nil {
		env.Problem("%s %q is not a list of delays from 0s to 15m such as 2s,10s,1m (or none)", name, v)
		return notifier.DefaultRetryDelays()
	}
	return delays
}
