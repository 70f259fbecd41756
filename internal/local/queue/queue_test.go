package queue_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/finance/fbdi-notify/internal/local/queue"
	"github.com/finance/fbdi-notify/internal/testing/bgtest"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
)

// newServer starts a broker with queues "work" (DLQ "work-dlq" after 2
// receives) and returns it with a real SDK client pointed at it.
func newServer(tb testing.TB, visibility time.Duration) (*queue.Broker, *sqs.Client, string) {
	tb.Helper()
	srv := httptest.NewUnstartedServer(nil)
	b := queue.NewBroker(queue.Options{BaseURL: "http://" + srv.Listener.Addr().String()})
	srv.Config.Handler = b
	srv.Start()
	tb.Cleanup(srv.Close)
	for _, q := range []queue.QueueConfig{
		{Name: "work", VisibilityTimeout: visibility, MaxReceiveCount: 2, DeadLetterQueue: "work-dlq"},
		{Name: "work-dlq"},
	} {
		if err := b.CreateQueue(q); err != nil {
			tb.Fatal(err)
		}
	}
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(srv.URL),
	})
	return b, client, b.QueueURL("work")
}

func TestSDKSendReceiveDelete(t *testing.T) {
	_, client, url := newServer(t, time.Minute)
	ctx := context.Background()

	got, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("work")})
	if err != nil || aws.ToString(got.QueueUrl) != url {
		t.Fatalf("GetQueueUrl = %v, %v; want %s", got, err, url)
	}
	// The SDK checks MD5OfMessageBody and MD5OfMessageAttributes on send and receive.
	sent, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(`{"user_id":"1"}`),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"reason": {DataType: aws.String("String"), StringValue: aws.String("bad json")},
			"n":      {DataType: aws.String("Number"), StringValue: aws.String("7")},
			"blob":   {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
		}})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	batch, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("second")},
		{Id: aws.String("b"), MessageBody: aws.String("third")},
		{Id: aws.String("c"), MessageBody: aws.String("late"), DelaySeconds: 900},
	}})
	if err != nil || len(batch.Successful) != 3 || len(batch.Failed) != 0 {
		t.Fatalf("SendMessageBatch = %+v, %v", batch, err)
	}

	recv, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
		MessageAttributeNames: []string{"All"}})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	var bodies []string
	for _, m := range recv.Messages {
		bodies = append(bodies, aws.ToString(m.Body))
	}
	if strings.Join(bodies, "|") != `{"user_id":"1"}|second|third` {
		t.Fatalf("received %q; want the three undelayed messages in order", bodies)
	}
	first := recv.Messages[0]
	if aws.ToString(first.MessageId) != aws.ToString(sent.MessageId) ||
		aws.ToString(first.MessageAttributes["reason"].StringValue) != "bad json" {
		t.Fatalf("first message = %+v", first)
	}
	again, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
	if err != nil || len(again.Messages) != 0 {
		t.Fatalf("in-flight and delayed messages must be invisible; got %d, %v", len(again.Messages), err)
	}
	for _, m := range recv.Messages {
		if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatalf("DeleteMessage: %v", err)
		}
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if a := attrs.Attributes; a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesDelayed"] != "1" {
		t.Fatalf("attributes = %v; want 0 visible and 1 delayed", a)
	}
}

func TestSDKErrors(t *testing.T) {
	_, client, url := newServer(t, time.Minute)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want func(error) bool
	}{
		{"unknown queue name", func() error {
			_, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
			return err
		}, func(err error) bool { var e *types.QueueDoesNotExist; return errors.As(err, &e) }},
		{"send to unknown queue url", func() error {
			_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(strings.Replace(url, "work", "nope", 1)),
				MessageBody: aws.String("x")})
			return err
		}, func(err error) bool { var e *types.QueueDoesNotExist; return errors.As(err, &e) }},
		{"oversize body", func() error {
			_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(strings.Repeat("x", queue.DefaultMaxMessageBytes+1))})
			return err
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "InvalidParameterValue") }},
		{"empty batch", func() error {
			_, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{}})
			return err
		}, func(err error) bool { var e *types.EmptyBatchRequest; return errors.As(err, &e) }},
		{"duplicate batch ids", func() error {
			_, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{
				{Id: aws.String("a"), MessageBody: aws.String("1")}, {Id: aws.String("a"), MessageBody: aws.String("2")}}})
			return err
		}, func(err error) bool { var e *types.BatchEntryIdsNotDistinct; return errors.As(err, &e) }},
		{"delay over 15 minutes", func() error {
			_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"), DelaySeconds: 901})
			return err
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "InvalidParameterValue") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !tt.want(err) {
				t.Fatalf("error = %v", err)
			}
		})
	}
}

// recorder is an SQS handler that fails the messages whose body is in fail,
// records each delivery and signals on got.
type recorder struct {
	mu    sync.Mutex
	seen  []events.SQSMessage
	fail  map[string]bool
	err   error
	panic bool
	// unknown makes the response name a message that is not in the batch.
	unknown bool
	got     chan events.SQSMessage
}

func (r *recorder) handle(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		r.seen = append(r.seen, m)
		r.got <- m
		if r.fail[m.Body] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	if r.unknown {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: "not-in-the-batch"})
	}
	if r.panic {
		panic("boom")
	}
	return resp, r.err
}

func next(t *testing.T, ch chan events.SQSMessage) events.SQSMessage {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery within 10s")
	}
	return events.SQSMessage{}
}

