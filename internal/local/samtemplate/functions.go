package samtemplate

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/awslabs/goformation/v7/cloudformation/global"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
)

// Lambda's defaults for properties that neither a function nor Globals set.
const (
	defaultTimeout    = 3 * time.Second
	defaultMemorySize = 128
)

// FunctionSpec is an AWS::Serverless::Function of the template, with the
// template's Globals applied as SAM applies them.
type FunctionSpec struct {
	LogicalID     string
	Runtime       string // e.g. provided.al2023
	Handler       string // e.g. bootstrap
	Architectures []string
	CodeURI       string // e.g. "."
	BuildMethod   string // Metadata.BuildMethod, e.g. makefile
	Timeout       time.Duration
	MemorySize    int // MB
	// Environment maps each variable to its value in Fn::Sub syntax, e.g.
	// CONNECTIONS_TABLE: "${ConnectionsTable}".
	Environment map[string]string
	// Statements are the statements of the function's inline policy documents.
	Statements []Statement
	// OtherPolicies names every policy that is not an inline document: a
	// managed policy name or ARN, or a SAM policy template such as
	// DynamoDBCrudPolicy.
	OtherPolicies []string
	Events        []Event // sorted by name
}

// EnvironmentNames returns the names of the function's environment variables, sorted.
func (f FunctionSpec) EnvironmentNames() []string { return sortedKeys(f.Environment) }

// Statement is one IAM policy statement.
type Statement struct {
	Sid       string
	Effect    string   // Allow or Deny
	Actions   []string // e.g. dynamodb:PutItem
	Resources []string // Fn::Sub syntax, e.g. ${ConnectionsTable.Arn}
	// Condition names the template condition under which the statement's
	// policy is granted (Fn::If [Condition, policy, AWS::NoValue]); empty
	// when it always is.
	Condition string
}

// Event is one event source of a function (SAM's Events property).
type Event struct {
	Name                    string        // key under Events
	Type                    string        // SQS, DynamoDB, ...
	Source                  string        // logical ID of the queue or table it reads
	BatchSize               int           // SAM's default when unset: 10 for SQS, 100 for DynamoDB
	ReportBatchItemFailures bool          // FunctionResponseTypes has ReportBatchItemFailures
	StartingPosition        string        // streams: LATEST or TRIM_HORIZON
	MaximumRetryAttempts    int           // streams: -1 when unset (retry until the record expires)
	BisectBatchOnError      bool          // streams: BisectBatchOnFunctionError
	MaximumRecordAge        time.Duration // streams: MaximumRecordAgeInSeconds; 0 when unset (no limit)
	MaximumConcurrency      int           // SQS: ScalingConfig.MaximumConcurrency; 0 when unset
	FilterPatterns          []string
}

// Function returns the function with that logical ID, or an error wrapping ErrNotFound.
func (t *Template) Function(logicalID string) (FunctionSpec, error) {
	f, ok := t.functions[logicalID]
	if !ok {
		return FunctionSpec{}, fmt.Errorf("stack: function %s: %w", logicalID, ErrNotFound)
	}
	return f, nil
}

// Functions returns every function, sorted by logical ID.
func (t *Template) Functions() []FunctionSpec {
	out := make([]FunctionSpec, 0, len(t.functions))
	for _, id := range sortedKeys(t.functions) {
		out = append(out, t.functions[id])
	}
	return out
}

func (t *Template) readFunctions() error {
	g, err := t.cfn.GetServerlessGlobalFunction()
	if err != nil {
		g = &global.Function{} // no Globals.Function
	}
	t.functions = map[string]FunctionSpec{}
	for id, fn := range t.cfn.GetAllServerlessFunctionResources() {
		f, err := t.functionSpec(id, fn, g)
		if err != nil {
			return fmt.Errorf("function %s: %w", id, err)
		}
		t.functions[id] = f
	}
	return nil
}

func (t *Template) functionSpec(id string, fn *serverless.Function, g *global.Function) (FunctionSpec, error) {
	f := FunctionSpec{LogicalID: id, Runtime: first(str(fn.Runtime), str(g.Runtime)),
		Handler: first(str(fn.Handler), str(g.Handler)), Environment: map[string]string{}}
	f.Architectures = fn.Architectures
	if f.Architectures == nil && g.Architectures != nil {
		f.Architectures = *g.Architectures
	}
	switch {
	case fn.CodeUri != nil && fn.CodeUri.String != nil:
		f.CodeURI = *fn.CodeUri.String
	case fn.CodeUri == nil && g.CodeUri != nil && g.CodeUri.String != nil:
		f.CodeURI = *g.CodeUri.String
	}
	f.BuildMethod, _ = fn.AWSCloudFormationMetadata["BuildMethod"].(string)
	f.Timeout = time.Duration(intOr(fn.Timeout, intOr(g.Timeout, int(defaultTimeout/time.Second)))) * time.Second
	f.MemorySize = intOr(fn.MemorySize, intOr(g.MemorySize, defaultMemorySize))

	// SAM merges Globals' variables with the function's; the function's win.
	for _, env := range []*serverless.Function_FunctionEnvironment{g.Environment, fn.Environment} {
		if env == nil {
			continue
		}
		for name, v := range env.Variables {
			s, err := render(v)
			if err != nil {
				return f, fmt.Errorf("environment %s: %w", name, err)
			}
			f.Environment[name] = s
		}
	}

	// goformation's Function_Policies and event types guess a union member
	// by trial decoding and drop what they cannot type (FunctionResponseTypes,
	// ScalingConfig, FilterCriteria): read both from the processed JSON.
	props := t.rawProperties(id)
	if err := f.readPolicies(props["Policies"]); err != nil {
		return f, fmt.Errorf("policies: %w", err)
	}
	events, _ := props["Events"].(map[string]any)
	for _, name := range sortedKeys(events) {
		e, err := readEvent(name, events[name])
		if err != nil {
			return f, fmt.Errorf("event %s: %w", name, err)
		}
		f.Events = append(f.Events, e)
	}
	return f, nil
}

