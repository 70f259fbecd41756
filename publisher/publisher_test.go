package publisher_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/publisher"
)

const (
	notificationURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/NotificationQueue"
	workflowURL     = "https://sqs.eu-west-1.amazonaws.com/123456789012/WorkflowQueue"
)

// fakeSQS records every SendMessage and answers with err, or a message ID.
type fakeSQS struct {
	sent []*sqs.SendMessageInput
	err  error
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{MessageId: aws.String("m-1")}, nil
}

func TestNotifySendsValidNotifications(t *testing.T) {
	tests := []struct {
		name string
		in   publisher.Notification
		want string // the body sent
	}{
		{
			name: "general",
			in:   publisher.Notification{UserID: "123", Message: "Budget approved", Data: map[string]any{"transfer": "602"}},
			want: `{"user_id":"123","message":"Budget approved","data":{"transfer":"602"}}`,
		},
		{
			name: "several users",
			in:   publisher.Notification{UserIDs: []string{"123", "456"}, Type: publisher.TypeNotification, Message: "Closing"},
			want: `{"user_ids":["123","456"],"type":"notification","message":"Closing"}`,
		},
		{
			name: "started",
			in:   publisher.Notification{UserID: "123", Type: publisher.TypeUploadStarted, TransactionID: "602"},
			want: `{"user_id":"123","type":"oracle_upload_started","transaction_id":"602"}`,
		},
		{
			name: "progress",
			in: publisher.Notification{UserID: "123", Type: publisher.TypeUploadProgress, TransactionID: "602", Message: "Uploading",
				Step: "Upload to UCM", StepNumber: 2, TotalSteps: 5, Status: publisher.StatusProcessing},
			want: `{"user_id":"123","type":"oracle_upload_progress","message":"Uploading","transaction_id":"602","step":"Upload to UCM","step_number":2,"total_steps":5,"status":"processing"}`,
		},
		{
			name: "completed",
			in:   publisher.Notification{UserID: "123", Type: publisher.TypeUploadCompleted, TransactionID: "602", Success: true, ResultPath: "/t/602"},
			want: `{"user_id":"123","type":"oracle_upload_completed","transaction_id":"602","success":true,"result_path":"/t/602"}`,
		},
		{
			name: "failed with an id",
			in:   publisher.Notification{ID: "01KB0000000000000000000000", UserID: "123", Type: publisher.TypeUploadFailed, TransactionID: "602", Error: "HTTP 500"},
			want: `{"id":"01KB0000000000000000000000","user_id":"123","type":"oracle_upload_failed","transaction_id":"602","error":"HTTP 500"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSQS{}
			id, err := publisher.New(f, notificationURL, workflowURL).Notify(context.Background(), tt.in)
			if err != nil || id != "m-1" {
				t.Fatalf("Notify = %q, %v; want m-1, nil", id, err)
			}
			if len(f.sent) != 1 {
				t.Fatalf("sent %d messages, want 1", len(f.sent))
			}
			if got := aws.ToString(f.sent[0].QueueUrl); got != notificationURL {
				t.Errorf("sent to %s, want the notification queue", got)
			}
			if got := aws.ToString(f.sent[0].MessageBody); got != tt.want {
				t.Errorf("body\n got %s\nwant %s", got, tt.want)
			}
			if f.sent[0].MessageGroupId != nil || f.sent[0].MessageDeduplicationId != nil {
				t.Error("a standard queue's message got a group or deduplication id")
			}
		})
	}
}

func TestNotifyRefusesInvalidNotifications(t *testing.T) {
	progress := func(edit func(*publisher.Notification)) publisher.Notification {
		n := publisher.Notification{UserID: "123", Type: publisher.TypeUploadProgress, TransactionID: "602",
			Step: "Upload to UCM", StepNumber: 2, TotalSteps: 5, Status: publisher.StatusProcessing}
		edit(&n)
		return n
	}
	tests := []struct {
		name  string
		in    publisher.Notification
		field string // the field the error names
	}{
		{name: "no user", in: publisher.Notification{Message: "hi"}, field: "user_id"},
		{name: "empty user list", in: publisher.Notification{UserIDs: []string{}, Message: "hi"}, field: "user_ids"},
		{name: "both user fields", in: publisher.Notification{UserID: "1", UserIDs: []string{"2"}, Message: "hi"}, field: "user_ids"},
		{name: "blank user", in: publisher.Notification{UserID: "  ", Message: "hi"}, field: "user_id"},
		{name: "user id too long in bytes", in: publisher.Notification{UserID: strings.Repeat("é", 200), Message: "hi"}, field: "user_id"},
		{name: "second of several users blank", in: publisher.Notification{UserIDs: []string{"1", " "}, Message: "hi"}, field: "user_ids[1]"},
		{name: "general without message", in: publisher.Notification{UserID: "123"}, field: "message"},
		{name: "unknown type", in: publisher.Notification{UserID: "123", Type: "alert", Message: "hi"}, field: "type"},
		{name: "data on an upload type", in: publisher.Notification{UserID: "123", Type: publisher.TypeUploadStarted, TransactionID: "602", Data: map[string]any{"a": 1}}, field: "data"},
		{name: "started without transaction", in: publisher.Notification{UserID: "123", Type: publisher.TypeUploadStarted}, field: "transaction_id"},
		{name: "progress without step", in: progress(func(n *publisher.Notification) { n.Step = "" }), field: "step"},
		{name: "progress with a bad status", in: progress(func(n *publisher.Notification) { n.Status = "done" }), field: "status"},
		{name: "progress beyond its steps", in: progress(func(n *publisher.Notification) { n.StepNumber = 6 }), field: "step_number"},
		{name: "progress with negative step", in: progress(func(n *publisher.Notification) { n.StepNumber = -1 }), field: "step_number"},
		{name: "failed without error", in: publisher.Notification{UserID: "123", Type: publisher.TypeUploadFailed, TransactionID: "602"}, field: "error"},
		{name: "bad id", in: publisher.Notification{ID: "abc", UserID: "123", Message: "hi"}, field: "id"},
		{name: "too large", in: publisher.Notification{UserID: "123", Message: strings.Repeat("x", publisher.MaxNotificationBytes)}, field: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSQS{}
			_, err := publisher.New(f, notificationURL, workflowURL).Notify(context.Background(), tt.in)
			assertInvalid(t, err, tt.field)
			if len(f.sent) != 0 {
				t.Errorf("sent %d messages; want none", len(f.sent))
			}
		})
	}
}

// assertInvalid checks that err is an *InvalidError about field.
func assertInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var inv *publisher.InvalidError
	if !errors.As(err, &inv) || !errors.Is(err, publisher.ErrInvalid) {
		t.Fatalf("error = %v; want an *InvalidError", err)
	}
	if inv.Field != field {
		t.Errorf("error %q names field %q; want %q", err, inv.Field, field)
	}
	if inv.Reason == "" {
		t.Errorf("error %q has no reason", err)
	}
}

// readSample returns a sample workflow message of events/messages.
func readSample(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile("../events/messages/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sample reads a sample workflow message of events/messages as a Transfer.
func sample(t *testing.T, file string) publisher.Transfer {
	t.Helper()
	data := readSample(t, file)
	var m struct {
		TransactionID string            `json:"transaction_id"`
		UserID        string            `json:"user_id"`
		Lines         []map[string]any  `json:"lines"`
		Options       map[string]string `json:"options"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return publisher.Transfer{TransactionID: m.TransactionID, UserID: m.UserID, Lines: m.Lines, Options: m.Options}
}

func TestSubmitSendsTheSamples(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		submit func(*publisher.Publisher, context.Context, publisher.Transfer) (string, error)
	}{
		{name: "budget transfer", file: "budget-transfer.json", submit: (*publisher.Publisher).SubmitBudgetTransfer},
		{name: "journal import", file: "journal-import.json", submit: (*publisher.Publisher).SubmitJournalImport},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSQS{}
			if _, err := tt.submit(publisher.New(f, notificationURL, workflowURL), context.Background(), sample(t, tt.file)); err != nil {
				t.Fatalf("submit: %v", err)
			}
			if len(f.sent) != 1 || aws.ToString(f.sent[0].QueueUrl) != workflowURL {
				t.Fatalf("sent %+v; want one message to the workflow queue", f.sent)
			}
			assertSameJSON(t, aws.ToString(f.sent[0].MessageBody), string(readSample(t, tt.file)))
		})
	}
}

