package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/coder/websocket"

	fbdinotify "github.com/finance/fbdi-notify"
	"github.com/finance/fbdi-notify/internal/local/samtemplate"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/internal/testing/bgtest"
)

// localStack is the real `make run` binary, started on free ports.
type localStack struct {
	URL  string // http://127.0.0.1:PORT
	Port string
	logs *bgtest.Buffer
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// stackBinary builds ./infra/local once per test run.
func stackBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fbdi-local-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "fbdi-local")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

func freePort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// onAWSAPI is the environment that puts the stack's tables and queues on
// moto_server at endpoint, named with prefix.
func onAWSAPI(endpoint, prefix string) []string {
	return []string{"AWS_ENDPOINT_URL=" + endpoint, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_REGION=us-east-1", "RESOURCE_PREFIX=" + prefix}
}

// startStack runs the binary as a user would and waits until it serves.
// It is stopped with SIGINT (Ctrl-C) at cleanup, and must exit cleanly.
func startStack(tb testing.TB, env ...string) *localStack {
	tb.Helper()
	port := freePort(tb)
	cmd := exec.Command(stackBinary(tb))
	cmd.Env = append(os.Environ(), append([]string{"LOCAL_PORT=" + port, "LOG_LEVEL=warn"}, env...)...)
	logs := &bgtest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
			if err := exitErr; err != nil {
				tb.Errorf("local stack did not exit cleanly on Ctrl-C: %v\n%s", err, logs)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			tb.Errorf("local stack did not stop within 20s of Ctrl-C\n%s", logs)
		}
	})
	s := &localStack{URL: "http://127.0.0.1:" + port, Port: port, logs: logs}
	awaitHealthy(tb, s.URL, exited, logs)
	return s
}

// awaitHealthy waits until the stack at url answers /healthz, failing if it
// exits first (exited closes) or is not ready within a minute.
func awaitHealthy(tb testing.TB, url string, exited <-chan struct{}, logs *bgtest.Buffer) {
	tb.Helper()
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			tb.Fatalf("local stack exited before serving\n%s", logs)
		case <-time.After(100 * time.Millisecond):
		}
		if i > 600 {
			tb.Fatalf("local stack not ready after a minute\n%s", logs)
		}
	}
}

// token mints a dev token for user through the stack's dev endpoint.
func (s *localStack) token(tb testing.TB, user string) string {
	tb.Helper()
	resp, err := http.Get(s.URL + "/dev/token?user_id=" + user)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		tb.Fatalf("dev token: %v %+v", err, out)
	}
	return out.Token
}

// client is one browser tab.
type client struct {
	tb   testing.TB
	conn *websocket.Conn
}

func (s *localStack) dial(tb testing.TB, user string) *client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws://127.0.0.1:"+s.Port+"/", &websocket.DialOptions{
		Subprotocols: []string{s.token(tb, user)},
	})
	if err != nil {
		tb.Fatalf("dial as %s: %v (response %v)\n%s", user, err, resp, s.logs)
	}
	conn.SetReadLimit(1 << 20)
	tb.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	return &client{tb: tb, conn: conn}
}

// next reads one message, failing after a generous guard time.
func (c *client) next() map[string]any {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, data, err := c.conn.Read(ctx)
	if err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		c.tb.Fatalf("message is not JSON: %s", data)
	}
	return m
}

func (c *client) send(v any) {
	c.tb.Helper()
	data, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		c.tb.Fatal(err)
	}
}

