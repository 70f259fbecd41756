package notifier_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
	"github.com/finance/fbdi-notify/internal/testing/logtest"
)

const queueURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/fbdi-notify-NotificationQueue"

// sentTo returns the messages f sent to url, in order.
func (f *fakeSQS) sentTo(url string) []*sqs.SendMessageInput {
	var out []*sqs.SendMessageInput
	for _, in := range f.all() {
		if aws.ToString(in.QueueUrl) == url {
			out = append(out, in)
		}
	}
	return out
}

// received returns a sent message as the event source hands it to the function.
func received(id string, in *sqs.SendMessageInput) events.SQSMessage {
	msg := message(id, aws.ToString(in.MessageBody))
	msg.MessageAttributes = map[string]events.SQSMessageAttribute{}
	for name, v := range in.MessageAttributes {
		msg.MessageAttributes[name] = events.SQSMessageAttribute{DataType: aws.ToString(v.DataType), StringValue: v.StringValue}
	}
	return msg
}

// handleOne handles msg alone and fails tb if it is reported as failed.
func handleOne(tb testing.TB, h *notifier.QueueHandler, msg events.SQSMessage) {
	tb.Helper()
	resp, err := h.Handle(ctxOf(tb), events.SQSEvent{Records: []events.SQSMessage{msg}})
	must(tb, err)
	if len(resp.BatchItemFailures) != 0 {
		tb.Fatalf("BatchItemFailures = %v", resp.BatchItemFailures)
	}
}

// delivered counts the posts to id that the gateway accepted: it answers
// with script in order, then ok.
func delivered(posts [][]byte, script []string) [][]byte {
	var out [][]byte
	for i, p := range posts {
		if i >= len(script) || script[i] == ok {
			out = append(out, p)
		}
	}
	return out
}

// TestRetryReachesTheFailedConnectionOnly: a user with three connections,
// one of which fails once for a reason that may pass. The other two get the
// notification once; the failing one gets it once more, byte for byte the
// same, from one delayed redelivery, and nothing else is sent. A permanent
// failure is not retried.
func TestRetryReachesTheFailedConnectionOnly(t *testing.T) {
	tests := []struct {
		name    string
		script  []string      // tab-c's responses
		age     time.Duration // tab-c's age
		reason  string        // the redelivery's reason; "" for no redelivery
		retries int           // the notifier's MaxRetries of a 429
	}{
		{name: "500", script: []string{broken}, age: time.Hour, reason: "HTTP 500"},
		{name: "429 after the retries", script: []string{limited, limited}, age: time.Hour, retries: 1, reason: "throttled"},
		{name: "410 of a new connection", script: []string{gone}, age: time.Second, reason: "not live yet"},
		{name: "410 of an old connection", script: []string{gone}, age: time.Hour},
		{name: "413", script: []string{tooLarge}, age: time.Hour},
		{name: "403", script: []string{forbidden}, age: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, notifier.Options{MaxRetries: tt.retries},
				conn("tab-a", "123", time.Hour), conn("tab-b", "123", time.Hour), conn("tab-c", "123", tt.age))
			w.gw.script("tab-c", append(slices.Clone(tt.script), ok)...)
			q := &fakeSQS{}
			h := notifier.NewQueueHandler(w.n, q, dlqURL, nil).WithOptions(notifier.QueueOptions{QueueURL: queueURL})

			handleOne(t, h, message("m-1", `{"user_id":"123","message":"Budget transfer 602 was approved"}`))

			sent := q.sentTo(queueURL)
			if tt.reason == "" {
				if len(q.all()) != 0 {
					t.Fatalf("sent %d messages, want none for a failure that will not pass", len(q.all()))
				}
				return
			}
			if len(sent) != 1 {
				t.Fatalf("sent %d redeliveries, want 1", len(sent))
			}
			if got := sent[0].DelaySeconds; got != 2 {
				t.Errorf("DelaySeconds = %d, want 2, the first default delay", got)
			}
			if attr(sent[0].MessageAttributes, notifier.AttrRedelivery) != "1" {
				t.Errorf("attributes %v, want %s=1", sent[0].MessageAttributes, notifier.AttrRedelivery)
			}
			if body := aws.ToString(sent[0].MessageBody); !strings.Contains(body, `"reason":"`+tt.reason+`"`) {
				t.Errorf("body %s, want reason %q", body, tt.reason)
			}

			handleOne(t, h, received("m-2", sent[0]))

			first := w.gw.postsTo("tab-a")
			for _, id := range []string{"tab-a", "tab-b"} {
				if got := w.gw.postsTo(id); len(got) != 1 {
					t.Errorf("%s got %d posts, want 1", id, len(got))
				}
			}
			got := delivered(w.gw.postsTo("tab-c"), tt.script)
			if len(got) != 1 {
				t.Fatalf("tab-c accepted %d posts, want 1", len(got))
			}
			if len(first) == 1 && string(got[0]) != string(first[0]) {
				t.Errorf("tab-c got %s, want what tab-a got: %s", got[0], first[0])
			}
			if n := len(q.all()); n != 1 {
				t.Errorf("sent %d messages in all, want the one redelivery", n)
			}
		})
	}
}

