package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/mail"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/preference"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// config is the SweeperFunction's configuration, read once at its cold start.
type config struct {
	AWS                aws.Config    // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	ConnectionsTable   string        // CONNECTIONS_TABLE
	NotificationsTable string        // NOTIFICATIONS_TABLE
	WorkflowsTable     string        // WORKFLOWS_TABLE
	ManagementEndpoint string        // MANAGEMENT_ENDPOINT, https://{api}.execute-api.{region}.amazonaws.com/{stage}
	Retention          time.Duration // HISTORY_RETENTION; default history.DefaultRetention
	// StackName (STACK_NAME, optional; template.yaml sets it) is the Stack
	// dimension of every metric; metrics.New makes it "local" when empty.
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

	// Workflow is workflow.DefaultConfig with QueueURL (WORKFLOW_QUEUE_URL,
	// required), PollInterval (ORACLE_POLL_INTERVAL) and Deadline
	// (WORKFLOW_DEADLINE, more than 0): the values the WorkerFunction has,
	// so that both reckon a workflow's due time alike.
	Workflow workflow.Config

	// OracleHost (from ORACLE_BASE_URL) and Gate.MaxRunningJobs
	// (ORACLE_MAX_RUNNING_JOBS, default 0: no bound) name the job slots
	// the WorkerFunction takes, so that a workflow the sweeper ends gives
	// its slot back.
	OracleHost string
	Gate       oraclegate.Config
}

// loadConfig reads the configuration through getenv. The error lists every
// missing or bad variable.
func loadConfig(getenv func(string) string) (config, error) {
	env := lambdaenv.New(getenv)
	c := config{
		AWS:                env.AWS(),
		ConnectionsTable:   env.Required("CONNECTIONS_TABLE"),
		NotificationsTable: env.Required("NOTIFICATIONS_TABLE"),
		WorkflowsTable:     env.Required("WORKFLOWS_TABLE"),
		ManagementEndpoint: env.URL("MANAGEMENT_ENDPOINT"),
		Retention:          env.Duration("HISTORY_RETENTION", history.DefaultRetention),
		Workflow:           workflow.DefaultConfig(),
		StackName:          env.Optional("STACK_NAME"),
		Preferences:        preference.ReadDefaults(env),
		Unread:             notifier.ReadUnreadRule(env),
		Mail:               mail.ReadOutbox(env),
	}
	wf := &c.Workflow
	wf.ReadShared(env)
	base := oracle.Config{BaseURL: env.URL("ORACLE_BASE_URL")}
	c.OracleHost = base.Host()
	c.Gate.MaxRunningJobs = env.Int("ORACLE_MAX_RUNNING_JOBS", 0, 0)
	return c, env.Err()
}
