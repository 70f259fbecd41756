package notifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/oklog/ulid/v2"

	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/internal/userid"
)

const dlqURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/fbdi-notify-NotificationDeadLetterQueue"

// fakeSQS records SendMessage calls.
type fakeSQS struct {
	mu   sync.Mutex
	sent []*sqs.SendMessageInput
	err  error // returned by SendMessage when set
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sqs.SendMessageOutput{MessageId: aws.String(fmt.Sprintf("dlq-%d", len(f.sent)))}, nil
}

func (f *fakeSQS) all() []*sqs.SendMessageInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// attr returns the string value of a message attribute, or "" if absent.
func attr(attrs map[string]sqstypes.MessageAttributeValue, name string) string {
	if v, found := attrs[name]; found && v.StringValue != nil {
		return *v.StringValue
	}
	return ""
}

// sqsEvent returns testdata/sqs-event.json.
func sqsEvent(tb testing.TB) events.SQSEvent {
	tb.Helper()
	var ev events.SQSEvent
	must(tb, json.Unmarshal(readTestdata(tb, "sqs-event.json"), &ev))
	if len(ev.Records) != 4 {
		tb.Fatalf("testdata/sqs-event.json has %d records, want 4", len(ev.Records))
	}
	return ev
}

// message returns one SQS record with body, sent at t0.
func message(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: body, EventSource: "aws:sqs",
		Attributes: map[string]string{"SentTimestamp": fmt.Sprint(t0.UnixMilli()), "ApproximateReceiveCount": "1"}}
}

func TestQueueHandlesAMixedBatch(t *testing.T) {
	w := newWorld(t, notifier.Options{},
		conn("tab-a", "123", time.Hour), conn("tab-b", "123", time.Hour), conn("tab-c", "456", time.Hour))
	w.hist.failOn["flaky"] = errors.New("ProvisionedThroughputExceededException")
	dlq := &fakeSQS{}
	h := notifier.NewQueueHandler(w.n, dlq, dlqURL, nil)
	ev := sqsEvent(t)

	resp, err := h.Handle(ctxOf(t), ev)
	must(t, err)

	// Only the message whose history write failed is retried.
	want := []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[3].MessageId}}
	if !slices.Equal(resp.BatchItemFailures, want) {
		t.Errorf("BatchItemFailures = %v, want %v", resp.BatchItemFailures, want)
	}
	// The malformed one is kept in the dead-letter queue with its reason.
	sent := dlq.all()
	if len(sent) != 1 {
		t.Fatalf("%d dead-letter sends, want 1", len(sent))
	}
	if *sent[0].QueueUrl != dlqURL || *sent[0].MessageBody != ev.Records[2].Body {
		t.Errorf("dead-lettered %q to %s, want the original body %q", *sent[0].MessageBody, *sent[0].QueueUrl, ev.Records[2].Body)
	}
	if reason := attr(sent[0].MessageAttributes, "failure_reason"); !strings.Contains(reason, "not valid JSON") {
		t.Errorf("failure_reason %q, want it to say the JSON is invalid", reason)
	}
	if src := attr(sent[0].MessageAttributes, "source_message_id"); src != ev.Records[2].MessageId {
		t.Errorf("source_message_id %q, want %q", src, ev.Records[2].MessageId)
	}
	// The others are delivered.
	if n := len(w.hist.of("123")); n != 2 {
		t.Errorf("user 123 has %d history items, want 2", n)
	}
	if n := len(w.hist.of("456")); n != 1 {
		t.Errorf("user 456 has %d history items, want 1", n)
	}
	for id, want := range map[string]int{"tab-a": 2, "tab-b": 2, "tab-c": 1} {
		if got := len(w.gw.postsTo(id)); got != want {
			t.Errorf("%d posts to %s, want %d", got, id, want)
		}
	}
	// Numbers in data reach the browser exactly as sent.
	if first := w.gw.postsTo("tab-a"); len(first) == 0 || !strings.Contains(string(first[0]), `"amount":12345678901234567890`) {
		t.Errorf("first post %s, want the amount unchanged", first)
	}
}

