package samtemplate_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/fbdi"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// decodeStrict reads events/<name> into v, refusing fields that v lacks, so
// that a fixture is exactly a shape that Lambda delivers.
func decodeStrict(tb testing.TB, name string, v any) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(root, "events", name))
	if err != nil {
		tb.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("events/%s: %v", name, err)
	}
	return data
}

// The WebSocket fixtures (for `sam local invoke -e`) are events of the
// template's routes, and each message's body selects its own route.
func TestWebSocketEventFixtures(t *testing.T) {
	tmpl := load(t)
	tests := []struct {
		file, route, eventType string
	}{
		{"connect.json", "$connect", "CONNECT"},
		{"disconnect.json", "$disconnect", "DISCONNECT"},
		{"ping.json", "ping", "MESSAGE"},
		{"resume.json", "resume", "MESSAGE"},
		{"history.json", "history", "MESSAGE"},
		{"mark_read.json", "mark_read", "MESSAGE"},
		{"status.json", "status", "MESSAGE"},
		{"history_filtered.json", "history", "MESSAGE"},
		// Requests without a route of their own reach $default (MessageFunction too).
		{"archive.json", "$default", "MESSAGE"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var ev events.APIGatewayWebsocketProxyRequest
			decodeStrict(t, tt.file, &ev)
			rc := ev.RequestContext
			if rc.RouteKey != tt.route || rc.EventType != tt.eventType {
				t.Errorf("route %q, event type %q; want %q, %q", rc.RouteKey, rc.EventType, tt.route, tt.eventType)
			}
			if _, ok := tmpl.Route(rc.RouteKey); !ok {
				t.Errorf("route %q is not in template.yaml", rc.RouteKey)
			}
			if rc.ConnectionID == "" || rc.RequestID == "" || rc.DomainName == "" || rc.Stage == "" || rc.Identity.SourceIP == "" {
				t.Errorf("requestContext lacks connection ID, request ID, domain, stage or source IP: %+v", rc)
			}
			if tt.eventType != "MESSAGE" {
				return
			}
			// $request.body.type picks the route, as API Gateway would; a type
			// that names no route picks $default.
			var body struct{ Type string }
			if err := json.Unmarshal([]byte(ev.Body), &body); err != nil {
				t.Fatalf("body %s: %v", ev.Body, err)
			}
			selected := body.Type
			if _, ok := tmpl.Route(selected); !ok {
				selected = "$default"
			}
			if selected != tt.route {
				t.Errorf("body %s selects route %q, want %q", ev.Body, selected, tt.route)
			}
		})
	}
}

// The connect fixture carries a placeholder, never a real token.
func TestConnectFixtureHasNoToken(t *testing.T) {
	var ev events.APIGatewayWebsocketProxyRequest
	decodeStrict(t, "connect.json", &ev)
	offer := ev.Headers["Sec-WebSocket-Protocol"]
	if !strings.Contains(offer, "REPLACE_WITH_A_DEV_TOKEN") || strings.Count(offer, ".") >= 2 {
		t.Errorf("Sec-WebSocket-Protocol %q: want the placeholder, not a JWT", offer)
	}
	if len(ev.QueryStringParameters) > 0 || ev.Headers["Authorization"] != "" {
		t.Error("the fixture carries credentials outside Sec-WebSocket-Protocol")
	}
}

func TestWelcomeFixture(t *testing.T) {
	var ev events.DynamoDBEvent
	decodeStrict(t, "welcome.json", &ev)
	tbl, err := load(t).Table("ConnectionsTable")
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Records) == 0 {
		t.Fatal("no records")
	}
	for _, r := range ev.Records {
		if r.EventName != "INSERT" || r.Change.StreamViewType != tbl.StreamView {
			t.Errorf("record %s: %s with %s, want INSERT with %s", r.EventID, r.EventName, r.Change.StreamViewType, tbl.StreamView)
		}
		for _, attr := range []string{tbl.PartitionKey.Name, tbl.Indexes[0].PartitionKey.Name, tbl.TTLAttribute, "connectedAt"} {
			if _, ok := r.Change.NewImage[attr]; !ok {
				t.Errorf("record %s: NewImage lacks %s", r.EventID, attr)
			}
		}
	}
}

