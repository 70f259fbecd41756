package main

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

// TestFailedPostsAreRedeliveredThenDeadLettered runs the redelivery loop
// through the stack on moto_server: user "retry" holds a live tab and a
// connection API Gateway does not know yet (410 while younger than the
// notifier's ConnectGrace). The live tab gets the notification once; the
// other is tried three times through delayed redeliveries on the
// notification queue, then its failure lands on the notification
// dead-letter queue and in one "delivery failed" line. The retries must all
// happen within the 10 s grace, which the delays (0s, 1s) leave ample room for.
func TestFailedPostsAreRedeliveredThenDeadLettered(t *testing.T) {
	endpoint := awstest.Endpoint(t)
	prefix := awstest.UniqueName(t, "e2e") + "-"
	s := startStack(t, append(onAWSAPI(endpoint, prefix), "NOTIFY_RETRY_DELAYS=0s,1s")...)
	ctx := awstest.Context(t)
	client := awstest.SQS(t)

	tab := s.dial(t, "retry")
	if m := tab.next(); m["type"] != "connection_established" {
		t.Fatalf("first message = %v; want connection_established", m)
	}
	conns := connection.NewDynamoStore(awstest.DynamoDB(t), prefix+localTables["ConnectionsTable"], time.Now)
	if err := conns.Put(ctx, connection.New("phantom-1", "retry", time.Now(), "198.51.100.7", "e2e")); err != nil {
		t.Fatal(err)
	}

	send := func(message string) {
		t.Helper()
		_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(s.queues(t).Notifications),
			MessageBody: aws.String(`{"user_id":"retry","message":"` + message + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
	}
	send("first")
	if m := tab.next(); m["message"] != "first" {
		t.Fatalf("live tab got %v; want the notification", m)
	}

	dlq, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(prefix + queueNames["NotificationDeadLetterQueue"])})
	if err != nil {
		t.Fatal(err)
	}
	var reason string
	for i := 0; i < 6 && reason == ""; i++ { // long polls, up to a minute in all
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, MaxNumberOfMessages: 10,
			MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if v, found := m.MessageAttributes["failure_reason"]; found {
				reason = aws.ToString(v.StringValue)
			}
		}
	}
	for _, want := range []string{"phantom-1 (not live yet)", "after 3 attempts", "user retry"} {
		if !strings.Contains(reason, want) {
			t.Errorf("dead-letter failure_reason %q does not say %q\n%s", reason, want, s.logs)
		}
	}
	// The line is written before the dead letter is sent, but it reaches
	// this test through the stack's stderr pipe, which may lag behind.
	failed := func() int { return strings.Count(s.logs.String(), `"msg":"delivery failed"`) }
	for deadline := time.Now().Add(10 * time.Second); failed() == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if n := failed(); n != 1 {
		t.Errorf("%d lines \"delivery failed\", want 1\n%s", n, s.logs)
	}

	// Nothing was posted twice to the live tab: the next thing it gets is
	// the next notification.
	send("second")
	if m := tab.next(); m["message"] != "second" {
		t.Errorf("live tab got %v; want the second notification, and nothing in between", m)
	}
}
