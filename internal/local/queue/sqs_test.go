package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/finance/fbdi-notify/internal/local/queue"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/internal/testing/bgtest"
)

// sqsGuard bounds every wait on moto_server; it only turns a hang into a failure.
const sqsGuard = 30 * time.Second

// motoQueue creates a queue on moto_server with a 1 s visibility timeout
// and, when dlq is set, a redrive policy to it after maxReceives; it
// returns the queue's URL and ARN.
func motoQueue(tb testing.TB, client *sqs.Client, prefix, dlqARN string, maxReceives int) (string, string) {
	tb.Helper()
	ctx := awstest.Context(tb)
	attrs := map[string]string{"VisibilityTimeout": "1"}
	if dlqARN != "" {
		policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": maxReceives})
		attrs["RedrivePolicy"] = string(policy)
	}
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName(tb, prefix)), Attributes: attrs})
	if err != nil {
		tb.Fatal(err)
	}
	url := aws.ToString(out.QueueUrl)
	tb.Cleanup(func() {
		_, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	})
	a, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		tb.Fatal(err)
	}
	return url, a.Attributes["QueueArn"]
}

// poll runs PollSQS on url with h until the returned stop is called, which
// waits for PollSQS to return (every started batch settled).
func poll(tb testing.TB, client *sqs.Client, url string, h queue.Handler) (stop func()) {
	tb.Helper()
	return bgtest.Background(tb, "PollSQS", sqsGuard, func(ctx context.Context) error {
		return queue.PollSQS(ctx, client, url, h, queue.SourceOptions{BatchSize: 10, Concurrency: 1})
	})
}

// nextRecord returns the next record the handler saw.
func nextRecord(tb testing.TB, seen <-chan events.SQSMessage) events.SQSMessage {
	tb.Helper()
	select {
	case r := <-seen:
		return r
	case <-time.After(sqsGuard):
		tb.Fatal("timed out waiting for an invocation")
		panic("unreachable")
	}
}

// queued returns the visible plus in-flight messages of the queue.
func queued(tb testing.TB, client *sqs.Client, url string) int {
	tb.Helper()
	a, err := client.GetQueueAttributes(awstest.Context(tb), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		tb.Fatal(err)
	}
	visible, _ := strconv.Atoi(a.Attributes["ApproximateNumberOfMessages"])
	hidden, _ := strconv.Atoi(a.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible + hidden
}

func TestPollSQSDeliversAndDeletes(t *testing.T) {
	client := awstest.SQS(t)
	url, arn := motoQueue(t, client, "poll-ok", "", 0)
	ctx := awstest.Context(t)
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"n":1}`),
		MessageAttributes: map[string]types.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("budget")}}}); err != nil {
		t.Fatal(err)
	}
	seen := make(chan events.SQSMessage, 10)
	stop := poll(t, client, url, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		for _, r := range ev.Records {
			seen <- r
		}
		return events.SQSEventResponse{}, nil
	})
	r := nextRecord(t, seen)
	stop()
	if r.Body != `{"n":1}` || r.EventSource != "aws:sqs" || r.EventSourceARN != arn || r.AWSRegion != "us-east-1" ||
		r.Attributes["ApproximateReceiveCount"] != "1" || r.Attributes["SentTimestamp"] == "" || r.ReceiptHandle == "" ||
		r.MessageAttributes["kind"].StringValue == nil || *r.MessageAttributes["kind"].StringValue != "budget" {
		t.Errorf("record = %+v; want the message as Lambda delivers it from %s", r, arn)
	}
	if n := queued(t, client, url); n != 0 {
		t.Errorf("%d messages left on the queue after a successful invocation; want 0", n)
	}
}

// TestPollSQSFailures: what fails comes back after the visibility timeout
// with a higher receive count, and what succeeded is deleted. A message
// that keeps failing ends in the dead-letter queue through the queue's
// redrive policy.
func TestPollSQSFailures(t *testing.T) {
	tests := []struct {
		name string
		// fail answers the first invocation of a batch holding the message.
		fail func(ev events.SQSEvent) (events.SQSEventResponse, error)
	}{
		{name: "handler error returns the whole batch", fail: func(events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, errors.New("boom")
		}},
		{name: "batch item failure returns that message", fail: func(ev events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[0].MessageId}}}, nil
		}},
		{name: "unknown item identifier returns the whole batch", fail: func(events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "not-in-the-batch"}}}, nil
		}},
		{name: "handler panic returns the whole batch", fail: func(events.SQSEvent) (events.SQSEventResponse, error) {
			panic("handler bug")
		}},
	}
	client := awstest.SQS(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, _ := motoQueue(t, client, "poll-retry", "", 0)
			if _, err := client.SendMessage(awstest.Context(t), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("m")}); err != nil {
				t.Fatal(err)
			}
			seen := make(chan events.SQSMessage, 10)
			var mu sync.Mutex
			calls := 0
			stop := poll(t, client, url, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				for _, r := range ev.Records {
					seen <- r
				}
				mu.Lock()
				calls++
				first := calls == 1
				mu.Unlock()
				if first {
					return tt.fail(ev)
				}
				return events.SQSEventResponse{}, nil
			})
			first, second := nextRecord(t, seen), nextRecord(t, seen)
			stop()
			if first.MessageId != second.MessageId || second.Attributes["ApproximateReceiveCount"] != "2" {
				t.Errorf("second delivery %s (receive count %s); want %s again with receive count 2",
					second.MessageId, second.Attributes["ApproximateReceiveCount"], first.MessageId)
			}
			if n := queued(t, client, url); n != 0 {
				t.Errorf("%d messages left after the retry succeeded; want 0", n)
			}
		})
	}
}

func TestPollSQSDeadLetters(t *testing.T) {
	client := awstest.SQS(t)
	dlqURL, dlqARN := motoQueue(t, client, "poll-dlq", "", 0)
	url, _ := motoQueue(t, client, "poll-src", dlqARN, 2)
	ctx := awstest.Context(t)
	for _, body := range []string{"good", "bad"} {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	seen := make(chan events.SQSMessage, 20)
	stop := poll(t, client, url, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			seen <- r
			if r.Body == "bad" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return resp, nil
	})
	counts := map[string]int{}
	for counts["bad"] < 2 || counts["good"] < 1 {
		counts[nextRecord(t, seen).Body]++
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), WaitTimeSeconds: 20})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "bad" {
		t.Fatalf("dead-letter queue holds %v; want the bad message", out.Messages)
	}
	for len(seen) > 0 {
		counts[(<-seen).Body]++
	}
	if counts["good"] != 1 || counts["bad"] != 2 {
		t.Errorf("invocations per message %v; want good once, bad twice (the redrive policy's maximum)", counts)
	}
}

func TestPollSQSUnknownQueue(t *testing.T) {
	client := awstest.SQS(t)
	err := queue.PollSQS(awstest.Context(t), client, fmt.Sprintf("%s/000000000000/no-such-queue-%d", awstest.Endpoint(t), time.Now().UnixNano()),
		func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, nil
		},
		queue.SourceOptions{})
	if err == nil {
		t.Fatal("PollSQS on a missing queue returned nil; want an error")
	}
}
