package main

import (
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/testing/envtest"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// deployed is the environment template.yaml and Lambda give the function.
var deployed = envtest.With(envtest.AWS, map[string]string{
	"CONNECTIONS_TABLE":       "fbdi-connections",
	"NOTIFICATIONS_TABLE":     "fbdi-notifications",
	"WORKFLOWS_TABLE":         "fbdi-workflows",
	"MANAGEMENT_ENDPOINT":     "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
	"WORKFLOW_QUEUE_URL":      "https://sqs.eu-west-1.amazonaws.com/123456789012/fbdi-workflow",
	"ORACLE_POLL_INTERVAL":    "10s",
	"WORKFLOW_DEADLINE":       "2h",
	"HISTORY_RETENTION":       "720h",
	"ORACLE_BASE_URL":         "https://fa-example.fa.ocs.oraclecloud.com",
	"ORACLE_MAX_RUNNING_JOBS": "5",
	"STACK_NAME":              "fbdi-prod",
})

// loaded is what a valid environment's config holds beyond the
// environment's own values.
type loaded struct {
	poll     time.Duration
	deadline time.Duration
}

func TestLoadConfig(t *testing.T) {
	envtest.Run(t, loadConfig, []envtest.Case[loaded]{
		{Name: "deployed", Env: deployed, Want: loaded{poll: 10 * time.Second, deadline: 2 * time.Hour}},
		{Name: "local", Env: envtest.With(deployed, map[string]string{"ORACLE_POLL_INTERVAL": "0s", "WORKFLOW_DEADLINE": "10m"}),
			Want: loaded{deadline: 10 * time.Minute}},
		{Name: "defaults", Env: envtest.With(deployed, map[string]string{"ORACLE_POLL_INTERVAL": "", "WORKFLOW_DEADLINE": "",
			"HISTORY_RETENTION": "", "STACK_NAME": ""}), Want: loaded{poll: workflow.DefaultPollInterval, deadline: workflow.DefaultDeadline}},
		{Name: "empty environment", Env: nil, Problems: envtest.Unset(
			"CONNECTIONS_TABLE is not set",
			"NOTIFICATIONS_TABLE is not set",
			"MANAGEMENT_ENDPOINT is not set",
			"WORKFLOWS_TABLE is not set",
			"WORKFLOW_QUEUE_URL is not set",
			"ORACLE_BASE_URL is not set",
		)},
		{Name: "bad values", Env: envtest.With(deployed, map[string]string{
			"MANAGEMENT_ENDPOINT": "abc123/prod", "WORKFLOW_QUEUE_URL": "fbdi-workflow", "ORACLE_POLL_INTERVAL": "soon",
			"WORKFLOW_DEADLINE": "0s", "HISTORY_RETENTION": "30d", "ORACLE_MAX_RUNNING_JOBS": "-1"}), Problems: []string{
			"MANAGEMENT_ENDPOINT is not an absolute http or https URL",
			`HISTORY_RETENTION "30d" is not a duration such as 500ms or 10s`,
			"WORKFLOW_QUEUE_URL is not an absolute http or https URL",
			`ORACLE_POLL_INTERVAL "soon" is not a duration such as 500ms or 10s`,
			"WORKFLOW_DEADLINE must be more than 0",
			`ORACLE_MAX_RUNNING_JOBS "-1" is not a whole number of at least 0`,
		}},
	}, func(t testing.TB, env map[string]string, want loaded, cfg config) {
		wf := cfg.Workflow
		if wf.QueueURL != env["WORKFLOW_QUEUE_URL"] || wf.PollInterval != want.poll || wf.Deadline != want.deadline {
			t.Errorf("workflow config %+v does not hold the environment's values (poll %v, deadline %v)", wf, want.poll, want.deadline)
		}
		if err := wf.Validate(); err != nil {
			t.Errorf("a valid environment gives a workflow config the sweeper refuses: %v", err)
		}
		if cfg.ConnectionsTable != env["CONNECTIONS_TABLE"] || cfg.NotificationsTable != env["NOTIFICATIONS_TABLE"] ||
			cfg.WorkflowsTable != env["WORKFLOWS_TABLE"] || cfg.ManagementEndpoint != env["MANAGEMENT_ENDPOINT"] ||
			cfg.StackName != env["STACK_NAME"] {
			t.Errorf("config %+v does not hold the environment's values", cfg)
		}
		if cfg.OracleHost != "fa-example.fa.ocs.oraclecloud.com" || cfg.Gate.MaxRunningJobs != 5 {
			t.Errorf("job slots of %q, at most %d; want those of the Oracle instance the worker uses", cfg.OracleHost, cfg.Gate.MaxRunningJobs)
		}
	})
}
