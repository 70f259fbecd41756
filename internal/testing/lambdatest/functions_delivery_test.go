package lambdatest_test

// The functions that deliver to WebSocket clients: WelcomeFunction (the
// connections table's stream), NotifyFunction (the notification queue) and
// WorkerFunction (the workflow queue, driving Oracle through oraclesim).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/finance/fbdi-notify/internal/local/oraclesim"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
	"github.com/finance/fbdi-notify/internal/testing/metricstest"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// queued is an SQS message as the Lambda event source mapping delivers it.
type queued struct {
	id, body   string
	receipt    string            // "" keeps the fixture's receipt handle
	attributes map[string]string // nil keeps the fixture's attributes
}

// appendRecords adds one record per message to an SQS fixture, each a copy
// of the fixture's first record with the message's fields.
func appendRecords(msgs ...queued) edit { return sqsRecords(true, msgs) }

// onlyRecords replaces the records of an SQS fixture with one per message.
func onlyRecords(msgs ...queued) edit { return sqsRecords(false, msgs) }

func sqsRecords(keep bool, msgs []queued) edit {
	return func(tb testing.TB, ev map[string]any) {
		tb.Helper()
		recs, ok := ev["Records"].([]any)
		if !ok || len(recs) == 0 {
			tb.Fatal("the fixture has no Records")
		}
		first, err := json.Marshal(recs[0])
		if err != nil {
			tb.Fatal(err)
		}
		if !keep {
			recs = nil
		}
		for _, m := range msgs {
			var rec map[string]any
			if err := json.Unmarshal(first, &rec); err != nil {
				tb.Fatal(err)
			}
			rec["messageId"], rec["body"] = m.id, m.body
			if m.receipt != "" {
				rec["receiptHandle"] = m.receipt
			}
			if m.attributes != nil {
				attrs := map[string]any{}
				for k, v := range m.attributes {
					attrs[k] = v
				}
				rec["attributes"] = attrs
			}
			recs = append(recs, rec)
		}
		ev["Records"] = recs
	}
}

// deadLetters receives the n messages expected on the dead-letter queue url
// and returns them by their source_message_id attribute.
func (s *sandbox) deadLetters(tb testing.TB, url string, n int) map[string]sqstypes.Message {
	tb.Helper()
	got := map[string]sqstypes.Message{}
	for len(got) < n {
		msgs := s.receive(tb, url, 5)
		if len(msgs) == 0 {
			tb.Fatalf("dead-letter queue holds %d messages, want %d", len(got), n)
		}
		for _, m := range msgs {
			got[aws.ToString(m.MessageAttributes["source_message_id"].StringValue)] = m
		}
	}
	if extra := s.receive(tb, url, 0); len(extra) != 0 {
		tb.Errorf("dead-letter queue holds %d more messages than the malformed ones", len(extra))
	}
	return got
}

// checkDeadLetter checks that dead holds msg unchanged with a failure reason
// that mentions reason.
func checkDeadLetter(tb testing.TB, dead map[string]sqstypes.Message, msg queued, reason string) {
	tb.Helper()
	m, ok := dead[msg.id]
	if !ok {
		tb.Fatalf("message %s is not on the dead-letter queue (source_message_id)", msg.id)
	}
	if body := aws.ToString(m.Body); body != msg.body {
		tb.Errorf("dead-lettered body %q, want the original %q", body, msg.body)
	}
	got := m.MessageAttributes["failure_reason"]
	if aws.ToString(got.DataType) != "String" || aws.ToString(got.StringValue) == "" ||
		!strings.Contains(aws.ToString(got.StringValue), reason) {
		tb.Errorf("failure_reason %s %q, want a String mentioning %q", aws.ToString(got.DataType),
			aws.ToString(got.StringValue), reason)
	}
}

