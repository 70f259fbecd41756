package apigw_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/coder/websocket"

	"github.com/finance/fbdi-notify/internal/local/apigw"
)

// idPattern is the shape of API Gateway's connection, request and message IDs.
const idPattern = `[A-Za-z0-9+/]{15}=`

var idShape = regexp.MustCompile(`^` + idPattern + `$`)

func TestRouteSelection(t *testing.T) {
	withDefault := []apigw.Route{reply("ping"), reply("resume"), reply(apigw.RouteDefault)}
	tests := []struct {
		name   string
		expr   string // route selection expression; "" means $request.body.type
		routes []apigw.Route
		send   string
		want   string // regexp; {id} stands for the connection ID
	}{
		{name: "custom route", routes: withDefault, send: `{"type":"ping","timestamp":1}`, want: `^route ping$`},
		{name: "unknown type goes to $default", routes: withDefault, send: `{"type":"dance"}`, want: `^route \$default$`},
		{name: "invalid JSON goes to $default", routes: withDefault, send: `{"type":"ping"`, want: `^route \$default$`},
		{name: "plain text goes to $default", routes: withDefault, send: `ping`, want: `^route \$default$`},
		{name: "missing key goes to $default", routes: withDefault, send: `{"action":"ping"}`, want: `^route \$default$`},
		{name: "non-string key goes to $default", routes: withDefault, send: `{"type":1}`, want: `^route \$default$`},
		{name: "reserved $disconnect key goes to $default", routes: withDefault, send: `{"type":"$disconnect"}`, want: `^route \$default$`},
		{name: "reserved $connect key goes to $default", routes: withDefault, send: `{"type":"$connect"}`, want: `^route \$default$`},
		{name: "nested selection expression", expr: "$request.body.meta.kind", routes: withDefault,
			send: `{"type":"ping","meta":{"kind":"resume"}}`, want: `^route resume$`},
		{name: "braced selection expression", expr: "${request.body.type}", routes: withDefault, send: `{"type":"ping"}`, want: `^route ping$`},
		{name: "no $default: custom route still works", routes: []apigw.Route{reply("ping")}, send: `{"type":"ping"}`, want: `^route ping$`},
		{name: "no $default: unknown type is Forbidden", routes: []apigw.Route{reply("ping")}, send: `{"type":"dance"}`,
			want: `^\{"message": "Forbidden", "connectionId":"{id}", "requestId":"` + idPattern + `"\}$`},
		{name: "no $default: invalid JSON is Forbidden", routes: []apigw.Route{reply("ping")}, send: `nope`,
			want: `^\{"message": "Forbidden", "connectionId":"{id}", "requestId":"` + idPattern + `"\}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{RouteSelectionExpression: tt.expr, Routes: tt.routes})
			c, id := h.dial(t, nil)
			send(t, c, tt.send)
			got := readText(t, c)
			want := regexp.MustCompile(regexp.MustCompile(`\{id\}`).ReplaceAllLiteralString(tt.want, regexp.QuoteMeta(id)))
			if !want.MatchString(got) {
				t.Errorf("reply = %q, want match for %s", got, want)
			}
		})
	}
}

func TestBinaryMessage(t *testing.T) {
	seen := make(chan events.APIGatewayWebsocketProxyRequest, 1)
	h := newHarness(t, apigw.Config{Routes: []apigw.Route{{Key: "ping", TwoWay: true, Handler: func(_ context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		seen <- req
		return events.APIGatewayProxyResponse{Body: "pong"}, nil
	}}}})
	c, _ := h.dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageBinary, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, c); got != "pong" {
		t.Errorf("reply = %q, want pong", got)
	}
	ev := receive(t, seen)
	if !ev.IsBase64Encoded || ev.Body != "eyJ0eXBlIjoicGluZyJ9" {
		t.Errorf("binary message event: isBase64Encoded %v, body %q; want true, base64 of the message", ev.IsBase64Encoded, ev.Body)
	}
}

func TestConnectRefused(t *testing.T) {
	connect := apigw.Route{Key: apigw.RouteConnect, Handler: func(_ context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		switch req.QueryStringParameters["outcome"] {
		case "error":
			return events.APIGatewayProxyResponse{}, errors.New("boom")
		case "panic":
			panic("boom")
		case "":
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		}
		status, _ := strconv.Atoi(req.QueryStringParameters["outcome"])
		return events.APIGatewayProxyResponse{StatusCode: status, Body: "refused"}, nil
	}}
	tests := []struct {
		name       string
		outcome    string
		wantStatus int
		wantBody   string
	}{
		{name: "401 from the handler", outcome: "401", wantStatus: http.StatusUnauthorized, wantBody: "refused"},
		{name: "403 from the handler", outcome: "403", wantStatus: http.StatusForbidden, wantBody: "refused"},
		{name: "302 is not success", outcome: "302", wantStatus: http.StatusFound, wantBody: "refused"},
		{name: "handler error", outcome: "error", wantStatus: http.StatusBadGateway, wantBody: `{"message":"Internal server error"}`},
		{name: "handler panic", outcome: "panic", wantStatus: http.StatusBadGateway, wantBody: `{"message":"Internal server error"}`},
		{name: "no status", outcome: "0", wantStatus: http.StatusBadGateway, wantBody: `{"message":"Internal server error"}`},
		{name: "informational status", outcome: "101", wantStatus: http.StatusBadGateway, wantBody: `{"message":"Internal server error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{Routes: []apigw.Route{connect}})
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, h.url()+"/?outcome="+tt.outcome, &websocket.DialOptions{
				HTTPClient: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}})
			if err == nil {
				_ = c.CloseNow()
				t.Fatal("dial succeeded, want the upgrade refused")
			}
			if resp == nil || resp.StatusCode != tt.wantStatus {
				t.Fatalf("dial: %v (response %v), want status %d", err, resp, tt.wantStatus)
			}
			if body, _ := io.ReadAll(resp.Body); string(body) != tt.wantBody {
				t.Errorf("refusal body = %q, want %q", body, tt.wantBody)
			}
			refused := receive(t, h.connects).RequestContext.ConnectionID

			// The refused ID was never a connection.
			_, err = h.management("").GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(refused)})
			var gone *types.GoneException
			if !errors.As(err, &gone) {
				t.Errorf("GetConnection(refused ID) error = %v, want GoneException", err)
			}

			// No $disconnect for the refused connection: the first one is
			// for the next, accepted connection.
			ok, id := h.dial(t, nil)
			if err := ok.Close(websocket.StatusNormalClosure, ""); err != nil {
				t.Fatal(err)
			}
			if got := receive(t, h.disconnects).RequestContext.ConnectionID; got != id {
				t.Errorf("$disconnect ran for %q, want only the accepted connection %q (refused: %q)", got, id, refused)
			}
		})
	}
}

