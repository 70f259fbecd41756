package apigw_test

import (
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"

	"github.com/finance/fbdi-notify/internal/local/apigw"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestEventShapes checks the three events a connection produces against
// golden lists of their keys, against the keys of real API Gateway events
// (testdata/aws-*.json, captured from AWS by aws-lambda-go), and field by field.
func TestEventShapes(t *testing.T) {
	messages := make(chan events.APIGatewayWebsocketProxyRequest, 1)
	h := newHarness(t, apigw.Config{Stage: "prod", APIID: "a1b2c3d4e5", Routes: []apigw.Route{{Key: apigw.RouteDefault,
		Handler: record(messages, func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, nil
		})}}})
	host := h.srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(host)

	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	c, _, err := websocket.Dial(ctx, h.url()+"/?token=secret&a=1&a=2", &websocket.DialOptions{
		Subprotocols: []string{"token.x", "notify-v1"},
		HTTPHeader: http.Header{
			"User-Agent":      {"Mozilla/5.0 (test)"},
			"Origin":          {"http://127.0.0.1:3001"},
			"X-Forwarded-For": {"203.0.113.7"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	connect := receive(t, h.connects)
	id := connect.RequestContext.ConnectionID

	later := start.Add(42 * time.Second)
	h.clock.Set(later)
	send(t, c, `{"type":"hello"}`)
	message := receive(t, messages)
	if err := c.Close(4000, "bye"); err != nil {
		t.Fatal(err)
	}
	disconnect := receive(t, h.disconnects)

	tests := []struct {
		name       string
		event      events.APIGatewayWebsocketProxyRequest
		golden     string
		awsSample  string // real event whose keys ours must have
		routeKey   string
		eventType  string
		now        time.Time
		wantFields func(t *testing.T, ev events.APIGatewayWebsocketProxyRequest)
	}{
		{name: "connect", event: connect, golden: "connect.keys", routeKey: "$connect", eventType: "CONNECT", now: start,
			wantFields: func(t *testing.T, ev events.APIGatewayWebsocketProxyRequest) {
				want := map[string]string{
					"Host":                   host,
					"Sec-WebSocket-Version":  "13",
					"Sec-WebSocket-Protocol": "token.x,notify-v1", // as this client sends it
					"User-Agent":             "Mozilla/5.0 (test)",
					"Origin":                 "http://127.0.0.1:3001",
					"X-Forwarded-For":        "203.0.113.7, 127.0.0.1",
					"X-Forwarded-Port":       port,
					"X-Forwarded-Proto":      "http",
				}
				for k, v := range want {
					if ev.Headers[k] != v || !slices.Equal(ev.MultiValueHeaders[k], []string{v}) {
						t.Errorf("header %s = %q, multi-value %q; want %q", k, ev.Headers[k], ev.MultiValueHeaders[k], v)
					}
				}
				if ev.Headers["Sec-WebSocket-Key"] == "" {
					t.Error("no Sec-WebSocket-Key header")
				}
				if !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`).MatchString(ev.Headers["X-Amzn-Trace-Id"]) {
					t.Errorf("X-Amzn-Trace-Id = %q", ev.Headers["X-Amzn-Trace-Id"])
				}
				for _, k := range []string{"Connection", "Upgrade"} {
					if _, ok := ev.MultiValueHeaders[k]; ok {
						t.Errorf("hop-by-hop header %s passed to $connect", k)
					}
				}
				if !reflect.DeepEqual(ev.QueryStringParameters, map[string]string{"token": "secret", "a": "2"}) ||
					!reflect.DeepEqual(ev.MultiValueQueryStringParameters, map[string][]string{"token": {"secret"}, "a": {"1", "2"}}) {
					t.Errorf("query = %v, multi-value %v", ev.QueryStringParameters, ev.MultiValueQueryStringParameters)
				}
			}},
		{name: "message", event: message, golden: "message.keys", awsSample: "aws-message.json", routeKey: "$default", eventType: "MESSAGE", now: later,
			wantFields: func(t *testing.T, ev events.APIGatewayWebsocketProxyRequest) {
				messageID, _ := ev.RequestContext.MessageID.(string)
				if !idShape.MatchString(messageID) || messageID == ev.RequestContext.RequestID {
					t.Errorf("messageId = %v, want an ID of its own", ev.RequestContext.MessageID)
				}
				if ev.Body != `{"type":"hello"}` || ev.IsBase64Encoded || ev.Headers != nil {
					t.Errorf("body %q, isBase64Encoded %v, headers %v; want the message, false, none", ev.Body, ev.IsBase64Encoded, ev.Headers)
				}
			}},
		{name: "disconnect", event: disconnect, golden: "disconnect.keys", awsSample: "aws-disconnect.json", routeKey: "$disconnect", eventType: "DISCONNECT", now: later,
			wantFields: func(t *testing.T, ev events.APIGatewayWebsocketProxyRequest) {
				want := map[string]string{"Host": host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
				if !reflect.DeepEqual(ev.Headers, want) {
					t.Errorf("headers = %v, want %v", ev.Headers, want)
				}
				if rc := ev.RequestContext; rc.DisconnectStatusCode != 4000 || rc.DisconnectReason == nil || *rc.DisconnectReason != "bye" {
					t.Errorf("disconnectStatusCode %d, disconnectReason %v; want 4000, bye", rc.DisconnectStatusCode, rc.DisconnectReason)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := eventKeys(t, tt.event)
			golden := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(golden, []byte(strings.Join(keys, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := strings.Join(keys, "\n") + "\n"; got != string(want) {
				t.Errorf("keys of the %s event differ from %s:\ngot:\n%swant:\n%s", tt.name, golden, got, want)
			}
			if tt.awsSample != "" {
				b, err := os.ReadFile(filepath.Join("testdata", tt.awsSample))
				if err != nil {
					t.Fatal(err)
				}
				var sample events.APIGatewayWebsocketProxyRequest
				if err := json.Unmarshal(b, &sample); err != nil {
					t.Fatal(err)
				}
				for _, k := range eventKeys(t, sample) {
					if !slices.Contains(keys, k) {
						t.Errorf("%s: API Gateway sends %q, the emulator does not", tt.name, k)
					}
				}
			}

			rc := tt.event.RequestContext
			if rc.RouteKey != tt.routeKey || rc.EventType != tt.eventType || rc.MessageDirection != "IN" ||
				rc.Stage != "prod" || rc.APIID != "a1b2c3d4e5" || rc.DomainName != host || rc.ConnectionID != id {
				t.Errorf("requestContext = %+v", rc)
			}
			if !idShape.MatchString(rc.ConnectionID) || !idShape.MatchString(rc.RequestID) || rc.ExtendedRequestID != rc.RequestID {
				t.Errorf("connectionId %q, requestId %q, extendedRequestId %q; want API Gateway IDs",
					rc.ConnectionID, rc.RequestID, rc.ExtendedRequestID)
			}
			if want := tt.now.Format("02/Jan/2006:15:04:05 -0700"); rc.RequestTime != want || rc.RequestTimeEpoch != tt.now.UnixMilli() {
				t.Errorf("requestTime %q, requestTimeEpoch %d; want %q, %d", rc.RequestTime, rc.RequestTimeEpoch, want, tt.now.UnixMilli())
			}
			if rc.ConnectedAt != start.UnixMilli() {
				t.Errorf("connectedAt = %d, want %d", rc.ConnectedAt, start.UnixMilli())
			}
			if rc.Identity.SourceIP != "127.0.0.1" || rc.Identity.UserAgent != "Mozilla/5.0 (test)" {
				t.Errorf("identity = %+v", rc.Identity)
			}
			tt.wantFields(t, tt.event)
		})
	}
	if rt := connect.RequestContext.RequestTime; rt != "26/Nov/2026:00:51:28 +0000" {
		t.Errorf("requestTime = %q, want API Gateway's format", rt)
	}
}

// eventKeys returns the sorted JSON key paths of ev; header and query maps
// count as one key each, since their contents depend on the client.
func eventKeys(tb testing.TB, ev events.APIGatewayWebsocketProxyRequest) []string {
	tb.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	leaves := map[string]bool{"headers": true, "multiValueHeaders": true, "queryStringParameters": true, "multiValueQueryStringParameters": true}
	var keys []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok && !leaves[prefix+k] {
				walk(prefix+k+".", sub)
				continue
			}
			keys = append(keys, prefix+k)
		}
	}
	walk("", m)
	slices.Sort(keys)
	return keys
}
