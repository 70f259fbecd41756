package lambdatest_test

// The tests of functions_*_test.go run every Lambda function of the stack
// the way Lambda runs it: functions/<name> built into a bootstrap, under
// aws-lambda-rie, talking to real AWS APIs on moto_server (DynamoDB, SQS,
// Secrets Manager) and, for the API Gateway management API, to the local
// gateway emulator (internal/gateway), whose WebSocket clients are real.
// Every event is a fixture of events/ (the ones `sam local invoke -e`
// takes), decoded and re-encoded with only IDs, tokens and bodies
// substituted, so the fixtures are proven to work too.
//
// This file holds the shared harness and the tests of the API Gateway
// functions (connect, disconnect, message); functions_delivery_test.go tests
// welcome, notify and worker; functions_build_test.go builds the arm64
// bootstraps with the Makefile.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/coder/websocket"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/local/apigw"
	"github.com/finance/fbdi-notify/internal/local/devtoken"
	"github.com/finance/fbdi-notify/internal/local/samtemplate"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/internal/testing/lambdatest"
)

// root is the repository root, relative to this package.
const root = "../../.."

// testSecret signs the tokens of these tests.
const testSecret = "lambdatest-signing-secret-0123456789abcdef"

// stageName is the API stage of the fixtures, which the emulated gateway
// uses too: MANAGEMENT_ENDPOINT is <gateway URL>/prod, shaped as deployed.
const stageName = "prod"

// patience bounds every wait for something a test expects (a WebSocket
// message, a queue message), so that a missing one fails the test instead of
// hanging it. It is never an assertion about speed.
const patience = 30 * time.Second

// TestMain gives the run a directory for the bootstraps built once and
// shared by every test (see bootstrap), and removes it afterwards.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdatest-bootstraps-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdatest: bootstrap cache:", err)
		os.Exit(1)
	}
	builds.dir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// builds caches the host builds of functions/<name> for the whole run:
// every function is compiled and linked once, whichever tests use it.
var builds = struct {
	dir string // set by TestMain
	mu  sync.Mutex
	by  map[string]*build
}{by: map[string]*build{}}

type build struct {
	once sync.Once
	path string // "" if the build skipped or failed
}

