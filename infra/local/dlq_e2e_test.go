package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// dlqScript runs infra/ops/dlq.sh (or, with make set, its make verb)
// against the stack, as an operator would.
func (s *localStack) dlqScript(t *testing.T, make bool, verb, queue string) string {
	t.Helper()
	var cmd *exec.Cmd
	if make {
		cmd = exec.Command("make", "-s", verb, "ENV=local", "QUEUE="+queue)
	} else {
		cmd = exec.Command("infra/ops/dlq.sh", verb, "local", queue)
	}
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "LOCAL_PORT="+s.Port)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s local %s: %v\n%s", cmd.Path, verb, queue, err, out)
	}
	return string(out)
}

// queueDepth returns the visible and in-flight messages of a local queue,
// read with the SDK (the CLI starts too slowly to poll with).
func (s *localStack) queueDepth(t *testing.T, name string) (visible, inFlight string) {
	t.Helper()
	client := sqs.New(sqs.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(s.URL)})
	out, err := client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(s.URL + "/000000000000/" + name), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"]
}

// awaitDepths waits until each named queue holds exactly that many
// messages, all visible.
func (s *localStack) awaitDepths(t *testing.T, want map[string]string) {
	t.Helper()
	for i := 0; ; i++ {
		settled := true
		for name, n := range want {
			if visible, inFlight := s.queueDepth(t, name); visible != n || inFlight != "0" {
				settled = false
			}
		}
		if settled {
			return
		}
		if i > 600 { // a guard of a minute
			got := map[string][2]string{}
			for name := range want {
				v, f := s.queueDepth(t, name)
				got[name] = [2]string{v, f}
			}
			t.Fatalf("queues hold %v (visible, in flight); want %v visible\n%s", got, want, s.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var reasonLine = regexp.MustCompile(`(?m)^failure_reason: +(.*)$`)

// reasons returns the failure_reason lines of a dlq.sh listing, checking it
// lists n messages.
func reasons(t *testing.T, listing string, n int) []string {
	t.Helper()
	var out []string
	for _, m := range reasonLine.FindAllStringSubmatch(listing, -1) {
		out = append(out, m[1])
	}
	if len(out) != n || strings.Count(listing, "--- message ") != n {
		t.Fatalf("the listing shows %d reasons; want %d messages with one each:\n%s", len(out), n, listing)
	}
	return out
}

// TestDLQReadAndRedriveWithAWSCLI: what the functions dead-letter, and what
// a redrive policy moves, an operator reads with its reason through
// infra/ops/dlq.sh (make dlq), and re-drives to the source queue with a
// message move task; malformed messages fail again and come back with
// their reasons, so the dead-letter queues hold as many as before.
func TestDLQReadAndRedriveWithAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatal("the AWS CLI (aws) is needed: pip install awscli")
	}
	s := startStack(t)
	workflowQueue, notificationQueue := s.URL+"/000000000000/workflow", s.URL+"/000000000000/notifications"
	s.awsCLI(t, "sqs", "send-message", "--queue-url", workflowQueue, "--message-body", "not json")
	s.awsCLI(t, "sqs", "send-message", "--queue-url", notificationQueue, "--message-body", `{"user_id":"123"}`)

	// A queue whose consumer "crashes" every time: after its one receive,
	// the emulator's redrive policy moves the message to the workflow DLQ.
	policy := `{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:workflow-dlq\",\"maxReceiveCount\":\"1\"}"}`
	s.awsCLI(t, "sqs", "create-queue", "--queue-name", "crashing", "--attributes", policy)
	crashing := s.URL + "/000000000000/crashing"
	var sent struct{ MessageId string }
	if err := json.Unmarshal([]byte(s.awsCLI(t, "sqs", "send-message", "--queue-url", crashing, "--message-body", `{"kind":"crash"}`)), &sent); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first receive counts; the second finds it over the limit
		s.awsCLI(t, "sqs", "receive-message", "--queue-url", crashing, "--visibility-timeout", "0")
	}
	// The functions dead-letter what they cannot read.
	s.awaitDepths(t, map[string]string{"workflow-dlq": "2", "notifications-dlq": "1", "crashing": "0"})

	workflow := s.dlqScript(t, false, "peek", "workflow")
	got := reasons(t, workflow, 2)
	moved := "moved by the redrive policy after 1 receives; search the logs for message_id " + sent.MessageId
	if !strings.Contains(workflow, moved) || !strings.Contains(workflow, "not json") || !strings.Contains(workflow, `"kind": "crash"`) {
		t.Errorf("the workflow listing lacks the moved message's line %q or a body:\n%s", moved, workflow)
	}
	for _, r := range got {
		if r != moved && !strings.Contains(s.logs.String(), `"reason":"`+r+`"`) {
			t.Errorf("failure_reason %q is not the reason the worker logged:\n%s", r, s.logs)
		}
	}
	notification := s.dlqScript(t, true, "dlq", "notification")
	if r := reasons(t, notification, 1)[0]; r == "" || strings.HasPrefix(r, "(none") || strings.HasPrefix(r, "moved") ||
		!strings.Contains(notification, `"user_id": "123"`) {
		t.Errorf("the notification listing lacks the notifier's reason or the body:\n%s", notification)
	}
	// Listing takes nothing: a second listing shows the same messages.
	reasons(t, s.dlqScript(t, false, "peek", "workflow"), 2)
	s.awaitDepths(t, map[string]string{"workflow-dlq": "2", "notifications-dlq": "1"})

	// Redrive both back to their source queues; the malformed messages fail
	// again and return with their reasons.
	for _, q := range []string{"workflow", "notification"} {
		if out := s.dlqScript(t, true, "redrive", q); !strings.Contains(out, "started") || !strings.Contains(out, "task handle: ") {
			t.Fatalf("make redrive QUEUE=%s printed:\n%s", q, out)
		}
	}
	for _, task := range []struct{ queue, want string }{
		{queue: "workflow", want: "COMPLETED  moved 2 of 2"},
		{queue: "notification", want: "COMPLETED  moved 1 of 1"},
	} {
		for i := 0; ; i++ {
			out := s.dlqScript(t, true, "redrive-status", task.queue)
			if strings.Contains(out, task.want) {
				break
			}
			if i > 100 { // a guard of twenty seconds
				t.Fatalf("make redrive-status QUEUE=%s never showed %q:\n%s", task.queue, task.want, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	s.awaitDepths(t, map[string]string{"workflow-dlq": "2", "notifications-dlq": "1", "workflow": "0", "notifications": "0", "crashing": "0"})
	after := s.dlqScript(t, false, "peek", "workflow")
	for _, r := range reasons(t, after, 2) {
		if strings.HasPrefix(r, "moved") || strings.HasPrefix(r, "(none") {
			t.Errorf("after the redrive a message has no reason of its own: %q\n%s", r, after)
		}
	}
	if strings.Contains(after, sent.MessageId) {
		t.Errorf("a redriven message kept its message id %s; SQS gives it a new one:\n%s", sent.MessageId, after)
	}
	if r := reasons(t, s.dlqScript(t, false, "peek", "notification"), 1)[0]; strings.HasPrefix(r, "(none") {
		t.Errorf("the redriven notification came back without a reason: %q", r)
	}
}