// consume runs b.Consume on queue "work" until the test ends.
func consume(tb testing.TB, b *queue.Broker, h queue.Handler, opts queue.SourceOptions) {
	tb.Helper()
	bgtest.Background(tb, "Consume", 10*time.Second, func(ctx context.Context) error {
		return b.Consume(ctx, "work", h, opts)
	})
}

func TestConsumePartialFailureRetryAndDeadLetter(t *testing.T) {
	b, _, _ := newServer(t, 50*time.Millisecond)
	rec := &recorder{fail: map[string]bool{"bad": true}, got: make(chan events.SQSMessage, 100)}
	consume(t, b, rec.handle, queue.SourceOptions{Concurrency: 1})

	if _, err := b.Send("work", "good", -1, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send("work", "bad", -1, map[string]queue.Attribute{"k": {DataType: "String", StringValue: "v"}}); err != nil {
		t.Fatal(err)
	}
	counts := map[string][]string{}
	for range 3 { // good once, bad twice (maxReceiveCount 2)
		m := next(t, rec.got)
		counts[m.Body] = append(counts[m.Body], m.Attributes["ApproximateReceiveCount"])
	}
	if strings.Join(counts["good"], ",") != "1" || strings.Join(counts["bad"], ",") != "1,2" {
		t.Fatalf("receive counts = %v; want good [1], bad [1 2]", counts)
	}
	dlq, err := b.Receive("work-dlq", 10, time.Minute, 10*time.Second, nil)
	if err != nil || len(dlq) != 1 || dlq[0].Body != "bad" || dlq[0].Attributes["k"].StringValue != "v" {
		t.Fatalf("dead-letter queue = %+v, %v; want the bad message with its attributes", dlq, err)
	}
	if got := b.Event("work-dlq", dlq).Records[0].Attributes["DeadLetterQueueSourceArn"]; got != b.QueueARN("work") {
		t.Fatalf("DeadLetterQueueSourceArn = %q; want %q", got, b.QueueARN("work"))
	}
	select {
	case m := <-rec.got:
		t.Fatalf("unexpected delivery after dead-lettering: %q", m.Body)
	default:
	}
	if v, f, d, _ := b.Counts("work"); v+f+d != 0 {
		t.Fatalf("work queue still holds %d messages", v+f+d)
	}
}

func TestConsumeFailedInvocationRetriesWholeBatch(t *testing.T) {
	for _, tt := range []struct {
		name    string
		err     error
		panic   bool
		unknown bool
	}{{"error", errors.New("down"), false, false}, {"panic", nil, true, false}, {"unknown item identifier", nil, false, true}} {
		t.Run(tt.name, func(t *testing.T) {
			b, _, _ := newServer(t, 50*time.Millisecond)
			rec := &recorder{got: make(chan events.SQSMessage, 100), err: tt.err, panic: tt.panic, unknown: tt.unknown}
			consume(t, b, rec.handle, queue.SourceOptions{Concurrency: 1})
			if _, err := b.Send("work", "m", -1, nil); err != nil {
				t.Fatal(err)
			}
			first, second := next(t, rec.got), next(t, rec.got)
			if first.MessageId != second.MessageId || second.Attributes["ApproximateReceiveCount"] != "2" {
				t.Fatalf("want the same message redelivered with receive count 2; got %+v then %+v", first, second)
			}
		})
	}
}

func TestDelayedMessageIsHeldBack(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	b := queue.NewBroker(queue.Options{Now: clock.Now})
	if err := b.CreateQueue(queue.QueueConfig{Name: "q"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send("q", "later", 5*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := b.Receive("q", 10, 0, 0, nil); len(msgs) != 0 {
		t.Fatalf("delayed message received early: %+v", msgs)
	}
	clock.Advance(5 * time.Second)
	if msgs, _ := b.Receive("q", 10, 0, 0, nil); len(msgs) != 1 || msgs[0].Body != "later" {
		t.Fatalf("after the delay got %+v; want the message", msgs)
	}
}

func TestEventShape(t *testing.T) {
	b := queue.NewBroker(queue.Options{})
	if err := b.CreateQueue(queue.QueueConfig{Name: "notifications"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send("notifications", `{"user_id":"1"}`, 0, nil); err != nil {
		t.Fatal(err)
	}
	msgs, _ := b.Receive("notifications", 1, 0, 0, nil)
	ev := b.Event("notifications", msgs)
	r := ev.Records[0]
	if r.EventSource != "aws:sqs" || r.EventSourceARN != "arn:aws:sqs:us-east-1:000000000000:notifications" ||
		r.AWSRegion != "us-east-1" || r.ReceiptHandle == "" || r.Md5OfBody != "2ca66569925e58272c533a0495e32af4" ||
		r.Attributes["ApproximateReceiveCount"] != "1" || r.Attributes["SentTimestamp"] == "" {
		t.Fatalf("record = %+v", r)
	}
}

func BenchmarkSendToHandler(b *testing.B) {
	br := queue.NewBroker(queue.Options{})
	if err := br.CreateQueue(queue.QueueConfig{Name: "q"}); err != nil {
		b.Fatal(err)
	}
	got := make(chan struct{}, 1)
	stop := bgtest.Background(b, "Consume", 10*time.Second, func(ctx context.Context) error {
		return br.Consume(ctx, "q", func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			got <- struct{}{}
			return events.SQSEventResponse{}, nil
		}, queue.SourceOptions{Concurrency: 1, BatchSize: 1})
	})
	defer stop()
	b.ResetTimer()
	for range b.N {
		if _, err := br.Send("q", "x", 0, nil); err != nil {
			b.Fatal(err)
		}
		<-got
	}
}