// bootstrap returns the bootstrap of functions/<name> built by
// lambdatest.Build (for the host, tags lambda.norpc, -trimpath, static),
// building it on first use and logging its size. Like lambdatest.Build it
// skips without the emulator, or fails under CI.
func bootstrap(tb testing.TB, name string) string {
	tb.Helper()
	builds.mu.Lock()
	b, ok := builds.by[name]
	if !ok {
		b = &build{}
		builds.by[name] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() {
		built := lambdatest.Build(tb, name) // in tb's temporary directory, removed when tb ends
		path := filepath.Join(builds.dir, name, "bootstrap")
		if err := copyFile(built, path); err != nil {
			tb.Fatalf("cache the bootstrap of %s: %v", name, err)
		}
		info, err := os.Stat(path)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Logf("functions/%s: host bootstrap for aws-lambda-rie: %s", name, size(info.Size()))
		b.path = path
	})
	if b.path == "" {
		// The first build skipped or failed: build again here, so that
		// this test skips or fails the same way, for the same reason.
		return lambdatest.Build(tb, name)
	}
	return b.path
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// size formats n bytes as `make sizes` does (MB of 2^20 bytes), with the exact count.
func size(n int64) string {
	return fmt.Sprintf("%.2f MB (%d bytes)", float64(n)/(1<<20), n)
}

// loadTemplate parses template.yaml once per run.
var loadTemplate = sync.OnceValues(func() (*samtemplate.Template, error) {
	return samtemplate.Load(filepath.Join(root, "template.yaml"))
})

func template(tb testing.TB) *samtemplate.Template {
	tb.Helper()
	tmpl, err := loadTemplate()
	if err != nil {
		tb.Fatal(err)
	}
	return tmpl
}

// --- fixtures -----------------------------------------------------------------

// fixture reads events/<name>, the events that `sam local invoke -e` uses.
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(root, "events", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// edit changes a decoded JSON event.
type edit func(tb testing.TB, event map[string]any)

// event returns the fixture name with edits applied to its decoded JSON.
func event(tb testing.TB, name string, edits ...edit) []byte {
	tb.Helper()
	var ev map[string]any
	if err := json.Unmarshal(fixture(tb, name), &ev); err != nil {
		tb.Fatalf("events/%s: %v", name, err)
	}
	for _, e := range edits {
		e(tb, ev)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// set sets the value at path, dot-separated keys and array indexes
// ("Records.0.body"), creating missing objects on the way.
func set(path string, v any) edit {
	return func(tb testing.TB, ev map[string]any) {
		tb.Helper()
		parent, key := walk(tb, ev, path)
		parent[key] = v
	}
}

// drop removes the value at path.
func drop(path string) edit {
	return func(tb testing.TB, ev map[string]any) {
		tb.Helper()
		parent, key := walk(tb, ev, path)
		delete(parent, key)
	}
}

// walk returns the object holding the last key of path, and that key.
func walk(tb testing.TB, ev map[string]any, path string) (map[string]any, string) {
	tb.Helper()
	keys := strings.Split(path, ".")
	var cur any = ev
	for _, k := range keys[:len(keys)-1] {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[k]
			if !ok || next == nil {
				next = map[string]any{}
				c[k] = next
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				tb.Fatalf("event path %s: no element %s", path, k)
			}
			cur = c[i]
		default:
			tb.Fatalf("event path %s: %s is inside a %T", path, k, cur)
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		tb.Fatalf("event path %s: parent is a %T, not an object", path, cur)
	}
	return m, keys[len(keys)-1]
}

// from makes the event come from connection id.
func from(id string) edit { return set("requestContext.connectionId", id) }

// offer sets the Sec-WebSocket-Protocol header, as API Gateway fills both maps.
func offer(protocols string) edit {
	return func(tb testing.TB, ev map[string]any) {
		tb.Helper()
		set("headers.Sec-WebSocket-Protocol", protocols)(tb, ev)
		set("multiValueHeaders.Sec-WebSocket-Protocol", []any{protocols})(tb, ev)
	}
}

// noOffer removes the Sec-WebSocket-Protocol header.
func noOffer(tb testing.TB, ev map[string]any) {
	tb.Helper()
	drop("headers.Sec-WebSocket-Protocol")(tb, ev)
	drop("multiValueHeaders.Sec-WebSocket-Protocol")(tb, ev)
}

// mint returns a token for userID signed with secret, issued at issued and valid for an hour.
func mint(tb testing.TB, secret, userID string, issued time.Time) string {
	tb.Helper()
	token, err := devtoken.Mint([]byte(secret), userID, issued, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return token
}

// --- answers ------------------------------------------------------------------

// response decodes an API Gateway proxy response.
func response(tb testing.TB, payload []byte) events.APIGatewayProxyResponse {
	tb.Helper()
	var r events.APIGatewayProxyResponse
	if err := json.Unmarshal(payload, &r); err != nil || r.StatusCode == 0 {
		tb.Fatalf("response %s is not an API Gateway proxy response (%v)", payload, err)
	}
	return r
}

// answer decodes the body of a MessageFunction response, which the two-way
// route sends to the client.
func answer(tb testing.TB, payload []byte) map[string]any {
	tb.Helper()
	r := response(tb, payload)
	if r.StatusCode != http.StatusOK {
		tb.Fatalf("status %d, want 200 (the connection stays open whatever the client sent)", r.StatusCode)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		tb.Fatalf("body %q: %v", r.Body, err)
	}
	return body
}

// batchFailures returns the item identifiers of an SQS or DynamoDB stream
// batch response (ReportBatchItemFailures). It fails the test if payload is
// Lambda's error object or lacks batchItemFailures.
func batchFailures(tb testing.TB, payload []byte) []string {
	tb.Helper()
	var r struct {
		Failures *[]struct {
			ID string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(payload, &r); err != nil || r.Failures == nil || r.ErrorMessage != "" {
		tb.Fatalf("response %s is not a batch response (%v)", payload, err)
	}
	var ids []string
	for _, f := range *r.Failures {
		ids = append(ids, f.ID)
	}
	return ids
}

// match reports the first difference between want and got (decoded JSON):
// objects must have want's keys with matching values (got may have more),
// arrays the same length with matching elements, anything else be equal.
// It returns "" when got matches.
func match(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", path, got)
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if d := match(path+"."+k, w[k], g[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %d elements", path, got, len(w))
		}
		for i := range w {
			if d := match(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Sprintf("%s: got %v, want %v", path, got, want)
	}
	return ""
}

// --- AWS on moto_server -------------------------------------------------------

// tableEnv names the variable that gives a function each table of template.yaml.
var tableEnv = map[string]string{
	"ConnectionsTable":   "CONNECTIONS_TABLE",
	"NotificationsTable": "NOTIFICATIONS_TABLE",
	"WorkflowsTable":     "WORKFLOWS_TABLE",
}

// sandbox is one test's AWS resources on moto_server, and the environment
// that points functions at them.
type sandbox struct {
	ctx    context.Context
	db     *dynamodb.Client
	queues *sqs.Client
	tables map[string]string // logical ID -> table name
	env    map[string]string // what every function of the test gets
}

// newSandbox creates the tables (logical IDs of template.yaml, made from the
// template's definitions, TTL included) under unique names, deleted when the
// test ends. It skips without moto_server, or fails under CI.
func newSandbox(tb testing.TB, tables ...string) *sandbox {
	tb.Helper()
	cfg := awstest.Config(tb)
	s := &sandbox{
		ctx:    tb.Context(),
		db:     dynamodb.NewFromConfig(cfg),
		queues: sqs.NewFromConfig(cfg),
		tables: map[string]string{},
		env: map[string]string{
			"AWS_REGION": cfg.Region, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
			"AWS_ENDPOINT_URL": aws.ToString(cfg.BaseEndpoint), "LOG_LEVEL": "debug",
		},
	}
	for _, id := range tables {
		s.tables[id] = awstest.TemplateTable(tb, s.db, id)
		s.env[tableEnv[id]] = s.tables[id]
	}
	return s
}

// queue creates a queue, deleted when the test ends, names its URL in the
// variable envName and returns it.
func (s *sandbox) queue(tb testing.TB, envName string) string {
	tb.Helper()
	url := awstest.Queue(tb, s.queues, strings.ToLower(strings.TrimSuffix(envName, "_URL")))
	s.env[envName] = url
	return url
}

// receive returns the messages on the queue, with every attribute, waiting
// up to wait seconds for the first (long polling).
func (s *sandbox) receive(tb testing.TB, url string, wait int32) []sqstypes.Message {
	tb.Helper()
	out, err := s.queues.ReceiveMessage(s.ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: wait,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out.Messages
}

// secret stores value in Secrets Manager and returns the secret's ARN.
func (s *sandbox) secret(tb testing.TB, value string) string {
	tb.Helper()
	sm := secretsmanager.NewFromConfig(awstest.Config(tb))
	out, err := sm.CreateSecret(s.ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(awstest.UniqueName(tb, "secret")), SecretString: aws.String(value),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_, _ = sm.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{
			SecretId: out.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
	})
	return aws.ToString(out.ARN)
}

// connectionRow returns the connections table's item id, or nil.
func (s *sandbox) connectionRow(tb testing.TB, id string) map[string]types.AttributeValue {
	tb.Helper()
	out, err := s.db.GetItem(s.ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.tables["ConnectionsTable"]), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"connectionId": &types.AttributeValueMemberS{Value: id}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out.Item
}

// start runs functions/<name> under the emulator with the sandbox's
// environment plus extra.
func (s *sandbox) start(tb testing.TB, name string, extra map[string]string) *lambdatest.Function {
	tb.Helper()
	env := maps.Clone(s.env)
	maps.Copy(env, extra)
	return lambdatest.Start(tb, bootstrap(tb, name), env)
}

// --- API Gateway --------------------------------------------------------------

// api is the local API Gateway emulator serving one test, with the
// ConnectFunction and DisconnectFunction bootstraps (under the emulator) as
// its $connect and $disconnect integrations: a client that connects with a
// valid token gets its row in the sandbox's connections table, written by
// the deployed code, and functions reach the client through the management
// API at MANAGEMENT_ENDPOINT.
type api struct {
	url string // ws:// URL of the API

	mu    sync.Mutex
	ids   map[string]string // client tag -> connection ID
	count int
}

// clientTag is a request header naming each test client, so that the
// $connect integration can tell the test its connection ID.
const clientTag = "X-Lambdatest-Client"

// startAPI starts the gateway and sets MANAGEMENT_ENDPOINT for the
// functions started after it. The sandbox needs the connections table.
func (s *sandbox) startAPI(tb testing.TB) *api {
	tb.Helper()
	connect := s.start(tb, "connect", map[string]string{"JWT_SECRET": testSecret})
	disconnect := s.start(tb, "disconnect", nil)
	a := &api{ids: map[string]string{}}
	gw := apigw.New(apigw.Config{
		Stage: stageName,
		Routes: []apigw.Route{
			{Key: apigw.RouteConnect, Handler: a.remember(integration(connect))},
			{Key: apigw.RouteDisconnect, Handler: integration(disconnect)},
		},
	})
	srv := httptest.NewServer(gw)
	tb.Cleanup(func() { // before the functions stop: $disconnect still runs
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		if err := gw.Close(ctx); err != nil {
			tb.Errorf("close the gateway: %v", err)
		}
		srv.Close()
	})
	a.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	s.env["MANAGEMENT_ENDPOINT"] = srv.URL + "/" + stageName
	return a
}

// integration invokes f with the gateway's event, as API Gateway invokes a
// Lambda proxy integration.
func integration(f *lambdatest.Function) apigw.Handler {
	return func(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		var resp events.APIGatewayProxyResponse
		payload, err := json.Marshal(req)
		if err != nil {
			return resp, err
		}
		res, err := f.InvokeResult(ctx, payload)
		if err != nil {
			return resp, err
		}
		if err := json.Unmarshal(res.Payload, &resp); err != nil || resp.StatusCode == 0 {
			return resp, fmt.Errorf("not an API Gateway proxy response: %s", res.Payload)
		}
		return resp, nil
	}
}

// remember records the connection ID of each tagged client that h accepts.
func (a *api) remember(h apigw.Handler) apigw.Handler {
	return func(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		resp, err := h(ctx, req)
		if err == nil && resp.StatusCode == http.StatusOK {
			for k, v := range req.Headers {
				if strings.EqualFold(k, clientTag) {
					a.mu.Lock()
					a.ids[v] = req.RequestContext.ConnectionID
					a.mu.Unlock()
				}
			}
		}
		return resp, err
	}
}

// client is a WebSocket client of the API.
type client struct {
	id string // connection ID
	ws *websocket.Conn
}

// connect opens a connection for userID, offering a valid token as a
// browser does (`new WebSocket(url, ["bearer", token])`).
func (a *api) connect(tb testing.TB, userID string) *client {
	tb.Helper()
	a.mu.Lock()
	a.count++
	tag := strconv.Itoa(a.count)
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, a.url, &websocket.DialOptions{
		Subprotocols: []string{"bearer", mint(tb, testSecret, userID, time.Now())},
		HTTPHeader:   http.Header{clientTag: {tag}},
	})
	if err != nil {
		tb.Fatalf("connect user %s through the gateway: %v", userID, err)
	}
	tb.Cleanup(func() { _ = ws.CloseNow() })
	if p := ws.Subprotocol(); p != "bearer" {
		tb.Errorf("subprotocol %q, want bearer", p)
	}
	a.mu.Lock()
	id := a.ids[tag]
	a.mu.Unlock()
	if id == "" {
		tb.Fatal("the $connect integration accepted the client but saw no connection ID")
	}
	return &client{id: id, ws: ws}
}

// next returns the next message the client receives.
func (c *client) next(tb testing.TB) notification.Notification {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		tb.Fatalf("client %s: read: %v", c.id, err)
	}
	var n notification.Notification
	if err := json.Unmarshal(data, &n); err != nil {
		tb.Fatalf("client %s received %s: %v", c.id, data, err)
	}
	return n
}

// --- ConnectFunction, DisconnectFunction, MessageFunction ------------------------

// The ConnectFunction authenticates $connect with the token of the
// Sec-WebSocket-Protocol offer: a valid token records the connection (200,
// the plain offer echoed, never the token); anything else is 401 with
// nothing written. The signing secret comes from JWT_SECRET (local) or from
// the Secrets Manager secret JWT_SECRET_ARN (deployed), read once at start.
func TestConnectFunction(t *testing.T) {
	sb := newSandbox(t, "ConnectionsTable")
	now := time.Now()
	valid := mint(t, testSecret, "123", now)
	secretJSON, err := json.Marshal(map[string]string{"JWT_SECRET": testSecret})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		edits  []edit
		status int // 200: the row of user 123 must exist; else no row
	}{
		{name: "valid token in the subprotocol offer", edits: []edit{offer("bearer, " + valid)}, status: 200},
		{name: "fixture as written (a placeholder, no token)", status: 401},
		{name: "no token", edits: []edit{noOffer}, status: 401},
		{name: "token signed with another secret",
			edits: []edit{offer("bearer, " + mint(t, "some-other-secret-0123456789abcdefgh", "123", now))}, status: 401},
		{name: "expired token", edits: []edit{offer("bearer, " + mint(t, testSecret, "123", now.Add(-3*time.Hour)))},
			status: 401},
		{name: "malformed token", edits: []edit{offer("bearer, eyJhbGciOiJIUzI1NiJ9.e30.bm90LWEtc2lnbmF0dXJl")},
			status: 401},
		{name: "user_id query parameter without a token",
			edits: []edit{noOffer, set("queryStringParameters.user_id", "123"),
				set("multiValueQueryStringParameters.user_id", []any{"123"})}, status: 401},
	}
	sources := []struct {
		name string
		env  map[string]string
	}{
		{name: "JWT_SECRET", env: map[string]string{"JWT_SECRET": testSecret}},
		{name: "JWT_SECRET_ARN", env: map[string]string{"JWT_SECRET_ARN": sb.secret(t, string(secretJSON))}},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			var f *lambdatest.Function
			t.Cleanup(func() { // runs after the emulator stopped, when its output is complete
				if f != nil && strings.Contains(f.Output(), valid) {
					t.Error("the function's output contains the token")
				}
			})
			f = sb.start(t, "connect", src.env)
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					id := fmt.Sprintf("%s-%d=", src.name, i)
					got := response(t, f.Invoke(t, event(t, "connect.json", append([]edit{from(id)}, tt.edits...)...)))
					if got.StatusCode != tt.status {
						t.Fatalf("status %d, body %q; want %d", got.StatusCode, got.Body, tt.status)
					}
					row := sb.connectionRow(t, id)
					if tt.status != 200 {
						if row != nil {
							t.Errorf("row %v written for a refused connection", row)
						}
						return
					}
					if p := got.Headers["Sec-WebSocket-Protocol"]; p != "bearer" {
						t.Errorf("Sec-WebSocket-Protocol %q, want the offered name bearer (never the token)", p)
					}
					var c struct {
						UserID      string `dynamodbav:"userId"`
						SourceIP    string `dynamodbav:"sourceIp"`
						ConnectedAt string `dynamodbav:"connectedAt"`
						ExpiresAt   int64  `dynamodbav:"expiresAt"`
					}
					if err := attributevalue.UnmarshalMap(row, &c); err != nil {
						t.Fatal(err)
					}
					at, err := time.Parse(time.RFC3339, c.ConnectedAt)
					if c.UserID != "123" || c.SourceIP != "203.0.113.24" || err != nil ||
						c.ExpiresAt != at.Add(connection.MaxAge+connection.ExpiryMargin).Unix() {
						t.Errorf("row %+v, want user 123 from 203.0.113.24, expiring MaxAge+ExpiryMargin after connectedAt", c)
					}
				})
			}
		})
	}

	// Deployed, a secret that cannot be read stops the function at start:
	// it never answers, and so never lets anyone in.
	t.Run("JWT_SECRET_ARN of a missing secret", func(t *testing.T) {
		f := sb.start(t, "connect", map[string]string{
			"JWT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"})
		res, err := f.InvokeResult(t.Context(), event(t, "connect.json", from("missing-secret="), offer("bearer, "+valid)))
		if !errors.Is(err, lambdatest.ErrInvoke) {
			t.Errorf("answered %s (error %v), want a failed invocation", res.Payload, err)
		}
		if row := sb.connectionRow(t, "missing-secret="); row != nil {
			t.Errorf("row %v written", row)
		}
	})
}

// The DisconnectFunction removes the connection's row, and only it; a
// $disconnect for a row already gone (TTL, a retry) is still a success.
func TestDisconnectFunction(t *testing.T) {
	sb := newSandbox(t, "ConnectionsTable")
	const id = "R1kmxc2VNjMCFIA=" // the fixture's
	conns := connection.NewDynamoStore(sb.db, sb.tables["ConnectionsTable"], time.Now)
	for _, c := range []string{id, "another-connection="} {
		if err := conns.Put(sb.ctx, connection.New(c, "123", time.Now(), "203.0.113.24", "test")); err != nil {
			t.Fatal(err)
		}
	}
	f := sb.start(t, "disconnect", nil)
	for _, name := range []string{"row present", "row already gone"} {
		t.Run(name, func(t *testing.T) {
			if got := response(t, f.Invoke(t, fixture(t, "disconnect.json"))); got.StatusCode != 200 {
				t.Errorf("status %d, want 200", got.StatusCode)
			}
			if row := sb.connectionRow(t, id); row != nil {
				t.Errorf("row %v still there", row)
			}
		})
	}
	if sb.connectionRow(t, "another-connection=") == nil {
		t.Error("the other connection of the user was removed too")
	}
}

// The MessageFunction answers the client messages of its routes in the
// response body (two-way routes), for the user who holds the connection:
// it reads the notifications the NotifyFunction stored and the workflows
// table, and replays history to the client through the management API.
func TestMessageFunction(t *testing.T) {
	sb := newSandbox(t, "ConnectionsTable", "NotificationsTable", "WorkflowsTable")
	gw := sb.startAPI(t)
	alice := gw.connect(t, "123")
	notify := sb.start(t, "notify", nil)
	message := sb.start(t, "message", nil)

	// The notify fixture's two notifications for user 123, stored and sent
	// by the NotifyFunction.
	if failed := batchFailures(t, notify.Invoke(t, fixture(t, "notify-sqs.json"))); len(failed) != 0 {
		t.Fatalf("notify: batch item failures %v", failed)
	}
	sent := []notification.Notification{alice.next(t), alice.next(t)}
	if sent[0].Message != "Budget transfer 602 was approved" || sent[1].Message != "Month-end close starts at 18:00" {
		t.Fatalf("client received %+v, want the notify fixture's two notifications in order", sent)
	}

	tests := []struct {
		name    string
		fixture string
		conn    string         // the connection the message comes from
		want    map[string]any // fields of the reply (see match)
	}{
		{name: "ping", fixture: "ping.json", conn: alice.id,
			want: map[string]any{"type": "pong", "timestamp": 1772366410123.0}},
		{name: "history, newest first", fixture: "history.json", conn: alice.id,
			want: map[string]any{"type": "history", "unread_count": 2.0, "has_more": false, "items": []any{
				map[string]any{"id": sent[1].ID, "type": "notification", "message": sent[1].Message, "read": false},
				map[string]any{"id": sent[0].ID, "type": "notification", "message": sent[0].Message, "read": false,
					"data": map[string]any{"transaction_id": "602", "approved_by": "j.smith", "url": "/budget/transfers/602"}},
			}}},
		{name: "status of an unknown transaction", fixture: "status.json", conn: alice.id,
			want: map[string]any{"type": "error", "code": "not_found"}},
		{name: "history from a connection that is not registered", fixture: "history.json", conn: "unregistered=",
			want: map[string]any{"type": "error", "code": "unauthorized"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := answer(t, message.Invoke(t, event(t, tt.fixture, from(tt.conn))))
			if d := match("reply", tt.want, got); d != "" {
				t.Error(d)
			}
		})
	}

	t.Run("mark_read", func(t *testing.T) {
		// The fixture's first ID becomes a real one; its second stays unknown and is ignored.
		body := func(tb testing.TB, ev map[string]any) {
			ev["body"] = strings.Replace(ev["body"].(string), "01KJKQ5G8Z3V7X2N4P6R8T0W2Y", sent[0].ID, 1)
		}
		got := answer(t, message.Invoke(t, event(t, "mark_read.json", from(alice.id), body)))
		if d := match("reply", map[string]any{"type": "read_state", "unread_count": 1.0}, got); d != "" {
			t.Error(d)
		}
	})

	t.Run("resume replays through the management API", func(t *testing.T) {
		got := answer(t, message.Invoke(t, event(t, "resume.json", from(alice.id))))
		if d := match("reply", map[string]any{"type": "resume_complete", "count": 2.0, "has_more": false}, got); d != "" {
			t.Error(d)
		}
		for i, want := range sent { // the fixture's "after" is older than both
			if n := alice.next(t); n.ID != want.ID || !n.Replayed || n.Message != want.Message {
				t.Errorf("replayed message %d: %+v, want %s marked replayed", i, n, want.ID)
			}
		}
	})
}
