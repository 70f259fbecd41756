package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// config is the SweeperFunction's configuration, read once at its cold start.
type config struct {
	AWS aws.Config // AWS_REGION, AWS_ACCESS_KEY_ID, ... (lambdaenv.Env.AWS)
	// Deployed: the tables, management endpoint, retention, preference
	// defaults, unread rule and e-mail of its Notifier (notifier.ReadDeployed).
	notifier.Deployed
	WorkflowsTable string // WORKFLOWS_TABLE
	// StackName (STACK_NAME, optional; template.yaml sets it) is the Stack
	// dimension of every metric; metrics.New makes it "local" when empty.
	StackName string

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
		AWS:            env.AWS(),
		Deployed:       notifier.ReadDeployed(env),
		WorkflowsTable: env.Required("WORKFLOWS_TABLE"),
		Workflow:       workflow.DefaultConfig(),
		StackName:      env.Optional("STACK_NAME"),
	}
	wf := &c.Workflow
	wf.ReadShared(env)
	base := oracle.Config{BaseURL: env.URL("ORACLE_BASE_URL")}
	c.OracleHost = base.Host()
	c.Gate.MaxRunningJobs = env.Int("ORACLE_MAX_RUNNING_JOBS", 0, 0)
	return c, env.Err()
}
