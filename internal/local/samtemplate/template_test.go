package samtemplate_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/local/samtemplate"
)

// root is the repository root, relative to this package.
const root = "../../.."

// load parses the repository's template.yaml.
func load(tb testing.TB) *samtemplate.Template {
	tb.Helper()
	t, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return t
}

func TestRoutes(t *testing.T) {
	tmpl := load(t)
	if got, want := tmpl.RouteSelectionExpression(), "$request.body.type"; got != want {
		t.Errorf("RouteSelectionExpression = %q, want %q (docs/protocol.md#client-to-server)", got, want)
	}
	want := []samtemplate.Route{
		{Key: "$connect", Function: "ConnectFunction"},
		{Key: "$default", Function: "MessageFunction", TwoWay: true},
		{Key: "$disconnect", Function: "DisconnectFunction"},
		{Key: "history", Function: "MessageFunction", TwoWay: true},
		{Key: "mark_read", Function: "MessageFunction", TwoWay: true},
		{Key: "ping", Function: "MessageFunction", TwoWay: true},
		{Key: "resume", Function: "MessageFunction", TwoWay: true},
		{Key: "status", Function: "MessageFunction", TwoWay: true},
	}
	if got := tmpl.Routes(); !reflect.DeepEqual(got, want) {
		t.Errorf("Routes =\n%+v\nwant\n%+v", got, want)
	}
}

// functionDirs returns the directories under functions/, each a main package.
func functionDirs(tb testing.TB) []string {
	tb.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		tb.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	return dirs
}

// Every function of the template, <Name>Function, is built from
// functions/<name> by the Makefile's build-<LogicalId> target (one pattern
// rule), and every directory under functions/ is a function of the template.
func TestFunctionsAreBuiltByTheMakefile(t *testing.T) {
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := load(t)
	var dirs []string
	for _, f := range tmpl.Functions() {
		dir := strings.ToLower(strings.TrimSuffix(f.LogicalID, "Function"))
		dirs = append(dirs, dir)
		if _, err := os.Stat(filepath.Join(root, "functions", dir, "main.go")); err != nil {
			t.Errorf("function %s: no functions/%s/main.go: %v", f.LogicalID, dir, err)
		}
		cmd := exec.Command(makeBin, "-n", "--no-print-directory", "build-"+f.LogicalID, "ARTIFACTS_DIR=/artifacts")
		cmd.Dir = root
		cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "MAKEFLAGS=") })
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("make -n build-%s: %v\n%s", f.LogicalID, err, out)
			continue
		}
		if want := "-o /artifacts/bootstrap ./functions/" + dir; !strings.Contains(string(out), want) {
			t.Errorf("make -n build-%s prints %q, want a go build with %q", f.LogicalID, out, want)
		}
	}
	for _, dir := range functionDirs(t) {
		if !slices.Contains(dirs, dir) {
			t.Errorf("functions/%s is no function of template.yaml", dir)
		}
	}
}