// assertSameJSON checks that got and want are equal as JSON values.
func assertSameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("sent body is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("body\n got %s\nwant %s", gb, wb)
	}
}

func TestSubmitRefusesInvalidTransfers(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*publisher.Transfer)
		field  string // the field the error names, "" when its reason does
		reason string // a part of the reason
	}{
		{name: "no transaction", edit: func(tr *publisher.Transfer) { tr.TransactionID = "" }, reason: "transaction_id"},
		{name: "no user", edit: func(tr *publisher.Transfer) { tr.UserID = "" }, reason: "user_id"},
		{name: "no lines", edit: func(tr *publisher.Transfer) { tr.Lines = []map[string]any{} }, reason: "line"},
		{name: "unknown option", edit: func(tr *publisher.Transfer) { tr.Options = map[string]string{"ledger": "1"} }, reason: `unknown option "ledger"`},
		{name: "missing amount", edit: func(tr *publisher.Transfer) { delete(lines(tr)[1], "amount") }, reason: "line 2: amount is required"},
		{name: "unknown line field", edit: func(tr *publisher.Transfer) { lines(tr)[0]["colour"] = "red" }, reason: `line 1: unknown field "colour"`},
		{name: "lines do not net to zero", edit: func(tr *publisher.Transfer) { lines(tr)[1]["amount"] = "600" }, reason: "net"},
		{name: "line field in another case", edit: func(tr *publisher.Transfer) {
			l := lines(tr)[0]
			l["Amount"] = l["amount"]
			delete(l, "amount")
		}, field: "lines[0].Amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := sample(t, "budget-transfer.json")
			tt.edit(&tr)
			f := &fakeSQS{}
			_, err := publisher.New(f, notificationURL, workflowURL).SubmitBudgetTransfer(context.Background(), tr)
			assertInvalid(t, err, tt.field)
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if len(f.sent) != 0 {
				t.Errorf("sent %d messages; want none", len(f.sent))
			}
		})
	}
}

