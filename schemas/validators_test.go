package schemas_test

// The Go side of the agreement: each message is given to the code that
// validates it in production, through its exported entry points and with
// in-memory stores and fakes for AWS and Oracle. Every message the server
// sends on the way (notifications, replies, replays) is checked against
// server-message.schema.json.

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/deadletter"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/preference"
	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/internal/workflow"
	"github.com/finance/fbdi-notify/internal/workflow/workflowtest"
	"github.com/finance/fbdi-notify/schemas"
)

// The connection and user of the WebSocket events in events/.
const (
	eventConnID = "R1kmxc2VNjMCFIA="
	eventUserID = "123"
)

// --- workflow queue -------------------------------------------------------

// goWorkflow validates a workflow queue message as the Worker does: ParseMessage,
// then (for a request) the Engine's Preparing Data step, which decodes and
// checks the lines. It returns nil if the message is accepted, else the
// *workflow.InvalidError. A valid request gets as far as the first Oracle
// job, which the fake Oracle accepts.
func goWorkflow(t *testing.T, body []byte) error {
	t.Helper()
	m, err := workflow.ParseMessage(body)
	if err != nil {
		return err
	}
	if m.Poll != nil {
		return nil // a poll is then matched against the stored workflow, not validated further
	}
	cfg := workflow.DefaultConfig()
	cfg.QueueURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/WorkflowQueue"
	cfg.DataAccessSet = "300000046975980"
	cfg.AutoPostCriteriaID = "300000046975990"
	notify := func(_ context.Context, userID string, n notification.Notification) error {
		if userID == "" {
			t.Errorf("workflow notified no user: %+v", n)
		}
		data, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		assertValid(t, schemas.ServerMessage, data)
		return nil
	}
	e, err := workflow.NewEngine(workflow.NewMemoryStore(nil), acceptingOracle{}, &recordingSQS{}, notify, cfg, workflow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e.Process(context.Background(), body, workflow.Delivery{MessageID: "m-1", ReceiveCount: 1})
}

// invalidReason returns the reason of a *workflow.InvalidError, or fails.
func invalidReason(t *testing.T, err error) string {
	t.Helper()
	var inv *workflow.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("Go error %v is not a *workflow.InvalidError", err)
	}
	return inv.Reason
}

// acceptingOracle accepts every upload and submission; a workflow's first
// Process never asks for a job's status.
type acceptingOracle struct{}

func (acceptingOracle) UploadFileToUCM(context.Context, oracle.Document) (string, error) {
	return "900001", nil
}

func (acceptingOracle) SubmitESSJob(context.Context, oracle.Job) (string, error) {
	return "14557", nil
}

func (acceptingOracle) JobStatus(context.Context, string) (oracle.State, error) {
	return "", errors.New("fake oracle: JobStatus not expected")
}

func (acceptingOracle) ChildJobs(context.Context, string) ([]oracle.JobInfo, error) {
	return nil, errors.New("fake oracle: ChildJobs not expected")
}

func (acceptingOracle) JobLog(context.Context, string) (string, error) {
	return "", errors.New("fake oracle: JobLog not expected")
}

// recordingSQS accepts and records every message sent: the workflow's poll
// messages, the notifier's dead letters.
type recordingSQS struct {
	mu   sync.Mutex
	sent []*sqs.SendMessageInput
}

func (r *recordingSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, in)
	return &sqs.SendMessageOutput{MessageId: aws.String("sent-1")}, nil
}

// --- notification queue ---------------------------------------------------

