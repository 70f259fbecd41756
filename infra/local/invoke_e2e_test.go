package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/coder/websocket"

	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/internal/testing/lambdatest"
)

// startLambda stands in for `sam local start-lambda`: the Lambda Invoke API
// (POST /2015-03-31/functions/{name}/invocations) in front of functions
// that run under aws-lambda-rie, translating the emulator's answers as SAM
// does: a function's error object, a timeout or a crash is a 200 with
// X-Amz-Function-Error: Unhandled; an unknown name is a 404
// ResourceNotFoundException.
type startLambda struct {
	URL string
	mu  sync.Mutex
	fns map[string]*lambdatest.Function
}

func newStartLambda(t *testing.T) *startLambda {
	t.Helper()
	sl := &startLambda{fns: map[string]*lambdatest.Function{}}
	srv := httptest.NewServer(http.HandlerFunc(sl.serve))
	t.Cleanup(srv.Close)
	sl.URL = srv.URL
	return sl
}

func (sl *startLambda) add(name string, f *lambdatest.Function) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	sl.fns[name] = f
}

func (sl *startLambda) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	name, ok2 := strings.CutSuffix(name, "/invocations")
	sl.mu.Lock()
	f := sl.fns[name]
	sl.mu.Unlock()
	if !ok || !ok2 || r.Method != http.MethodPost || f == nil {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"Type":"User","message":"Function not found: %s"}`, name)
		return
	}
	event, _ := io.ReadAll(r.Body)
	res, err := f.InvokeResult(r.Context(), event)
	if err != nil {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		body, _ := json.Marshal(map[string]string{"errorType": "Runtime.ExitError", "errorMessage": err.Error()})
		w.Write(body)
		return
	}
	var shape map[string]any
	if json.Unmarshal(res.Payload, &shape) == nil && shape["errorMessage"] != nil && shape["errorType"] != nil && len(shape) <= 4 {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.Write(res.Payload)
}

// TestEndToEndWithFunctionsBehindInvokeAPI: with LAMBDA_ENDPOINT the stack
// runs no function itself. The six bootstraps run under aws-lambda-rie
// behind a Lambda Invoke API, on the tables and queues the stack made on
// moto_server; the stack's gateway invokes ConnectFunction,
// DisconnectFunction and MessageFunction, its SQS pollers NotifyFunction
// and WorkerFunction, and its stream poller WelcomeFunction; the functions
// post back through the stack's management API. Users see the same as with
// the in-process functions.
func TestEndToEndWithFunctionsBehindInvokeAPI(t *testing.T) {
	endpoint := awstest.Endpoint(t)
	prefix := awstest.UniqueName(t, "invoke") + "-"
	sl := newStartLambda(t)
	s := startStack(t, append(onAWSAPI(endpoint, prefix), "LAMBDA_ENDPOINT="+sl.URL)...)
	s.waitOutput(t, "Lambda Invoke API at "+sl.URL) // the banner

	// The functions get what `sam local start-lambda --env-vars` would give
	// them: the stack's /dev/sam-env.json, which only sets variables the
	// template declares, plus the region and credentials SAM passes.
	resp, err := http.Get(s.URL + "/dev/sam-env.json")
	if err != nil {
		t.Fatal(err)
	}
	var samEnv map[string]map[string]string
	err = json.NewDecoder(resp.Body).Decode(&samEnv)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("/dev/sam-env.json: %v", err)
	}
	envOf := func(logicalID string) map[string]string {
		env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
		for k, v := range samEnv[logicalID] {
			env[k] = v
		}
		return env
	}
	functions := map[string]string{"ConnectFunction": "connect", "DisconnectFunction": "disconnect",
		"MessageFunction": "message", "WelcomeFunction": "welcome", "NotifyFunction": "notify", "WorkerFunction": "worker"}
	started := map[string]*lambdatest.Function{}
	for logicalID, dir := range functions {
		f := lambdatest.Start(t, lambdatest.Build(t, dir), envOf(logicalID))
		started[logicalID] = f
		sl.add(logicalID, f)
	}

	budgetTransferEndToEnd(t, s)

	// A notification from an upstream system, through NotifyFunction.
	alice := s.dial(t, "123")
	welcome := alice.next()
	id, _ := welcome["connection_id"].(string)
	if welcome["type"] != "connection_established" || id == "" {
		t.Fatalf("first message = %v; want connection_established (WelcomeFunction, from the stream)", welcome)
	}
	q := s.queues(t)
	if out, err := awsCLIAt(q.Endpoint, "sqs", "send-message", "--queue-url", q.Notifications,
		"--message-body", `{"user_id":"123","message":"through NotifyFunction"}`); err != nil {
		t.Fatalf("send-message: %v\n%s", err, out)
	}
	if m := alice.next(); m["type"] != "notification" || m["message"] != "through NotifyFunction" {
		t.Fatalf("alice read %v; want the notification", m)
	}

	// Closing the connection runs DisconnectFunction, which deletes its row.
	if err := alice.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	db := awstest.DynamoDB(t)
	for i := 0; ; i++ {
		out, err := db.GetItem(awstest.Context(t), &dynamodb.GetItemInput{TableName: aws.String(prefix + "connections"),
			Key: map[string]dbtypes.AttributeValue{"connectionId": &dbtypes.AttributeValueMemberS{Value: id}}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item == nil {
			break
		}
		if i > 300 {
			t.Fatalf("connection %s still in the table 30 s after it closed", id)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Each function really ran behind the Invoke API.
	for logicalID, f := range started {
		if !bytes.Contains([]byte(f.Output()), []byte("REPORT RequestId")) {
			t.Errorf("%s was never invoked:\n%s", logicalID, f.Output())
		}
	}
}

// A function the Invoke API does not know is an integration failure, which
// the client sees as API Gateway shows it (502 on $connect) and the stack
// logs; the stack goes on serving.
func TestInvokeAPIUnknownFunction(t *testing.T) {
	sl := newStartLambda(t) // serves no function
	s := startStack(t, append(onAWSAPI(awstest.Endpoint(t), awstest.UniqueName(t, "nofn")+"-"), "LAMBDA_ENDPOINT="+sl.URL)...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws://127.0.0.1:"+s.Port+"/", &websocket.DialOptions{Subprotocols: []string{s.token(t, "123")}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("connect with no ConnectFunction: %v, response %v; want 502", err, resp)
	}
	if r, err := http.Get(s.URL + "/healthz"); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("the stack stopped serving after a failed integration: %v", err)
	}
	s.waitOutput(t, "ConnectFunction") // the log of the failed integration

	// /dev/sam-env.json takes a host name and nothing else.
	for query, want := range map[string]int{"?host=host.docker.internal": 200, "?host=a/b": 400, "?host=x%40y": 400} {
		r, err := http.Get(s.URL + "/dev/sam-env.json" + query)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != want {
			t.Errorf("/dev/sam-env.json%s: %d, want %d", query, r.StatusCode, want)
		}
	}
}

// waitOutput waits until the stack has printed want: its output reaches
// the test through a pipe, after the stack may already be serving.
func (s *localStack) waitOutput(t *testing.T, want string) {
	t.Helper()
	for i := 0; !strings.Contains(s.logs.String(), want); i++ {
		if i > 100 {
			t.Fatalf("the stack never printed %q:\n%s", want, s.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
