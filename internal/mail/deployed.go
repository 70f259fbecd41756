package mail

import (
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/metrics"
)

// OutboxConfig is what the functions that store notifications (notify,
// worker, sweeper) read to schedule e-mail (ReadOutbox).
type OutboxConfig struct {
	Scheduler SchedulerConfig // QueueURL empty: no e-mail is scheduled
	SMS       bool            // SMS_ENABLED: text critical notifications (SchedulerConfig.SMS)
}

// ReadOutbox reads MAIL_QUEUE_URL (optional: unset, nothing is e-mailed),
// EMAIL_WINDOW and EMAIL_UNREAD_DELAY (at most MaxDelay each; defaults
// DefaultWindow and DefaultUnreadDelay) and SMS_ENABLED (true or false,
// default false). Problems are recorded on env.
func ReadOutbox(env *lambdaenv.Env) OutboxConfig {
	c := OutboxConfig{Scheduler: SchedulerConfig{
		QueueURL:    env.OptionalURL("MAIL_QUEUE_URL"),
		Window:      env.Duration("EMAIL_WINDOW", DefaultWindow),
		UnreadDelay: env.Duration("EMAIL_UNREAD_DELAY", DefaultUnreadDelay),
	}}
	for name, d := range map[string]time.Duration{"EMAIL_WINDOW": c.Scheduler.Window, "EMAIL_UNREAD_DELAY": c.Scheduler.UnreadDelay} {
		if d > MaxDelay {
			env.Problem("%s %s is more than %s", name, d, MaxDelay)
		}
	}
	switch v := env.Optional("SMS_ENABLED"); v {
	case "", "false":
	case "true":
		c.SMS = true
	default:
		env.Problem("SMS_ENABLED %q is neither true nor false", v)
	}
	return c
}

// NewDeployedScheduler returns the Scheduler of a deployed function, built
// one way by notify, worker and sweeper: its ledger in the notifications
// table, its due messages on the mail queue, SMS through SNS when c.SMS. It
// returns nil, nil when c names no mail queue: nothing is e-mailed.
func NewDeployedScheduler(cfg aws.Config, db *dynamodb.Client, q *sqs.Client, notificationsTable string, c OutboxConfig,
	log *slog.Logger, rec *metrics.Recorder) (*Scheduler, error) {
	if c.Scheduler.QueueURL == "" {
		return nil, nil
	}
	sc := c.Scheduler
	if c.SMS {
		sc.SMS = sns.NewFromConfig(cfg)
	}
	return NewScheduler(NewDynamoLedger(db, notificationsTable), q, sc, time.Now, log, rec)
}
