package notifier_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/testing/logtest"
)

// invocation returns a context holding the Lambda context of invocation id.
func invocation(tb testing.TB, id string) context.Context {
	return lambdacontext.NewContext(ctxOf(tb), &lambdacontext.LambdaContext{AwsRequestID: id})
}

// TestQueueHandlerLogsTheInvocation: every line of one invocation, the
// Notifier's included, names the invocation (aws_request_id) and the SQS
// message (message_id), whatever became of the message; no line uses a
// retired key.
func TestQueueHandlerLogsTheInvocation(t *testing.T) {
	log, logs := logtest.New()
	w := newWorld(t, notifier.Options{Logger: log},
		conn("tab-a", "123", time.Hour), conn("tab-gone", "123", time.Hour), conn("tab-broken", "456", time.Hour))
	w.gw.script("tab-gone", gone)
	w.gw.script("tab-broken", broken)
	w.hist.failOn["flaky"] = errors.New("ProvisionedThroughputExceededException")
	h := notifier.NewQueueHandler(w.n, &fakeSQS{}, dlqURL, log)

	_, err := h.Handle(invocation(t, "lambda-queue-1"), sqsEvent(t)) // delivered, gone, failed post, malformed, store failed
	must(t, err)
	logs.Check(t, map[string]string{"aws_request_id": "lambda-queue-1", "message_id": ""})
	for _, msg := range []string{"connection gone", "post failed", "malformed message moved to dead-letter queue",
		"notify failed; message will be retried", "notification delivered"} {
		if !strings.Contains(logs.String(), `"msg":"`+msg+`"`) {
			t.Errorf("no line %q: the test no longer covers it\n%s", msg, logs)
		}
	}
}

// TestWelcomeHandlerLogsTheInvocation: every line of one invocation names
// it (aws_request_id); no line uses a retired key.
func TestWelcomeHandlerLogsTheInvocation(t *testing.T) {
	log, logs := logtest.New()
	w := newWorld(t, notifier.Options{Logger: log})
	w.gw.script("Broken7AbCdIA=", broken)
	w.gw.script("Gone8AbCdIAMC=", gone)
	h := notifier.NewWelcomeHandler(w.n, notifier.WelcomeOptions{Logger: log, Window: 100 * time.Millisecond})

	_, err := h.Handle(invocation(t, "lambda-welcome-1"), streamEvent(t))
	must(t, err)
	logs.Check(t, map[string]string{"aws_request_id": "lambda-welcome-1"})
}

// panickingHistory is a history store whose Add panics for user "boom".
type panickingHistory struct{ *fakeHistory }

func (h panickingHistory) Add(ctx context.Context, item history.Item) (history.Position, error) {
	if item.UserID == "boom" {
		panic("history bug")
	}
	return h.fakeHistory.Add(ctx, item)
}

// panickingPoster is a management API whose posts to connection
// "tab-panic" panic.
type panickingPoster struct{ notifier.Poster }

func (p panickingPoster) PostToConnection(ctx context.Context, in *apigatewaymanagementapi.PostToConnectionInput,
	optFns ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error) {
	if aws.ToString(in.ConnectionId) == "tab-panic" {
		panic("poster bug")
	}
	return p.Poster.PostToConnection(ctx, in, optFns...)
}