// sqsFixture reads an SQS event fixture and checks each record's MD5.
func sqsFixture(tb testing.TB, name string) events.SQSEvent {
	tb.Helper()
	var ev events.SQSEvent
	decodeStrict(tb, name, &ev)
	if len(ev.Records) == 0 {
		tb.Fatalf("%s: no records", name)
	}
	for _, r := range ev.Records {
		sum := md5.Sum([]byte(r.Body))
		if r.Md5OfBody != hex.EncodeToString(sum[:]) {
			tb.Errorf("%s: record %s: md5OfBody does not match its body", name, r.MessageId)
		}
	}
	return ev
}

func TestNotifyFixture(t *testing.T) {
	for _, r := range sqsFixture(t, "notify-sqs.json").Records {
		var m struct {
			UserID  string   `json:"user_id"`
			UserIDs []string `json:"user_ids"`
			Type    string   `json:"type"`
			Message string   `json:"message"`
		}
		if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
			t.Fatalf("record %s: %v", r.MessageId, err)
		}
		if (m.UserID == "") == (len(m.UserIDs) == 0) || m.Type != "notification" || m.Message == "" {
			t.Errorf("record %s: %s; want user_id or user_ids, type notification and a message", r.MessageId, r.Body)
		}
	}
}

// The workflow messages are valid transfers: they parse, and their lines
// pass the same validation as the Preparing Data step (a budget transfer
// nets to zero).
func TestWorkflowMessages(t *testing.T) {
	worker := sqsFixture(t, "worker-sqs.json")
	sample, err := os.ReadFile(filepath.Join(root, "events/messages/budget-transfer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if json.Unmarshal([]byte(worker.Records[0].Body), &a) != nil || json.Unmarshal(sample, &b) != nil || !jsonEqual(a, b) {
		t.Error("worker-sqs.json's message is not events/messages/budget-transfer.json")
	}

	tests := []struct {
		file, kind, transaction string
	}{
		{"budget-transfer.json", "budget_transfer", "602"},
		{"journal-import.json", "journal_import", "603"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(root, "events/messages", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := workflow.ParseMessage(body)
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			r := m.Request
			if r == nil || string(r.Kind) != tt.kind || r.TransactionID != tt.transaction || r.UserID != "123" {
				t.Fatalf("request %+v, want %s %s of user 123", r, tt.kind, tt.transaction)
			}
			switch tt.kind {
			case "budget_transfer":
				var lines []fbdi.BudgetLine
				if err := json.Unmarshal(r.Lines, &lines); err != nil {
					t.Fatal(err)
				}
				if err := fbdi.ValidateBudget(lines); err != nil || len(lines) != 2 {
					t.Errorf("%d lines, ValidateBudget: %v", len(lines), err)
				}
			case "journal_import":
				var lines []fbdi.JournalLine
				if err := json.Unmarshal(r.Lines, &lines); err != nil {
					t.Fatal(err)
				}
				if err := fbdi.ValidateJournal(lines); err != nil {
					t.Errorf("ValidateJournal: %v", err)
				}
			}
		})
	}
}

func TestNotificationMessage(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "events/messages/notification.json"))
	if err != nil {
		t.Fatal(err)
	}
	first := sqsFixture(t, "notify-sqs.json").Records[0]
	var a, b any
	if json.Unmarshal(data, &a) != nil || json.Unmarshal([]byte(first.Body), &b) != nil || !jsonEqual(a, b) {
		t.Error("notify-sqs.json's first message is not events/messages/notification.json")
	}
}

// jsonEqual compares two decoded JSON values.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