func TestSubprotocol(t *testing.T) {
	tests := []struct {
		name    string
		offered []string
		header  string // response header name; "" means Sec-WebSocket-Protocol
		chosen  string // its value returned by $connect
		want    string
	}{
		{name: "offered and chosen", offered: []string{"token.abc", "notify-v1"}, chosen: "notify-v1", want: "notify-v1"},
		{name: "chosen, header name in lower case", offered: []string{"token.abc"}, header: "sec-websocket-protocol", chosen: "token.abc", want: "token.abc"},
		{name: "offered, none chosen", offered: []string{"token.abc"}, want: ""},
		{name: "chosen but not offered", offered: []string{"a"}, chosen: "b", want: ""},
		{name: "nothing offered", chosen: "a", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headerName := tt.header
			if headerName == "" {
				headerName = "Sec-WebSocket-Protocol"
			}
			h := newHarness(t, apigw.Config{Routes: []apigw.Route{{Key: apigw.RouteConnect, Handler: func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
				resp := events.APIGatewayProxyResponse{StatusCode: 200}
				if tt.chosen != "" {
					resp.Headers = map[string]string{headerName: tt.chosen}
				}
				return resp, nil
			}}}})
			c, _ := h.dial(t, &websocket.DialOptions{Subprotocols: tt.offered})
			if got := c.Subprotocol(); got != tt.want {
				t.Errorf("negotiated subprotocol = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSubprotocolTokenIsNotLogged(t *testing.T) {
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiNDIifQ.c2lnbmF0dXJl"
	tests := []struct {
		name    string
		offered []string
		wantLog string // the subprotocol as logged
	}{
		{name: "token alone, echoed", offered: []string{token}, wantLog: "redacted"},
		{name: "bearer and token", offered: []string{"bearer", token}, wantLog: "bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			h := newHarness(t, apigw.Config{
				Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
				Routes: []apigw.Route{{Key: apigw.RouteConnect, Handler: func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
					// As route.Connect answers: the first offer echoed.
					return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Sec-WebSocket-Protocol": tt.offered[0]}}, nil
				}}},
			})
			c, _ := h.dial(t, &websocket.DialOptions{Subprotocols: tt.offered})
			if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
				t.Fatal(err)
			}
			receive(t, h.disconnects) // after every line of the connection's life
			text := logs.String()
			for _, part := range strings.Split(token, ".") {
				if strings.Contains(text, part) {
					t.Errorf("gateway logs hold part of the token %q:\n%s", part, text)
				}
			}
			if want := `"subprotocol":"` + tt.wantLog + `"`; !strings.Contains(text, want) {
				t.Errorf("gateway logs lack %s:\n%s", want, text)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer that the gateway's goroutines may write to
// while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestTwoWayRoutes(t *testing.T) {
	body := func(key, body string, twoWay bool) apigw.Route {
		return apigw.Route{Key: key, TwoWay: twoWay, Handler: func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: body}, nil
		}}
	}
	h := newHarness(t, apigw.Config{Routes: []apigw.Route{
		body("quiet", "must not be sent", false),
		body("silent", "", true),
		body("ping", `{"type":"pong"}`, true),
	}})
	c, _ := h.dial(t, nil)
	send(t, c, `{"type":"quiet"}`)
	send(t, c, `{"type":"silent"}`)
	send(t, c, `{"type":"ping"}`)
	// Messages are handled in order, so anything the first two sent would come first.
	if got := readText(t, c); got != `{"type":"pong"}` {
		t.Errorf("first message = %q, want only the two-way route's body", got)
	}
}

