package queue_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/finance/fbdi-notify/internal/local/queue"
)

// moveServer is a broker serving the SQS API with queues "work" and
// "other", both dead-lettering to "work-dlq" after 2 receives, and an SDK
// client pointed at it. Move tasks with a rate wait on after.
func moveServer(tb testing.TB, after func(time.Duration) <-chan time.Time) (*queue.Broker, *sqs.Client) {
	tb.Helper()
	srv := httptest.NewUnstartedServer(nil)
	b := queue.NewBroker(queue.Options{BaseURL: "http://" + srv.Listener.Addr().String(), After: after})
	srv.Config.Handler = b
	srv.Start()
	tb.Cleanup(srv.Close)
	for _, q := range []queue.QueueConfig{
		{Name: "work-dlq"},
		{Name: "work", MaxReceiveCount: 2, DeadLetterQueue: "work-dlq"},
		{Name: "other", MaxReceiveCount: 2, DeadLetterQueue: "work-dlq"},
	} {
		if err := b.CreateQueue(q); err != nil {
			tb.Fatal(err)
		}
	}
	return b, sqs.New(sqs.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(srv.URL)})
}

// deadLetter sends body to the named queue and receives it until its
// redrive policy moves it to the dead-letter queue.
func deadLetter(tb testing.TB, b *queue.Broker, name, body string, attrs map[string]queue.Attribute) {
	tb.Helper()
	if _, err := b.Send(name, body, 0, attrs); err != nil {
		tb.Fatal(err)
	}
	for i := 0; ; i++ {
		msgs, err := b.Receive(name, 10, time.Nanosecond, 0, nil)
		if err != nil {
			tb.Fatal(err)
		}
		if len(msgs) == 0 {
			return
		}
		if i > 10 {
			tb.Fatalf("%s: message not dead-lettered after %d receives", name, i)
		}
	}
}

// tasks lists the move tasks of the named queue through the API.
func tasks(tb testing.TB, b *queue.Broker, client *sqs.Client, name string) []types.ListMessageMoveTasksResultEntry {
	tb.Helper()
	out, err := client.ListMessageMoveTasks(context.Background(), &sqs.ListMessageMoveTasksInput{
		SourceArn: aws.String(b.QueueARN(name)), MaxResults: aws.Int32(10)})
	if err != nil {
		tb.Fatal(err)
	}
	return out.Results
}

