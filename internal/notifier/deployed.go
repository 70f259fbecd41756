package notifier

import (
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/preference"
)

// Deployed is what each function that stores notifications (notify, worker,
// sweeper) reads to build its Notifier the one deployed way: ReadDeployed,
// then NewDeployed. The functions embed it in their configuration.
type Deployed struct {
	ConnectionsTable   string        // CONNECTIONS_TABLE
	NotificationsTable string        // NOTIFICATIONS_TABLE
	ManagementEndpoint string        // MANAGEMENT_ENDPOINT, https://{api}.execute-api.{region}.amazonaws.com/{stage}
	Retention          time.Duration // HISTORY_RETENTION; default history.DefaultRetention
	// Preferences (PREFERENCE_DEFAULTS, optional; preference.ReadDefaults)
	// are the operator's channels per category; unset, in_app only.
	Preferences preference.Defaults
	// Unread (UNREAD_TYPES, optional; ReadUnreadRule) lists the types
	// stored unread; unset, notification.DefaultUnreadTypes.
	Unread notification.UnreadRule
	// Mail (MAIL_QUEUE_URL, EMAIL_WINDOW, EMAIL_UNREAD_DELAY, SMS_ENABLED;
	// mail.ReadOutbox) schedules the e-mail of what users do not see in
	// time; without MAIL_QUEUE_URL nothing is e-mailed.
	Mail mail.OutboxConfig
}

// ReadDeployed reads a Deployed through env, recording problems there.
func ReadDeployed(env *lambdaenv.Env) Deployed {
	return Deployed{
		ConnectionsTable:   env.Required("CONNECTIONS_TABLE"),
		NotificationsTable: env.Required("NOTIFICATIONS_TABLE"),
		ManagementEndpoint: env.URL("MANAGEMENT_ENDPOINT"),
		Retention:          env.Duration("HISTORY_RETENTION", history.DefaultRetention),
		Preferences:        preference.ReadDefaults(env),
		Unread:             ReadUnreadRule(env),
		Mail:               mail.ReadOutbox(env),
	}
}

// NewDeployed returns the Notifier of a deployed function (NewDynamo) with
// d's retention, preferences and unread rule, the e-mail scheduler of d.Mail
// when it names a mail queue (mail.NewDeployedScheduler), logging to log and
// recording on rec. Its error is the scheduler's.
func NewDeployed(cfg aws.Config, db *dynamodb.Client, q *sqs.Client, d Deployed, log *slog.Logger, rec *metrics.Recorder) (*Notifier, error) {
	opts := Options{Logger: log, Retention: d.Retention, Metrics: rec, Defaults: d.Preferences, Unread: d.Unread}
	sched, err := mail.NewDeployedScheduler(cfg, db, q, d.NotificationsTable, d.Mail, log, rec)
	if err != nil {
		return nil, err
	}
	if sched != nil { // a nil *mail.Scheduler in the interface would not be nil
		opts.Outbox = sched
	}
	return NewDynamo(cfg, db, d.ConnectionsTable, d.NotificationsTable, d.ManagementEndpoint, opts), nil
}
