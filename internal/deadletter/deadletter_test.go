package deadletter_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/deadletter"
)

// recorder is a deadletter.Sender that keeps what it was asked to send.
type recorder struct {
	sent []*sqs.SendMessageInput
	err  error
}

func (r *recorder) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	r.sent = append(r.sent, in)
	return &sqs.SendMessageOutput{MessageId: aws.String("m")}, r.err
}

func TestSend(t *testing.T) {
	long := strings.Repeat("é", deadletter.MaxReason) // 2 bytes each
	tests := []struct {
		name                     string
		msg                      events.SQSMessage
		reason                   string
		wantBody, wantID, wantRe string
	}{
		{name: "as is", msg: events.SQSMessage{MessageId: "id-1", Body: `{"x":1}`}, reason: "field x: unknown",
			wantBody: `{"x":1}`, wantID: "id-1", wantRe: "field x: unknown"},
		{name: "empty body, id and reason", msg: events.SQSMessage{}, reason: "",
			wantBody: "(empty body)", wantID: "(unknown)", wantRe: "invalid message"},
		{name: "long reason cut at a character", msg: events.SQSMessage{MessageId: "id-2", Body: "b"}, reason: long,
			wantBody: "b", wantID: "id-2", wantRe: long[:deadletter.MaxReason] + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			if err := deadletter.Send(context.Background(), r, "https://sqs/dlq", tt.msg, tt.reason); err != nil {
				t.Fatal(err)
			}
			in := r.sent[0]
			reason := aws.ToString(in.MessageAttributes[deadletter.AttrFailureReason].StringValue)
			if aws.ToString(in.QueueUrl) != "https://sqs/dlq" || aws.ToString(in.MessageBody) != tt.wantBody || reason != tt.wantRe ||
				aws.ToString(in.MessageAttributes[deadletter.AttrSourceMessageID].StringValue) != tt.wantID {
				t.Errorf("sent %q to %s with reason %.40q… id %q", aws.ToString(in.MessageBody), aws.ToString(in.QueueUrl),
					reason, aws.ToString(in.MessageAttributes[deadletter.AttrSourceMessageID].StringValue))
			}
			if !utf8.ValidString(reason) || len(reason) > deadletter.MaxReason+len("…") {
				t.Errorf("reason of %d bytes is not valid UTF-8 or too long", len(reason))
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	if err := deadletter.Send(context.Background(), &recorder{}, "", events.SQSMessage{}, "x"); !errors.Is(err, deadletter.ErrNoQueue) {
		t.Errorf("no queue: %v, want ErrNoQueue", err)
	}
	boom := errors.New("throttled")
	if err := deadletter.Send(context.Background(), &recorder{err: boom}, "q", events.SQSMessage{MessageId: "id"}, "x"); !errors.Is(err, boom) {
		t.Errorf("send error: %v, want it wrapped", err)
	}
}
