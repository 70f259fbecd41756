package samtemplate_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/finance/fbdi-notify/internal/local/samtemplate"
)

// minimal is the smallest template with everything that Parse resolves.
const minimal = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Burst:
    Type: Number
    Default: 42
  Stage:
    Type: String
    Default: dev
Globals:
  Function:
    Runtime: provided.al2023
    Timeout: 7
    Environment:
      Variables:
        SHARED: one
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: x
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
  EchoRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: echo
      RouteResponseSelectionExpression: $default
      Target: !Join ["/", ["integrations", !Ref Integration]]
  EchoResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref Api
      RouteId: !Ref EchoRoute
      RouteResponseKey: $default
  OneWayRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $connect
      Target: !Sub integrations/${Integration}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: !Ref Stage
      DefaultRouteSettings:
        ThrottlingBurstLimit: !Ref Burst
        ThrottlingRateLimit: 9
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3}
  Dlq:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Environment:
        Variables:
          URL: !Sub
            - https://${Host}/${Stage}
            - Host: !GetAtt Api.ApiEndpoint
          SHARED: two
      Policies:
        - Statement:
            - Effect: Allow
              Action: [sqs:SendMessage]
              Resource: !GetAtt Dlq.Arn
        - AWSLambdaExecute
      Events:
        Q:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            FunctionResponseTypes: [ReportBatchItemFailures]
        S:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: TRIM_HORIZON