func TestHandlerFailure(t *testing.T) {
	tests := []struct {
		name    string
		handler apigw.Handler
	}{
		{name: "error", handler: func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, errors.New("database unreachable")
		}},
		{name: "panic", handler: func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			panic("nil map")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{Routes: []apigw.Route{
				{Key: "history", TwoWay: true, Handler: tt.handler}, reply("ping"),
			}})
			c, id := h.dial(t, nil)
			send(t, c, `{"type":"history"}`)
			want := regexp.MustCompile(`^\{"message": "Internal server error", "connectionId":"` + regexp.QuoteMeta(id) + `", "requestId":"` + idPattern + `"\}$`)
			if got := readText(t, c); !want.MatchString(got) {
				t.Errorf("reply = %q, want match for %s", got, want)
			}
			send(t, c, `{"type":"ping"}`)
			if got := readText(t, c); got != "route ping" {
				t.Errorf("after the failure: reply = %q, want the connection still served", got)
			}
		})
	}
}

func TestMessageAndFrameLimits(t *testing.T) {
	const kb = 1024
	tests := []struct {
		name      string
		frames    []int // payload size of each frame of one text message
		wantClose bool  // 1009 and $disconnect, instead of a reply
	}{
		{name: "one frame of 32 KB", frames: []int{32 * kb}},
		{name: "one frame of 32 KB + 1", frames: []int{32*kb + 1}, wantClose: true},
		{name: "one frame of 1 MB", frames: []int{1024 * kb}, wantClose: true},
		{name: "128 KB in 32 KB frames", frames: []int{32 * kb, 32 * kb, 32 * kb, 32 * kb}},
		{name: "128 KB + 1 in frames", frames: []int{32 * kb, 32 * kb, 32 * kb, 32 * kb, 1}, wantClose: true},
		{name: "frame over limit inside a message", frames: []int{10, 32*kb + 1}, wantClose: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{Routes: []apigw.Route{{Key: apigw.RouteDefault, TwoWay: true,
				Handler: func(_ context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
					return events.APIGatewayProxyResponse{Body: strconv.Itoa(len(req.Body))}, nil
				}}}})
			c, id := h.dial(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			total := 0
			if len(tt.frames) == 1 {
				total = tt.frames[0]
				_ = c.Write(ctx, websocket.MessageText, bytes.Repeat([]byte("a"), total))
			} else {
				w, err := c.Writer(ctx, websocket.MessageText)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range tt.frames {
					total += n
					_, _ = w.Write(bytes.Repeat([]byte("a"), n)) // one frame per Write
				}
				_ = w.Close()
			}
			if !tt.wantClose {
				if got := readText(t, c); got != strconv.Itoa(total) {
					t.Errorf("handler saw %s bytes, want %d", got, total)
				}
				return
			}
			expectClose(t, c, websocket.StatusMessageTooBig)
			ev := receive(t, h.disconnects)
			if rc := ev.RequestContext; rc.ConnectionID != id || rc.DisconnectStatusCode != 1009 || *rc.DisconnectReason != "Message too big" {
				t.Errorf("$disconnect: connection %q, status %d, reason %q; want %q, 1009, Message too big",
					rc.ConnectionID, rc.DisconnectStatusCode, *rc.DisconnectReason, id)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name        string
		idleTimeout time.Duration
		maxDuration time.Duration
	}{
		{name: "idle timeout", idleTimeout: 50 * time.Millisecond, maxDuration: time.Hour},
		{name: "maximum duration", idleTimeout: time.Hour, maxDuration: 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{IdleTimeout: tt.idleTimeout, MaxDuration: tt.maxDuration})
			c, id := h.dial(t, nil)
			expectClose(t, c, websocket.StatusGoingAway)
			ev := receive(t, h.disconnects)
			if rc := ev.RequestContext; rc.ConnectionID != id || rc.DisconnectStatusCode != 1001 || *rc.DisconnectReason != "Going away" {
				t.Errorf("$disconnect: connection %q, status %d, reason %q; want %q, 1001, Going away",
					rc.ConnectionID, rc.DisconnectStatusCode, *rc.DisconnectReason, id)
			}
		})
	}
}

