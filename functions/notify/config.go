package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notifier"
)

// config is the NotifyFunction's configuration, read once at its cold start.
type config struct {
	AWS aws.Config // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	// Deployed: the tables, management endpoint, retention, preference
	// defaults, unread rule and e-mail of its Notifier (notifier.ReadDeployed).
	notifier.Deployed
	// DeadLetterURL (NOTIFICATION_DLQ_URL) receives malformed messages and
	// failed deliveries; when unset they are left to the queue's redrive
	// policy and the logs.
	DeadLetterURL string
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
}

// loadConfig reads the configuration through getenv. The error lists every
// missing or bad variable.
func loadConfig(getenv func(string) string) (config, error) {
	env := lambdaenv.New(getenv)
	c := config{
		AWS:           env.AWS(),
		Deployed:      notifier.ReadDeployed(env),
		DeadLetterURL: env.OptionalURL("NOTIFICATION_DLQ_URL"),
		Queue: notifier.QueueOptions{
			QueueURL:    env.OptionalURL("NOTIFICATION_QUEUE_URL"),
			RetryDelays: retryDelays(env, "NOTIFY_RETRY_DELAYS"),
			Reserve:     env.Duration("NOTIFY_DEADLINE_RESERVE", notifier.DefaultReserve),
			MaxReceives: env.Int("NOTIFY_MAX_RECEIVES", notifier.DefaultMaxReceives, 1),
		},
		StackName: env.Optional("STACK_NAME"),
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
