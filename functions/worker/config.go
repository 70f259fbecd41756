package main

import (
	"strconv"
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
	// (ORACLE_DATA_ACCESS_SET), AutoPostCriteriaID
	// (ORACLE_AUTOPOST_CRITERIA_ID), MaxReceives (WORKFLOW_MAX_RECEIVES,
	// the workflow queue's maxReceiveCount, at least 1) and
	// CheckpointReserve (WORKFLOW_CHECKPOINT_RESERVE) from the environment.
	Workflow workflow.Config

	// The Oracle endpoint and integration user. The endpoint, Oracle's
	// BaseURL, is always ORACLE_BASE_URL (the template's OracleBaseUrl),
	// https unless ORACLE_ALLOW_HTTP is true (set by the local stack only)
	// or its host is a loopback address. The user is, deployed, in the
	// Secrets Manager secret OracleSecretARN (ORACLE_SECRET_ARN), which main
	// reads; without it (tests, local runs) Username and Password come from
	// ORACLE_USERNAME and ORACLE_PASSWORD, both required.
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
	if v := env.Optional("WORKFLOW_MAX_RECEIVES"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			env.Problem("WORKFLOW_MAX_RECEIVES %q is not a whole number of at least 1", v)
		} else {
			wf.MaxReceives = n
		}
	}
	wf.CheckpointReserve = env.Duration("WORKFLOW_CHECKPOINT_RESERVE", wf.CheckpointReserve)
	c.Oracle.BaseURL = env.URL("ORACLE_BASE_URL")
	switch v := env.Optional("ORACLE_ALLOW_HTTP"); v {
	case "", "false":
	case "true":
		c.Oracle.AllowHTTP = true
	default:
		env.Problem("ORACLE_ALLOW_HTTP %q is neither true nor false", v)
	}
	if err := c.Oracle.CheckBaseURL(); c.Oracle.BaseURL != "" && err != nil {
		env.Problem("ORACLE_BASE_URL: %v", err)
	}
	if c.OracleSecretARN == "" {
		c.Oracle.Username, c.Oracle.Password = env.Required("ORACLE_USERNAME"), env.Required("ORACLE_PASSWORD")
	}
	return c, env.Err()
}