func TestQueueDeadLettersMalformedMessages(t *testing.T) {
	big := strings.Repeat("x", notifier.MaxPayload)
	tests := []struct {
		name       string
		body       string
		wantReason string // contained in failure_reason
	}{
		{name: "invalid JSON", body: `{"user_id":"123",`, wantReason: "not valid JSON"},
		{name: "array", body: `["123"]`, wantReason: "JSON array, not an object"},
		{name: "null", body: `null`, wantReason: "not an object"},
		{name: "trailing data", body: `{"user_id":"123","message":"hi"} {}`, wantReason: "not valid JSON"},
		{name: "unknown type", body: `{"user_id":"123","type":"sms","message":"hi"}`, wantReason: `unknown type "sms"`},
		{name: "server-only type", body: `{"user_id":"123","type":"connection_established","message":"hi"}`,
			wantReason: `unknown type "connection_established"`},
		{name: "type not a string", body: `{"user_id":"123","type":7,"message":"hi"}`, wantReason: "field type: want a string"},
		{name: "missing user", body: `{"type":"notification","message":"hi"}`, wantReason: "missing user_id"},
		{name: "null user", body: `{"user_id":null,"message":"hi"}`, wantReason: "missing user_id"},
		{name: "empty user", body: `{"user_id":" ","message":"hi"}`, wantReason: "invalid user id: empty or blank"},
		{name: "overlong user", body: `{"user_id":"` + strings.Repeat("u", userid.MaxLength+1) + `","message":"hi"}`,
			wantReason: "invalid user id: longer than 256 bytes"},
		{name: "fractional user", body: `{"user_id":12.5,"message":"hi"}`, wantReason: "invalid user id: 12.5 is not a whole number"},
		{name: "user beyond 2^53", body: `{"user_id":9007199254740993,"message":"hi"}`,
			wantReason: "invalid user id: 9007199254740993 is beyond ±9007199254740991; send a larger id as a string"},
		{name: "boolean user", body: `{"user_id":true,"message":"hi"}`, wantReason: "invalid user id: got true or false"},
		{name: "empty user_ids", body: `{"user_ids":[],"message":"hi"}`, wantReason: "user_ids is empty"},
		{name: "object in user_ids", body: `{"user_ids":["1",{}],"message":"hi"}`, wantReason: "invalid user id: got a JSON object"},
		{name: "null in user_ids", body: `{"user_ids":["1",null],"message":"hi"}`, wantReason: "invalid user id: missing"},
		{name: "user_ids not an array", body: `{"user_ids":"1,2","message":"hi"}`, wantReason: "want an array of strings"},
		{name: "both user fields", body: `{"user_id":"1","user_ids":["2"],"message":"hi"}`, wantReason: "both user_id and user_ids"},
		{name: "missing message", body: `{"user_id":"123","data":{"a":1}}`, wantReason: "missing message"},
		{name: "data not an object", body: `{"user_id":"123","message":"hi","data":[1]}`, wantReason: "field data: got a JSON array, want an object"},
		{name: "misspelt field", body: `{"user_id":"123","mesage":"hi"}`, wantReason: `unknown field "mesage" for type notification`},
		{name: "field of another type", body: `{"user_id":"123","message":"hi","step":"Upload"}`,
			wantReason: `unknown field "step" for type notification`},
		{name: "missing transaction", body: `{"user_id":"123","type":"oracle_upload_started","message":"go"}`,
			wantReason: "missing transaction_id"},
		{name: "transaction id a number", body: `{"user_id":"123","type":"oracle_upload_started","transaction_id":602}`,
			wantReason: "field transaction_id: got a JSON number, want a string"},
		{name: "progress without step",
			body:       `{"user_id":"1","type":"oracle_upload_progress","transaction_id":"602","step_number":1,"total_steps":5,"status":"processing"}`,
			wantReason: "missing step"},
		{name: "progress step out of range",
			body:       `{"user_id":"1","type":"oracle_upload_progress","transaction_id":"602","step":"Verify","step_number":6,"total_steps":5,"status":"processing"}`,
			wantReason: "step_number 6 of total_steps 5"},
		{name: "progress step number a string",
			body:       `{"user_id":"1","type":"oracle_upload_progress","transaction_id":"602","step":"Verify","step_number":"5","total_steps":5,"status":"processing"}`,
			wantReason: "field step_number: got a JSON string, want an integer"},
		{name: "progress unknown status",
			body:       `{"user_id":"1","type":"oracle_upload_progress","transaction_id":"602","step":"Verify","step_number":5,"total_steps":5,"status":"done"}`,
			wantReason: `status "done"`},
		{name: "completed with success false", body: `{"user_id":"1","type":"oracle_upload_completed","transaction_id":"602","success":false}`,
			wantReason: "success is false"},
		{name: "failed without error", body: `{"user_id":"1","type":"oracle_upload_failed","transaction_id":"602","message":"Import failed"}`,
			wantReason: "missing error"},
		{name: "bad category", body: `{"user_id":"123","message":"hi","category":"AP Invoices"}`, wantReason: "field category: a category is"},
		{name: "critical on a workflow type", body: `{"user_id":"123","type":"oracle_upload_started","transaction_id":"602","critical":true}`, wantReason: "critical"},
		{name: "critical not a boolean", body: `{"user_id":"123","message":"hi","critical":"yes"}`, wantReason: "critical"},
		{name: "profile without user", body: `{"type":"user_profile","email":"a@example.com"}`, wantReason: "missing user_id"},
		{name: "profile with a named address", body: `{"type":"user_profile","user_id":"1","email":"Ann <a@example.com>"}`,
			wantReason: "field email: not a bare e-mail address"},
		{name: "profile with a bad locale", body: `{"type":"user_profile","user_id":"1","locale":"en_US!"}`, wantReason: "field locale"},
		{name: "profile with a local phone number", body: `{"type":"user_profile","user_id":"1","phone":"555 0100"}`, wantReason: "field phone"},
		{name: "profile with categories", body: `{"type":"user_profile","user_id":"1","categories":{}}`,
			wantReason: `unknown field "categories" for type user_profile`},
		{name: "preferences with an address", body: `{"type":"set_preferences","user_id":"1","email":"a@example.com","categories":{}}`,
			wantReason: `unknown field "email" for type set_preferences`},
		{name: "preferences bad category", body: `{"type":"set_preferences","user_id":"1","categories":{"A B":{"in_app":true}}}`,
			wantReason: "categories.A B: a category is"},
		{name: "preferences unknown channel", body: `{"type":"set_preferences","user_id":"1","categories":{"ap":{"sms":true}}}`,
			wantReason: "categories.ap.sms: unknown channel"},
		{name: "preferences without categories", body: `{"type":"set_preferences","user_id":"1"}`, wantReason: "missing categories"},
		{name: "id not a ULID", body: `{"id":"42","user_id":"123","message":"hi"}`, wantReason: `field id: "42" is not a ULID`},
		{name: "body over the limit", body: `{"user_id":"123","message":"` + big + `"}`, wantReason: "must fit in 131072"},
		{name: "over the limit once stamped", body: `{"user_id":"123","message":"` + big[:notifier.MaxPayload-60] + `"}`,
			wantReason: "does not fit in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour))
			dlq := &fakeSQS{}
			h := notifier.NewQueueHandler(w.n, dlq, dlqURL, nil)
			msg := message("m-1", tt.body)

			resp, err := h.Handle(ctxOf(t), events.SQSEvent{Records: []events.SQSMessage{msg}})
			must(t, err)

			if len(resp.BatchItemFailures) != 0 {
				t.Errorf("BatchItemFailures = %v, want none: a malformed message is not retried", resp.BatchItemFailures)
			}
			sent := dlq.all()
			if len(sent) != 1 {
				t.Fatalf("%d dead-letter sends, want 1", len(sent))
			}
			if *sent[0].MessageBody != tt.body {
				t.Errorf("dead-lettered body %.80q, want the original %.80q", *sent[0].MessageBody, tt.body)
			}
			if reason := attr(sent[0].MessageAttributes, "failure_reason"); !strings.Contains(reason, tt.wantReason) {
				t.Errorf("failure_reason %q, want it to contain %q", reason, tt.wantReason)
			}
			if src := attr(sent[0].MessageAttributes, "source_message_id"); src != "m-1" {
				t.Errorf("source_message_id %q, want m-1", src)
			}
			if adds, posts := w.hist.addCalls(), w.gw.totalPosts(); adds != 0 || posts != 0 {
				t.Errorf("%d history writes and %d posts for a malformed message, want none", adds, posts)
			}
		})
	}
}