func TestFunctionsShareTheBuildConventions(t *testing.T) {
	for _, f := range load(t).Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			got := []string{f.Runtime, f.Handler, strings.Join(f.Architectures, ","), f.CodeURI, f.BuildMethod}
			want := []string{"provided.al2023", "bootstrap", "arm64", ".", "makefile"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("runtime, handler, architectures, CodeUri, BuildMethod = %q, want %q", got, want)
			}
			if f.Timeout < 3*time.Second || f.Timeout > 15*time.Minute {
				t.Errorf("Timeout = %v", f.Timeout)
			}
			if f.MemorySize < 128 || f.MemorySize > 1024 {
				t.Errorf("MemorySize = %d MB", f.MemorySize)
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	tmpl := load(t)
	endpoint := "https://${WebSocketApi}.execute-api.${AWS::Region}.amazonaws.com/" + tmpl.Stage().Name
	want := map[string]map[string]string{
		"ConnectFunction": {"LOG_LEVEL": "${LogLevel}", "CONNECTIONS_TABLE": "${ConnectionsTable}",
			"JWT_SECRET_ARN": "${JwtSecretArn}"},
		"DisconnectFunction": {"LOG_LEVEL": "${LogLevel}", "CONNECTIONS_TABLE": "${ConnectionsTable}"},
		"MessageFunction": {"LOG_LEVEL": "${LogLevel}", "CONNECTIONS_TABLE": "${ConnectionsTable}",
			"NOTIFICATIONS_TABLE": "${NotificationsTable}", "WORKFLOWS_TABLE": "${WorkflowsTable}",
			"MANAGEMENT_ENDPOINT": endpoint},
		"WelcomeFunction": {"LOG_LEVEL": "${LogLevel}", "MANAGEMENT_ENDPOINT": endpoint, "CONNECTIONS_TABLE": "${ConnectionsTable}"},
		"NotifyFunction": {"LOG_LEVEL": "${LogLevel}", "CONNECTIONS_TABLE": "${ConnectionsTable}",
			"NOTIFICATIONS_TABLE": "${NotificationsTable}", "MANAGEMENT_ENDPOINT": endpoint,
			"NOTIFICATION_DLQ_URL": "${NotificationDeadLetterQueue}", "HISTORY_RETENTION": "${HistoryRetention}",
			"NOTIFICATION_QUEUE_URL": "${NotificationQueue}", "NOTIFY_RETRY_DELAYS": "2s,10s,1m", "NOTIFY_DEADLINE_RESERVE": "5s",
			"NOTIFY_MAX_RECEIVES": "5"}, // NotificationQueue's maxReceiveCount: see TestQueues
		"WorkerFunction": {
			"LOG_LEVEL":                   "${LogLevel}",
			"CONNECTIONS_TABLE":           "${ConnectionsTable}",
			"NOTIFICATIONS_TABLE":         "${NotificationsTable}",
			"WORKFLOWS_TABLE":             "${WorkflowsTable}",
			"MANAGEMENT_ENDPOINT":         endpoint,
			"WORKFLOW_QUEUE_URL":          "${WorkflowQueue}",
			"WORKFLOW_DLQ_URL":            "${WorkflowDeadLetterQueue}",
			"ORACLE_SECRET_ARN":           "${OracleSecretArn}",
			"ORACLE_BASE_URL":             "${OracleBaseUrl}",
			"ORACLE_ALLOW_HTTP":           "false",
			"ORACLE_DATA_ACCESS_SET":      "${OracleDataAccessSet}",
			"ORACLE_AUTOPOST_CRITERIA_ID": "${OracleAutoPostCriteriaId}",
			"ORACLE_POLL_INTERVAL":        "${OraclePollInterval}",
			"WORKFLOW_DEADLINE":           "${WorkflowDeadline}",
			"HISTORY_RETENTION":           "${HistoryRetention}",
			"WORKFLOW_MAX_RECEIVES":       "5", // WorkflowQueue's maxReceiveCount: see TestQueues
			"WORKFLOW_CHECKPOINT_RESERVE": "10s",
			"ORACLE_RETRY_ATTEMPTS":       "10", "ORACLE_RETRY_BASE": "5s", "ORACLE_RETRY_MAX": "60s",
			"ORACLE_BREAKER_THRESHOLD": "5", "ORACLE_BREAKER_WINDOW": "30s", "ORACLE_BREAKER_PROBE_INTERVAL": "30s",
			"ORACLE_RESUME_SPACING": "1s", "ORACLE_MAX_RUNNING_JOBS": "${OracleMaxRunningJobs}",
		},
		"SweeperFunction": {"LOG_LEVEL": "${LogLevel}", "CONNECTIONS_TABLE": "${ConnectionsTable}",
			"NOTIFICATIONS_TABLE": "${NotificationsTable}", "WORKFLOWS_TABLE": "${WorkflowsTable}",
			"MANAGEMENT_ENDPOINT": endpoint, "WORKFLOW_QUEUE_URL": "${WorkflowQueue}",
			"ORACLE_POLL_INTERVAL": "${OraclePollInterval}", "WORKFLOW_DEADLINE": "${WorkflowDeadline}",
			"HISTORY_RETENTION": "${HistoryRetention}",
			"ORACLE_BASE_URL":   "${OracleBaseUrl}", "ORACLE_MAX_RUNNING_JOBS": "${OracleMaxRunningJobs}"},
	}
	// The operator's preference defaults, read by every function that
	// decides or shows channels; the unread rule, by every one that stores.
	want["MessageFunction"]["PREFERENCE_DEFAULTS"] = "${PreferenceDefaults}"
	for _, id := range []string{"NotifyFunction", "WorkerFunction", "SweeperFunction"} {
		want[id]["PREFERENCE_DEFAULTS"] = "${PreferenceDefaults}"
		want[id]["UNREAD_TYPES"] = "${UnreadTypes}"
	}
	// E-mail: the functions that store notifications schedule it
	// (internal/mail); MailFunction sends it.
	for _, id := range []string{"NotifyFunction", "WorkerFunction", "SweeperFunction"} {
		want[id]["MAIL_QUEUE_URL"] = "${MailQueue}"
		want[id]["EMAIL_WINDOW"] = "${EmailWindow}"
		want[id]["EMAIL_UNREAD_DELAY"] = "${EmailUnreadDelay}"
		want[id]["SMS_ENABLED"] = "${SmsEnabled}"
	}
	want["MailFunction"] = map[string]string{"LOG_LEVEL": "${LogLevel}", "NOTIFICATIONS_TABLE": "${NotificationsTable}",
		"MAIL_QUEUE_URL": "${MailQueue}", "EMAIL_SENDER": "${EmailSender}", "EMAIL_CONFIGURATION_SET": "${MailConfigurationSet}",
		"EMAIL_WINDOW": "${EmailWindow}", "PREFERENCE_DEFAULTS": "${PreferenceDefaults}"}
	// Every function: empty on AWS, set by `sam local start-lambda --env-vars`;
	// and the Stack dimension of its metrics.
	for _, env := range want {
		env["AWS_ENDPOINT_URL"] = ""
		env["STACK_NAME"] = "${AWS::StackName}"
	}
	got := map[string]map[string]string{}
	for _, f := range tmpl.Functions() {
		got[f.LogicalID] = f.Environment
	}
	for id := range want {
		if !reflect.DeepEqual(got[id], want[id]) {
			t.Errorf("%s environment =\n%v\nwant\n%v", id, got[id], want[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("template has %d functions, test knows %d", len(got), len(want))
	}
}

// grants flattens a function's statements into "action resource" pairs.
func grants(tb testing.TB, f samtemplate.FunctionSpec) []string {
	tb.Helper()
	var out []string
	for _, s := range f.Statements {
		if s.Effect != "Allow" {
			tb.Errorf("%s statement %s: Effect %q", f.LogicalID, s.Sid, s.Effect)
		}
		for _, a := range s.Actions {
			for _, r := range s.Resources {
				g := a + " " + r
				if s.Condition != "" {
					g += " if " + s.Condition
				}
				out = append(out, g)
			}
		}
	}
	sort.Strings(out)
	return out
}

// The exact permissions of every function: adding an action or widening a
// resource must change this test.
func TestLeastPrivilege(t *testing.T) {
	const mc = "execute-api:ManageConnections arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/${StageName}/POST/@connections/*"
	want := map[string][]string{
		"ConnectFunction": {
			"dynamodb:PutItem ${ConnectionsTable.Arn}",
			"secretsmanager:GetSecretValue ${JwtSecretArn}",
		},
		"DisconnectFunction": {"dynamodb:DeleteItem ${ConnectionsTable.Arn}"},
		"MessageFunction": {
			"dynamodb:GetItem ${ConnectionsTable.Arn}",
			"dynamodb:UpdateItem ${ConnectionsTable.Arn}", // the connection's rate window
			"dynamodb:GetItem ${WorkflowsTable.Arn}",
			"dynamodb:GetItem ${NotificationsTable.Arn}", // the counter row (watermark), a legacy id's marker
			"dynamodb:Query ${NotificationsTable.Arn}",
			"dynamodb:Query ${NotificationsTable.Arn}/index/unreadPos",
			"dynamodb:Query ${NotificationsTable.Arn}/index/unreadCat", // mark_read of a category
			"dynamodb:UpdateItem ${NotificationsTable.Arn}",
			mc,
		},
		"WelcomeFunction": {"dynamodb:UpdateItem ${ConnectionsTable.Arn}", mc}, // the welcome's claim
		"NotifyFunction": {
			"dynamodb:DeleteItem ${ConnectionsTable.Arn}",
			"dynamodb:GetItem ${NotificationsTable.Arn}",    // history: counter, then a transaction of
			"dynamodb:PutItem ${NotificationsTable.Arn}",    // marker and item puts
			"dynamodb:UpdateItem ${NotificationsTable.Arn}", // and the counter's update
			"dynamodb:Query ${ConnectionsTable.Arn}/index/byUser",
			mc,
			"sqs:SendMessage ${NotificationDeadLetterQueue.Arn}",
			"sqs:SendMessage ${NotificationQueue.Arn}", // redeliveries of failed posts
			"sqs:SendMessage ${MailQueue.Arn}",         // e-mail scheduling, as Worker and Sweeper
			"sns:Publish * if SmsOn",                   // texts of critical notifications, to a phone number (no ARN)
		},
		"WorkerFunction": {
			"dynamodb:DeleteItem ${ConnectionsTable.Arn}",
			"dynamodb:GetItem ${NotificationsTable.Arn}", // history, as NotifyFunction
			"dynamodb:GetItem ${WorkflowsTable.Arn}",
			"dynamodb:PutItem ${NotificationsTable.Arn}",
			"dynamodb:PutItem ${WorkflowsTable.Arn}",
			"dynamodb:Query ${ConnectionsTable.Arn}/index/byUser",
			"dynamodb:UpdateItem ${NotificationsTable.Arn}",
			"dynamodb:UpdateItem ${WorkflowsTable.Arn}",
			mc,
			"secretsmanager:GetSecretValue ${OracleSecretArn}",
			"sqs:SendMessage ${WorkflowDeadLetterQueue.Arn}",
			"sqs:SendMessage ${WorkflowQueue.Arn}",
			"sqs:SendMessage ${MailQueue.Arn}",
			"sns:Publish * if SmsOn", // texts of critical notifications, to a phone number (no ARN)
		},
		"SweeperFunction": { // never Oracle's secret: it does not call Oracle
			"dynamodb:DeleteItem ${ConnectionsTable.Arn}",
			"dynamodb:GetItem ${NotificationsTable.Arn}", // history's Add: counter, then a transaction
			"dynamodb:GetItem ${WorkflowsTable.Arn}",
			"dynamodb:PutItem ${NotificationsTable.Arn}",
			"dynamodb:UpdateItem ${NotificationsTable.Arn}",
			"dynamodb:PutItem ${WorkflowsTable.Arn}",
			"dynamodb:Query ${ConnectionsTable.Arn}/index/byUser",
			"dynamodb:Query ${WorkflowsTable.Arn}/index/due",
			"dynamodb:Scan ${ConnectionsTable.Arn}", // the ConnectionsOpen count, once a run
			mc,
			"sqs:SendMessage ${WorkflowQueue.Arn}",
			"sqs:SendMessage ${MailQueue.Arn}",
			"sns:Publish * if SmsOn", // texts of critical notifications, to a phone number (no ARN)
		},
		"MailFunction": { // no SMS: the functions that store notifications text them
			"dynamodb:GetItem ${NotificationsTable.Arn}",    // mail row, preferences, history counter
			"dynamodb:Query ${NotificationsTable.Arn}",      // the unread since the last e-mail
			"dynamodb:UpdateItem ${NotificationsTable.Arn}", // mail row, a bounced profile
			"sqs:SendMessage ${MailQueue.Arn}",              // the next round
			"ses:SendEmail arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${EmailIdentity}",
			"ses:SendEmail arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${MailConfigurationSet}",
		},
	}
	for _, f := range load(t).Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			w, ok := want[f.LogicalID]
			if !ok {
				t.Fatalf("no expected permissions for %s", f.LogicalID)
			}
			sort.Strings(w)
			if got := grants(t, f); !reflect.DeepEqual(got, w) {
				t.Errorf("grants =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(w, "\n  "))
			}
			if len(f.OtherPolicies) > 0 {
				t.Errorf("policies other than inline statements (managed policies or SAM templates are broader): %v", f.OtherPolicies)
			}
		})
	}
}

// execute-api:ManageConnections is granted on this API's stage only, and the
// endpoint each function posts to is that same stage.
func TestManageConnectionsScoping(t *testing.T) {
	tmpl := load(t)
	stage := tmpl.Stage().Name
	scoped := regexp.MustCompile(`^arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{WebSocketApi\}/` +
		regexp.QuoteMeta(stage) + `/(POST|GET|DELETE)/@connections/\*$`)
	for _, f := range tmpl.Functions() {
		manages := false
		for _, s := range f.Statements {
			for _, a := range s.Actions {
				if strings.HasPrefix(a, "execute-api:") && a != "execute-api:ManageConnections" {
					t.Errorf("%s: action %s", f.LogicalID, a)
				}
				if a != "execute-api:ManageConnections" {
					continue
				}
				manages = true
				for _, r := range s.Resources {
					if !scoped.MatchString(r) {
						t.Errorf("%s: ManageConnections on %q, want only this API's stage %s", f.LogicalID, r, stage)
					}
				}
			}
		}
		_, posts := f.Environment["MANAGEMENT_ENDPOINT"]
		if manages != posts {
			t.Errorf("%s: has ManageConnections %v but MANAGEMENT_ENDPOINT %v", f.LogicalID, manages, posts)
		}
	}
}

func TestNoWildcards(t *testing.T) {
	for _, f := range load(t).Functions() {
		for _, s := range f.Statements {
			for _, a := range s.Actions {
				if strings.Contains(a, "*") {
					t.Errorf("%s statement %s: action %s", f.LogicalID, s.Sid, a)
				}
			}
			// SMS to a phone number has no resource ARN: sns:Publish on "*",
			// only as a conditional grant (SmsEnabled).
			sms := s.Condition != "" && slices.Equal(s.Actions, []string{"sns:Publish"})
			for _, r := range s.Resources {
				if (r == "*" && !sms) || strings.HasSuffix(r, ":*") {
					t.Errorf("%s statement %s: resource %s", f.LogicalID, s.Sid, r)
				}
			}
		}
	}
}

// Secrets reach the functions only as Secrets Manager ARNs; no template value
// is a secret.
func TestNoPlainTextSecrets(t *testing.T) {
	tmpl := load(t)
	secretish := regexp.MustCompile(`(?i)secret|password|passwd|token|credential|private|apikey|api_key`)
	arnParams := map[string]bool{}
	for _, p := range tmpl.Parameters() {
		if !secretish.MatchString(p.Name) {
			continue
		}
		if !strings.HasSuffix(p.Name, "SecretArn") {
			t.Errorf("parameter %s looks like a secret: take a Secrets Manager ARN instead", p.Name)
			continue
		}
		arnParams[p.Name] = true
		if p.HasDefault {
			t.Errorf("parameter %s has a default; secret ARNs are given at deploy time", p.Name)
		}
		if !strings.HasPrefix(p.AllowedPattern, "^arn:") || !strings.Contains(p.AllowedPattern, ":secretsmanager:") {
			t.Errorf("parameter %s: AllowedPattern %q does not limit it to a Secrets Manager ARN", p.Name, p.AllowedPattern)
		}
	}
	if !arnParams["JwtSecretArn"] || !arnParams["OracleSecretArn"] {
		t.Errorf("secret ARN parameters = %v, want JwtSecretArn and OracleSecretArn", arnParams)
	}
	for _, f := range tmpl.Functions() {
		for name, v := range f.Environment {
			if !secretish.MatchString(name) {
				continue
			}
			param := strings.TrimSuffix(strings.TrimPrefix(v, "${"), "}")
			if !strings.HasSuffix(name, "_SECRET_ARN") || !arnParams[param] {
				t.Errorf("%s: %s = %q; secrets come only as *_SECRET_ARN from a secret ARN parameter", f.LogicalID, name, v)
			}
		}
		for _, s := range f.Statements {
			if !slices.Contains(s.Actions, "secretsmanager:GetSecretValue") {
				continue
			}
			for _, r := range s.Resources {
				param := strings.TrimSuffix(strings.TrimPrefix(r, "${"), "}")
				if !arnParams[param] || f.Environment[envFor(param)] != r {
					t.Errorf("%s: GetSecretValue on %q, want exactly the ARN it has in its environment", f.LogicalID, r)
				}
			}
		}
	}
}

// envFor returns the environment variable that carries a secret ARN
// parameter: JwtSecretArn -> JWT_SECRET_ARN.
func envFor(param string) string {
	return strings.ToUpper(strings.TrimSuffix(param, "SecretArn")) + "_SECRET_ARN"
}

// Everything recorded by the access log, and nothing else.
func TestAccessLogFormat(t *testing.T) {
	st := load(t).Stage()
	var format map[string]string
	if err := json.Unmarshal([]byte(st.AccessLogFormat), &format); err != nil {
		t.Fatalf("access log format is not a JSON object of strings: %v\n%s", err, st.AccessLogFormat)
	}
	for _, field := range []string{"requestId", "connectionId", "routeKey", "eventType", "status", "ip",
		"requestTime", "integrationError", "integrationLatency"} {
		if format[field] == "" {
			t.Errorf("access log lacks %s", field)
		}
	}
	variable := regexp.MustCompile(`^\$context\.[A-Za-z.]+$`)
	// Anything that could carry the token: headers, the query string, the
	// subprotocol, the body, authorizer output, or caller identity beyond the IP.
	forbidden := regexp.MustCompile(`(?i)header|query|protocol|token|authoriz|\$input|\$request|body|identity\.(?:[^s]|s[^o])`)
	for k, v := range format {
		if !variable.MatchString(v) {
			t.Errorf("access log %s = %q, want one $context variable", k, v)
		}
		if forbidden.MatchString(v) || forbidden.MatchString(k) {
			t.Errorf("access log records %s = %q, which may carry a token or personal data", k, v)
		}
	}
	if format["ip"] != "$context.identity.sourceIp" {
		t.Errorf("ip = %q, want $context.identity.sourceIp", format["ip"])
	}
}

func TestStage(t *testing.T) {
	tmpl := load(t)
	st := tmpl.Stage()
	if st.Name != "${StageName}" || !st.AutoDeploy {
		t.Errorf("stage name %q, AutoDeploy %v; want ${StageName}, true", st.Name, st.AutoDeploy)
	}
	if st.DataTrace {
		t.Error("DataTraceEnabled logs full messages, tokens included")
	}
	if st.ThrottlingBurstLimit <= 0 || st.ThrottlingRateLimit <= 0 {
		t.Errorf("default throttling burst %d, rate %v", st.ThrottlingBurstLimit, st.ThrottlingRateLimit)
	}
	for key, rs := range st.RouteSettings {
		if _, ok := tmpl.Route(key); !ok {
			t.Errorf("route settings for %s, which is no route", key)
		}
		if rs.ThrottlingBurstLimit <= 0 || rs.ThrottlingRateLimit <= 0 || rs.ThrottlingBurstLimit > st.ThrottlingBurstLimit {
			t.Errorf("route %s throttling burst %d, rate %v", key, rs.ThrottlingBurstLimit, rs.ThrottlingRateLimit)
		}
	}
	groups := map[string]samtemplate.LogGroup{}
	for _, g := range tmpl.LogGroups() {
		groups[g.LogicalID] = g
	}
	dest := strings.TrimSuffix(strings.TrimPrefix(st.AccessLogDestination, "${"), ".Arn}")
	if _, ok := groups[dest]; !ok {
		t.Errorf("access logs go to %q, want a log group of the template", st.AccessLogDestination)
	}
}

// Every log group expires, and every function has one.
func TestLogGroups(t *testing.T) {
	tmpl := load(t)
	names := map[string]bool{}
	for _, g := range tmpl.LogGroups() {
		names[g.Name] = true
		if g.RetentionDays <= 0 {
			t.Errorf("log group %s never expires", g.LogicalID)
		}
	}
	for _, f := range tmpl.Functions() {
		if !names["/aws/lambda/${"+f.LogicalID+"}"] {
			t.Errorf("%s has no log group /aws/lambda/${%s}, so its logs never expire", f.LogicalID, f.LogicalID)
		}
	}
	if !names["API-Gateway-Execution-Logs_${WebSocketApi}/"+tmpl.Stage().Name] {
		t.Error("no log group for API Gateway's execution logs, so they never expire")
	}
}

// API Gateway may invoke each route's function only for that route of this API and stage.
func TestInvokePermissions(t *testing.T) {
	tmpl := load(t)
	perms := tmpl.Permissions()
	for _, r := range tmpl.Routes() {
		want := "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/" + tmpl.Stage().Name + "/" + r.Key
		found := false
		for _, p := range perms {
			found = found || p.Function == r.Function && p.SourceArn == want &&
				p.Action == "lambda:InvokeFunction" && p.Principal == "apigateway.amazonaws.com"
		}
		if !found {
			t.Errorf("route %s: no permission for %s with SourceArn %s", r.Key, r.Function, want)
		}
	}
	for _, p := range perms {
		if p.SourceArn == "" || strings.Contains(p.SourceArn, "*") {
			t.Errorf("permission %s: SourceArn %q is not one route", p.LogicalID, p.SourceArn)
		}
	}
	if len(perms) != len(tmpl.Routes()) {
		t.Errorf("%d permissions for %d routes", len(perms), len(tmpl.Routes()))
	}
}

func TestQueues(t *testing.T) {
	tmpl := load(t)
	consumers := map[string]string{"WorkflowQueue": "WorkerFunction", "NotificationQueue": "NotifyFunction",
		"MailQueue": "MailFunction", "MailEventsQueue": "MailFunction"}
	dlqEnv := map[string]string{"WorkflowQueue": "WORKFLOW_DLQ_URL", "NotificationQueue": "NOTIFICATION_DLQ_URL"}
	// The consumer knows a delivery is the last one before the dead-letter queue.
	receivesEnv := map[string]string{"WorkflowQueue": "WORKFLOW_MAX_RECEIVES", "NotificationQueue": "NOTIFY_MAX_RECEIVES"}
	mappings := tmpl.QueueMappings()
	if len(mappings) != len(consumers) {
		t.Errorf("queue mappings = %+v, want one per queue of %v", mappings, consumers)
	}
	for _, m := range mappings {
		t.Run(m.Queue, func(t *testing.T) {
			if consumers[m.Queue] != m.Function {
				t.Errorf("%s is consumed by %s, want %s", m.Queue, m.Function, consumers[m.Queue])
			}
			if !m.ReportBatchItemFailures {
				t.Error("no ReportBatchItemFailures: one bad message would redeliver its whole batch")
			}
			q, err := tmpl.Queue(m.Queue)
			if err != nil {
				t.Fatal(err)
			}
			f, err := tmpl.Function(m.Function)
			if err != nil {
				t.Fatal(err)
			}
			if q.VisibilityTimeout < 6*f.Timeout {
				t.Errorf("visibility timeout %v < 6 x %s timeout %v", q.VisibilityTimeout, f.LogicalID, f.Timeout)
			}
			// The handler stops taking messages this long before its timeout.
			if v, found := f.Environment["NOTIFY_DEADLINE_RESERVE"]; found {
				if reserve, err := time.ParseDuration(v); err != nil || reserve <= 0 || reserve >= f.Timeout/2 {
					t.Errorf("NOTIFY_DEADLINE_RESERVE %q: want a duration under half the timeout %v", v, f.Timeout)
				}
			}
			if q.DeadLetterQueue == "" || q.MaxReceiveCount != 5 {
				t.Errorf("redrive to %q after %d receives, want a DLQ after 5", q.DeadLetterQueue, q.MaxReceiveCount)
			}
			// MailFunction neither dead-letters itself (a malformed record
			// is logged and dropped) nor counts receives: the redrive
			// policy alone applies.
			_, selfDeadLetters := receivesEnv[m.Queue]
			if got, want := f.Environment[receivesEnv[m.Queue]], strconv.Itoa(q.MaxReceiveCount); selfDeadLetters && got != want {
				t.Errorf("%s %s = %q, want the queue's maxReceiveCount %s", f.LogicalID, receivesEnv[m.Queue], got, want)
			}
			dlq, err := tmpl.Queue(q.DeadLetterQueue)
			if err != nil {
				t.Fatal(err)
			}
			if dlq.MessageRetention != 14*24*time.Hour {
				t.Errorf("DLQ retention %v, want 14 days", dlq.MessageRetention)
			}
			if dlq.DeadLetterQueue != "" {
				t.Errorf("DLQ %s redrives to %s", dlq.LogicalID, dlq.DeadLetterQueue)
			}
			// The handler dead-letters malformed messages itself: to the
			// same queue that the redrive policy uses.
			if got := f.Environment[dlqEnv[m.Queue]]; selfDeadLetters && got != "${"+dlq.LogicalID+"}" {
				t.Errorf("%s %s = %q, want ${%s}", f.LogicalID, dlqEnv[m.Queue], got, dlq.LogicalID)
			}
		})
	}
	for _, q := range tmpl.Queues() {
		if !q.ManagedSSE {
			t.Errorf("queue %s is not encrypted at rest (SqsManagedSseEnabled)", q.LogicalID)
		}
	}
	if m := mappings[len(mappings)-1]; m.Queue == "WorkflowQueue" && m.MaximumConcurrency < 2 {
		t.Errorf("worker MaximumConcurrency %d", m.MaximumConcurrency)
	}
}

func TestWelcomeStream(t *testing.T) {
	f, err := load(t).Function("WelcomeFunction")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Events) != 1 {
		t.Fatalf("events = %+v, want one stream", f.Events)
	}
	e := f.Events[0]
	if e.Type != "DynamoDB" || e.Source != "ConnectionsTable" || e.StartingPosition != "LATEST" {
		t.Errorf("event %s: %s on %s from %s, want DynamoDB on ConnectionsTable from LATEST", e.Name, e.Type, e.Source, e.StartingPosition)
	}
	if !e.ReportBatchItemFailures || !e.BisectBatchOnError {
		t.Errorf("ReportBatchItemFailures %v, BisectBatchOnFunctionError %v; want both", e.ReportBatchItemFailures, e.BisectBatchOnError)
	}
	if e.MaximumRecordAge <= 0 || e.MaximumRecordAge > 10*time.Minute {
		t.Errorf("MaximumRecordAge %v: a welcome for a connection that old is of no use", e.MaximumRecordAge)
	}
	if e.MaximumRetryAttempts < 0 || e.MaximumRetryAttempts > 10 {
		t.Errorf("MaximumRetryAttempts %d: a failing record would block the shard", e.MaximumRetryAttempts)
	}
	if !reflect.DeepEqual(e.FilterPatterns, []string{`{"eventName":["INSERT"]}`}) {
		t.Errorf("filter %q, want INSERT records only", e.FilterPatterns)
	}
}

func TestTablesAreProtected(t *testing.T) {
	tables := load(t).Tables()
	var ids []string
	for _, s := range tables {
		ids = append(ids, s.LogicalID)
		if s.BillingMode != "PAY_PER_REQUEST" || !s.PointInTimeRecovery || !s.Encrypted || !s.Retained {
			t.Errorf("%s: billing %s, PITR %v, SSE %v, retained %v; want PAY_PER_REQUEST and the rest true",
				s.LogicalID, s.BillingMode, s.PointInTimeRecovery, s.Encrypted, s.Retained)
		}
		if s.TTLAttribute != "expiresAt" {
			t.Errorf("%s: TTL attribute %q, want expiresAt", s.LogicalID, s.TTLAttribute)
		}
	}
	if want := []string{"ConnectionsTable", "NotificationsTable", "WorkflowsTable"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("tables %v, want %v", ids, want)
	}
}