// TestRetryRecordsTheLastFailure: a connection that fails every time gets
// one post per attempt, the redeliveries wait the configured delays, and
// after the last one the failure is in the dead-letter queue and in one
// "delivery failed" line. The notification stays in history.
func TestRetryRecordsTheLastFailure(t *testing.T) {
	log, logs := logtest.New()
	w := newWorld(t, notifier.Options{Logger: log}, conn("tab-a", "123", time.Hour), conn("tab-c", "123", time.Hour))
	w.gw.script("tab-c", broken)
	q := &fakeSQS{}
	h := notifier.NewQueueHandler(w.n, q, dlqURL, log).WithOptions(notifier.QueueOptions{QueueURL: queueURL,
		RetryDelays: []time.Duration{2 * time.Second, 10 * time.Second, time.Minute}})

	handleOne(t, h, message("m-1", `{"user_id":"123","message":"hi"}`))
	for i := 0; i < 10 && len(q.sentTo(queueURL)) > i; i++ {
		handleOne(t, h, received(fmt.Sprint("r-", i), q.sentTo(queueURL)[i]))
	}

	var delays []int32
	for _, in := range q.sentTo(queueURL) {
		delays = append(delays, in.DelaySeconds)
	}
	if want := []int32{2, 10, 60}; !slices.Equal(delays, want) {
		t.Errorf("redelivery delays %v, want %v", delays, want)
	}
	if n := len(w.gw.postsTo("tab-c")); n != 4 {
		t.Errorf("tab-c got %d posts, want 4 (1 + 3 redeliveries)", n)
	}
	if n := len(w.gw.postsTo("tab-a")); n != 1 {
		t.Errorf("tab-a got %d posts, want 1", n)
	}
	dead := q.sentTo(dlqURL)
	if len(dead) != 1 {
		t.Fatalf("dead-lettered %d messages, want 1", len(dead))
	}
	reason := attr(dead[0].MessageAttributes, "failure_reason")
	for _, want := range []string{"tab-c (HTTP 500)", "after 4 attempts", "user 123"} {
		if !strings.Contains(reason, want) {
			t.Errorf("failure_reason %q does not say %q", reason, want)
		}
	}
	if body := aws.ToString(dead[0].MessageBody); !strings.Contains(body, `"payload":{`) {
		t.Errorf("dead-lettered body %s does not carry the payload", body)
	}
	var failed []map[string]any
	for _, line := range logs.Lines(t) {
		if line["msg"] == "delivery failed" {
			failed = append(failed, line)
		}
	}
	if len(failed) != 1 {
		t.Fatalf("%d lines \"delivery failed\", want 1\n%s", len(failed), logs)
	}
	items := w.hist.of("123")
	if len(items) != 1 {
		t.Fatalf("history has %d items, want the notification kept", len(items))
	}
	want := map[string]any{"user_id": "123", "notification_id": items[0].Notification.ID, "connection_id": "tab-c",
		"reason": "HTTP 500", "attempts": float64(4)}
	for k, v := range want {
		if failed[0][k] != v {
			t.Errorf("delivery failed: %s = %v, want %v", k, failed[0][k], v)
		}
	}
}