// lines returns the sample's lines, to edit.
func lines(tr *publisher.Transfer) []map[string]any { return tr.Lines.([]map[string]any) }

func TestJournalLinesAreCheckedAsJournalLines(t *testing.T) {
	tr := sample(t, "budget-transfer.json")
	f := &fakeSQS{}
	_, err := publisher.New(f, notificationURL, workflowURL).SubmitJournalImport(context.Background(), tr)
	assertInvalid(t, err, "")
	if len(f.sent) != 0 {
		t.Errorf("sent %d messages; want none", len(f.sent))
	}
}

func TestSendErrors(t *testing.T) {
	note := publisher.Notification{UserID: "123", Message: "hi"}
	refused := errors.New("access denied")
	tests := []struct {
		name string
		p    *publisher.Publisher
		send func(*publisher.Publisher) error
		want error
	}{
		{
			name: "no notification queue",
			p:    publisher.New(&fakeSQS{}, "", workflowURL),
			send: func(p *publisher.Publisher) error { _, err := p.Notify(context.Background(), note); return err },
			want: publisher.ErrNoQueue,
		},
		{
			name: "no workflow queue",
			p:    publisher.New(&fakeSQS{}, notificationURL, ""),
			send: func(p *publisher.Publisher) error {
				_, err := p.SubmitBudgetTransfer(context.Background(), sample(t, "budget-transfer.json"))
				return err
			},
			want: publisher.ErrNoQueue,
		},
		{
			name: "SQS refuses",
			p:    publisher.New(&fakeSQS{err: refused}, notificationURL, workflowURL),
			send: func(p *publisher.Publisher) error { _, err := p.Notify(context.Background(), note); return err },
			want: refused,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.send(tt.p); !errors.Is(err, tt.want) {
				t.Errorf("error = %v; want %v", err, tt.want)
			}
		})
	}
}
