package fbdinotify_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/intrinsics"

	fbdinotify "github.com/finance/fbdi-notify"
	"github.com/finance/fbdi-notify/internal/metrics"
)

// The rules every version of template.yaml keeps, each a function over the
// parsed template that returns its violations, each naming the resource.
//
// goformation reads the YAML (its short tags !Ref, !Sub, !GetAtt become
// their long JSON forms), but the rules read generic maps, not goformation's
// typed resources: a typed field resolves a Ref or GetAtt to a resource to
// nothing (an alarm's QueueName dimension, a policy's Resource), so a rule
// could not say which queue an alarm watches. With NoProcess every
// intrinsic is kept as written ({"Ref": "X"}, {"Fn::GetAtt": ["X", "Arn"]}).

// cfnTemplate is a template as JSON maps, intrinsics kept.
type cfnTemplate struct {
	Parameters map[string]map[string]any `json:"Parameters"`
	Globals    map[string]map[string]any `json:"Globals"`
	Resources  map[string]*cfnResource   `json:"Resources"`
}

// cfnResource is one resource of a cfnTemplate.
type cfnResource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// parseTemplate parses a template; each call returns a copy of its own, for
// a test to change.
func parseTemplate(tb testing.TB, data []byte) *cfnTemplate {
	tb.Helper()
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		tb.Fatalf("parse template: %v", err)
	}
	var t cfnTemplate
	if err := json.Unmarshal(js, &t); err != nil {
		tb.Fatalf("parse template: %v", err)
	}
	return &t
}

