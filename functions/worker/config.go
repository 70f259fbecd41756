package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// config is the WorkerFunction's configuration, read once at its cold start.
type config struct {
	AWS aws.Config // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	// Deployed: the tables, management endpoint, retention, preference
	// defaults, unread rule and e-mail of its Notifier (notifier.ReadDeployed).
	notifier.Deployed
	WorkflowsTable string // WORKFLOWS_TABLE
	// DeadLetterURL (WORKFLOW_DLQ_URL) receives malformed messages; when
	// unset they are left to the queue's redrive policy.
	DeadLetterURL string
	// StackName (STACK_NAME, optional; template.yaml sets it) is the Stack
	// dimension of every metric; metrics.New makes it "local" when empty.
	StackName string

	// Workflow is workflow.DefaultConfig with QueueURL (WORKFLOW_QUEUE_URL,
	// required), PollInterval (ORACLE_POLL_INTERVAL), Deadline
	// (WORKFLOW_DEADLINE, more than 0), DataAccessSet
	// (ORACLE_DATA_ACCESS_SET), AutoPostCriteriaID
	// (ORACLE_AUTOPOST_CRITERIA_ID), MaxReceives (WORKFLOW_MAX_RECEIVES,
	// the workflow queue's maxReceiveCount, at least 1),
	// CheckpointReserve (WORKFLOW_CHECKPOINT_RESERVE) and the retries of
	// what Oracle did not accept: MaxAttempts (ORACLE_RETRY_ATTEMPTS, per
	// step, at least 1), RetryBase (ORACLE_RETRY_BASE) and RetryMax
	// (ORACLE_RETRY_MAX) from the environment.
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

	// Gate is the breaker and the job slots shared by the workers, kept in
	// the workflows table under the host of ORACLE_BASE_URL:
	// ORACLE_BREAKER_THRESHOLD refusals within ORACLE_BREAKER_WINDOW open
	// it, a probe goes every ORACLE_BREAKER_PROBE_INTERVAL, parked
	// workflows resume ORACLE_RESUME_SPACING apart, and at most
	// ORACLE_MAX_RUNNING_JOBS jobs run at once (0: no bound). Defaults:
	// oraclegate's.
	Gate oraclegate.Config
}

// loadConfig reads the configuration through getenv. The error lists every
// missing or bad variable.
func loadConfig(getenv func(string) string) (config, error) {
	env := lambdaenv.New(getenv)
	c := config{
		AWS:             env.AWS(),
		Deployed:        notifier.ReadDeployed(env),
		WorkflowsTable:  env.Required("WORKFLOWS_TABLE"),
		DeadLetterURL:   env.OptionalURL("WORKFLOW_DLQ_URL"),
		Workflow:        workflow.DefaultConfig(),
		OracleSecretARN: env.Optional("ORACLE_SECRET_ARN"),
		StackName:       env.Optional("STACK_NAME"),
	}
	wf := &c.Workflow
	wf.ReadShared(env)
	wf.DataAccessSet = env.Optional("ORACLE_DATA_ACCESS_SET")
	wf.AutoPostCriteriaID = env.Optional("ORACLE_AUTOPOST_CRITERIA_ID")
	wf.MaxReceives = env.Int("WORKFLOW_MAX_RECEIVES", wf.MaxReceives, 1)
	wf.CheckpointReserve = env.Duration("WORKFLOW_CHECKPOINT_RESERVE", wf.CheckpointReserve)
	wf.MaxAttempts = env.Int("ORACLE_RETRY_ATTEMPTS", wf.MaxAttempts, 1)
	wf.RetryBase = env.Duration("ORACLE_RETRY_BASE", wf.RetryBase)
	wf.RetryMax = env.Duration("ORACLE_RETRY_MAX", wf.RetryMax)
	if wf.RetryBase <= 0 || wf.RetryMax < wf.RetryBase {
		env.Problem("ORACLE_RETRY_BASE must be more than 0 and ORACLE_RETRY_MAX at least ORACLE_RETRY_BASE")
	}
	c.Gate.Threshold = env.Int("ORACLE_BREAKER_THRESHOLD", oraclegate.DefaultThreshold, 1)
	c.Gate.Window = env.Duration("ORACLE_BREAKER_WINDOW", oraclegate.DefaultWindow)
	c.Gate.ProbeInterval = env.Duration("ORACLE_BREAKER_PROBE_INTERVAL", oraclegate.DefaultProbeInterval)
	c.Gate.ResumeSpacing = env.Duration("ORACLE_RESUME_SPACING", oraclegate.DefaultResumeSpacing)
	c.Gate.MaxRunningJobs = env.Int("ORACLE_MAX_RUNNING_JOBS", 0, 0)
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