// goNotification delivers a notification queue message through
// notifier.QueueHandler, with users 123 and 456 each holding a connection
// and a preferences store (for user_profile and set_preferences).
// It returns "" if the message was delivered, else the failure_reason it
// was dead-lettered with.
func goNotification(t *testing.T, body string) string {
	t.Helper()
	conns := connection.NewMemoryStore(nil)
	for _, c := range []connection.Connection{
		connection.New("tab-123", "123", time.Now(), "203.0.113.24", "test"),
		connection.New("tab-456", "456", time.Now(), "203.0.113.24", "test"),
	} {
		if err := conns.Put(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	gw := &gateway{t: t}
	n := notifier.New(conns, history.NewMemoryStore(nil), gw, notifier.Options{Preferences: preference.NewMemoryStore()})
	dlq := &recordingSQS{}
	h := notifier.NewQueueHandler(n, dlq, "https://sqs.eu-west-1.amazonaws.com/123456789012/NotificationDLQ", nil)
	msg := events.SQSMessage{MessageId: "m-1", Body: body, Attributes: map[string]string{"SentTimestamp": "1772366400000"}}
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v: want the message handled", resp, err)
	}
	if len(dlq.sent) == 0 {
		return ""
	}
	reason := dlq.sent[0].MessageAttributes[deadletter.AttrFailureReason].StringValue
	if reason == nil || *reason == "" {
		t.Fatal("dead-lettered without a failure_reason")
	}
	return *reason
}

// gateway is the API Gateway management API: it accepts every post and
// checks it against server-message.schema.json.
type gateway struct{ t *testing.T }

func (g *gateway) PostToConnection(_ context.Context, in *apigatewaymanagementapi.PostToConnectionInput, _ ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error) {
	assertValid(g.t, schemas.ServerMessage, in.Data)
	return &apigatewaymanagementapi.PostToConnectionOutput{}, nil
}

// --- WebSocket client messages ----------------------------------------------

// Error codes of a request the route refuses for what it holds.
var validationCodes = map[string]bool{
	route.CodeInvalidJSON: true, route.CodeUnknownType: true, route.CodeTooLarge: true, route.CodeInvalidRequest: true,
}

// goClient answers a WebSocket message as the message route does, for
// eventUserID on eventConnID, who has a few notifications in history and owns
// transaction 602, with preferences stored (defaults for general and fbdi).
// Its notifications are classified as the notifier stores them (category,
// critical) and the progress step is stored read. It returns the reply, already checked against
// server-message.schema.json, and the error code and message if the route
// refused the request for what it holds.
func goClient(t *testing.T, req events.APIGatewayWebsocketProxyRequest) (reply map[string]any, code, message string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	conns := connection.NewMemoryStore(nil)
	if err := conns.Put(ctx, connection.New(eventConnID, eventUserID, now, "203.0.113.24", "test")); err != nil {
		t.Fatal(err)
	}
	hist := history.NewMemoryStore(nil)
	for i, n := range []notification.Notification{
		notification.General("Budget approved", map[string]any{"transfer": "602"}),
		withKind(notification.UploadProgress("602", workflow.StepUploadToUCM, 2, workflow.TotalSteps, notification.StatusProcessing, "Uploading")),
		notification.UploadFailed("603", "Journal import failed", "line 2: amount is required"),
	} {
		n.Stamp(now.Add(time.Duration(i-10) * time.Minute))
		notification.Classify(&n)
		item := history.Item{UserID: eventUserID, Notification: n, Read: !notification.NewUnreadRule().Unread(n),
			ExpiresAt: now.Add(time.Hour)}
		if _, err := hist.Add(ctx, item); err != nil {
			t.Fatal(err)
		}
	}
	store := workflow.NewMemoryStore(nil)
	st := workflowtest.Sample("602", now)
	st.UserID = eventUserID
	if err := store.Create(ctx, st); err != nil {
		t.Fatal(err)
	}
	defaults, err := preference.ParseDefaults(`{"general":{"in_app":true,"email":false},"fbdi":{"in_app":true,"email":true}}`)
	if err != nil {
		t.Fatal(err)
	}
	h := route.NewMessage(route.MessageConfig{
		Connections: conns,
		History:     hist,
		Posters:     func(string) route.Poster { return replayPoster{t: t} },
		Status:      workflow.NewService(store).Status,
		Preferences: route.Preferences{Store: preference.NewMemoryStore(), Defaults: defaults},
	})
	resp, err := h.Handle(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	assertValid(t, schemas.ServerMessage, []byte(resp.Body))
	if err := json.Unmarshal([]byte(resp.Body), &reply); err != nil {
		t.Fatalf("reply %s: %v", resp.Body, err)
	}
	if reply["type"] == route.TypeError {
		code, _ = reply["code"].(string)
		if validationCodes[code] {
			message, _ = reply["message"].(string)
			return reply, code, message
		}
	}
	return reply, "", ""
}

// withKind returns the workflow notification n as the workflow sends it:
// category fbdi, kind budget_transfer.
func withKind(n notification.Notification) notification.Notification {
	n.Category, n.Kind = notification.CategoryFBDI, notification.KindBudgetTransfer
	return n
}

// replayPoster takes the notifications resume replays and checks them.
type replayPoster struct{ t *testing.T }

func (p replayPoster) PostTo(_ context.Context, connectionID string, data []byte) error {
	if connectionID != eventConnID {
		p.t.Errorf("replayed to %s, want %s", connectionID, eventConnID)
	}
	assertValid(p.t, schemas.ServerMessage, data)
	if !strings.Contains(string(data), `"replayed":true`) {
		p.t.Errorf("replayed notification %s is not marked replayed", data)
	}
	return nil
}

// clientEvent returns the API Gateway event of events/ping.json carrying body.
func clientEvent(t *testing.T, body string) events.APIGatewayWebsocketProxyRequest {
	t.Helper()
	req := readEvent(t, "../events/ping.json")
	req.Body = body
	return req
}