// TestRedeliveryIsChecked: a redelivery posts only to connections its user
// holds; a forged one naming another user's connection posts nothing to it.
// A body of the redelivery shape without the attribute, or the attribute on
// an upstream body, is dead-lettered.
func TestRedeliveryIsChecked(t *testing.T) {
	payload := `{"type":"notification","id":"01JNE4ZK5B0000000000000000","message":"forged"}`
	redelivery := func(user string, ids ...string) string {
		var conns []string
		for _, id := range ids {
			conns = append(conns, `{"id":"`+id+`","reason":"HTTP 500"}`)
		}
		return `{"redelivery":{"user_id":"` + user + `","notification_id":"01JNE4ZK5B0000000000000000","payload":` +
			payload + `,"attempts":1,"connections":[` + strings.Join(conns, ",") + `]}}`
	}
	marked := func(body string) events.SQSMessage {
		m := message("m-1", body)
		m.MessageAttributes = map[string]events.SQSMessageAttribute{
			notifier.AttrRedelivery: {DataType: "String", StringValue: aws.String("1")}}
		return m
	}
	tests := []struct {
		name   string
		msg    events.SQSMessage
		posted map[string]int // connection -> posts
		reason string         // the dead-letter reason; "" for none
	}{
		{name: "own connections", msg: marked(redelivery("123", "tab-a", "tab-b")),
			posted: map[string]int{"tab-a": 1, "tab-b": 1, "tab-x": 0}},
		{name: "another user's connection", msg: marked(redelivery("123", "tab-x", "tab-a")),
			posted: map[string]int{"tab-a": 1, "tab-b": 0, "tab-x": 0}},
		{name: "unknown connection", msg: marked(redelivery("123", "tab-gone")),
			posted: map[string]int{"tab-a": 0, "tab-b": 0, "tab-x": 0}},
		{name: "no attribute", msg: message("m-1", redelivery("123", "tab-a")),
			posted: map[string]int{"tab-a": 0}, reason: `unknown field "redelivery"`},
		{name: "attribute on an upstream body", msg: marked(`{"user_id":"123","message":"hi"}`),
			posted: map[string]int{"tab-a": 0}, reason: "the body is not a redelivery"},
		{name: "no connections", msg: marked(redelivery("123")),
			posted: map[string]int{"tab-a": 0}, reason: "no connections"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, notifier.Options{},
				conn("tab-a", "123", time.Hour), conn("tab-b", "123", time.Hour), conn("tab-x", "456", time.Hour))
			q := &fakeSQS{}
			h := notifier.NewQueueHandler(w.n, q, dlqURL, nil).WithOptions(notifier.QueueOptions{QueueURL: queueURL})

			handleOne(t, h, tt.msg)

			for id, want := range tt.posted {
				posts := w.gw.postsTo(id)
				if len(posts) != want {
					t.Errorf("%s got %d posts, want %d", id, len(posts), want)
				}
				for _, p := range posts {
					if string(p) != payload {
						t.Errorf("%s got %s, want the payload as carried: %s", id, p, payload)
					}
				}
			}
			dead := q.sentTo(dlqURL)
			switch {
			case tt.reason == "" && len(dead) != 0:
				t.Errorf("dead-lettered %d messages, want none", len(dead))
			case tt.reason != "" && len(dead) != 1:
				t.Errorf("dead-lettered %d messages, want 1", len(dead))
			case tt.reason != "" && !strings.Contains(attr(dead[0].MessageAttributes, "failure_reason"), tt.reason):
				t.Errorf("failure_reason %q, want it to say %q", attr(dead[0].MessageAttributes, "failure_reason"), tt.reason)
			}
		})
	}
}

// deadlineCtx has a deadline it never enforces: the handler reads it
// against the test's clock.
type deadlineCtx struct {
	context.Context
	deadline time.Time
}

