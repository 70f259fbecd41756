package samtemplate

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation/apigatewayv2"
)

// Route is one route of the WebSocket API.
type Route struct {
	Key      string // route key: $connect, $disconnect, $default or a message type such as ping
	Function string // logical ID of the function that its AWS_PROXY integration invokes
	TwoWay   bool   // a $default route response sends the function's response Body back to the client
}

// Routes returns the WebSocket API's routes, sorted by key.
func (t *Template) Routes() []Route { return append([]Route(nil), t.routes...) }

// Route returns the route with that key.
func (t *Template) Route(key string) (Route, bool) {
	for _, r := range t.routes {
		if r.Key == key {
			return r, true
		}
	}
	return Route{}, false
}

// RouteSelectionExpression returns the WebSocket API's route selection
// expression, e.g. $request.body.type.
func (t *Template) RouteSelectionExpression() string { return t.selection }

// StageSpec is the WebSocket API's stage.
type StageSpec struct {
	LogicalID            string
	Name                 string // Fn::Sub syntax, e.g. ${StageName}
	AutoDeploy           bool
	AccessLogDestination string // Fn::Sub syntax, e.g. ${AccessLogGroup.Arn}
	AccessLogFormat      string // API Gateway $context template
	ThrottlingBurstLimit int    // stage default, parameters resolved to their defaults
	ThrottlingRateLimit  float64
	DataTrace            bool // whether any route logs full request and response data
	// RouteSettings maps a route key to its own settings.
	RouteSettings map[string]RouteSettings
}

// RouteSettings are the stage settings of one route.
type RouteSettings struct {
	ThrottlingBurstLimit int
	ThrottlingRateLimit  float64
	DataTrace            bool
}

// Stage returns the WebSocket API's stage.
func (t *Template) Stage() StageSpec { return t.stage }

// Permission is an AWS::Lambda::Permission: who may invoke a function.
type Permission struct {
	LogicalID string
	Function  string // logical ID of the function
	Action    string // e.g. lambda:InvokeFunction
	Principal string // e.g. apigateway.amazonaws.com
	SourceArn string // Fn::Sub syntax; "" when unscoped
}

// Permissions returns the template's Lambda permissions, sorted by logical ID.
func (t *Template) Permissions() []Permission { return append([]Permission(nil), t.permissions...) }

