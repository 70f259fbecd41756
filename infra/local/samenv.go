package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/finance/fbdi-notify/internal/local/samtemplate"
	"github.com/finance/fbdi-notify/internal/notifier"
)

// functionEnv returns the values the local stack gives the variables that
// the template declares for functions behind the Invoke API: its tables,
// queues, management API, AWS API and Oracle, and two secrets it stores on
// the AWS API (the JWT key, and the Oracle endpoint and user), as `sam
// local start-lambda` takes them (SAM overrides only declared variables).
func (s *system) functionEnv(ctx context.Context, sm *secretsmanager.Client) (map[string]string, error) {
	jwtARN, err := putSecret(ctx, sm, s.cfg.ResourcePrefix+"jwt-secret", s.cfg.JWTSecret)
	if err != nil {
		return nil, err
	}
	oracleSecret, _ := json.Marshal(map[string]string{"username": s.cfg.OracleUsername, "password": s.cfg.OraclePassword})
	oracleARN, err := putSecret(ctx, sm, s.cfg.ResourcePrefix+"oracle", string(oracleSecret))
	if err != nil {
		return nil, err
	}
	values := map[string]string{
		"AWS_ENDPOINT_URL":            s.cfg.AWSEndpoint,
		"LOG_LEVEL":                   strings.ToLower(s.cfg.LogLevel.String()),
		"STACK_NAME":                  "local", // the Stack dimension of the metrics, as in the stack itself
		"CONNECTIONS_TABLE":           s.cfg.ResourcePrefix + localTables["ConnectionsTable"],
		"NOTIFICATIONS_TABLE":         s.cfg.ResourcePrefix + localTables["NotificationsTable"],
		"WORKFLOWS_TABLE":             s.cfg.ResourcePrefix + localTables["WorkflowsTable"],
		"MANAGEMENT_ENDPOINT":         s.base,
		"WORKFLOW_QUEUE_URL":          s.queues.URL("workflow"),
		"WORKFLOW_DLQ_URL":            s.queues.URL("workflow-dlq"),
		"NOTIFICATION_DLQ_URL":        s.queues.URL("notifications-dlq"),
		"NOTIFICATION_QUEUE_URL":      s.queues.URL("notifications"),
		"JWT_SECRET_ARN":              jwtARN,
		"ORACLE_SECRET_ARN":           oracleARN,
		"ORACLE_BASE_URL":             s.oracleURL,
		"ORACLE_ALLOW_HTTP":           "true", // the simulator is plain http, maybe under a container's host name
		"ORACLE_POLL_INTERVAL":        s.cfg.PollInterval.String(),
		"WORKFLOW_DEADLINE":           s.cfg.Deadline.String(),
		"ORACLE_DATA_ACCESS_SET":      s.cfg.DataAccessSet,
		"ORACLE_AUTOPOST_CRITERIA_ID": s.cfg.AutoPostCriteriaID,
		// The stack's own retry and breaker settings (short locally), so
		// functions under SAM behave as the in-process ones do.
		"ORACLE_RETRY_BASE":             s.cfg.RetryBase.String(),
		"ORACLE_RETRY_MAX":              s.cfg.RetryMax.String(),
		"ORACLE_RETRY_ATTEMPTS":         strconv.Itoa(s.cfg.RetryAttempts),
		"ORACLE_BREAKER_WINDOW":         s.cfg.Gate.Window.String(),
		"ORACLE_BREAKER_PROBE_INTERVAL": s.cfg.Gate.ProbeInterval.String(),
		"ORACLE_RESUME_SPACING":         s.cfg.Gate.ResumeSpacing.String(),
		"NOTIFY_RETRY_DELAYS":           notifier.FormatRetryDelays(s.cfg.NotifyRetryDelays),
		// E-mail: on the SES of AWS_ENDPOINT_URL, where the stack verified the sender's domain.
		"MAIL_QUEUE_URL":          s.queues.URL("mail"),
		"EMAIL_SENDER":            s.cfg.EmailSender,
		"EMAIL_CONFIGURATION_SET": "",
		"EMAIL_WINDOW":            s.cfg.EmailWindow.String(),
		"EMAIL_UNREAD_DELAY":      s.cfg.EmailUnreadDelay.String(),
	}
	// The stack's preference defaults and unread rule, when set; unset, the
	// template's parameters apply, which mean the same.
	if s.cfg.PreferencesText != "" {
		values["PREFERENCE_DEFAULTS"] = s.cfg.PreferencesText
	}
	if s.cfg.UnreadText != "" {
		values["UNREAD_TYPES"] = s.cfg.UnreadText
	}
	// Zero means "the function's default" in the stack's configuration but is
	// refused by the functions' own: left out, the template's value applies.
	if s.cfg.Gate.Threshold > 0 {
		values["ORACLE_BREAKER_THRESHOLD"] = strconv.Itoa(s.cfg.Gate.Threshold)
	}
	if s.cfg.Gate.MaxRunningJobs > 0 {
		values["ORACLE_MAX_RUNNING_JOBS"] = strconv.Itoa(s.cfg.Gate.MaxRunningJobs)
	}
	return values, nil
}

// putSecret stores value under name, creating the secret or updating it,
// and returns its ARN.
func putSecret(ctx context.Context, sm *secretsmanager.Client, name, value string) (string, error) {
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err == nil {
		return aws.ToString(out.ARN), nil
	}
	var exists *smtypes.ResourceExistsException
	if !errors.As(err, &exists) {
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	put, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		return "", fmt.Errorf("update secret %s: %w", name, err)
	}
	return aws.ToString(put.ARN), nil
}

// samEnv is the `sam local start-lambda --env-vars` file: for each function
// of the template, the declared variables the local stack has a value for.
// Others keep the template's value. host, when set, replaces 127.0.0.1 in
// the URLs, for functions that reach this machine under another name
// (host.docker.internal with Docker Desktop; with --docker-network host,
// 127.0.0.1 works as it is).
func samEnv(tmpl *samtemplate.Template, values map[string]string, host string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, f := range tmpl.Functions() {
		env := map[string]string{}
		for _, name := range f.EnvironmentNames() {
			v, ok := values[name]
			if !ok {
				continue
			}
			if host != "" && strings.Contains(v, "://127.0.0.1") {
				v = strings.ReplaceAll(v, "://127.0.0.1", "://"+host)
			}
			env[name] = v
		}
		out[f.LogicalID] = env
	}
	return out
}

// devSAMEnv serves samEnv for the `host` query parameter.
func (s *system) devSAMEnv(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Query().Get("host")
	if host != "" {
		if u, err := url.Parse("http://" + host); err != nil || u.Host != host || strings.ContainsAny(host, "/?#@") {
			http.Error(w, "host must be a host name, e.g. host.docker.internal", http.StatusBadRequest)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(samEnv(s.tmpl, s.functionValues, host))
}