// ended waits until the latest move task of the named queue is no longer
// RUNNING and returns it.
func ended(tb testing.TB, b *queue.Broker, client *sqs.Client, name string) types.ListMessageMoveTasksResultEntry {
	tb.Helper()
	for i := 0; i < 1000; i++ { // a guard of ten seconds
		if ts := tasks(tb, b, client, name); len(ts) > 0 && aws.ToString(ts[0].Status) != queue.MoveRunning {
			return ts[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("the move task of %s is still running", name)
	return types.ListMessageMoveTasksResultEntry{}
}

// receiveAll receives every visible message of the named queue.
func receiveAll(tb testing.TB, b *queue.Broker, client *sqs.Client, name string) []types.Message {
	tb.Helper()
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(b.QueueURL(name)),
		MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil {
		tb.Fatal(err)
	}
	return out.Messages
}

func TestMoveTaskRedrivesEachMessageToItsSource(t *testing.T) {
	b, client := moveServer(t, nil)
	reason := map[string]queue.Attribute{"failure_reason": {DataType: "String", StringValue: "bad"}}
	deadLetter(t, b, "work", "w1", reason)
	deadLetter(t, b, "work", "w2", nil)
	deadLetter(t, b, "other", "o1", nil)
	before := map[string]bool{}
	for _, m := range receiveAll(t, b, client, "work-dlq") {
		before[aws.ToString(m.MessageId)] = true
		if m.Attributes["DeadLetterQueueSourceArn"] == "" || m.Attributes["ApproximateReceiveCount"] != "3" {
			t.Errorf("dead-lettered %s: attributes %v; want its source ARN and 3 receives", aws.ToString(m.Body), m.Attributes)
		}
		// Visible again at once, for the task.
		if _, err := client.ChangeMessageVisibilityBatch(context.Background(), &sqs.ChangeMessageVisibilityBatchInput{
			QueueUrl: aws.String(b.QueueURL("work-dlq")), Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
				{Id: aws.String("1"), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(before) != 3 {
		t.Fatalf("%d messages dead-lettered; want 3", len(before))
	}

	start, err := client.StartMessageMoveTask(context.Background(), &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(b.QueueARN("work-dlq"))})
	if err != nil || aws.ToString(start.TaskHandle) == "" {
		t.Fatalf("StartMessageMoveTask = %v, %v; want a task handle", start, err)
	}
	task := ended(t, b, client, "work-dlq")
	if aws.ToString(task.Status) != queue.MoveCompleted || task.ApproximateNumberOfMessagesMoved != 3 || aws.ToInt64(task.ApproximateNumberOfMessagesToMove) != 3 ||
		aws.ToString(task.SourceArn) != b.QueueARN("work-dlq") || task.DestinationArn != nil || task.TaskHandle != nil ||
		task.MaxNumberOfMessagesPerSecond != nil || task.FailureReason != nil || task.StartedTimestamp == 0 {
		t.Fatalf("task = %+v; want COMPLETED, 3 of 3 moved, no handle, destination, rate or failure", task)
	}
	bodies := map[string]string{}
	for _, name := range []string{"work", "other"} {
		for _, m := range receiveAll(t, b, client, name) {
			body := aws.ToString(m.Body)
			bodies[body] = name
			if before[aws.ToString(m.MessageId)] || m.Attributes["ApproximateReceiveCount"] != "1" || m.Attributes["DeadLetterQueueSourceArn"] != "" {
				t.Errorf("redriven %s: id %s, attributes %v; want a new id, received once, no dead-letter source", body, aws.ToString(m.MessageId), m.Attributes)
			}
			if body == "w1" && aws.ToString(m.MessageAttributes["failure_reason"].StringValue) != "bad" {
				t.Errorf("redriven w1 lost its message attributes: %v", m.MessageAttributes)
			}
		}
	}
	if want := map[string]string{"w1": "work", "w2": "work", "o1": "other"}; len(bodies) != 3 || bodies["w1"] != want["w1"] || bodies["w2"] != want["w2"] || bodies["o1"] != want["o1"] {
		t.Errorf("redriven to %v; want %v", bodies, want)
	}
	if visible, inFlight, _, _ := b.Counts("work-dlq"); visible+inFlight != 0 {
		t.Errorf("the dead-letter queue still holds %d messages", visible+inFlight)
	}
}

func TestMoveTaskWithoutASource(t *testing.T) {
	b, client := moveServer(t, nil)
	if _, err := b.Send("work-dlq", "sent directly", 0, nil); err != nil {
		t.Fatal(err)
	}
	// No original source: the task fails, as SQS's does, and moves nothing.
	if _, err := client.StartMessageMoveTask(context.Background(), &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(b.QueueARN("work-dlq"))}); err != nil {
		t.Fatal(err)
	}
	task := ended(t, b, client, "work-dlq")
	if aws.ToString(task.Status) != queue.MoveFailed || aws.ToString(task.FailureReason) != queue.CouldNotDetermineMessageSource || task.ApproximateNumberOfMessagesMoved != 0 {
		t.Fatalf("task = %+v; want FAILED, %s", task, queue.CouldNotDetermineMessageSource)
	}
	// With a destination it moves.
	if _, err := client.StartMessageMoveTask(context.Background(), &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(b.QueueARN("work-dlq")),
		DestinationArn: aws.String(b.QueueARN("other"))}); err != nil {
		t.Fatal(err)
	}
	task = ended(t, b, client, "work-dlq")
	if aws.ToString(task.Status) != queue.MoveCompleted || aws.ToString(task.DestinationArn) != b.QueueARN("other") || task.ApproximateNumberOfMessagesMoved != 1 {
		t.Fatalf("task = %+v; want COMPLETED to other, 1 moved", task)
	}
	if got := receiveAll(t, b, client, "other"); len(got) != 1 || aws.ToString(got[0].Body) != "sent directly" {
		t.Fatalf("other holds %v; want the message", got)
	}
	if n := len(tasks(t, b, client, "work-dlq")); n != 2 {
		t.Errorf("%d tasks listed; want both", n)
	}
}

// apiCode returns the error code of an SQS API error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestMoveTaskRefusals(t *testing.T) {
	b, client := moveServer(t, nil)
	tests := []struct {
		name string
		in   sqs.StartMessageMoveTaskInput
		code string // the error code the SDK reports
	}{
		{name: "not a dead-letter queue", in: sqs.StartMessageMoveTaskInput{SourceArn: aws.String(b.QueueARN("work"))},
			code: "AWS.SimpleQueueService.UnsupportedOperation"},
		{name: "no such source", in: sqs.StartMessageMoveTaskInput{SourceArn: aws.String(b.QueueARN("nope"))},
			code: "ResourceNotFoundException"},
		{name: "no such destination", in: sqs.StartMessageMoveTaskInput{SourceArn: aws.String(b.QueueARN("work-dlq")), DestinationArn: aws.String(b.QueueARN("nope"))},
			code: "ResourceNotFoundException"},
		{name: "destination is the source", in: sqs.StartMessageMoveTaskInput{SourceArn: aws.String(b.QueueARN("work-dlq")), DestinationArn: aws.String(b.QueueARN("work-dlq"))},
			code: "AWS.SimpleQueueService.UnsupportedOperation"},
		{name: "not an ARN", in: sqs.StartMessageMoveTaskInput{SourceArn: aws.String("work-dlq")},
			code: "InvalidAddress"},
		{name: "rate over 500", in: sqs.StartMessageMoveTaskInput{SourceArn: aws.String(b.QueueARN("work-dlq")), MaxNumberOfMessagesPerSecond: aws.Int32(501)},
			code: "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.StartMessageMoveTask(context.Background(), &tt.in)
			if got := apiCode(err); got != tt.code {
				t.Fatalf("StartMessageMoveTask: %v (code %q); want %s", err, got, tt.code)
			}
		})
	}
	if _, err := client.CancelMessageMoveTask(context.Background(), &sqs.CancelMessageMoveTaskInput{TaskHandle: aws.String("bm8=")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("cancel of an unknown handle: %v; want ResourceNotFoundException", err)
	}
	if n := len(tasks(t, b, client, "work-dlq")); n != 0 {
		t.Errorf("%d tasks after refusals; want none", n)
	}
}

// TestMoveTaskRateAndCancel: a task with a rate waits between moves; while
// it waits it lists as RUNNING with its handle, refuses a second task, and
// cancelling it leaves the rest on the dead-letter queue.
func TestMoveTaskRateAndCancel(t *testing.T) {
	waits := make(chan time.Duration, 10)
	tick := make(chan time.Time)
	b, client := moveServer(t, func(d time.Duration) <-chan time.Time { waits <- d; return tick })
	for _, body := range []string{"a", "b", "c"} {
		deadLetter(t, b, "work", body, nil)
	}
	dlq := aws.String(b.QueueARN("work-dlq"))
	start, err := client.StartMessageMoveTask(context.Background(), &sqs.StartMessageMoveTaskInput{SourceArn: dlq, MaxNumberOfMessagesPerSecond: aws.Int32(4)})
	if err != nil {
		t.Fatal(err)
	}
	select { // one message moved, waiting for the next
	case d := <-waits:
		if d != 250*time.Millisecond {
			t.Fatalf("waited %s between moves; want 250ms at 4 a second", d)
		}
	case <-time.After(10 * time.Second): // a guard, not a measure
		t.Fatalf("the task never waited between moves: %+v", tasks(t, b, client, "work-dlq"))
	}
	ts := tasks(t, b, client, "work-dlq")
	if len(ts) != 1 || aws.ToString(ts[0].Status) != queue.MoveRunning || aws.ToString(ts[0].TaskHandle) != aws.ToString(start.TaskHandle) ||
		ts[0].ApproximateNumberOfMessagesMoved != 1 || aws.ToInt64(ts[0].ApproximateNumberOfMessagesToMove) != 3 || aws.ToInt32(ts[0].MaxNumberOfMessagesPerSecond) != 4 {
		t.Fatalf("running task = %+v; want RUNNING with its handle, 1 of 3 moved, rate 4", ts)
	}
	if _, err := client.StartMessageMoveTask(context.Background(), &sqs.StartMessageMoveTaskInput{SourceArn: dlq}); apiCode(err) != "AWS.SimpleQueueService.UnsupportedOperation" {
		t.Fatalf("second task while one runs: %v; want UnsupportedOperation", err)
	}
	cancel, err := client.CancelMessageMoveTask(context.Background(), &sqs.CancelMessageMoveTaskInput{TaskHandle: start.TaskHandle})
	if err != nil || cancel.ApproximateNumberOfMessagesMoved != 1 {
		t.Fatalf("CancelMessageMoveTask = %+v, %v; want 1 moved", cancel, err)
	}
	tick <- time.Now() // the task wakes, sees the cancel and stops
	if ts := tasks(t, b, client, "work-dlq"); aws.ToString(ts[0].Status) != queue.MoveCancelled || ts[0].TaskHandle != nil || ts[0].ApproximateNumberOfMessagesMoved != 1 {
		t.Fatalf("cancelled task = %+v; want CANCELLED, no handle, 1 moved", ts[0])
	}
	if _, err := client.CancelMessageMoveTask(context.Background(), &sqs.CancelMessageMoveTaskInput{TaskHandle: start.TaskHandle}); apiCode(err) != "AWS.SimpleQueueService.UnsupportedOperation" {
		t.Errorf("second cancel: %v; want UnsupportedOperation", err)
	}
	if visible, _, _, _ := b.Counts("work-dlq"); visible != 2 {
		t.Errorf("%d messages left on the dead-letter queue; want 2", visible)
	}
	if visible, _, _, _ := b.Counts("work"); visible != 1 {
		t.Errorf("%d messages back on work; want 1", visible)
	}
}

func TestCreateQueueWithRedrivePolicy(t *testing.T) {
	b, client := moveServer(t, nil)
	ctx := context.Background()
	policy := `{"deadLetterTargetArn":"` + b.QueueARN("work-dlq") + `","maxReceiveCount":"1"}`
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("fresh"),
		Attributes: map[string]string{"RedrivePolicy": policy, "VisibilityTimeout": "0", "MessageRetentionPeriod": "60"}})
	if err != nil || aws.ToString(out.QueueUrl) != b.QueueURL("fresh") {
		t.Fatalf("CreateQueue = %v, %v", out, err)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil || attrs.Attributes["RedrivePolicy"] == "" {
		t.Fatalf("attributes %v, %v; want a redrive policy", attrs, err)
	}
	deadLetter(t, b, "fresh", "once", nil)
	if got := receiveAll(t, b, client, "work-dlq"); len(got) != 1 || got[0].Attributes["DeadLetterQueueSourceArn"] != b.QueueARN("fresh") {
		t.Fatalf("dead-letter queue holds %v; want the message from fresh", got)
	}
	tests := []struct {
		name  string
		queue string
		attrs map[string]string
		code  string
	}{
		{name: "same name, other settings", queue: "fresh", attrs: map[string]string{"VisibilityTimeout": "5"}, code: "QueueAlreadyExists"},
		{name: "dead-letter target missing", queue: "x", attrs: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + b.QueueARN("nope") + `","maxReceiveCount":1}`}, code: "InvalidAttributeValue"},
		{name: "bad name", queue: "a b", code: "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(tt.queue), Attributes: tt.attrs})
			if got := apiCode(err); got != tt.code {
				t.Fatalf("CreateQueue: %v (code %q); want %s", err, got, tt.code)
			}
		})
	}
	if _, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("fresh")}); err != nil {
		t.Errorf("CreateQueue of an existing name without attributes: %v; want its URL", err)
	}
}