func TestQueueDeliversEveryType(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string]any // the posted notification without id and timestamp
	}{
		{name: "type defaults to notification", body: `{"user_id":"123","message":"Hello"}`,
			want: map[string]any{"category": "general", "type": "notification", "message": "Hello", "data": map[string]any{}}}, // data is always an object, as the old module sent it
		{name: "notification with data", body: `{"user_id":"123","type":"notification","message":"Hi","data":{"k":[1,"a"]}}`,
			want: map[string]any{"category": "general", "type": "notification", "message": "Hi", "data": map[string]any{"k": []any{1.0, "a"}}}},
		{name: "notification with a category", body: `{"user_id":"123","message":"Hi","category":"ap.invoices"}`,
			want: map[string]any{"category": "ap.invoices", "type": "notification", "message": "Hi", "data": map[string]any{}}},
		{name: "critical notification", body: `{"user_id":"123","message":"Payroll run failed","critical":true}`,
			want: map[string]any{"category": "general", "critical": true, "type": "notification", "message": "Payroll run failed", "data": map[string]any{}}},
		{name: "critical false", body: `{"user_id":"123","message":"Hi","critical":false}`,
			want: map[string]any{"category": "general", "type": "notification", "message": "Hi", "data": map[string]any{}}},
		{name: "integer user id, as Django sends primary keys", body: `{"user_id":123,"message":"Hello"}`,
			want: map[string]any{"category": "general", "type": "notification", "message": "Hello", "data": map[string]any{}}},
		{name: "user id in exponent notation", body: `{"user_id":1.23e2,"message":"Hello"}`,
			want: map[string]any{"category": "general", "type": "notification", "message": "Hello", "data": map[string]any{}}},
		{name: "integer in user_ids", body: `{"user_ids":[123],"type":"oracle_upload_started","transaction_id":"602","message":"Starting"}`,
			want: map[string]any{"category": "fbdi", "type": "oracle_upload_started", "transaction_id": "602", "message": "Starting"}},
		{name: "upload started", body: `{"user_ids":["123"],"type":"oracle_upload_started","transaction_id":"602","message":"Starting"}`,
			want: map[string]any{"category": "fbdi", "type": "oracle_upload_started", "transaction_id": "602", "message": "Starting"}},
		{name: "upload progress",
			body: `{"user_id":"123","type":"oracle_upload_progress","transaction_id":"602","step":"Budget Import","step_number":4,"total_steps":5,"status":"completed","message":"Imported"}`,
			want: map[string]any{"category": "fbdi", "type": "oracle_upload_progress", "transaction_id": "602", "step": "Budget Import",
				"step_number": 4.0, "total_steps": 5.0, "status": "completed", "message": "Imported"}},
		{name: "upload completed", body: `{"user_id":"123","type":"oracle_upload_completed","transaction_id":"602","message":"Done","success":true,"result_path":"/out/602.csv"}`,
			want: map[string]any{"category": "fbdi", "type": "oracle_upload_completed", "transaction_id": "602", "message": "Done", "success": true,
				"result_path": "/out/602.csv"}},
		{name: "upload completed without success field", body: `{"user_id":"123","type":"oracle_upload_completed","transaction_id":"602"}`,
			want: map[string]any{"category": "fbdi", "type": "oracle_upload_completed", "transaction_id": "602", "success": true}},
		{name: "upload failed", body: `{"user_id":"123","type":"oracle_upload_failed","transaction_id":"602","message":"Failed","error":"ESS job 42: ERROR"}`,
			want: map[string]any{"category": "fbdi", "critical": true, "type": "oracle_upload_failed", "transaction_id": "602", "message": "Failed", "error": "ESS job 42: ERROR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour))
			dlq := &fakeSQS{}
			h := notifier.NewQueueHandler(w.n, dlq, dlqURL, nil)

			resp, err := h.Handle(ctxOf(t), events.SQSEvent{Records: []events.SQSMessage{message("m-1", tt.body)}})
			must(t, err)

			if len(resp.BatchItemFailures) != 0 || len(dlq.all()) != 0 {
				t.Fatalf("failures %v, dead-lettered %d, want a delivery", resp.BatchItemFailures, len(dlq.all()))
			}
			posts := w.gw.postsTo("tab-a")
			if len(posts) != 1 {
				t.Fatalf("%d posts, want 1", len(posts))
			}
			got := decodePost(t, posts[0])
			if got["timestamp"] != "2026-03-01T12:00:00Z" {
				t.Errorf("timestamp %v, want the SentTimestamp 2026-03-01T12:00:00Z", got["timestamp"])
			}
			if got["cursor"] != "c1" {
				t.Errorf("cursor %v, want the first position's c1", got["cursor"])
			}
			delete(got, "id")
			delete(got, "timestamp")
			delete(got, "cursor")
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("posted %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQueueReportsAMessageItCannotDeadLetter(t *testing.T) {
	tests := []struct {
		name    string
		dlqURL  string
		sendErr error
	}{
		{name: "dead-letter send fails", dlqURL: dlqURL, sendErr: errors.New("AccessDenied")},
		{name: "no dead-letter queue configured", dlqURL: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour))
			dlq := &fakeSQS{err: tt.sendErr}
			h := notifier.NewQueueHandler(w.n, dlq, tt.dlqURL, nil)
			ev := events.SQSEvent{Records: []events.SQSMessage{
				message("bad", `{"user_id":`), message("good", `{"user_id":"123","message":"hi"}`)}}

			resp, err := h.Handle(ctxOf(t), ev)
			must(t, err)

			if want := []events.SQSBatchItemFailure{{ItemIdentifier: "bad"}}; !slices.Equal(resp.BatchItemFailures, want) {
				t.Errorf("BatchItemFailures = %v, want %v so the redrive policy keeps it", resp.BatchItemFailures, want)
			}
			if posts := len(w.gw.postsTo("tab-a")); posts != 1 {
				t.Errorf("%d posts, want the good message delivered once", posts)
			}
		})
	}
}