// The WelcomeFunction reads the connections table's stream (the welcome
// fixture, for a connection the ConnectFunction recorded through the
// gateway) and sends connection_established to the live client.
func TestWelcomeFunction(t *testing.T) {
	sb := newSandbox(t, "ConnectionsTable")
	alice := sb.startAPI(t).connect(t, "123")
	welcome := sb.start(t, "welcome", nil)

	ev := event(t, "welcome.json",
		set("Records.0.dynamodb.Keys.connectionId.S", alice.id),
		set("Records.0.dynamodb.NewImage.connectionId.S", alice.id))
	if failed := batchFailures(t, welcome.Invoke(t, ev)); len(failed) != 0 {
		t.Errorf("batch item failures %v", failed)
	}
	got := alice.next(t)
	if got.Type != notification.TypeConnectionEstablished || got.UserID != "123" || got.ConnectionID != alice.id ||
		got.ID == "" || got.Timestamp.IsZero() {
		t.Errorf("client received %+v, want connection_established for user 123 on %s, stamped", got, alice.id)
	}
}

// The NotifyFunction stores every notification of a batch in history and
// posts it to the user's live connections; a malformed message goes to the
// notification dead-letter queue with its reason and is not reported as a
// failure (it is never retried), while the rest of the batch is delivered.
func TestNotifyFunction(t *testing.T) {
	sb := newSandbox(t, "ConnectionsTable", "NotificationsTable")
	dlq := sb.queue(t, "NOTIFICATION_DLQ_URL")
	alice := sb.startAPI(t).connect(t, "123")
	notify := sb.start(t, "notify", nil)

	malformed := []struct {
		name   string
		msg    queued
		reason string // a word the failure_reason must hold
	}{
		{name: "not JSON", msg: queued{id: "malformed-json", body: `{"user_id":"123","message":`}, reason: "JSON"},
		{name: "no recipient", msg: queued{id: "malformed-user", body: `{"type":"notification","message":"to nobody"}`},
			reason: "user_id"},
		{name: "unknown type", msg: queued{id: "malformed-type", body: `{"user_id":"123","type":"gossip","message":"x"}`},
			reason: "type"},
	}
	var bad []queued
	for _, m := range malformed {
		bad = append(bad, m.msg)
	}
	// The fixture's two messages (for user 123, and for users 123 and 456), then the malformed ones.
	if failed := batchFailures(t, notify.Invoke(t, event(t, "notify-sqs.json", appendRecords(bad...)))); len(failed) != 0 {
		t.Fatalf("batch item failures %v, want none: malformed messages are dead-lettered, not retried", failed)
	}

	var received []notification.Notification
	t.Run("the live client receives them in order", func(t *testing.T) {
		received = []notification.Notification{alice.next(t), alice.next(t)}
		want := []string{"Budget transfer 602 was approved", "Month-end close starts at 18:00"}
		for i, n := range received {
			if n.Type != notification.TypeNotification || n.Message != want[i] || n.ID == "" {
				t.Errorf("message %d: %+v, want the notification %q with an ID", i, n, want[i])
			}
		}
		if d := received[0].Data; d["transaction_id"] != "602" || d["approved_by"] != "j.smith" {
			t.Errorf("data %v, want the fixture's", d)
		}
	})

	t.Run("the notifications table holds them", func(t *testing.T) {
		if len(received) != 2 {
			t.Fatal("no deliveries to compare with")
		}
		stored := sb.notifications(t, "123")
		if len(stored) != 2 {
			t.Fatalf("user 123 has %d stored notifications, want 2", len(stored))
		}
		for i, item := range stored {
			if item.note.ID != received[i].ID || item.note.Message != received[i].Message || !item.unread || item.expiresAt == 0 {
				t.Errorf("stored %d: %+v, want %s as sent, unread, with an expiry", i, item, received[i].ID)
			}
		}
		// A user without a connection gets it on resume.
		if offline := sb.notifications(t, "456"); len(offline) != 1 || offline[0].note.Message != "Month-end close starts at 18:00" {
			t.Errorf("user 456 has %+v stored, want the month-end notification", offline)
		}
	})

	t.Run("malformed messages are dead-lettered with their reason", func(t *testing.T) {
		dead := sb.deadLetters(t, dlq, len(malformed))
		for _, m := range malformed {
			t.Run(m.name, func(t *testing.T) { checkDeadLetter(t, dead, m.msg, m.reason) })
		}
	})

	t.Run("the invocation's metric lines", func(t *testing.T) {
		// Written before the invocation returned; the pipe may lag a little.
		var points []metricstest.Point
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			points = metricstest.Parse(t, []byte(notify.Output()))
			if len(points) > 0 || time.Now().After(deadline) {
				break
			}
		}
		checks := []struct {
			name   string
			metric string
			dims   []string
			want   float64
		}{
			{"stored: one for 123, one each for 123 and 456", metrics.NotificationsStored, nil, 3},
			{"delivered to 123's connection", metrics.NotificationsDelivered, nil, 2},
			{"the malformed ones failed", metrics.NotificationsFailed, []string{metrics.DimReason, "invalid_message"}, 3},
		}
		for _, c := range checks {
			if got := metricstest.Total(points, c.metric, c.dims...); got != c.want {
				t.Errorf("%s: %s %v = %v, want %v\n%s", c.name, c.metric, c.dims, got, c.want, notify.Output())
			}
		}
	})
}