func (f *FunctionSpec) readPolicies(v any) error {
	var list []any
	switch p := decode(v).(type) {
	case nil:
		return nil
	case []any:
		list = p
	default:
		list = []any{p}
	}
	for _, p := range list {
		doc, ok := p.(map[string]any)
		condition := ""
		if args, isIf := doc["Fn::If"].([]any); ok && isIf && len(args) == 3 {
			// A grant a condition turns on: its policy, if the other branch
			// grants nothing.
			cond, _ := args[0].(string)
			// goformation resolves !Ref AWS::NoValue to nil.
			if other, _ := args[2].(map[string]any); cond == "" || (args[2] != nil && other["Ref"] != "AWS::NoValue") {
				return fmt.Errorf("policy Fn::If %v: want [condition, policy, !Ref AWS::NoValue]", args)
			}
			doc, ok = args[1].(map[string]any)
			condition = cond
		}
		if !ok || doc["Statement"] == nil {
			if ok && len(doc) == 1 {
				for k := range doc {
					f.OtherPolicies = append(f.OtherPolicies, k) // a SAM policy template or an intrinsic
				}
				continue
			}
			name, err := render(p)
			if err != nil {
				return err
			}
			f.OtherPolicies = append(f.OtherPolicies, name)
			continue
		}
		stmts, ok := doc["Statement"].([]any)
		if !ok {
			stmts = []any{doc["Statement"]}
		}
		for _, s := range stmts {
			m, ok := s.(map[string]any)
			if !ok {
				return fmt.Errorf("statement %v is not an object", s)
			}
			st := Statement{Condition: condition}
			st.Sid, _ = m["Sid"].(string)
			st.Effect, _ = m["Effect"].(string)
			var err error
			if st.Actions, err = renderList(m["Action"]); err != nil {
				return fmt.Errorf("statement %s: Action: %w", st.Sid, err)
			}
			if st.Resources, err = renderList(m["Resource"]); err != nil {
				return fmt.Errorf("statement %s: Resource: %w", st.Sid, err)
			}
			if m["NotAction"] != nil || m["NotResource"] != nil {
				return fmt.Errorf("statement %s: NotAction and NotResource are not supported", st.Sid)
			}
			f.Statements = append(f.Statements, st)
		}
	}
	return nil
}

// rawEvent is the subset of SAM's SQS and DynamoDB event properties read here.
type rawEvent struct {
	Type       string
	Properties struct {
		Queue                      any
		Stream                     any
		BatchSize                  *int
		FunctionResponseTypes      []string
		StartingPosition           string
		MaximumRetryAttempts       *int
		BisectBatchOnFunctionError bool
		MaximumRecordAgeInSeconds  int
		ScalingConfig              struct{ MaximumConcurrency int }
		FilterCriteria             struct{ Filters []struct{ Pattern string } }
	}
}

func readEvent(name string, v any) (Event, error) {
	b, err := json.Marshal(decode(v))
	if err != nil {
		return Event{}, err
	}
	var r rawEvent
	if err := json.Unmarshal(b, &r); err != nil {
		return Event{}, err
	}
	e := Event{Name: name, Type: r.Type, StartingPosition: r.Properties.StartingPosition, MaximumRetryAttempts: -1,
		BisectBatchOnError: r.Properties.BisectBatchOnFunctionError,
		MaximumRecordAge:   time.Duration(r.Properties.MaximumRecordAgeInSeconds) * time.Second,
		MaximumConcurrency: r.Properties.ScalingConfig.MaximumConcurrency}
	for _, t := range r.Properties.FunctionResponseTypes {
		e.ReportBatchItemFailures = e.ReportBatchItemFailures || t == "ReportBatchItemFailures"
	}
	if r.Properties.MaximumRetryAttempts != nil {
		e.MaximumRetryAttempts = *r.Properties.MaximumRetryAttempts
	}
	for _, f := range r.Properties.FilterCriteria.Filters {
		e.FilterPatterns = append(e.FilterPatterns, f.Pattern)
	}
	var source any
	switch r.Type {
	case "SQS":
		source, e.BatchSize = r.Properties.Queue, 10
	case "DynamoDB", "Kinesis":
		source, e.BatchSize = r.Properties.Stream, 100
	default:
		return e, nil
	}
	if r.Properties.BatchSize != nil {
		e.BatchSize = *r.Properties.BatchSize
	}
	s, err := render(source)
	if err != nil {
		return e, err
	}
	if e.Source, _ = refTarget(s); e.Source == "" {
		return e, fmt.Errorf("source %q is not a !GetAtt or !Ref of a template resource", s)
	}
	return e, nil
}

// first returns the first non-empty string.
func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