// lambdaURI matches an API Gateway integration URI that invokes a Lambda
// function named by GetAtt, capturing the function's logical ID.
var lambdaURI = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:apigateway:\$\{AWS::Region\}:lambda:path/2015-03-31/functions/\$\{(\w+)\.Arn\}/invocations$`)

// readAPI reads the one WebSocket API, its routes, stage and permissions.
func (t *Template) readAPI() error {
	var apiID string
	for id, api := range t.cfn.GetAllApiGatewayV2ApiResources() {
		if str(api.ProtocolType) != "WEBSOCKET" {
			continue
		}
		if apiID != "" {
			return fmt.Errorf("two WebSocket APIs: %s and %s", apiID, id)
		}
		apiID, t.selection = id, str(api.RouteSelectionExpression)
	}
	if apiID == "" {
		return fmt.Errorf("no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET")
	}
	ofAPI := func(kind, id, apiRef string) error {
		if target, err := render(apiRef); err != nil || target != "${"+apiID+"}" {
			return fmt.Errorf("%s %s: ApiId is not !Ref %s", kind, id, apiID)
		}
		return nil
	}

	responses := map[string]bool{} // route logical ID -> has a $default route response
	for id, rr := range t.cfn.GetAllApiGatewayV2RouteResponseResources() {
		if err := ofAPI("route response", id, rr.ApiId); err != nil {
			return err
		}
		route, err := render(rr.RouteId)
		target, ok := refTarget(route)
		if err != nil || !ok {
			return fmt.Errorf("route response %s: RouteId is not a !Ref", id)
		}
		if rr.RouteResponseKey == "$default" {
			responses[target] = true
		}
	}

	integrations := t.cfn.GetAllApiGatewayV2IntegrationResources()
	for id, r := range t.cfn.GetAllApiGatewayV2RouteResources() {
		if err := ofAPI("route", id, r.ApiId); err != nil {
			return err
		}
		fn, err := t.routeFunction(id, r, integrations, apiID)
		if err != nil {
			return err
		}
		if _, ok := responses[id]; ok && str(r.RouteResponseSelectionExpression) == "" {
			return fmt.Errorf("route %s has a route response but no RouteResponseSelectionExpression", id)
		}
		t.routes = append(t.routes, Route{Key: r.RouteKey, Function: fn,
			TwoWay: responses[id] && str(r.RouteResponseSelectionExpression) == "$default"})
	}
	sort.Slice(t.routes, func(i, j int) bool { return t.routes[i].Key < t.routes[j].Key })
	for i := 1; i < len(t.routes); i++ {
		if t.routes[i].Key == t.routes[i-1].Key {
			return fmt.Errorf("two routes with key %s", t.routes[i].Key)
		}
	}

	if err := t.readStage(apiID); err != nil {
		return err
	}
	return t.readPermissions()
}

// routeFunction follows route id's Target to its integration and the
// integration to the function it invokes.
func (t *Template) routeFunction(id string, r *apigatewayv2.Route, integrations map[string]*apigatewayv2.Integration, apiID string) (string, error) {
	target, err := render(str(r.Target))
	integrationID, ok := strings.CutPrefix(target, "integrations/")
	if err != nil || !ok {
		return "", fmt.Errorf("route %s (%s): Target is not integrations/${Integration}", id, r.RouteKey)
	}
	integrationID, ok = refTarget(integrationID)
	in := integrations[integrationID]
	if !ok || in == nil {
		return "", fmt.Errorf("route %s (%s): Target %s is not an integration of the template", id, r.RouteKey, target)
	}
	if api, err := render(in.ApiId); err != nil || api != "${"+apiID+"}" {
		return "", fmt.Errorf("integration %s: ApiId is not !Ref %s", integrationID, apiID)
	}
	if in.IntegrationType != "AWS_PROXY" {
		return "", fmt.Errorf("integration %s: IntegrationType %s, want AWS_PROXY", integrationID, in.IntegrationType)
	}
	uri, err := render(str(in.IntegrationUri))
	m := lambdaURI.FindStringSubmatch(uri)
	if err != nil || m == nil {
		return "", fmt.Errorf("integration %s: IntegrationUri %q does not invoke a function of the template", integrationID, uri)
	}
	if _, ok := t.functions[m[1]]; !ok {
		return "", fmt.Errorf("integration %s invokes %s: %w", integrationID, m[1], ErrNotFound)
	}
	return m[1], nil
}

func (t *Template) readStage(apiID string) error {
	for id, s := range t.cfn.GetAllApiGatewayV2StageResources() {
		if api, err := render(s.ApiId); err != nil || api != "${"+apiID+"}" {
			continue
		}
		if t.stage.LogicalID != "" {
			return fmt.Errorf("two stages of %s: %s and %s", apiID, t.stage.LogicalID, id)
		}
		name, err := render(s.StageName)
		if err != nil {
			return fmt.Errorf("stage %s: StageName: %w", id, err)
		}
		st := StageSpec{LogicalID: id, Name: name, AutoDeploy: s.AutoDeploy != nil && *s.AutoDeploy,
			RouteSettings: map[string]RouteSettings{}}
		if a := s.AccessLogSettings; a != nil {
			st.AccessLogFormat = str(a.Format)
			if st.AccessLogDestination, err = render(str(a.DestinationArn)); err != nil {
				return fmt.Errorf("stage %s: access log destination: %w", id, err)
			}
		}
		if d := s.DefaultRouteSettings; d != nil {
			st.ThrottlingBurstLimit = intOr(d.ThrottlingBurstLimit, 0)
			if d.ThrottlingRateLimit != nil {
				st.ThrottlingRateLimit = *d.ThrottlingRateLimit
			}
			st.DataTrace = d.DataTraceEnabled != nil && *d.DataTraceEnabled
		}
		settings, _ := decode(s.RouteSettings).(map[string]any)
		for key, v := range settings {
			m, _ := v.(map[string]any)
			rs := RouteSettings{}
			rs.ThrottlingBurstLimit = int(number(m["ThrottlingBurstLimit"]))
			rs.ThrottlingRateLimit = number(m["ThrottlingRateLimit"])
			rs.DataTrace, _ = m["DataTraceEnabled"].(bool)
			st.DataTrace = st.DataTrace || rs.DataTrace
			st.RouteSettings[key] = rs
		}
		t.stage = st
	}
	if t.stage.LogicalID == "" {
		return fmt.Errorf("no stage of %s", apiID)
	}
	return nil
}

func (t *Template) readPermissions() error {
	for id, p := range t.cfn.GetAllLambdaPermissionResources() {
		fn, err := render(p.FunctionName)
		target, ok := refTarget(fn)
		if err != nil || !ok {
			return fmt.Errorf("permission %s: FunctionName is not a !Ref or !GetAtt", id)
		}
		src, err := render(str(p.SourceArn))
		if err != nil {
			return fmt.Errorf("permission %s: SourceArn: %w", id, err)
		}
		t.permissions = append(t.permissions, Permission{LogicalID: id, Function: target, Action: p.Action,
			Principal: p.Principal, SourceArn: src})
	}
	sort.Slice(t.permissions, func(i, j int) bool { return t.permissions[i].LogicalID < t.permissions[j].LogicalID })
	return nil
}

// number returns v as a float64 (0 when it is not a number).
func number(v any) float64 {
	f, _ := v.(float64)
	return f
}

// intOr returns *p, or def for nil.
func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}