func TestQueueStoresADuplicateDeliveryOnce(t *testing.T) {
	w := newWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour))
	h := notifier.NewQueueHandler(w.n, &fakeSQS{}, dlqURL, nil)
	ev := sqsEvent(t)
	first := ev.Records[0]
	again := first
	again.ReceiptHandle, again.Attributes = "second-receipt", map[string]string{
		"SentTimestamp": first.Attributes["SentTimestamp"], "ApproximateReceiveCount": "2"}
	resent := first // the producer sent the same body twice: two messages
	resent.MessageId = "5e6f7a8b-9c0d-4e1f-2a3b-4c5d6e7f8a09"

	for _, msg := range []events.SQSMessage{first, again, first, resent} {
		resp, err := h.Handle(ctxOf(t), events.SQSEvent{Records: []events.SQSMessage{msg}})
		must(t, err)
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("BatchItemFailures = %v", resp.BatchItemFailures)
		}
	}

	items := w.hist.of("123")
	if len(items) != 2 {
		t.Fatalf("history has %d items, want 2 (one per SQS message)", len(items))
	}
	for _, it := range items {
		id, err := ulid.ParseStrict(it.Notification.ID)
		must(t, err)
		if fmt.Sprint(id.Time()) != first.Attributes["SentTimestamp"] {
			t.Errorf("ID %s has time %d, want the SentTimestamp %s", id, id.Time(), first.Attributes["SentTimestamp"])
		}
	}
}