// awsCLI runs the AWS CLI against the local stack, as an upstream system would.
func (s *localStack) awsCLI(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := awsCLIAt(s.URL, args...)
	if err != nil {
		tb.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// awsCLIAt runs the AWS CLI against endpoint and returns what it printed.
func awsCLIAt(endpoint string, args ...string) (string, error) {
	args = append(args, "--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json")
	cmd := exec.Command("aws", args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stackQueues is the stack's /dev/queues answer: where upstream systems send.
type stackQueues struct {
	Endpoint, Workflow, Notifications string
}

func (s *localStack) queues(tb testing.TB) stackQueues {
	tb.Helper()
	resp, err := http.Get(s.URL + "/dev/queues")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var q stackQueues
	if err := json.NewDecoder(resp.Body).Decode(&q); err != nil || q.Endpoint == "" || q.Workflow == "" {
		tb.Fatalf("/dev/queues: %+v, %v", q, err)
	}
	return q
}

func TestEndToEndBudgetTransferWithAWSCLI(t *testing.T) {
	t.Run("embedded stores", func(t *testing.T) { budgetTransferEndToEnd(t, startStack(t)) })
	t.Run("DynamoDB and SQS on moto_server", func(t *testing.T) {
		endpoint := awstest.Endpoint(t)
		prefix := awstest.UniqueName(t, "e2e") + "-"
		s := startStack(t, onAWSAPI(endpoint, prefix)...)
		if q := s.queues(t); q.Endpoint != endpoint || !strings.HasSuffix(q.Workflow, "/"+prefix+"workflow") {
			t.Fatalf("/dev/queues = %+v; want the workflow queue %sworkflow on %s", q, prefix, endpoint)
		}
		budgetTransferEndToEnd(t, s)
		checkLocalTables(t, prefix)
		checkLocalQueues(t, prefix)
		// /dev/send refuses what it cannot send, with a reason.
		for body, want := range map[string]int{`not json`: 400, `{"queue":"nope","body":"{}"}`: 400} {
			r, err := http.Post(s.URL+"/dev/send", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			var answer struct{ Message string }
			_ = json.NewDecoder(r.Body).Decode(&answer)
			r.Body.Close()
			if r.StatusCode != want || answer.Message == "" {
				t.Errorf("POST /dev/send %s: %d %q; want %d with a message", body, r.StatusCode, answer.Message, want)
			}
		}
		// A client that sends to the stack's port is told where the queues are.
		out, err := awsCLIAt(s.URL, "sqs", "send-message", "--queue-url", s.URL+"/000000000000/workflow", "--message-body", "{}")
		if err == nil || !strings.Contains(out, "NonExistentQueue") || !strings.Contains(out, endpoint) {
			t.Errorf("send-message to the stack's port: %v\n%s; want NonExistentQueue naming %s", err, out, endpoint)
		}
	})
}

// budgetTransferEndToEnd connects users 123 and 456, sends the sample budget
// transfer with the AWS CLI, and checks that only 123 sees its progress, in order.
func budgetTransferEndToEnd(t *testing.T, s *localStack) {
	alice := s.dial(t, "123")
	bob := s.dial(t, "456")
	for _, c := range []*client{alice, bob} {
		if m := c.next(); m["type"] != "connection_established" {
			t.Fatalf("first message = %v; want connection_established", m)
		}
	}

	body, err := os.ReadFile("../../events/messages/budget-transfer.json")
	if err != nil {
		t.Fatal(err)
	}
	var msg map[string]any
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	if msg["user_id"] != "123" {
		t.Fatalf("sample message is for user %v; the test expects 123", msg["user_id"])
	}
	tx := fmt.Sprint(msg["transaction_id"])
	// Where upstream systems send: the stack's own SQS API, or the AWS API
	// that holds its queues. GetQueueUrl there finds the workflow queue.
	q := s.queues(t)
	name := q.Workflow[strings.LastIndex(q.Workflow, "/")+1:]
	var queue struct{ QueueUrl string }
	out, err := awsCLIAt(q.Endpoint, "sqs", "get-queue-url", "--queue-name", name)
	if err != nil || json.Unmarshal([]byte(out), &queue) != nil || queue.QueueUrl != q.Workflow {
		t.Fatalf("get-queue-url %s: %v\n%s; want %s", name, err, out, q.Workflow)
	}
	out, err = awsCLIAt(q.Endpoint, "sqs", "send-message", "--queue-url", queue.QueueUrl, "--message-body", "file://../../events/messages/budget-transfer.json")
	if err != nil || !strings.Contains(out, "MessageId") {
		t.Fatalf("send-message: %v\n%s", err, out)
	}

	var got []string
	want := []string{"oracle_upload_started"}
	for i := 1; i <= 5; i++ {
		want = append(want, fmt.Sprintf("progress %d processing", i), fmt.Sprintf("progress %d completed", i))
	}
	want = append(want, "oracle_upload_completed")
	for len(got) < len(want) {
		m := alice.next()
		if m["transaction_id"] != tx {
			t.Fatalf("message for another transaction: %v", m)
		}
		switch m["type"] {
		case "oracle_upload_progress":
			got = append(got, fmt.Sprintf("progress %v %v", m["step_number"], m["status"]))
		case "oracle_upload_failed":
			t.Fatalf("upload failed: %v\nlogs:\n%s", m, s.logs)
		default:
			got = append(got, fmt.Sprint(m["type"]))
		}
		if m["id"] == nil || m["timestamp"] == nil {
			t.Fatalf("notification without id/timestamp: %v", m)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("user 123 saw\n%v\nwant\n%v", got, want)
	}

	// Bob must have received nothing: the next thing he reads is his own pong.
	bob.send(map[string]any{"type": "ping", "timestamp": "bob-1"})
	if m := bob.next(); m["type"] != "pong" || m["timestamp"] != "bob-1" {
		t.Fatalf("user 456 received %v; want only his pong", m)
	}

	// The workflow's state answers the status route for its owner only.
	alice.send(map[string]any{"type": "status", "transaction_id": tx})
	if m := alice.next(); m["type"] != "workflow_status" || m["state"] != "succeeded" {
		t.Fatalf("status = %v", m)
	}
	bob.send(map[string]any{"type": "status", "transaction_id": tx})
	if m := bob.next(); m["type"] != "error" {
		t.Fatalf("another user's status = %v; want an error", m)
	}
}

func TestStackServesPageAndRefusesBadTokens(t *testing.T) {
	s := startStack(t)
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "FBDI notifications") {
		t.Fatalf("GET / = %d %q", resp.StatusCode, page)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, url := range []string{"ws://127.0.0.1:" + s.Port + "/", "ws://127.0.0.1:" + s.Port + "/?user_id=123",
		"ws://127.0.0.1:" + s.Port + "/?token=not-a-jwt"} {
		_, resp, err := websocket.Dial(ctx, url, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial %s: err %v, response %v; want 401", url, err, resp)
		}
	}
	if strings.Contains(s.logs.String(), "not-a-jwt") {
		t.Fatal("the stack logged a token")
	}
}

// TestManagementAPIWithAWSCLI: the management API on the stack's port
// answers the AWS CLI, as a backend posting to connections would use it
// (the stack's own functions reach the same handler in-process).
func TestManagementAPIWithAWSCLI(t *testing.T) {
	s := startStack(t)
	alice := s.dial(t, "123")
	welcome := alice.next()
	id, _ := welcome["connection_id"].(string)
	if welcome["type"] != "connection_established" || id == "" {
		t.Fatalf("first message = %v; want connection_established with connection_id", welcome)
	}

	s.awsCLI(t, "apigatewaymanagementapi", "post-to-connection", "--connection-id", id, "--data", `{"type":"notification","message":"from the CLI"}`)
	if m := alice.next(); m["type"] != "notification" || m["message"] != "from the CLI" {
		t.Fatalf("after post-to-connection the client read %v", m)
	}
	var conn struct {
		Identity struct{ SourceIp string }
	}
	if err := json.Unmarshal([]byte(s.awsCLI(t, "apigatewaymanagementapi", "get-connection", "--connection-id", id)), &conn); err != nil || conn.Identity.SourceIp != "127.0.0.1" {
		t.Fatalf("get-connection: %+v, %v; want the connection from 127.0.0.1", conn, err)
	}
	s.awsCLI(t, "apigatewaymanagementapi", "delete-connection", "--connection-id", id)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := alice.conn.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after delete-connection the client read %v; want a 1000 close", err)
	}
	// The connection is gone: the CLI reports GoneException.
	if out, err := awsCLIAt(s.URL, "apigatewaymanagementapi", "get-connection", "--connection-id", id); err == nil || !strings.Contains(out, "GoneException") {
		t.Fatalf("get-connection after delete: %v\n%s; want GoneException", err, out)
	}
}

// TestMakeRunStopsOnCtrlC: `make run`, the README's command, serves, and
// Ctrl-C (SIGINT to the whole process group, as a terminal sends it) stops
// the stack cleanly (exit status 0, so make reports no error) and releases
// the port.
func TestMakeRunStopsOnCtrlC(t *testing.T) {
	port := freePort(t)
	cmd := exec.Command("make", "-s", "run")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "LOCAL_PORT="+port, "LOG_LEVEL=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs := &bgtest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }() // only if the test failed first
	url := "http://127.0.0.1:" + port
	awaitHealthy(t, url, exited, logs)

	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		// make itself dies of the SIGINT it got (the shell shows 130), as
		// for any interrupted target; what matters is that the stack it
		// runs exited with status 0, or make reports "Error N".
		var ee *exec.ExitError
		if exitErr != nil && !(errors.As(exitErr, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGINT) {
			t.Fatalf("make run exited with %v after Ctrl-C\n%s", exitErr, logs)
		}
		if strings.Contains(logs.String(), "Error") {
			t.Fatalf("make run reported an error after Ctrl-C:\n%s", logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("make run did not stop within 20s of Ctrl-C\n%s", logs)
	}
	if resp, err := http.Get(url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("port %s still serves after make run stopped", port)
	}
}

// checkLocalTables: the stack made the template's tables on DynamoDB, each
// with its stream and its TTL attribute turned on, as CloudFormation would.
func checkLocalTables(t *testing.T, prefix string) {
	tmpl, err := samtemplate.Parse(fbdinotify.Template)
	if err != nil {
		t.Fatal(err)
	}
	db := awstest.DynamoDB(t)
	ctx := awstest.Context(t)
	for logicalID, suffix := range localTables {
		spec, err := tmpl.Table(logicalID)
		if err != nil {
			t.Fatal(err)
		}
		name := prefix + suffix
		table, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("table %s: %v", name, err)
		}
		if got := table.Table.StreamSpecification; spec.StreamView != "" && (got == nil || string(got.StreamViewType) != spec.StreamView) {
			t.Errorf("table %s stream %+v; want %s", name, got, spec.StreamView)
		}
		ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("TTL of %s: %v", name, err)
		}
		d := ttl.TimeToLiveDescription
		if spec.TTLAttribute != "" && (d == nil || aws.ToString(d.AttributeName) != spec.TTLAttribute || d.TimeToLiveStatus != dbtypes.TimeToLiveStatusEnabled) {
			t.Errorf("table %s TTL %+v; want %s enabled", name, d, spec.TTLAttribute)
		}
	}
	if len(localTables) != len(tmpl.Tables()) {
		t.Errorf("the local stack makes %d tables; the template has %d", len(localTables), len(tmpl.Tables()))
	}
}

// checkLocalQueues: the stack made the template's queues on SQS, with their
// visibility timeouts and redrive policies, as CloudFormation would.
func checkLocalQueues(t *testing.T, prefix string) {
	tmpl, err := samtemplate.Parse(fbdinotify.Template)
	if err != nil {
		t.Fatal(err)
	}
	client := awstest.SQS(t)
	ctx := awstest.Context(t)
	arns := map[string]string{}
	attrs := map[string]map[string]string{}
	for _, spec := range tmpl.Queues() {
		name := prefix + queueNames[spec.LogicalID]
		url, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatalf("queue %s: %v", name, err)
		}
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		attrs[spec.LogicalID] = out.Attributes
		arns[spec.LogicalID] = out.Attributes["QueueArn"]
	}
	for _, spec := range tmpl.Queues() {
		a := attrs[spec.LogicalID]
		if a["VisibilityTimeout"] != strconv.Itoa(int(spec.VisibilityTimeout.Seconds())) {
			t.Errorf("queue %s visibility timeout %s; want %v", spec.LogicalID, a["VisibilityTimeout"], spec.VisibilityTimeout)
		}
		if spec.DeadLetterQueue == "" {
			continue
		}
		var policy struct {
			DeadLetterTargetArn string
			MaxReceiveCount     json.Number
		}
		if err := json.Unmarshal([]byte(a["RedrivePolicy"]), &policy); err != nil ||
			policy.DeadLetterTargetArn != arns[spec.DeadLetterQueue] || policy.MaxReceiveCount.String() != strconv.Itoa(spec.MaxReceiveCount) {
			t.Errorf("queue %s redrive policy %s; want %s after %d receives", spec.LogicalID, a["RedrivePolicy"], arns[spec.DeadLetterQueue], spec.MaxReceiveCount)
		}
	}
}