// TestIdleTimeoutRestarts: a message either way restarts the idle timeout,
// so a connection with traffic outlives it several times over; once the
// traffic stops, the timeout closes it with 1001.
func TestIdleTimeoutRestarts(t *testing.T) {
	const idle, every, active = 500 * time.Millisecond, 50 * time.Millisecond, 1500 * time.Millisecond
	quiet := apigw.Route{Key: apigw.RouteDefault, Handler: func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}}
	// post sends msg to the client, which must receive it: the connection is open.
	post := func(t *testing.T, h *harness, c *websocket.Conn, id, msg string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		if _, err := h.management("").PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(msg)}); err != nil {
			t.Fatalf("PostToConnection: %v", err)
		}
		if got := readText(t, c); got != msg {
			t.Fatalf("client received %q, want %q", got, msg)
		}
	}
	tests := []struct {
		name     string
		activity func(t *testing.T, h *harness, c *websocket.Conn, id string)
	}{
		{name: "client messages", activity: func(t *testing.T, _ *harness, c *websocket.Conn, _ string) {
			send(t, c, `{"type":"anything"}`)
		}},
		{name: "posts to the client", activity: func(t *testing.T, h *harness, c *websocket.Conn, id string) {
			post(t, h, c, id, "tick")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, apigw.Config{IdleTimeout: idle, MaxDuration: time.Hour, Routes: []apigw.Route{quiet}})
			c, id := h.dial(t, nil)
			for end := time.Now().Add(active); time.Now().Before(end); time.Sleep(every) {
				tt.activity(t, h, c, id)
			}
			post(t, h, c, id, "still open")
			expectClose(t, c, websocket.StatusGoingAway)
			if ev := receive(t, h.disconnects); ev.RequestContext.DisconnectStatusCode != 1001 {
				t.Errorf("$disconnect status %d, want 1001", ev.RequestContext.DisconnectStatusCode)
			}
		})
	}
}

func TestClientDisconnect(t *testing.T) {
	tests := []struct {
		name       string
		close      func(*websocket.Conn) error
		wantCode   int64
		wantReason string
	}{
		{name: "normal close", close: func(c *websocket.Conn) error { return c.Close(websocket.StatusNormalClosure, "") },
			wantCode: 1000},
		{name: "browser tab closed", close: func(c *websocket.Conn) error { return c.Close(websocket.StatusGoingAway, "") },
			wantCode: 1001},
		{name: "application code and reason", close: func(c *websocket.Conn) error { return c.Close(4000, "logged out") },
			wantCode: 4000, wantReason: "logged out"},
		{name: "network lost", close: func(c *websocket.Conn) error { return c.CloseNow() },
			wantCode: 1006},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{})
			c, id := h.dial(t, nil)
			if err := tt.close(c); err != nil {
				t.Fatal(err)
			}
			ev := receive(t, h.disconnects)
			rc := ev.RequestContext
			if rc.ConnectionID != id || rc.DisconnectStatusCode != tt.wantCode || *rc.DisconnectReason != tt.wantReason {
				t.Errorf("$disconnect: connection %q, status %d, reason %q; want %q, %d, %q",
					rc.ConnectionID, rc.DisconnectStatusCode, *rc.DisconnectReason, id, tt.wantCode, tt.wantReason)
			}
			// Once $disconnect runs, the ID is gone.
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			_, err := h.management("").PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("late")})
			var gone *types.GoneException
			if !errors.As(err, &gone) {
				t.Errorf("PostToConnection after $disconnect: error = %v, want GoneException", err)
			}
		})
	}
}