func TestQueueKeepsTheMessageID(t *testing.T) {
	w := newWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour))
	h := notifier.NewQueueHandler(w.n, &fakeSQS{}, dlqURL, nil)
	sent := t0.Add(-time.Hour) // the producer's own ID carries its own time
	id := ulid.MustNew(ulid.Timestamp(sent), strings.NewReader("0123456789")).String()
	withID := message("m-1", `{"id":"`+id+`","user_id":"123","message":"hi"}`)
	unsent := message("m-2", `{"user_id":"123","message":"no SentTimestamp"}`)
	unsent.Attributes = nil

	_, err := h.Handle(ctxOf(t), events.SQSEvent{Records: []events.SQSMessage{withID, unsent}})
	must(t, err)

	items := w.hist.of("123") // oldest first
	if len(items) != 2 {
		t.Fatalf("history has %d items, want 2", len(items))
	}
	if got := items[0].Notification; got.ID != id || !got.Timestamp.Equal(sent) || got.Message != "hi" {
		t.Errorf("first item %s at %v (%q), want %s at %v", got.ID, got.Timestamp, got.Message, id, sent)
	}
	// Without SentTimestamp the notification is stamped with the clock.
	if got := items[1].Notification; !got.Timestamp.Equal(t0) || got.Message != "no SentTimestamp" {
		t.Errorf("second item at %v (%q), want the clock's %v", got.Timestamp, got.Message, t0)
	}
}