func (c deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// slowConns is a connection store whose lookups take 4 s on the clock.
type slowConns struct {
	*fakeConns
	clock *clocktest.Clock
}

func (s slowConns) ByUser(ctx context.Context, userID string) ([]connection.Connection, error) {
	s.clock.Advance(4 * time.Second)
	return s.fakeConns.ByUser(ctx, userID)
}

// TestQueueStopsBeforeItsDeadline: with 20 s left, a 5 s reserve and 4 s per
// message, the handler handles 4 of 10 messages and reports the other 6 as
// failures. Delivered again, those 6 are handled, and each of the 10
// notifications reached the connection exactly once.
func TestQueueStopsBeforeItsDeadline(t *testing.T) {
	clock := clocktest.New(t0)
	w := newWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour))
	n := notifier.New(slowConns{w.conns, clock}, w.hist, w.gw.client("/prod"), notifier.Options{Now: clock.Now})
	h := notifier.NewQueueHandler(n, &fakeSQS{}, dlqURL, nil).WithOptions(notifier.QueueOptions{
		QueueURL: queueURL, Reserve: 5 * time.Second, Now: clock.Now})
	var batch []events.SQSMessage
	for i := range 10 {
		batch = append(batch, message(fmt.Sprint("m-", i), fmt.Sprintf(`{"user_id":"123","message":"n%d"}`, i)))
	}

	resp, err := h.Handle(deadlineCtx{ctxOf(t), t0.Add(20 * time.Second)}, events.SQSEvent{Records: batch})
	must(t, err)
	var again []events.SQSMessage
	for _, f := range resp.BatchItemFailures {
		i := slices.IndexFunc(batch, func(m events.SQSMessage) bool { return m.MessageId == f.ItemIdentifier })
		again = append(again, batch[i])
	}
	if want := batch[4:]; !slices.EqualFunc(again, want, func(a, b events.SQSMessage) bool { return a.MessageId == b.MessageId }) {
		t.Fatalf("BatchItemFailures = %v, want the last 6 messages", resp.BatchItemFailures)
	}
	if posts := len(w.gw.postsTo("tab-a")); posts != 4 {
		t.Errorf("%d posts before the deadline, want 4", posts)
	}

	resp, err = h.Handle(deadlineCtx{ctxOf(t), clock.Now().Add(time.Minute)}, events.SQSEvent{Records: again})
	must(t, err)
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("BatchItemFailures = %v on the second delivery, want none", resp.BatchItemFailures)
	}
	var messages []string
	for _, p := range w.gw.postsTo("tab-a") {
		messages = append(messages, decodePost(t, p)["message"].(string))
	}
	slices.Sort(messages)
	if want := []string{"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9"}; !slices.Equal(messages, want) {
		t.Errorf("posted %v, want each notification once: %v", messages, want)
	}
}

// TestRedeliveryOnSQS runs the redelivery loop through a real SQS API
// (moto_server): the redelivery is a message on the queue, with its
// attribute, that the handler then delivers to the failed connection only.
func TestRedeliveryOnSQS(t *testing.T) {
	client := awstest.SQS(t)
	ctx := awstest.Context(t)
	url := awstest.Queue(t, client, "notify-redelivery")
	w := newWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour), conn("tab-c", "123", time.Hour))
	w.gw.script("tab-c", broken, ok)
	h := notifier.NewQueueHandler(w.n, client, "", nil).WithOptions(notifier.QueueOptions{
		QueueURL: url, RetryDelays: []time.Duration{0}})

	handleOne(t, h, message("m-1", `{"user_id":"123","message":"hi"}`))
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1})
	must(t, err)
	if len(out.Messages) != 1 {
		t.Fatalf("queue holds %d messages, want the redelivery", len(out.Messages))
	}
	got := out.Messages[0]
	msg := message(aws.ToString(got.MessageId), aws.ToString(got.Body))
	msg.MessageAttributes = map[string]events.SQSMessageAttribute{}
	for name, v := range got.MessageAttributes {
		msg.MessageAttributes[name] = events.SQSMessageAttribute{DataType: aws.ToString(v.DataType), StringValue: v.StringValue}
	}
	handleOne(t, h, msg)

	a, c := w.gw.postsTo("tab-a"), w.gw.postsTo("tab-c")
	if len(a) != 1 || len(c) != 2 || string(c[1]) != string(a[0]) {
		t.Errorf("tab-a got %q, tab-c got %q: want one post to tab-a and its bytes again to tab-c", a, c)
	}
	var body map[string]json.RawMessage
	must(t, json.Unmarshal([]byte(aws.ToString(got.Body)), &body))
	if _, found := body["redelivery"]; !found {
		t.Errorf("body %s is not a redelivery", aws.ToString(got.Body))
	}
}

func TestParseRetryDelays(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []time.Duration
		wantErr bool
	}{
		{name: "unset", in: "", want: notifier.DefaultRetryDelays()},
		{name: "none", in: "none", want: []time.Duration{}},
		{name: "list with spaces", in: "0s, 1s,15m", want: []time.Duration{0, time.Second, 15 * time.Minute}},
		{name: "over SQS's limit", in: "16m", wantErr: true},
		{name: "negative", in: "-1s", wantErr: true},
		{name: "empty item", in: "1s,,2s", wantErr: true},
		{name: "not a duration", in: "2", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := notifier.ParseRetryDelays(tt.in)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) || (err == nil && got == nil) {
				t.Errorf("ParseRetryDelays(%q) = %v, %v; want %v (error: %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil {
				return
			}
			// FormatRetryDelays writes what ParseRetryDelays reads back.
			if back, err := notifier.ParseRetryDelays(notifier.FormatRetryDelays(got)); err != nil || !slices.Equal(back, got) {
				t.Errorf("ParseRetryDelays(FormatRetryDelays(%v)) = %v, %v", got, back, err)
			}
		})
	}
}
