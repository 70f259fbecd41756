package publisher_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/publisher"
)

// TestOnMoto sends one message to each queue of a real SQS API and reads
// them back as the functions would.
func TestOnMoto(t *testing.T) {
	client := awstest.SQS(t)
	notifications := awstest.Queue(t, client, "notifications")
	workflows := awstest.Queue(t, client, "workflow")
	p := publisher.New(client, notifications, workflows)
	ctx := context.Background()

	note := publisher.Notification{UserID: "123", Message: "Budget transfer 602 was approved", Data: map[string]any{"transaction_id": "602"}}
	noteID, err := p.Notify(ctx, note)
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	transferID, err := p.SubmitBudgetTransfer(ctx, sample(t, "budget-transfer.json"))
	if err != nil {
		t.Fatalf("SubmitBudgetTransfer: %v", err)
	}

	tests := []struct {
		name  string
		queue string
		id    string // the message ID the publisher returned
		want  string // the body, as JSON
	}{
		{name: "notification", queue: notifications, id: noteID,
			want: `{"user_id":"123","message":"Budget transfer 602 was approved","data":{"transaction_id":"602"}}`},
		{name: "budget transfer", queue: workflows, id: transferID, want: string(readSample(t, "budget-transfer.json"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(tt.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 5})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) != 1 {
				t.Fatalf("received %d messages; want 1", len(out.Messages))
			}
			m := out.Messages[0]
			if aws.ToString(m.MessageId) != tt.id {
				t.Errorf("message id %s; the publisher returned %s", aws.ToString(m.MessageId), tt.id)
			}
			assertSameJSON(t, aws.ToString(m.Body), tt.want)
		})
	}
}