// stored is one item of the notifications table.
type stored struct {
	note      notification.Notification
	unread    bool
	expiresAt int64
}

// notifications returns the user's item rows of the notifications table
// (sort key "p" + position; docs/design.md#order-and-positions), in position
// order.
func (s *sandbox) notifications(tb testing.TB, userID string) []stored {
	tb.Helper()
	out, err := s.db.Query(s.ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.tables["NotificationsTable"]), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("userId = :u AND begins_with(id, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":u": &types.AttributeValueMemberS{Value: userID},
			":p": &types.AttributeValueMemberS{Value: "p"}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	var items []stored
	for _, it := range out.Items {
		var row struct {
			ID        string `dynamodbav:"nid"`
			Payload   string `dynamodbav:"payload"`
			Unread    *int64 `dynamodbav:"unreadPos"`
			ExpiresAt int64  `dynamodbav:"expiresAt"`
		}
		if err := attributevalue.UnmarshalMap(it, &row); err != nil {
			tb.Fatal(err)
		}
		item := stored{unread: row.Unread != nil, expiresAt: row.ExpiresAt}
		if err := json.Unmarshal([]byte(row.Payload), &item.note); err != nil || item.note.ID != row.ID {
			tb.Fatalf("item %s: payload %q (%v) is not its notification", row.ID, row.Payload, err)
		}
		items = append(items, item)
	}
	return items
}

// The WorkerFunction runs the budget transfer of events/messages: the first
// delivery prepares the FBDI zip, uploads it, submits the Interface Loader
// and checkpoints the workflow as waiting, with a poll message on the
// workflow queue; each poll fed back continues it, until it succeeds. The
// user's live client is told every step; Oracle gets one upload and one
// submission per job; the MessageFunction reports the outcome. Malformed
// messages go to the workflow dead-letter queue with their reason.
func TestWorkerFunction(t *testing.T) {
	sb := newSandbox(t, "ConnectionsTable", "NotificationsTable", "WorkflowsTable")
	queue := sb.queue(t, "WORKFLOW_QUEUE_URL")
	dlq := sb.queue(t, "WORKFLOW_DLQ_URL")
	// The simulator's clock: the test moves it on instead of sleeping, so
	// every poll finds the job it waits for finished.
	clock := clocktest.New(time.Now())
	sim := oraclesim.New(oraclesim.Options{Username: "fbdi.integration", Password: "sim-password", Now: clock.Now})
	oracleSrv := httptest.NewServer(sim)
	t.Cleanup(oracleSrv.Close)
	alice := sb.startAPI(t).connect(t, "123")
	worker := sb.start(t, "worker", map[string]string{
		"ORACLE_BASE_URL": oracleSrv.URL, "ORACLE_USERNAME": "fbdi.integration", "ORACLE_PASSWORD": "sim-password",
		"ORACLE_POLL_INTERVAL": "0s", // poll messages are visible at once; the simulator's clock decides the jobs
	})
	message := sb.start(t, "message", nil)
	workflows := workflow.NewDynamoStore(sb.db, sb.tables["WorkflowsTable"], time.Now)
	state := func(tb testing.TB) *workflow.State {
		tb.Helper()
		st, err := workflows.Get(sb.ctx, "602")
		if err != nil {
			tb.Fatalf("workflow 602: %v", err)
		}
		return st
	}

	var request bytes.Buffer
	if err := json.Compact(&request, fixture(t, "messages/budget-transfer.json")); err != nil {
		t.Fatal(err)
	}
	ev := event(t, "worker-sqs.json", set("Records.0.body", request.String()))
	if failed := batchFailures(t, worker.Invoke(t, ev)); len(failed) != 0 {
		t.Fatalf("batch item failures %v", failed)
	}

	t.Run("first delivery: uploaded, Interface Loader submitted, waiting", func(t *testing.T) {
		st := state(t)
		uploads, subs := sim.Uploads(), sim.Submissions()
		if len(uploads) != 1 || len(subs) != 1 || subs[0].Definition != oraclesim.InterfaceLoaderDefinition ||
			!strings.Contains(subs[0].Params, uploads[0].DocumentID) {
			t.Fatalf("Oracle got uploads %d and submissions %+v; want one zip and the Interface Loader on it", len(uploads), subs)
		}
		if st.Status != workflow.StatusWaiting || st.Step != 3 || st.DocumentID != uploads[0].DocumentID || len(st.Steps) != 3 ||
			st.Steps[0].Status != notification.StatusCompleted || st.Steps[1].Status != notification.StatusCompleted ||
			st.Steps[2].RequestID != subs[0].RequestID {
			t.Errorf("workflow %+v; want waiting at step 3 on request %s, steps 1 and 2 completed", st, subs[0].RequestID)
		}
	})

	// Feed each poll message back, as the event source mapping does, once
	// the simulated job has had time to finish.
	const maxPolls = 6
	for polls := 0; ; polls++ {
		st := state(t)
		if st.Status.Terminal() {
			break
		}
		if polls == maxPolls {
			t.Fatalf("workflow still %s at step %d after %d polls", st.Status, st.Step, polls)
		}
		msgs := sb.receive(t, queue, 5)
		if len(msgs) != 1 {
			t.Fatalf("workflow queue holds %d messages while the workflow waits, want its one poll", len(msgs))
		}
		m := msgs[0]
		parsed, err := workflow.ParseMessage([]byte(aws.ToString(m.Body)))
		want := workflow.Poll{Action: workflow.ActionPoll, TransactionID: "602", Seq: st.PollSeq}
		if err != nil || parsed.Poll == nil || *parsed.Poll != want {
			t.Fatalf("queued %s (%v), want poll %+v", aws.ToString(m.Body), err, want)
		}
		clock.Advance(oraclesim.DefaultWaitFor + oraclesim.DefaultRunFor)
		poll := event(t, "worker-sqs.json", onlyRecords(queued{id: aws.ToString(m.MessageId), body: aws.ToString(m.Body),
			receipt: aws.ToString(m.ReceiptHandle), attributes: m.Attributes}))
		if failed := batchFailures(t, worker.Invoke(t, poll)); len(failed) != 0 {
			t.Fatalf("poll %d: batch item failures %v", st.PollSeq, failed)
		}
		if _, err := sb.queues.DeleteMessage(sb.ctx, &sqs.DeleteMessageInput{QueueUrl: &queue, ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}

	uploads, subs := sim.Uploads(), sim.Submissions()
	t.Run("succeeded, calling Oracle once per side effect", func(t *testing.T) {
		if st := state(t); st.Status != workflow.StatusSucceeded || st.Step != workflow.TotalSteps || st.Error != "" {
			t.Errorf("workflow %s at step %d (%q), want succeeded at step %d", st.Status, st.Step, st.Error, workflow.TotalSteps)
		}
		if len(uploads) != 1 || len(subs) != 2 || subs[1].Definition != oraclesim.BudgetImportDefinition {
			t.Errorf("Oracle got %d uploads and submissions %+v; want one zip, the Interface Loader and Budget Import",
				len(uploads), subs)
		}
		if left := sb.receive(t, queue, 0); len(left) != 0 {
			t.Errorf("%d messages left on the workflow queue after the end", len(left))
		}
	})

	steps := []string{workflow.StepPreparingData, workflow.StepUploadToUCM, workflow.StepInterfaceLoader,
		workflow.StepBudgetImport, workflow.StepVerifyResults}
	t.Run("the client is told every step", func(t *testing.T) {
		want := []string{notification.TypeUploadStarted}
		for i, step := range steps {
			for _, status := range []string{notification.StatusProcessing, notification.StatusCompleted} {
				want = append(want, fmt.Sprintf("%s %d/%d %s %s", notification.TypeUploadProgress, i+1, workflow.TotalSteps, step, status))
			}
		}
		want = append(want, notification.TypeUploadCompleted)
		var got []string
		for len(got) < 2*len(want) {
			n := alice.next(t)
			line := n.Type
			if n.Type == notification.TypeUploadProgress {
				line = fmt.Sprintf("%s %d/%d %s %s", n.Type, n.StepNumber, n.TotalSteps, n.Step, n.Status)
			}
			if n.TransactionID != "602" {
				line += " of transaction " + n.TransactionID
			}
			got = append(got, line)
			if n.Type == notification.TypeUploadCompleted || n.Type == notification.TypeUploadFailed {
				break
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("client received\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("the MessageFunction reports the status", func(t *testing.T) {
		if len(uploads) != 1 || len(subs) != 2 {
			t.Fatal("Oracle calls differ from the expected ones")
		}
		var trail []any
		for i, step := range steps {
			s := map[string]any{"step": step, "step_number": float64(i + 1), "status": notification.StatusCompleted}
			switch i + 1 {
			case 2:
				s["document_id"] = uploads[0].DocumentID
			case 3, 4:
				s["request_id"] = subs[i-2].RequestID
			}
			trail = append(trail, s)
		}
		got := answer(t, message.Invoke(t, event(t, "status.json", from(alice.id))))
		want := map[string]any{"type": "workflow_status", "transaction_id": "602", "kind": "budget_transfer",
			"state": "succeeded", "step_number": float64(workflow.TotalSteps), "total_steps": float64(workflow.TotalSteps),
			"steps": trail}
		if d := match("reply", want, got); d != "" {
			t.Error(d)
		}
	})

	t.Run("malformed messages are dead-lettered with their reason", func(t *testing.T) {
		malformed := []struct {
			name   string
			msg    queued
			reason string // a word the failure_reason must hold
		}{
			{name: "not JSON", msg: queued{id: "malformed-json", body: `{"kind":"budget_transfer","transaction_id":"604",`},
				reason: "JSON"},
			{name: "unknown kind", msg: queued{id: "malformed-kind",
				body: `{"kind":"payroll","transaction_id":"605","user_id":"999","lines":[]}`}, reason: "kind"},
			{name: "poll with a bad sequence", msg: queued{id: "malformed-poll",
				body: `{"action":"poll","transaction_id":"602","seq":0}`}, reason: "seq"},
		}
		var msgs []queued
		for _, m := range malformed {
			msgs = append(msgs, m.msg)
		}
		if failed := batchFailures(t, worker.Invoke(t, event(t, "worker-sqs.json", onlyRecords(msgs...)))); len(failed) != 0 {
			t.Fatalf("batch item failures %v, want none: malformed messages are dead-lettered, not retried", failed)
		}
		dead := sb.deadLetters(t, dlq, len(malformed))
		for _, m := range malformed {
			t.Run(m.name, func(t *testing.T) { checkDeadLetter(t, dead, m.msg, m.reason) })
		}
	})
}