// TestQueueHandlerPanic: a panic while handling one message, on the
// handler's goroutine or in the Notifier's fan-out, is logged once with its
// stack and the message reported as a batch item failure, for SQS to
// deliver again (and its redrive policy to dead-letter eventually); the
// rest of the batch is delivered.
func TestQueueHandlerPanic(t *testing.T) {
	tests := []struct {
		name      string
		body      string // of message m-2, between two messages that must be delivered
		wantStack string // a frame of the stack logged
	}{
		{name: "history store panics", body: `{"user_id":"boom","message":"x"}`, wantStack: "panickingHistory.Add"},
		{name: "a post of the fan-out panics", body: `{"user_id":"789","message":"x"}`, wantStack: "panickingPoster.PostToConnection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logs := logtest.New()
			w := newWorld(t, notifier.Options{},
				conn("tab-a", "123", time.Hour), conn("tab-c", "456", time.Hour),
				conn("tab-panic", "789", time.Hour), conn("tab-d", "789", time.Hour))
			n := notifier.New(w.conns, panickingHistory{w.hist}, panickingPoster{w.gw.client("/prod")},
				notifier.Options{Logger: log, Now: func() time.Time { return t0 }, Sleep: w.sleep.sleep})
			dlq := &fakeSQS{}
			h := notifier.NewQueueHandler(n, dlq, dlqURL, log)

			resp, err := h.Handle(invocation(t, "lambda-panic"), events.SQSEvent{Records: []events.SQSMessage{
				message("m-1", `{"user_id":"123","message":"before"}`),
				message("m-2", tt.body),
				message("m-3", `{"user_id":"456","message":"after"}`),
			}})
			must(t, err)
			if want := []events.SQSBatchItemFailure{{ItemIdentifier: "m-2"}}; !slices.Equal(resp.BatchItemFailures, want) {
				t.Errorf("BatchItemFailures = %v, want %v", resp.BatchItemFailures, want)
			}
			if len(w.gw.postsTo("tab-a")) != 1 || len(w.gw.postsTo("tab-c")) != 1 {
				t.Errorf("posts to tab-a %d, tab-c %d; want the messages around the panic delivered",
					len(w.gw.postsTo("tab-a")), len(w.gw.postsTo("tab-c")))
			}
			if sent := dlq.all(); len(sent) != 0 {
				t.Errorf("%d dead-letter sends; want none: the redrive policy dead-letters a message that keeps failing", len(sent))
			}
			var panics []map[string]any
			for _, line := range logs.Lines(t) {
				if line["panic"] != nil {
					panics = append(panics, line)
				}
			}
			if len(panics) != 1 {
				t.Fatalf("%d lines with a panic; want it logged once:\n%s", len(panics), logs)
			}
			p := panics[0]
			stack, _ := p["stack"].(string)
			if p["level"] != "ERROR" || !strings.HasSuffix(p["panic"].(string), "bug") || p["message_id"] != "m-2" ||
				p["aws_request_id"] != "lambda-panic" || !strings.Contains(stack, tt.wantStack) {
				t.Errorf("panic logged as %v; want an error of message m-2 with the value and the stack where it happened (%s)", p, tt.wantStack)
			}
		})
	}
}

// TestWelcomeHandlerPanic: a panic while welcoming one record is logged once
// and that record reported as a batch item failure; the others are welcomed.
func TestWelcomeHandlerPanic(t *testing.T) {
	log, logs := logtest.New()
	w := newWorld(t, notifier.Options{})
	n := notifier.New(nil, nil, panickingPoster{w.gw.client("/prod")},
		notifier.Options{Now: func() time.Time { return t0 }, Sleep: w.sleep.sleep})
	h := notifier.NewWelcomeHandler(n, notifier.WelcomeOptions{Logger: log})
	rec := func(seq, connID string) events.DynamoDBEventRecord {
		return events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{SequenceNumber: seq,
			NewImage: map[string]events.DynamoDBAttributeValue{
				"connectionId": events.NewStringAttribute(connID), "userId": events.NewStringAttribute("123")}}}
	}

	resp, err := h.Handle(invocation(t, "lambda-welcome-panic"), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		rec("1", "tab-a"), rec("2", "tab-panic"), rec("3", "tab-b")}})
	must(t, err)
	if want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: "2"}}; !slices.Equal(resp.BatchItemFailures, want) {
		t.Errorf("BatchItemFailures = %v, want %v", resp.BatchItemFailures, want)
	}
	if len(w.gw.postsTo("tab-a")) != 1 || len(w.gw.postsTo("tab-b")) != 1 {
		t.Errorf("the other records were not welcomed")
	}
	if got := strings.Count(logs.String(), `"panic":"poster bug"`); got != 1 {
		t.Errorf("panic logged %d times; want once:\n%s", got, logs)
	}
	logs.Check(t, map[string]string{"aws_request_id": "lambda-welcome-panic"})
}