func TestMessageOrderAndConcurrency(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	release := make(chan struct{})
	h := newHarness(t, apigw.Config{Routes: []apigw.Route{
		{Key: "note", Handler: func(_ context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			mu.Lock()
			seen = append(seen, req.Body)
			mu.Unlock()
			return events.APIGatewayProxyResponse{}, nil
		}},
		{Key: "block", TwoWay: true, Handler: func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			<-release
			return events.APIGatewayProxyResponse{Body: "released"}, nil
		}},
		reply("ping"),
	}})

	// One connection: in order.
	c, _ := h.dial(t, nil)
	var want []string
	for i := range 100 {
		msg := fmt.Sprintf(`{"type":"note","n":%d}`, i)
		want = append(want, msg)
		send(t, c, msg)
	}
	send(t, c, `{"type":"ping"}`)
	if got := readText(t, c); got != "route ping" {
		t.Fatalf("reply = %q", got)
	}
	mu.Lock()
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("handled %d messages in order %v, want %v", len(seen), seen, want)
	}
	mu.Unlock()

	// Two connections: one blocked handler does not hold up the other.
	blocked, _ := h.dial(t, nil)
	send(t, blocked, `{"type":"block"}`)
	send(t, c, `{"type":"ping"}`)
	if got := readText(t, c); got != "route ping" {
		t.Errorf("reply on the other connection = %q, want route ping", got)
	}
	close(release)
	if got := readText(t, blocked); got != "released" {
		t.Errorf("blocked connection reply = %q", got)
	}
}

func TestGatewayClose(t *testing.T) {
	h := newHarness(t, apigw.Config{})
	ids := make(map[string]bool)
	var clients []*websocket.Conn
	for range 3 {
		c, id := h.dial(t, nil)
		clients = append(clients, c)
		ids[id] = true
	}
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		closed <- h.gw.Close(ctx)
	}()
	for _, c := range clients {
		expectClose(t, c, websocket.StatusGoingAway)
	}
	if err := receive(t, closed); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close returned, so every $disconnect has run.
	if len(h.disconnects) != len(ids) {
		t.Fatalf("%d $disconnect events when Close returned, want %d", len(h.disconnects), len(ids))
	}
	for range ids {
		rc := (<-h.disconnects).RequestContext
		if !ids[rc.ConnectionID] || rc.DisconnectStatusCode != 1001 {
			t.Errorf("$disconnect for %q with status %d, want one of the clients with 1001", rc.ConnectionID, rc.DisconnectStatusCode)
		}
		delete(ids, rc.ConnectionID)
	}

	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if _, resp, err := websocket.Dial(ctx, h.url(), nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: %v, %v; want 503", resp, err)
	}
}

func TestDisconnectExactlyOnce(t *testing.T) {
	var (
		mu     sync.Mutex
		counts = make(map[string]int)
	)
	h := newHarness(t, apigw.Config{Routes: []apigw.Route{{Key: apigw.RouteDisconnect,
		Handler: func(_ context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			mu.Lock()
			counts[req.RequestContext.ConnectionID]++
			mu.Unlock()
			return events.APIGatewayProxyResponse{}, nil
		}}}})
	mgmt := h.management("")
	var ids []string
	var wg sync.WaitGroup
	for range 20 {
		c, id := h.dial(t, nil)
		ids = append(ids, id)
		// The client, the management API and the gateway's shutdown all
		// close the connection at once.
		wg.Go(func() { _ = c.Close(websocket.StatusNormalClosure, "") })
		wg.Go(func() {
			_, _ = mgmt.DeleteConnection(context.Background(), &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)})
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := h.gw.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if counts[id] != 1 {
			t.Errorf("$disconnect ran %d times for %q, want once", counts[id], id)
		}
	}
}

func TestFallback(t *testing.T) {
	tests := []struct {
		name       string
		fallback   http.Handler
		path       string
		wantStatus int
	}{
		{name: "fallback serves other paths", path: "/", wantStatus: http.StatusTeapot,
			fallback: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })},
		{name: "no fallback", path: "/000000000000/workflow", wantStatus: http.StatusNotFound},
		{name: "management path is not passed on", path: "/@connections/unknown", wantStatus: http.StatusGone,
			fallback: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{Fallback: tt.fallback})
			resp, err := http.Get(h.srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("GET %s: %d, want %d", tt.path, resp.StatusCode, tt.wantStatus)
			}
		})
	}
}

func TestDialAnyPath(t *testing.T) {
	h := newHarness(t, apigw.Config{Routes: []apigw.Route{reply("ping")}})
	c, _ := h.dialURL(t, h.url()+"/local?token="+url.QueryEscape("a b"), nil)
	send(t, c, `{"type":"ping"}`)
	if got := readText(t, c); got != "route ping" {
		t.Errorf("reply = %q", got)
	}
}
