package main

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// deployed is the environment template.yaml and Lambda give the function.
var deployed = map[string]string{
	"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI", "AWS_SESSION_TOKEN": "FwoGZXIvYXdz",
	"LOG_LEVEL": "info", "AWS_ENDPOINT_URL": "",
	"CONNECTIONS_TABLE":           "fbdi-connections",
	"NOTIFICATIONS_TABLE":         "fbdi-notifications",
	"WORKFLOWS_TABLE":             "fbdi-workflows",
	"MANAGEMENT_ENDPOINT":         "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
	"WORKFLOW_QUEUE_URL":          "https://sqs.eu-west-1.amazonaws.com/123456789012/fbdi-workflow",
	"WORKFLOW_DLQ_URL":            "https://sqs.eu-west-1.amazonaws.com/123456789012/fbdi-workflow-dlq",
	"ORACLE_SECRET_ARN":           "arn:aws:secretsmanager:eu-west-1:123456789012:secret:oracle-AbCdEf",
	"ORACLE_BASE_URL":             "https://abcd.fa.ocs.oraclecloud.com",
	"ORACLE_DATA_ACCESS_SET":      "",
	"ORACLE_AUTOPOST_CRITERIA_ID": "",
	"ORACLE_POLL_INTERVAL":        "10s",
	"WORKFLOW_DEADLINE":           "2h",
	"HISTORY_RETENTION":           "720h",
}

// local is the environment of tests and local runs: the Oracle user
// without a secret.
var local = with(deployed, map[string]string{"ORACLE_SECRET_ARN": "", "ORACLE_BASE_URL": "http://127.0.0.1:3001/oracle",
	"ORACLE_USERNAME": "fbdi.integration", "ORACLE_PASSWORD": "sim-password", "ORACLE_POLL_INTERVAL": "0s",
	"ORACLE_DATA_ACCESS_SET": "300000046975971", "ORACLE_AUTOPOST_CRITERIA_ID": "1"})

// with returns env changed by edits; an empty value unsets the variable.
func with(env map[string]string, edits map[string]string) map[string]string {
	out := maps.Clone(env)
	maps.Copy(out, edits)
	return out
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		want       []string      // every problem, in order; none for a valid environment
		wantOracle oracle.Config // when valid
		wantPoll   time.Duration // when valid
	}{
		{name: "deployed: Oracle user in the secret", env: deployed,
			wantOracle: oracle.Config{BaseURL: "https://abcd.fa.ocs.oraclecloud.com"}, wantPoll: 10 * time.Second},
		{name: "local: Oracle user in the environment", env: local,
			wantOracle: oracle.Config{BaseURL: "http://127.0.0.1:3001/oracle", Username: "fbdi.integration", Password: "sim-password"}},
		{name: "defaults", env: with(deployed, map[string]string{"ORACLE_POLL_INTERVAL": "", "WORKFLOW_DEADLINE": "",
			"HISTORY_RETENTION": "", "WORKFLOW_DLQ_URL": "", "ORACLE_BASE_URL": ""}), wantPoll: workflow.DefaultPollInterval},
		{name: "empty environment", env: nil, want: []string{
			"AWS_REGION is not set (nor AWS_DEFAULT_REGION)",
			"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
			"CONNECTIONS_TABLE is not set",
			"NOTIFICATIONS_TABLE is not set",
			"WORKFLOWS_TABLE is not set",
			"MANAGEMENT_ENDPOINT is not set",
			"WORKFLOW_QUEUE_URL is not set",
			"ORACLE_BASE_URL is not set",
			"ORACLE_USERNAME is not set",
			"ORACLE_PASSWORD is not set",
		}},
		{name: "no secret and no password", env: with(local, map[string]string{"ORACLE_PASSWORD": ""}),
			want: []string{"ORACLE_PASSWORD is not set"}},
		{name: "bad values", env: with(deployed, map[string]string{
			"MANAGEMENT_ENDPOINT": "abc123/prod", "WORKFLOW_QUEUE_URL": "fbdi-workflow", "WORKFLOW_DLQ_URL": "fbdi-workflow-dlq",
			"ORACLE_BASE_URL": "abcd.fa.ocs.oraclecloud.com", "ORACLE_POLL_INTERVAL": "soon", "WORKFLOW_DEADLINE": "0s",
			"HISTORY_RETENTION": "30d"}), want: []string{
			"MANAGEMENT_ENDPOINT is not an absolute http or https URL",
			`HISTORY_RETENTION "30d" is not a duration such as 500ms or 10s`,
			"WORKFLOW_DLQ_URL is not an absolute http or https URL",
			"WORKFLOW_QUEUE_URL is not an absolute http or https URL",
			`ORACLE_POLL_INTERVAL "soon" is not a duration such as 500ms or 10s`,
			"WORKFLOW_DEADLINE must be more than 0",
			"ORACLE_BASE_URL is not an absolute http or https URL",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string { return tt.env[k] })
			got := ""
			if err != nil {
				got = err.Error()
			}
			if want := strings.Join(tt.want, "\n"); got != want {
				t.Fatalf("loadConfig() error:\n%s\nwant:\n%s", got, want)
			}
			if strings.Contains(got, "sim-password") || strings.Contains(got, "wJalrXUtnFEMI") {
				t.Errorf("the error quotes a secret: %s", got)
			}
			if err != nil {
				return
			}
			if cfg.Oracle != tt.wantOracle || cfg.OracleSecretARN != tt.env["ORACLE_SECRET_ARN"] {
				t.Errorf("Oracle %+v, secret %q; want %+v, %q", cfg.Oracle, cfg.OracleSecretARN, tt.wantOracle, tt.env["ORACLE_SECRET_ARN"])
			}
			wf := cfg.Workflow
			if wf.QueueURL != tt.env["WORKFLOW_QUEUE_URL"] || wf.PollInterval != tt.wantPoll ||
				wf.DataAccessSet != tt.env["ORACLE_DATA_ACCESS_SET"] || wf.AutoPostCriteriaID != tt.env["ORACLE_AUTOPOST_CRITERIA_ID"] {
				t.Errorf("workflow config %+v does not hold the environment's values (poll interval %v)", wf, tt.wantPoll)
			}
			if err := wf.Validate(); err != nil {
				t.Errorf("a valid environment gives a workflow config the engine refuses: %v", err)
			}
			if cfg.ConnectionsTable != tt.env["CONNECTIONS_TABLE"] || cfg.NotificationsTable != tt.env["NOTIFICATIONS_TABLE"] ||
				cfg.WorkflowsTable != tt.env["WORKFLOWS_TABLE"] || cfg.ManagementEndpoint != tt.env["MANAGEMENT_ENDPOINT"] ||
				cfg.DeadLetterURL != tt.env["WORKFLOW_DLQ_URL"] {
				t.Errorf("config %+v does not hold the environment's values", cfg)
			}
		})
	}
}