// TestQueueDeadLetterQueueOnSQS runs the dead-letter leg against a real SQS API (moto_server).
func TestQueueDeadLetterQueueOnSQS(t *testing.T) {
	client := awstest.SQS(t)
	ctx := awstest.Context(t)
	created, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName(t, "notify-dlq"))})
	must(t, err)
	w := newWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour))
	w.hist.failOn["flaky"] = errors.New("ProvisionedThroughputExceededException")
	h := notifier.NewQueueHandler(w.n, client, *created.QueueUrl, nil)
	ev := sqsEvent(t)

	resp, err := h.Handle(ctx, ev)
	must(t, err)

	if want := []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[3].MessageId}}; !slices.Equal(resp.BatchItemFailures, want) {
		t.Errorf("BatchItemFailures = %v, want %v", resp.BatchItemFailures, want)
	}
	if posts := len(w.gw.postsTo("tab-a")); posts != 2 {
		t.Errorf("%d posts, want the two valid messages for user 123 delivered", posts)
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: created.QueueUrl, MaxNumberOfMessages: 10,
		MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1})
	must(t, err)
	if len(out.Messages) != 1 {
		t.Fatalf("dead-letter queue holds %d messages, want 1", len(out.Messages))
	}
	got := out.Messages[0]
	if *got.Body != ev.Records[2].Body {
		t.Errorf("body %q, want the original %q", *got.Body, ev.Records[2].Body)
	}
	if reason := attr(got.MessageAttributes, "failure_reason"); !strings.Contains(reason, "not valid JSON") {
		t.Errorf("failure_reason %q, want it to say the JSON is invalid", reason)
	}
	if src := attr(got.MessageAttributes, "source_message_id"); src != ev.Records[2].MessageId {
		t.Errorf("source_message_id %q, want %q", src, ev.Records[2].MessageId)
	}
}
