// Package samtemplate reads the SAM template (template.yaml) with goformation and
// exposes what the local stack and the tests need from it: the WebSocket
// routes and which function each invokes, the route selection expression,
// the tables, the queues, and the functions with their environment,
// policies and event sources.
//
// The local stack wires its handlers from this package, so the deployed and
// the local system cannot drift apart: a route, queue setting or table that
// the template changes changes locally too, and the consistency tests compare
// the template with the code's own table definitions.
//
// Values that CloudFormation computes at deploy time are given in Fn::Sub
// syntax: a Ref as "${ConnectionsTable}", a GetAtt as "${ConnectionsTable.Arn}",
// a Sub as its template ("arn:${AWS::Partition}:execute-api:...").
package samtemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// ErrNotFound is returned when the template has no resource of the asked
// kind with that logical ID.
var ErrNotFound = errors.New("stack: no such resource")

// Template is a parsed template.yaml. It is immutable and safe for concurrent use.
type Template struct {
	cfn *cloudformation.Template
	raw map[string]any // the same processed JSON, for what goformation's types drop

	routes      []Route
	selection   string
	stage       StageSpec
	permissions []Permission
	tables      map[string]TableSpec
	queues      map[string]QueueSpec
	functions   map[string]FunctionSpec
	parameters  map[string]Parameter
	logGroups   []LogGroup
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("stack: load: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return t, nil
}

// Parse parses a template (YAML or JSON) and resolves the references that
// this package exposes: every route must reach a function through an
// AWS_PROXY integration, every queue's redrive target and every event
// source must exist. It returns an error naming the first that does not.
func Parse(data []byte) (*Template, error) {
	processed, err := intrinsics.ProcessYAML(data, processorOptions())
	if err != nil {
		return nil, fmt.Errorf("stack: parse: %w", err)
	}
	t := &Template{cfn: &cloudformation.Template{}}
	if err := json.Unmarshal(processed, &t.raw); err != nil {
		return nil, fmt.Errorf("stack: parse: %w", err)
	}
	typed, err := withoutNewerProperties(processed)
	if err != nil {
		return nil, fmt.Errorf("stack: parse: %w", err)
	}
	if err := json.Unmarshal(typed, t.cfn); err != nil {
		return nil, fmt.Errorf("stack: parse: %w", err)
	}
	steps := []func() error{t.readParameters, t.readFunctions, t.readTables, t.readQueues, t.readAPI, t.readLogGroups}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("stack: parse: %w", err)
		}
	}
	return t, nil
}

// ResourceTypes maps every resource's logical ID to its type, e.g.
// "ConnectionsTable": "AWS::DynamoDB::Table".
func (t *Template) ResourceTypes() map[string]string {
	out := make(map[string]string, len(t.cfn.Resources))
	for id, r := range t.cfn.Resources {
		out[id] = r.AWSCloudFormationType()
	}
	return out
}

// Parameter is one template parameter.
type Parameter struct {
	Name           string
	Type           string // String, Number, ...
	Default        string // rendered; "" when none (HasDefault tells an empty default apart)
	HasDefault     bool
	AllowedPattern string
	AllowedValues  []string
	NoEcho         bool
}

// Parameters returns the template's parameters, sorted by name.
func (t *Template) Parameters() []Parameter {
	out := make([]Parameter, 0, len(t.parameters))
	for _, p := range t.parameters {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (t *Template) readParameters() error {
	t.parameters = map[string]Parameter{}
	for name, p := range t.cfn.Parameters {
		q := Parameter{Name: name, Type: p.Type, HasDefault: p.Default != nil}
		var err error
		if q.Default, err = render(p.Default); err != nil {
			return fmt.Errorf("parameter %s: default: %w", name, err)
		}
		if p.AllowedPattern != nil {
			q.AllowedPattern = *p.AllowedPattern
		}
		for _, v := range p.AllowedValues {
			s, err := render(v)
			if err != nil {
				return fmt.Errorf("parameter %s: allowed value: %w", name, err)
			}
			q.AllowedValues = append(q.AllowedValues, s)
		}
		q.NoEcho = p.NoEcho != nil && *p.NoEcho
		t.parameters[name] = q
	}
	return nil
}

// rawProperties returns the Properties object of resource id in the processed JSON.
func (t *Template) rawProperties(id string) map[string]any {
	res, _ := t.raw["Resources"].(map[string]any)
	r, _ := res[id].(map[string]any)
	props, _ := r["Properties"].(map[string]any)
	return props
}

// str returns *p, or "" for nil.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LogGroup is an AWS::Logs::LogGroup of the template.
type LogGroup struct {
	LogicalID     string
	Name          string // Fn::Sub syntax, e.g. /aws/lambda/${ConnectFunction}
	RetentionDays int    // parameters resolved to their defaults; 0 means never expire
}

// LogGroups returns the template's log groups, sorted by logical ID.
func (t *Template) LogGroups() []LogGroup { return append([]LogGroup(nil), t.logGroups...) }

func (t *Template) readLogGroups() error {
	groups := t.cfn.GetAllLogsLogGroupResources()
	for _, id := range sortedKeys(groups) {
		name, err := render(str(groups[id].LogGroupName))
		if err != nil {
			return fmt.Errorf("log group %s: %w", id, err)
		}
		t.logGroups = append(t.logGroups, LogGroup{LogicalID: id, Name: name, RetentionDays: intOr(groups[id].RetentionInDays, 0)})
	}
	return nil
}

// newerProperties are function properties that CloudFormation and SAM know
// and goformation's typed resources (which refuse unknown fields) do not
// yet; none of them changes how the local stack runs a function.
var newerProperties = []string{"RecursiveLoop"}

// withoutNewerProperties returns the processed template without
// newerProperties on its functions, for goformation's typed parse.
func withoutNewerProperties(processed []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(processed, &doc); err != nil {
		return nil, err
	}
	resources, _ := doc["Resources"].(map[string]any)
	changed := false
	for _, r := range resources {
		res, _ := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		if props == nil || (res["Type"] != "AWS::Serverless::Function" && res["Type"] != "AWS::Lambda::Function") {
			continue
		}
		for _, p := range newerProperties {
			if _, ok := props[p]; ok {
				delete(props, p)
				changed = true
			}
		}
	}
	if !changed {
		return processed, nil
	}
	return json.Marshal(doc)
}