// ids returns the logical IDs of the resources of the given types, sorted.
func (t *cfnTemplate) ids(types ...string) []string {
	var out []string
	for id, r := range t.Resources {
		if slices.Contains(types, r.Type) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

var functionTypes = []string{"AWS::Serverless::Function", "AWS::Lambda::Function"}

// at returns the value at path under v, or nil.
func at(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// list returns v as a list: itself, or a one-element list, or nil.
func list(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}

// render writes v in Fn::Sub syntax: a literal as itself, a Ref as ${X}, a
// GetAtt as ${X.Attr}, a Sub as its template; anything else as its JSON.
func render(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case map[string]any:
		if s, ok := v["Ref"].(string); ok && len(v) == 1 {
			return "${" + s + "}"
		}
		switch g := v["Fn::GetAtt"].(type) {
		case string:
			return "${" + g + "}"
		case []any:
			if len(g) == 2 {
				return "${" + render(g[0]) + "." + render(g[1]) + "}"
			}
		}
		switch s := v["Fn::Sub"].(type) {
		case string:
			return s
		case []any:
			if len(s) > 0 {
				return render(s[0])
			}
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// target returns X when v is a Ref to X or a GetAtt of X.
func target(v any) (string, bool) {
	s := render(v)
	if !strings.HasPrefix(s, "${") || !strings.HasSuffix(s, "}") || strings.Count(s, "${") != 1 {
		return "", false
	}
	id, _, _ := strings.Cut(s[2:len(s)-1], ".")
	return id, true
}

// number returns v as a number: a literal, or a Ref to a parameter's default.
func (t *cfnTemplate) number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	case map[string]any:
		if p, ok := v["Ref"].(string); ok && t.Parameters[p] != nil {
			return t.number(t.Parameters[p]["Default"])
		}
	}
	return 0, false
}

// watched is one metric an alarm or a dashboard reads.
type watched struct {
	Namespace, Name string
	Dims            map[string]any // dimension name: value as written
}

// alarmMetrics returns what alarm reads: its metric, the metrics of its
// metric math, and the metric of a Metrics Insights query (its WHERE
// equalities as dimensions).
func alarmMetrics(props map[string]any) ([]watched, error) {
	if name, ok := props["MetricName"].(string); ok {
		return []watched{{Namespace: render(props["Namespace"]), Name: name, Dims: dims(props["Dimensions"])}}, nil
	}
	var out []watched
	for _, q := range list(props["Metrics"]) {
		if m := at(q, "MetricStat", "Metric"); m != nil {
			out = append(out, watched{Namespace: render(at(m, "Namespace")), Name: render(at(m, "MetricName")), Dims: dims(at(m, "Dimensions"))})
			continue
		}
		expr := render(at(q, "Expression"))
		if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(expr)), "SELECT") {
			continue // math over the other queries
		}
		w, err := insightsMetric(expr)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reads no metric")
	}
	return out, nil
}

func dims(v any) map[string]any {
	out := map[string]any{}
	for _, d := range list(v) {
		out[render(at(d, "Name"))] = at(d, "Value")
	}
	return out
}

var (
	insightsQuery = regexp.MustCompile(`(?is)^\s*SELECT\s+\w+\(\s*(\w+)\s*\)\s+FROM\s+SCHEMA\(\s*"([^"]+)"((?:\s*,\s*\w+)*)\s*\)\s*(?:WHERE\s+(.*))?$`)
	insightsEq    = regexp.MustCompile(`(\w+)\s*=\s*'([^']*)'`)
)

// insightsMetric reads a Metrics Insights query of the form
// SELECT FN(Metric) FROM SCHEMA("Namespace", Dim, ...) WHERE Dim = 'value' ...
func insightsMetric(q string) (watched, error) {
	m := insightsQuery.FindStringSubmatch(q)
	if m == nil {
		return watched{}, fmt.Errorf("cannot read the query %q", q)
	}
	w := watched{Namespace: m[2], Name: m[1], Dims: map[string]any{}}
	for _, d := range strings.Split(m[3], ",") {
		if d = strings.TrimSpace(d); d != "" {
			w.Dims[d] = "*" // any value
		}
	}
	for _, eq := range insightsEq.FindAllStringSubmatch(m[4], -1) {
		if _, ok := w.Dims[eq[1]]; !ok {
			return watched{}, fmt.Errorf("query %q filters on %s, which its SCHEMA lacks", q, eq[1])
		}
		w.Dims[eq[1]] = eq[2]
	}
	return w, nil
}

// alarmsOn returns the alarms that read metric ns/name with dimension dim
// naming resource id.
func (t *cfnTemplate) alarmsOn(ns, name, dim, id string) []string {
	var out []string
	for _, a := range t.ids("AWS::CloudWatch::Alarm") {
		ws, err := alarmMetrics(t.Resources[a].Properties)
		if err != nil {
			continue
		}
		for _, w := range ws {
			if got, ok := target(w.Dims[dim]); ok && got == id && w.Namespace == ns && w.Name == name {
				out = append(out, a)
			}
		}
	}
	return out
}

// Every queue that is not a dead-letter queue redrives to one and has an
// alarm on the age of its oldest message; every dead-letter queue has an
// alarm on any message in it.
func queueRule(t *cfnTemplate) []string {
	dlqs := map[string]bool{}
	for _, q := range t.ids("AWS::SQS::Queue") {
		if id, ok := target(at(t.Resources[q].Properties, "RedrivePolicy", "deadLetterTargetArn")); ok {
			dlqs[id] = true
		}
	}
	var v []string
	for _, q := range t.ids("AWS::SQS::Queue") {
		if dlqs[q] {
			if len(t.alarmsOn("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q)) == 0 {
				v = append(v, q+": dead-letter queue without an alarm on ApproximateNumberOfMessagesVisible")
			}
			continue
		}
		dlq, ok := target(at(t.Resources[q].Properties, "RedrivePolicy", "deadLetterTargetArn"))
		if !ok || t.Resources[dlq] == nil || t.Resources[dlq].Type != "AWS::SQS::Queue" {
			v = append(v, q+": no RedrivePolicy to a dead-letter queue of the template")
		}
		if len(t.alarmsOn("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q)) == 0 {
			v = append(v, q+": no alarm on ApproximateAgeOfOldestMessage")
		}
	}
	return v
}

// Every function has an Errors and a Throttles alarm, and a log group with a
// retention. (Its Makefile build target: TestFunctionsAreBuiltByTheMakefile
// in internal/local/samtemplate.)
func functionRule(t *cfnTemplate) []string {
	retained := map[string]bool{}
	for _, g := range t.ids("AWS::Logs::LogGroup") {
		p := t.Resources[g].Properties
		if p["RetentionInDays"] != nil {
			retained[render(p["LogGroupName"])] = true
		}
	}
	var v []string
	for _, f := range t.ids(functionTypes...) {
		for _, m := range []string{"Errors", "Throttles"} {
			if len(t.alarmsOn("AWS/Lambda", m, "FunctionName", f)) == 0 {
				v = append(v, f+": no alarm on "+m)
			}
		}
		if !retained["/aws/lambda/${"+f+"}"] {
			v = append(v, f+": no log group /aws/lambda/${"+f+"} with RetentionInDays")
		}
	}
	return v
}

// starOnly lists the actions AWS authorizes only on Resource "*" (they have
// no resource-level permissions): the only actions a statement may allow on
// "*". Keep it small.
var starOnly = []string{
	"xray:PutTraceSegments",    // X-Ray: traces belong to no resource
	"xray:PutTelemetryRecords", // X-Ray daemon telemetry
	"cloudwatch:PutMetricData", // metrics are scoped by namespace (a condition), not by resource
	"sns:Publish",              // only to a phone number (SMS), which has no ARN; to a topic, name the topic
}

// branches returns the policies a function's Policies entry stands for: the
// entry, or both branches of an Fn::If (a grant that a condition turns on).
func branches(p any) []any {
	args := list(at(p, "Fn::If"))
	if len(args) != 3 {
		return []any{p}
	}
	return args[1:]
}

// No IAM statement that allows uses Action "*" or "<service>:*", and one
// allows Resource "*" only for starOnly actions. Identity policies are
// checked: the functions' inline policies and IAM roles and policies. (A
// KMS key policy is a resource policy: its Resource "*" is the key itself.)
func iamRule(t *cfnTemplate) []string {
	type doc struct {
		owner string
		stmts []any
	}
	var docs []doc
	for _, id := range t.ids(functionTypes...) {
		for _, entry := range list(t.Resources[id].Properties["Policies"]) {
			for _, p := range branches(entry) {
				docs = append(docs, doc{id, list(at(p, "Statement"))})
			}
		}
	}
	for _, id := range t.ids("AWS::IAM::Role") {
		for _, p := range list(t.Resources[id].Properties["Policies"]) {
			docs = append(docs, doc{id, list(at(p, "PolicyDocument", "Statement"))})
		}
	}
	for _, id := range t.ids("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") {
		docs = append(docs, doc{id, list(at(t.Resources[id].Properties, "PolicyDocument", "Statement"))})
	}
	var v []string
	for _, d := range docs {
		for _, s := range d.stmts {
			if render(at(s, "Effect")) != "Allow" {
				continue
			}
			sid := render(at(s, "Sid"))
			var actions []string
			for _, a := range list(at(s, "Action")) {
				a := render(a)
				actions = append(actions, a)
				if _, rest, _ := strings.Cut(a, ":"); a == "*" || rest == "*" {
					v = append(v, fmt.Sprintf("%s statement %s: Action %q", d.owner, sid, a))
				}
			}
			for _, r := range list(at(s, "Resource")) {
				if render(r) != "*" {
					continue
				}
				for _, a := range actions {
					if !slices.Contains(starOnly, a) {
						v = append(v, fmt.Sprintf("%s statement %s: %s on Resource \"*\"", d.owner, sid, a))
					}
				}
			}
		}
	}
	return v
}

// A queue's VisibilityTimeout is at least 6 times the Timeout of the function
// it feeds (AWS's advice for Lambda event sources), so that a message is not
// delivered again while a retried batch is still running.
func visibilityRule(t *cfnTemplate) []string {
	timeout := func(f string) float64 {
		if s, ok := t.number(t.Resources[f].Properties["Timeout"]); ok {
			return s
		}
		if s, ok := t.number(t.Globals["Function"]["Timeout"]); ok {
			return s
		}
		return 3 // Lambda's default
	}
	type feed struct{ queue, function string }
	var feeds []feed
	for _, f := range t.ids("AWS::Serverless::Function") {
		events, _ := t.Resources[f].Properties["Events"].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(events)) {
			if render(at(events[name], "Type")) != "SQS" {
				continue
			}
			if q, ok := target(at(events[name], "Properties", "Queue")); ok {
				feeds = append(feeds, feed{q, f})
			}
		}
	}
	for _, m := range t.ids("AWS::Lambda::EventSourceMapping") {
		q, ok1 := target(t.Resources[m].Properties["EventSourceArn"])
		f, ok2 := target(t.Resources[m].Properties["FunctionName"])
		if ok1 && ok2 && t.Resources[q] != nil && t.Resources[q].Type == "AWS::SQS::Queue" {
			feeds = append(feeds, feed{q, f})
		}
	}
	var v []string
	for _, fd := range feeds {
		q := t.Resources[fd.queue]
		if q == nil || t.Resources[fd.function] == nil {
			v = append(v, fmt.Sprintf("%s feeds %s: one of them is not in the template", fd.queue, fd.function))
			continue
		}
		vis, ok := t.number(q.Properties["VisibilityTimeout"])
		if !ok {
			vis = 30 // SQS's default
		}
		if to := timeout(fd.function); vis < 6*to {
			v = append(v, fmt.Sprintf("%s: VisibilityTimeout %v s < 6 x %s Timeout %v s", fd.queue, vis, fd.function, to))
		}
	}
	return v
}

// A function that sends messages to the queue that feeds it (an environment
// variable names that queue) declares RecursiveLoop: Lambda stops such a
// chain after about 16 hops by default, which is right for a runaway loop
// and wrong for the worker's polls; the template says which it is.
func loopRule(t *cfnTemplate) []string {
	var v []string
	for _, f := range t.ids("AWS::Serverless::Function") {
		props := t.Resources[f].Properties
		events, _ := props["Events"].(map[string]any)
		vars, _ := at(props, "Environment", "Variables").(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(events)) {
			if render(at(events[name], "Type")) != "SQS" {
				continue
			}
			q, ok := target(at(events[name], "Properties", "Queue"))
			if !ok {
				continue
			}
			for _, val := range vars {
				if to, ok := target(val); ok && to == q {
					if _, set := props["RecursiveLoop"]; !set {
						v = append(v, fmt.Sprintf("%s: sends to %s, which feeds it, without RecursiveLoop", f, q))
					}
				}
			}
		}
	}
	return v
}

// Every DynamoDB table has point-in-time recovery and encryption at rest
// enabled.
func tableRule(t *cfnTemplate) []string {
	var v []string
	for _, id := range t.ids("AWS::Serverless::SimpleTable") {
		v = append(v, id+": a SimpleTable cannot enable point-in-time recovery; use AWS::DynamoDB::Table")
	}
	for _, id := range t.ids("AWS::DynamoDB::Table") {
		p := t.Resources[id].Properties
		if at(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") != true {
			v = append(v, id+": PointInTimeRecoveryEnabled is not true")
		}
		if at(p, "SSESpecification", "SSEEnabled") != true {
			v = append(v, id+": SSESpecification SSEEnabled is not true")
		}
	}
	return v
}

var (
	// accessLogVariable matches a variable of an access log format.
	accessLogVariable = regexp.MustCompile(`\$[A-Za-z][A-Za-z0-9_.-]*`)
	// tokenBearing matches the variables that can carry the JWT (sent as
	// Sec-WebSocket-Protocol or ?token=): the request's headers, query
	// string and body, authorizer output, caller identity beyond the IP.
	tokenBearing = regexp.MustCompile(`(?i)^\$request\.|^\$input|^\$context\.authorizer\.|header|query|protocol|token|^\$context\.identity\.(?:[^s]|s[^o])`)
)

// The WebSocket stage's access log format references no variable that can
// carry a token.
func accessLogRule(t *cfnTemplate) []string {
	var v []string
	for _, id := range t.ids("AWS::ApiGatewayV2::Stage") {
		format := render(at(t.Resources[id].Properties, "AccessLogSettings", "Format"))
		for _, variable := range accessLogVariable.FindAllString(format, -1) {
			if tokenBearing.MatchString(variable) {
				v = append(v, fmt.Sprintf("%s: access log records %s, which can carry a token", id, variable))
			}
		}
	}
	return v
}

// awsMetrics lists, for each AWS namespace the alarms and dashboard read,
// its metrics and the resource type each dimension names ("" for the stage
// name).
var awsMetrics = map[string]struct {
	names []string
	dims  map[string][]string
}{
	"AWS/SQS": {
		names: []string{"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesNotVisible", "NumberOfMessagesSent"},
		dims:  map[string][]string{"QueueName": {"AWS::SQS::Queue"}},
	},
	"AWS/Lambda": {
		names: []string{"Errors", "Throttles", "Invocations", "Duration", "ConcurrentExecutions"},
		dims:  map[string][]string{"FunctionName": functionTypes},
	},
	// WebSocket APIs publish these, not 4XXError and 5XXError.
	"AWS/ApiGateway": {
		names: []string{"ConnectCount", "MessageCount", "IntegrationError", "ClientError", "ExecutionError", "IntegrationLatency"},
		dims:  map[string][]string{"ApiId": {"AWS::ApiGatewayV2::Api"}, "Stage": {""}},
	},
}

// metricViolations returns what is wrong with a metric read by owner: an
// FbdiNotify metric must be one of metrics.Names and carry Stack = this
// stack's name; an AWS metric must be one of awsMetrics whose dimensions
// name resources of the template.
func (t *cfnTemplate) metricViolations(owner string, w watched) []string {
	var v []string
	bad := func(format string, args ...any) { v = append(v, owner+": "+fmt.Sprintf(format, args...)) }
	if w.Namespace == metrics.Namespace {
		if !slices.Contains(metrics.Names, w.Name) {
			bad("metric %s is not in metrics.Names", w.Name)
		}
		if render(w.Dims[metrics.DimStack]) != "${AWS::StackName}" {
			bad("metric %s without dimension %s = the stack's name", w.Name, metrics.DimStack)
		}
		known := []string{metrics.DimStack, metrics.DimReason, metrics.DimOutcome, metrics.DimKind, metrics.DimStep, metrics.DimCall}
		for d := range w.Dims {
			if !slices.Contains(known, d) {
				bad("metric %s with unknown dimension %s", w.Name, d)
			}
		}
		return v
	}
	ns, ok := awsMetrics[w.Namespace]
	if !ok {
		bad("namespace %q is none the template's resources publish to", w.Namespace)
		return v
	}
	if !slices.Contains(ns.names, w.Name) {
		bad("%s has no metric %s", w.Namespace, w.Name)
	}
	stages := map[string]bool{}
	for _, s := range t.ids("AWS::ApiGatewayV2::Stage") {
		stages[render(t.Resources[s].Properties["StageName"])] = true
	}
	for d, val := range w.Dims {
		types, ok := ns.dims[d]
		switch {
		case !ok:
			bad("%s metric %s with unknown dimension %s", w.Namespace, w.Name, d)
		case slices.Equal(types, []string{""}):
			if !stages[render(val)] {
				bad("%s %s = %s names no stage of the template", w.Name, d, render(val))
			}
		default:
			id, ok := target(val)
			if !ok || t.Resources[id] == nil || !slices.Contains(types, t.Resources[id].Type) {
				bad("%s %s = %s names no %s of the template", w.Name, d, render(val), strings.Join(types, " or "))
			}
		}
	}
	return v
}

// Every alarm reads metrics that exist, and notifies the alarm topic on
// ALARM and on OK.
func alarmRule(t *cfnTemplate) []string {
	var v []string
	for _, a := range t.ids("AWS::CloudWatch::Alarm") {
		p := t.Resources[a].Properties
		ws, err := alarmMetrics(p)
		if err != nil {
			v = append(v, a+": "+err.Error())
		}
		for _, w := range ws {
			v = append(v, t.metricViolations(a, w)...)
		}
		for _, actions := range []string{"AlarmActions", "OKActions"} {
			if list(p[actions]) == nil || !strings.Contains(render(p[actions]), `{"Ref":"AlarmTopic"}`) {
				v = append(v, a+": "+actions+" do not notify AlarmTopic")
			}
		}
	}
	return v
}

// searchMetric reads a dashboard's SEARCH('{Namespace,Dims} MetricName="X" Dim="v"', ...).
var searchMetric = regexp.MustCompile(`SEARCH\('\{([^,}]+),([^}]*)\}\s+MetricName="(\w+)"((?:\s+\w+="[^"]*")*)'`)

// The dashboard's body is JSON and its metrics exist, as the alarms' do.
func dashboardRule(t *cfnTemplate) []string {
	var v []string
	for _, id := range t.ids("AWS::CloudWatch::Dashboard") {
		var body struct {
			Widgets []struct {
				Properties struct {
					Metrics [][]any `json:"metrics"`
				} `json:"properties"`
			} `json:"widgets"`
		}
		if err := json.Unmarshal([]byte(render(t.Resources[id].Properties["DashboardBody"])), &body); err != nil {
			v = append(v, fmt.Sprintf("%s: body is not the JSON a dashboard takes: %v", id, err))
			continue
		}
		for _, w := range body.Widgets {
			for _, row := range w.Properties.Metrics {
				for _, m := range dashboardMetrics(row) {
					v = append(v, t.metricViolations(id, m)...)
				}
			}
		}
	}
	return v
}

// dashboardMetrics reads one row of a widget's metrics: [Namespace, Name,
// Dim, Value, ..., {options}], or [{"expression": ...}].
func dashboardMetrics(row []any) []watched {
	if len(row) == 1 {
		expr, _ := at(row[0], "expression").(string)
		var out []watched
		for _, m := range searchMetric.FindAllStringSubmatch(expr, -1) {
			w := watched{Namespace: m[1], Name: m[3], Dims: map[string]any{}}
			for _, d := range strings.Split(m[2], ",") {
				w.Dims[strings.TrimSpace(d)] = "*"
			}
			for _, eq := range regexp.MustCompile(`(\w+)="([^"]*)"`).FindAllStringSubmatch(m[4], -1) {
				w.Dims[eq[1]] = eq[2]
			}
			out = append(out, w)
		}
		return out
	}
	var strs []string
	for _, e := range row {
		if s, ok := e.(string); ok {
			strs = append(strs, s)
		}
	}
	if len(strs) < 2 {
		return nil
	}
	w := watched{Namespace: strs[0], Name: strs[1], Dims: map[string]any{}}
	for i := 2; i+1 < len(strs); i += 2 {
		w.Dims[strs[i]] = strs[i+1] // ${X} or ${X.QueueName}: render and target read it as written
	}
	return []watched{w}
}

func TestTemplateRules(t *testing.T) {
	// Helpers for the changes below; each names the resource it changes.
	props := func(tm *cfnTemplate, id string) map[string]any {
		r := tm.Resources[id]
		if r == nil {
			t.Fatalf("template has no %s", id)
		}
		return r.Properties
	}
	firstStatement := func(tm *cfnTemplate, fn string) map[string]any {
		return list(at(list(props(tm, fn)["Policies"])[0], "Statement"))[0].(map[string]any)
	}
	tests := []struct {
		name   string
		rule   func(*cfnTemplate) []string
		change func(*cfnTemplate) // nil: template.yaml as it is
		want   string             // in a violation; "" for none
	}{
		{name: "queues: template.yaml", rule: queueRule},
		{name: "queues: no redrive", rule: queueRule, want: "NotificationQueue: no RedrivePolicy",
			change: func(tm *cfnTemplate) { delete(props(tm, "NotificationQueue"), "RedrivePolicy") }},
		{name: "queues: no age alarm", rule: queueRule, want: "WorkflowQueue: no alarm on ApproximateAgeOfOldestMessage",
			change: func(tm *cfnTemplate) { delete(tm.Resources, "WorkflowQueueAgeAlarm") }},
		{name: "queues: no DLQ alarm", rule: queueRule, want: "WorkflowDeadLetterQueue: dead-letter queue without an alarm",
			change: func(tm *cfnTemplate) { delete(tm.Resources, "WorkflowDeadLetterAlarm") }},

		{name: "functions: template.yaml", rule: functionRule},
		{name: "functions: no throttles alarm", rule: functionRule, want: "SweeperFunction: no alarm on Throttles",
			change: func(tm *cfnTemplate) { delete(tm.Resources, "SweeperFunctionThrottlesAlarm") }},
		{name: "functions: errors alarm on another function", rule: functionRule, want: "MessageFunction: no alarm on Errors",
			change: func(tm *cfnTemplate) {
				props(tm, "MessageFunctionErrorsAlarm")["Dimensions"] = []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": "ConnectFunction"}}}
			}},
		{name: "functions: log group never expires", rule: functionRule, want: "WorkerFunction: no log group",
			change: func(tm *cfnTemplate) { delete(props(tm, "WorkerFunctionLogGroup"), "RetentionInDays") }},

		{name: "IAM: template.yaml", rule: iamRule},
		{name: "IAM: service wildcard", rule: iamRule, want: `ConnectFunction statement RecordConnection: Action "dynamodb:*"`,
			change: func(tm *cfnTemplate) { firstStatement(tm, "ConnectFunction")["Action"] = "dynamodb:*" }},
		{name: "IAM: any action", rule: iamRule, want: `DisconnectFunction statement ForgetConnection: Action "*"`,
			change: func(tm *cfnTemplate) {
				firstStatement(tm, "DisconnectFunction")["Action"] = []any{"dynamodb:DeleteItem", "*"}
			}},
		{name: "IAM: any resource", rule: iamRule, want: `ConnectFunction statement RecordConnection: dynamodb:PutItem on Resource "*"`,
			change: func(tm *cfnTemplate) { firstStatement(tm, "ConnectFunction")["Resource"] = "*" }},
		{name: "IAM: a conditional grant is checked too", rule: iamRule,
			want: `WorkerFunction statement TextCriticalNotifications: sqs:SendMessage on Resource "*"`,
			change: func(tm *cfnTemplate) {
				for _, entry := range list(props(tm, "WorkerFunction")["Policies"]) {
					if args := list(at(entry, "Fn::If")); len(args) == 3 {
						st := list(at(args[1], "Statement"))[0].(map[string]any)
						st["Action"] = "sqs:SendMessage"
					}
				}
			}},
		{name: "IAM: any resource for an action that has no other", rule: iamRule,
			change: func(tm *cfnTemplate) {
				s := firstStatement(tm, "ConnectFunction")
				s["Action"], s["Resource"] = []any{"xray:PutTraceSegments", "cloudwatch:PutMetricData"}, "*"
			}},

		{name: "visibility: template.yaml", rule: visibilityRule},
		{name: "visibility: queue too short", rule: visibilityRule, want: "WorkflowQueue: VisibilityTimeout 600 s < 6 x WorkerFunction Timeout 120 s",
			change: func(tm *cfnTemplate) { props(tm, "WorkflowQueue")["VisibilityTimeout"] = 600.0 }},
		{name: "visibility: function timeout from Globals", rule: visibilityRule, want: "NotificationQueue: VisibilityTimeout 180 s < 6 x NotifyFunction Timeout 31 s",
			change: func(tm *cfnTemplate) {
				delete(props(tm, "NotifyFunction"), "Timeout")
				tm.Globals["Function"]["Timeout"] = 31.0
			}},

		{name: "loops: template.yaml", rule: loopRule},
		{name: "loops: the worker's polls", rule: loopRule, want: "WorkerFunction: sends to WorkflowQueue, which feeds it, without RecursiveLoop",
			change: func(tm *cfnTemplate) { delete(props(tm, "WorkerFunction"), "RecursiveLoop") }},
		{name: "loops: notify's redeliveries", rule: loopRule, want: "NotifyFunction: sends to NotificationQueue, which feeds it, without RecursiveLoop",
			change: func(tm *cfnTemplate) { delete(props(tm, "NotifyFunction"), "RecursiveLoop") }},
		{name: "tables: template.yaml", rule: tableRule},
		{name: "tables: no PITR", rule: tableRule, want: "WorkflowsTable: PointInTimeRecoveryEnabled",
			change: func(tm *cfnTemplate) {
				props(tm, "WorkflowsTable")["PointInTimeRecoverySpecification"] = map[string]any{"PointInTimeRecoveryEnabled": false}
			}},
		{name: "tables: no SSE", rule: tableRule, want: "ConnectionsTable: SSESpecification",
			change: func(tm *cfnTemplate) { delete(props(tm, "ConnectionsTable"), "SSESpecification") }},

		{name: "access log: template.yaml", rule: accessLogRule},
		{name: "access log: subprotocol header", rule: accessLogRule, want: "WebSocketStage: access log records $request.header.Sec-WebSocket-Protocol",
			change: func(tm *cfnTemplate) {
				s := at(props(tm, "WebSocketStage"), "AccessLogSettings").(map[string]any)
				s["Format"] = strings.Replace(s["Format"].(string), "{", `{"p":"$request.header.Sec-WebSocket-Protocol",`, 1)
			}},
		{name: "access log: query string", rule: accessLogRule, want: "WebSocketStage: access log records $request.querystring.token",
			change: func(tm *cfnTemplate) {
				s := at(props(tm, "WebSocketStage"), "AccessLogSettings").(map[string]any)
				s["Format"] = strings.Replace(s["Format"].(string), "{", `{"q":"$request.querystring.token",`, 1)
			}},
		{name: "access log: authorizer output", rule: accessLogRule, want: "WebSocketStage: access log records $context.authorizer.jwt",
			change: func(tm *cfnTemplate) {
				s := at(props(tm, "WebSocketStage"), "AccessLogSettings").(map[string]any)
				s["Format"] = strings.Replace(s["Format"].(string), "{", `{"a":"$context.authorizer.jwt",`, 1)
			}},

		{name: "alarms: template.yaml", rule: alarmRule},
		{name: "alarms: unknown metric", rule: alarmRule, want: "WorkflowsFailedAlarm: metric WorkflowFailures is not in metrics.Names",
			change: func(tm *cfnTemplate) { props(tm, "WorkflowsFailedAlarm")["MetricName"] = "WorkflowFailures" }},
		{name: "alarms: no Stack dimension", rule: alarmRule, want: "WorkflowsStrandedAlarm: metric WorkflowsStranded without dimension Stack",
			change: func(tm *cfnTemplate) { delete(props(tm, "WorkflowsStrandedAlarm"), "Dimensions") }},
		{name: "alarms: unknown metric in a query", rule: alarmRule, want: "OracleErrorsAlarm: metric OracleFailures is not in metrics.Names",
			change: func(tm *cfnTemplate) {
				q := list(props(tm, "OracleErrorsAlarm")["Metrics"])[0].(map[string]any)
				q["Expression"] = map[string]any{"Fn::Sub": `SELECT SUM(OracleFailures) FROM SCHEMA("FbdiNotify", Call, Stack) WHERE Stack = '${AWS::StackName}'`}
			}},
		{name: "alarms: query of another stack", rule: alarmRule, want: "OracleErrorsAlarm: metric OracleErrors without dimension Stack",
			change: func(tm *cfnTemplate) {
				q := list(props(tm, "OracleErrorsAlarm")["Metrics"])[0].(map[string]any)
				q["Expression"] = `SELECT SUM(OracleErrors) FROM SCHEMA("FbdiNotify", Call, Stack) WHERE Stack = 'prod'`
			}},
		{name: "alarms: metric math over another stack", rule: alarmRule, want: "NotificationsFailedAlarm: metric NotificationsDelivered without dimension Stack",
			change: func(tm *cfnTemplate) {
				q := list(props(tm, "NotificationsFailedAlarm")["Metrics"])[1].(map[string]any)
				at(q, "MetricStat", "Metric").(map[string]any)["Dimensions"] = []any{map[string]any{"Name": "Stack", "Value": "prod"}}
			}},
		{name: "alarms: unknown metric in metric math", rule: alarmRule, want: "NotificationsFailedAlarm: metric NotificationsFailures is not in metrics.Names",
			change: func(tm *cfnTemplate) {
				q := list(props(tm, "NotificationsFailedAlarm")["Metrics"])[0].(map[string]any)
				at(q, "MetricStat", "Metric").(map[string]any)["MetricName"] = "NotificationsFailures"
			}},
		{name: "alarms: queue not in the template", rule: alarmRule, want: "NotificationQueueAgeAlarm: ApproximateAgeOfOldestMessage QueueName = ${OldQueue.QueueName} names no AWS::SQS::Queue",
			change: func(tm *cfnTemplate) {
				props(tm, "NotificationQueueAgeAlarm")["Dimensions"] = []any{map[string]any{"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{"OldQueue", "QueueName"}}}}
			}},
		{name: "alarms: REST API metric", rule: alarmRule, want: "ApiIntegrationErrorAlarm: AWS/ApiGateway has no metric 5XXError",
			change: func(tm *cfnTemplate) { props(tm, "ApiIntegrationErrorAlarm")["MetricName"] = "5XXError" }},
		{name: "alarms: no OK notification", rule: alarmRule, want: "OracleBreakerOpenAlarm: OKActions do not notify AlarmTopic",
			change: func(tm *cfnTemplate) { delete(props(tm, "OracleBreakerOpenAlarm"), "OKActions") }},

		{name: "dashboard: template.yaml", rule: dashboardRule},
		{name: "dashboard: unknown metric", rule: dashboardRule, want: "Dashboard: metric WorkflowsParkedCount is not in metrics.Names",
			change: func(tm *cfnTemplate) {
				p := props(tm, "Dashboard")
				p["DashboardBody"] = map[string]any{"Fn::Sub": strings.Replace(render(p["DashboardBody"]), `"WorkflowsParked"`, `"WorkflowsParkedCount"`, 1)}
			}},
		{name: "dashboard: unknown metric in a search", rule: dashboardRule, want: "Dashboard: metric StepDurations is not in metrics.Names",
			change: func(tm *cfnTemplate) {
				p := props(tm, "Dashboard")
				p["DashboardBody"] = map[string]any{"Fn::Sub": strings.Replace(render(p["DashboardBody"]), `\"StepDuration\"`, `\"StepDurations\"`, 1)}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := parseTemplate(t, fbdinotify.Template)
			if tt.change != nil {
				tt.change(tm)
			}
			got := tt.rule(tm)
			if tt.want == "" {
				if len(got) > 0 {
					t.Errorf("violations:\n  %s", strings.Join(got, "\n  "))
				}
				return
			}
			if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, tt.want) }) {
				t.Errorf("violations:\n  %s\nwant one with %q", strings.Join(got, "\n  "), tt.want)
			}
		})
	}
}
