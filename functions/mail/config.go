package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/preference"
)

// config is the MailFunction's configuration, read once at its cold start.
type config struct {
	AWS                aws.Config // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	NotificationsTable string     // NOTIFICATIONS_TABLE: history, preferences and the mail ledger
	// Schedule: QueueURL (MAIL_QUEUE_URL, the queue the function reads,
	// for the next round when more came) and Window (EMAIL_WINDOW, at most
	// 15m; default mail.DefaultWindow).
	Schedule mail.SchedulerConfig
	// Handler: Sender (EMAIL_SENDER, a verified SES identity),
	// ConfigurationSet (EMAIL_CONFIGURATION_SET, optional) and Defaults
	// (PREFERENCE_DEFAULTS, optional, as the NotifyFunction's).
	Handler mail.HandlerConfig
	// StackName (STACK_NAME, optional) is the Stack dimension of the
	// function's metrics; unset, "local".
	StackName string
}

// loadConfig reads the configuration through getenv. The error lists every
// missing or bad variable.
func loadConfig(getenv func(string) string) (config, error) {
	env := lambdaenv.New(getenv)
	c := config{
		AWS:                env.AWS(),
		NotificationsTable: env.Required("NOTIFICATIONS_TABLE"),
		Schedule: mail.SchedulerConfig{
			QueueURL: env.URL("MAIL_QUEUE_URL"),
			Window:   env.Duration("EMAIL_WINDOW", mail.DefaultWindow),
		},
		Handler: mail.HandlerConfig{
			Sender:           env.Required("EMAIL_SENDER"),
			ConfigurationSet: env.Optional("EMAIL_CONFIGURATION_SET"),
			Defaults:         preference.ReadDefaults(env),
		},
		StackName: env.Optional("STACK_NAME"),
	}
	if w := c.Schedule.Window; w < 0 || w > mail.MaxDelay {
		env.Problem("EMAIL_WINDOW %s is not between 0s and 15m", w)
	}
	return c, env.Err()
}
