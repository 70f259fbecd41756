package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// config is the WorkerFunction's configuration, read once at its cold start.
type config struct {
	AWS                aws.Config    // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	ConnectionsTable   string        // CONNECTIONS_TABLE
	NotificationsTable string        // NOTIFICATIONS_TABLE
	WorkflowsTable     string        // WORKFLOWS_TABLE
	ManagementEndpoint string        // MANAGEMENT_ENDPOINT, https://{api}.execute-api.{region}.amazonaws.com/{stage}
	Retention          time.Duration // HISTORY_RETENTION; default history.DefaultRetention
	// DeadLetterURL (WORKFLOW_DLQ_URL) receives malformed messages; when
	// unset they are left to the queue's redrive policy.
	DeadLetterURL string

	// Workflow is workflow.DefaultConfig with QueueURL (WORKFLOW_QUEUE_URL,
	// required), PollInterval (ORACLE_POLL_INTERVAL), Deadline
	// (WORKFLOW_DEADLINE, more than 0), DataAccessSet
	// (ORACLE_DATA_ACCESS_SET) and AutoPostCriteriaID
	// (ORACLE_AUTOPOST_CRITERIA_ID) from the environment.
	Workflow workflow.Config

	// The Oracle endpoint and integration user. Deployed, they are the
	// Secrets Manager secret OracleSecretARN (ORACLE_SECRET_ARN), which main
	// reads. Without it (tests, local runs) Oracle's BaseURL, Username and
	// Password come from ORACLE_BASE_URL, ORACLE_USERNAME and
	// ORACLE_PASSWORD, and all three are required.
	OracleSecretARN string
	Oracle          oracle.Config
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
		DeadLetterURL:      env.OptionalURL("WORKFLOW_DLQ_URL"),
		Workflow:           workflow.DefaultConfig(),
		OracleSecretARN:    env.Optional("ORACLE_SECRET_ARN"),
	}
	wf := &c.Workflow
	wf.QueueURL = env.URL("WORKFLOW_QUEUE_URL")
	wf.PollInterval = env.Duration("ORACLE_POLL_INTERVAL", wf.PollInterval)
	if wf.Deadline = env.Duration("WORKFLOW_DEADLINE", wf.Deadline); wf.Deadline == 0 {
		env.Problem("WORKFLOW_DEADLINE must be more than 0")
	}
	wf.DataAccessSet = env.Optional("ORACLE_DATA_ACCESS_SET")
	wf.AutoPostCriteriaID = env.Optional("ORACLE_AUTOPOST_CRITERIA_ID")
	if c.OracleSecretARN != "" {
		c.Oracle.BaseURL = env.OptionalURL("ORACLE_BASE_URL") // the secret's base_url wins
	} else {
		c.Oracle = oracle.Config{BaseURL: env.URL("ORACLE_BASE_URL"),
			Username: env.Required("ORACLE_USERNAME"), Password: env.Required("ORACLE_PASSWORD")}
	}
	return c, env.Err()
}