`

func TestParseMinimal(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got := tmpl.RouteSelectionExpression(); got != "$request.body.action" {
		t.Errorf("RouteSelectionExpression = %q", got)
	}
	wantRoutes := []samtemplate.Route{{Key: "$connect", Function: "Fn"}, {Key: "echo", Function: "Fn", TwoWay: true}}
	if got := tmpl.Routes(); !reflect.DeepEqual(got, wantRoutes) {
		t.Errorf("Routes = %+v, want %+v", got, wantRoutes)
	}
	if st := tmpl.Stage(); st.Name != "${Stage}" || st.ThrottlingBurstLimit != 42 || st.ThrottlingRateLimit != 9 {
		t.Errorf("Stage = %+v, want name ${Stage}, burst 42 (the Number parameter's default), rate 9", st)
	}
	f, err := tmpl.Function("Fn")
	if err != nil {
		t.Fatal(err)
	}
	wantEnv := map[string]string{"SHARED": "two", "URL": "https://${Api.ApiEndpoint}/${Stage}"}
	if !reflect.DeepEqual(f.Environment, wantEnv) {
		t.Errorf("Environment = %v, want %v (Globals merged, the function's value winning)", f.Environment, wantEnv)
	}
	if f.Runtime != "provided.al2023" || f.Handler != "bootstrap" || f.Timeout != 7*time.Second || f.MemorySize != 128 {
		t.Errorf("runtime %q handler %q timeout %v memory %d", f.Runtime, f.Handler, f.Timeout, f.MemorySize)
	}
	wantStmts := []samtemplate.Statement{{Effect: "Allow", Actions: []string{"sqs:SendMessage"}, Resources: []string{"${Dlq.Arn}"}}}
	if !reflect.DeepEqual(f.Statements, wantStmts) || !reflect.DeepEqual(f.OtherPolicies, []string{"AWSLambdaExecute"}) {
		t.Errorf("Statements = %+v, OtherPolicies = %v", f.Statements, f.OtherPolicies)
	}
	wantEvents := []samtemplate.Event{
		{Name: "Q", Type: "SQS", Source: "Queue", BatchSize: 10, ReportBatchItemFailures: true, MaximumRetryAttempts: -1},
		{Name: "S", Type: "DynamoDB", Source: "Table", BatchSize: 100, StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: -1},
	}
	if !reflect.DeepEqual(f.Events, wantEvents) {
		t.Errorf("Events =\n%+v\nwant\n%+v", f.Events, wantEvents)
	}
	q, err := tmpl.Queue("Queue")
	if err != nil {
		t.Fatal(err)
	}
	if q.DeadLetterQueue != "Dlq" || q.MaxReceiveCount != 3 || q.VisibilityTimeout != 30*time.Second {
		t.Errorf("Queue = %+v", q)
	}
	if got := tmpl.QueueMappings(); !reflect.DeepEqual(got, []samtemplate.QueueMapping{{Queue: "Queue", Function: "Fn", BatchSize: 10, ReportBatchItemFailures: true}}) {
		t.Errorf("QueueMappings = %+v", got)
	}
	tb, err := tmpl.Table("Table")
	if err != nil {
		t.Fatal(err)
	}
	if tb.BillingMode != "PROVISIONED" || tb.StreamView != "NEW_IMAGE" || tb.Retained || tb.TTLAttribute != "" {
		t.Errorf("Table = %+v", tb)
	}
}

func TestLookupsOfMissingResources(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
	}{
		{name: "queue", err: func() error { _, err := tmpl.Queue("Nope"); return err }()},
		{name: "table", err: func() error { _, err := tmpl.Table("Queue"); return err }()},
		{name: "function", err: func() error { _, err := tmpl.Function("Table"); return err }()},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, samtemplate.ErrNotFound) {
			t.Errorf("%s: error %v, want ErrNotFound", tt.name, tt.err)
		}
	}
	if _, ok := tmpl.Route("nope"); ok {
		t.Error("Route(nope) found a route")
	}
}

// Parse refuses a template whose references it cannot follow, so that the
// local stack never runs with a route or queue that leads nowhere.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		old, new  string // replaced once in minimal
		wantInErr string
	}{
		{name: "not YAML", old: "Resources:", new: "Resources: [", wantInErr: "YAML"},
		{name: "no WebSocket API", old: "ProtocolType: WEBSOCKET", new: "ProtocolType: HTTP", wantInErr: "WEBSOCKET"},
		{name: "route without integration", old: "Target: !Sub integrations/${Integration}", new: "Target: !Sub integrations/${Nope}",
			wantInErr: "not an integration"},
		{name: "integration to a missing function", old: "functions/${Fn.Arn}/invocations", new: "functions/${Gone.Arn}/invocations",
			wantInErr: "Gone"},
		{name: "integration not to Lambda", old: "IntegrationType: AWS_PROXY", new: "IntegrationType: HTTP_PROXY",
			wantInErr: "AWS_PROXY"},
		{name: "two routes with one key", old: "RouteKey: echo", new: "RouteKey: $connect", wantInErr: "two routes"},
		{name: "redrive to a missing queue", old: "!GetAtt Dlq.Arn, maxReceiveCount", new: "!GetAtt Nope.Arn, maxReceiveCount",
			wantInErr: "dead-letter queue Nope"},
		{name: "SQS event on a missing queue", old: "Queue: !GetAtt Queue.Arn", new: "Queue: !GetAtt Nope.Arn", wantInErr: "reads queue Nope"},
		{name: "stream of a table without one", old: "StreamSpecification: {StreamViewType: NEW_IMAGE}", new: "",
			wantInErr: "no table with a stream"},
		{name: "unused attribute definition", old: "- {AttributeName: pk, AttributeType: S}",
			new: "- {AttributeName: pk, AttributeType: S}\n        - {AttributeName: other, AttributeType: S}", wantInErr: "other"},
		{name: "unknown property", old: "Handler: bootstrap", new: "Handler: bootstrap\n      Handlr: typo", wantInErr: "Handlr"},
		{name: "unrenderable environment value", old: "SHARED: two", new: "SHARED: !If [c, a, b]", wantInErr: "Fn::If"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(minimal, tt.old) {
				t.Fatalf("minimal has no %q", tt.old)
			}
			_, err := samtemplate.Parse([]byte(strings.Replace(minimal, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("Parse error = %v, want one mentioning %q", err, tt.wantInErr)
			}
		})
	}
}

func TestCreateTableInput(t *testing.T) {
	spec := samtemplate.TableSpec{
		PartitionKey: samtemplate.Attribute{Name: "userId", Type: "S"},
		SortKey:      samtemplate.Attribute{Name: "id", Type: "S"},
		Indexes: []samtemplate.Index{{Name: "unread", PartitionKey: samtemplate.Attribute{Name: "userId", Type: "S"},
			SortKey: samtemplate.Attribute{Name: "unread", Type: "N"}, Projection: "INCLUDE", NonKeyAttributes: []string{"b", "a"}}},
		BillingMode: "PAY_PER_REQUEST",
		StreamView:  "NEW_IMAGE",
	}
	in := spec.CreateTableInput("tbl")
	got := describe(in)
	want := "  billing PAY_PER_REQUEST\n  attributes id:S unread:N userId:S\n  key userId:HASH id:RANGE\n" +
		"  index unread userId:HASH unread:RANGE projection INCLUDE b,a\n  stream NEW_IMAGE"
	if got != want {
		t.Errorf("CreateTableInput =\n%s\nwant\n%s", got, want)
	}
	if *in.TableName != "tbl" {
		t.Errorf("TableName = %q", *in.TableName)
	}
}

// describe writes a table definition for a failure message.
func describe(in *dynamodb.CreateTableInput) string {
	var b strings.Builder
	b.WriteString("  billing " + string(in.BillingMode) + "\n  attributes")
	for _, a := range in.AttributeDefinitions {
		b.WriteString(" " + aws.ToString(a.AttributeName) + ":" + string(a.AttributeType))
	}
	b.WriteString("\n  key" + keys(in.KeySchema))
	for _, g := range in.GlobalSecondaryIndexes {
		b.WriteString("\n  index " + aws.ToString(g.IndexName) + keys(g.KeySchema))
		if g.Projection != nil {
			b.WriteString(" projection " + string(g.Projection.ProjectionType) + " " + strings.Join(g.Projection.NonKeyAttributes, ","))
		}
	}
	if s := in.StreamSpecification; s != nil {
		b.WriteString("\n  stream " + string(s.StreamViewType))
	}
	return b.String()
}

func keys(ks []types.KeySchemaElement) string {
	var b strings.Builder
	for _, k := range ks {
		b.WriteString(" " + aws.ToString(k.AttributeName) + ":" + string(k.KeyType))
	}
	return b.String()
}
