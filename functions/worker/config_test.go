package main

import (
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/testing/envtest"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// deployed is the environment template.yaml and Lambda give the function.
var deployed = envtest.With(envtest.AWS, map[string]string{
	"CONNECTIONS_TABLE":             "fbdi-connections",
	"NOTIFICATIONS_TABLE":           "fbdi-notifications",
	"WORKFLOWS_TABLE":               "fbdi-workflows",
	"MANAGEMENT_ENDPOINT":           "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
	"WORKFLOW_QUEUE_URL":            "https://sqs.eu-west-1.amazonaws.com/123456789012/fbdi-workflow",
	"WORKFLOW_DLQ_URL":              "https://sqs.eu-west-1.amazonaws.com/123456789012/fbdi-workflow-dlq",
	"ORACLE_SECRET_ARN":             "arn:aws:secretsmanager:eu-west-1:123456789012:secret:oracle-AbCdEf",
	"ORACLE_BASE_URL":               "https://abcd.fa.ocs.oraclecloud.com",
	"ORACLE_DATA_ACCESS_SET":        "",
	"ORACLE_AUTOPOST_CRITERIA_ID":   "",
	"ORACLE_POLL_INTERVAL":          "10s",
	"WORKFLOW_DEADLINE":             "2h",
	"WORKFLOW_MAX_RECEIVES":         "5",
	"WORKFLOW_CHECKPOINT_RESERVE":   "10s",
	"HISTORY_RETENTION":             "720h",
	"ORACLE_RETRY_ATTEMPTS":         "10",
	"ORACLE_RETRY_BASE":             "5s",
	"ORACLE_RETRY_MAX":              "60s",
	"ORACLE_BREAKER_THRESHOLD":      "5",
	"ORACLE_BREAKER_WINDOW":         "30s",
	"ORACLE_BREAKER_PROBE_INTERVAL": "30s",
	"ORACLE_RESUME_SPACING":         "1s",
	"ORACLE_MAX_RUNNING_JOBS":       "5",
	"STACK_NAME":                    "fbdi-prod",
})

// templateGate is the breaker and job slots template.yaml configures.
var templateGate = oraclegate.Config{Threshold: 5, Window: 30 * time.Second, ProbeInterval: 30 * time.Second,
	ResumeSpacing: time.Second, MaxRunningJobs: 5}

// local is the environment of tests and local runs: the Oracle user
// without a secret.
var local = envtest.With(deployed, map[string]string{"ORACLE_SECRET_ARN": "", "ORACLE_BASE_URL": "http://127.0.0.1:3001/oracle",
	"ORACLE_USERNAME": "fbdi.integration", "ORACLE_PASSWORD": "sim-password", "ORACLE_POLL_INTERVAL": "0s",
	"ORACLE_DATA_ACCESS_SET": "300000046975971", "ORACLE_AUTOPOST_CRITERIA_ID": "1"})

// loaded is what a valid environment's config holds beyond the
// environment's own values.
type loaded struct {
	oracle   oracle.Config
	poll     time.Duration // the workflow's poll interval
	receives int           // the workflow's MaxReceives; 0 means workflow.DefaultMaxReceives
	reserve  time.Duration // the workflow's CheckpointReserve; 0 means workflow.DefaultCheckpointReserve
	attempts int           // the workflow's MaxAttempts; 0 means workflow.DefaultMaxAttempts
	base     time.Duration // the workflow's RetryBase; 0 means workflow.DefaultRetryBase
	gate     oraclegate.Config
}

func TestLoadConfig(t *testing.T) {
	envtest.Run(t, loadConfig, []envtest.Case[loaded]{
		{Name: "deployed: Oracle user in the secret", Env: deployed,
			Want: loaded{oracle: oracle.Config{BaseURL: "https://abcd.fa.ocs.oraclecloud.com"}, poll: 10 * time.Second,
				gate: templateGate}},
		{Name: "local: Oracle user in the environment", Env: local,
			Want: loaded{oracle: oracle.Config{BaseURL: "http://127.0.0.1:3001/oracle", Username: "fbdi.integration", Password: "sim-password"},
				gate: templateGate}},
		{Name: "defaults", Env: envtest.With(deployed, map[string]string{"ORACLE_POLL_INTERVAL": "", "WORKFLOW_DEADLINE": "",
			"HISTORY_RETENTION": "", "WORKFLOW_DLQ_URL": "", "WORKFLOW_MAX_RECEIVES": "",
			"WORKFLOW_CHECKPOINT_RESERVE": "", "ORACLE_RETRY_ATTEMPTS": "", "ORACLE_RETRY_BASE": "", "ORACLE_RETRY_MAX": "",
			"ORACLE_BREAKER_THRESHOLD": "", "ORACLE_BREAKER_WINDOW": "", "ORACLE_BREAKER_PROBE_INTERVAL": "",
			"ORACLE_RESUME_SPACING": "", "ORACLE_MAX_RUNNING_JOBS": "", "STACK_NAME": ""}),
			Want: loaded{oracle: oracle.Config{BaseURL: "https://abcd.fa.ocs.oraclecloud.com"}, poll: workflow.DefaultPollInterval,
				gate: oraclegate.Config{Threshold: oraclegate.DefaultThreshold, Window: oraclegate.DefaultWindow,
					ProbeInterval: oraclegate.DefaultProbeInterval, ResumeSpacing: oraclegate.DefaultResumeSpacing}}},
		{Name: "secret without ORACLE_BASE_URL: the secret holds no endpoint",
			Env: envtest.With(deployed, map[string]string{"ORACLE_BASE_URL": ""}), Problems: []string{"ORACLE_BASE_URL is not set"}},
		{Name: "plain http Oracle refused", Env: envtest.With(deployed, map[string]string{"ORACLE_BASE_URL": "http://abcd.fa.ocs.oraclecloud.com"}),
			Problems: []string{"ORACLE_BASE_URL: BaseURL must be https: plain http would send the Oracle credentials in clear"}},
		{Name: "plain http allowed for the local stack", Env: envtest.With(local, map[string]string{
			"ORACLE_BASE_URL": "http://host.docker.internal:3001/oracle", "ORACLE_ALLOW_HTTP": "true"}),
			Want: loaded{oracle: oracle.Config{BaseURL: "http://host.docker.internal:3001/oracle", Username: "fbdi.integration",
				Password: "sim-password", AllowHTTP: true}}},
		{Name: "ORACLE_ALLOW_HTTP neither true nor false", Env: envtest.With(deployed, map[string]string{"ORACLE_ALLOW_HTTP": "yes"}),
			Problems: []string{`ORACLE_ALLOW_HTTP "yes" is neither true nor false`}},
		{Name: "redrive after 3 receives, 20s reserve", Env: envtest.With(deployed, map[string]string{
			"WORKFLOW_MAX_RECEIVES": "3", "WORKFLOW_CHECKPOINT_RESERVE": "20s"}),
			Want: loaded{oracle: oracle.Config{BaseURL: "https://abcd.fa.ocs.oraclecloud.com"}, poll: 10 * time.Second,
				receives: 3, reserve: 20 * time.Second}},
		{Name: "local retries: 3 attempts from 2s", Env: envtest.With(deployed, map[string]string{
			"ORACLE_RETRY_ATTEMPTS": "3", "ORACLE_RETRY_BASE": "2s"}),
			Want: loaded{oracle: oracle.Config{BaseURL: "https://abcd.fa.ocs.oraclecloud.com"}, poll: 10 * time.Second,
				attempts: 3, base: 2 * time.Second}},
		{Name: "bad retries", Env: envtest.With(deployed, map[string]string{
			"ORACLE_RETRY_ATTEMPTS": "0", "ORACLE_RETRY_BASE": "90s"}), Problems: []string{
			`ORACLE_RETRY_ATTEMPTS "0" is not a whole number of at least 1`,
			"ORACLE_RETRY_BASE must be more than 0 and ORACLE_RETRY_MAX at least ORACLE_RETRY_BASE",
		}},
		{Name: "bad breaker", Env: envtest.With(deployed, map[string]string{
			"ORACLE_BREAKER_THRESHOLD": "0", "ORACLE_MAX_RUNNING_JOBS": "-1", "ORACLE_BREAKER_WINDOW": "soon"}), Problems: []string{
			`ORACLE_BREAKER_THRESHOLD "0" is not a whole number of at least 1`,
			`ORACLE_BREAKER_WINDOW "soon" is not a duration such as 500ms or 10s`,
			`ORACLE_MAX_RUNNING_JOBS "-1" is not a whole number of at least 0`,
		}},
		{Name: "empty environment", Env: nil, Problems: envtest.Unset(
			"CONNECTIONS_TABLE is not set",
			"NOTIFICATIONS_TABLE is not set",
			"MANAGEMENT_ENDPOINT is not set",
			"WORKFLOWS_TABLE is not set",
			"WORKFLOW_QUEUE_URL is not set",
			"ORACLE_BASE_URL is not set",
			"ORACLE_USERNAME is not set",
			"ORACLE_PASSWORD is not set",
		)},
		{Name: "no secret and no password", Env: envtest.With(local, map[string]string{"ORACLE_PASSWORD": ""}),
			Problems: []string{"ORACLE_PASSWORD is not set"}},
		{Name: "bad values", Env: envtest.With(deployed, map[string]string{
			"MANAGEMENT_ENDPOINT": "abc123/prod", "WORKFLOW_QUEUE_URL": "fbdi-workflow", "WORKFLOW_DLQ_URL": "fbdi-workflow-dlq",
			"ORACLE_BASE_URL": "abcd.fa.ocs.oraclecloud.com", "ORACLE_POLL_INTERVAL": "soon", "WORKFLOW_DEADLINE": "0s",
			"HISTORY_RETENTION": "30d", "WORKFLOW_MAX_RECEIVES": "0", "WORKFLOW_CHECKPOINT_RESERVE": "-1s"}), Problems: []string{
			"MANAGEMENT_ENDPOINT is not an absolute http or https URL",
			`HISTORY_RETENTION "30d" is not a duration such as 500ms or 10s`,
			"WORKFLOW_DLQ_URL is not an absolute http or https URL",
			"WORKFLOW_QUEUE_URL is not an absolute http or https URL",
			`ORACLE_POLL_INTERVAL "soon" is not a duration such as 500ms or 10s`,
			"WORKFLOW_DEADLINE must be more than 0",
			`WORKFLOW_MAX_RECEIVES "0" is not a whole number of at least 1`,
			`WORKFLOW_CHECKPOINT_RESERVE "-1s" is not a duration such as 500ms or 10s`,
			"ORACLE_BASE_URL is not an absolute http or https URL",
		}},
	}, func(t testing.TB, env map[string]string, want loaded, cfg config) {
		if cfg.Oracle != want.oracle || cfg.OracleSecretARN != env["ORACLE_SECRET_ARN"] {
			t.Errorf("Oracle %+v, secret %q; want %+v, %q", cfg.Oracle, cfg.OracleSecretARN, want.oracle, env["ORACLE_SECRET_ARN"])
		}
		wf := cfg.Workflow
		if wf.QueueURL != env["WORKFLOW_QUEUE_URL"] || wf.PollInterval != want.poll ||
			wf.DataAccessSet != env["ORACLE_DATA_ACCESS_SET"] || wf.AutoPostCriteriaID != env["ORACLE_AUTOPOST_CRITERIA_ID"] {
			t.Errorf("workflow config %+v does not hold the environment's values (poll interval %v)", wf, want.poll)
		}
		if want.receives == 0 {
			want.receives = workflow.DefaultMaxReceives
		}
		if want.reserve == 0 {
			want.reserve = workflow.DefaultCheckpointReserve
		}
		if wf.MaxReceives != want.receives || wf.CheckpointReserve != want.reserve {
			t.Errorf("MaxReceives %d, CheckpointReserve %v; want %d, %v", wf.MaxReceives, wf.CheckpointReserve,
				want.receives, want.reserve)
		}
		if want.gate == (oraclegate.Config{}) {
			want.gate = templateGate
		}
		if cfg.Gate != want.gate {
			t.Errorf("Gate %+v, want %+v", cfg.Gate, want.gate)
		}
		if want.attempts == 0 {
			want.attempts = workflow.DefaultMaxAttempts
		}
		if want.base == 0 {
			want.base = workflow.DefaultRetryBase
		}
		if wf.MaxAttempts != want.attempts || wf.RetryBase != want.base || wf.RetryMax != workflow.DefaultRetryMax {
			t.Errorf("MaxAttempts %d, RetryBase %v, RetryMax %v; want %d, %v, %v", wf.MaxAttempts, wf.RetryBase,
				wf.RetryMax, want.attempts, want.base, workflow.DefaultRetryMax)
		}
		if err := wf.Validate(); err != nil {
			t.Errorf("a valid environment gives a workflow config the engine refuses: %v", err)
		}
		if cfg.ConnectionsTable != env["CONNECTIONS_TABLE"] || cfg.NotificationsTable != env["NOTIFICATIONS_TABLE"] ||
			cfg.WorkflowsTable != env["WORKFLOWS_TABLE"] || cfg.ManagementEndpoint != env["MANAGEMENT_ENDPOINT"] ||
			cfg.DeadLetterURL != env["WORKFLOW_DLQ_URL"] || cfg.StackName != env["STACK_NAME"] {
			t.Errorf("config %+v does not hold the environment's values", cfg)
		}
	})
}
