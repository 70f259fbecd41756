package apigw_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/coder/websocket"

	"github.com/finance/fbdi-notify/internal/local/apigw"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
)

// guard bounds every wait in these tests; it only turns a hang into a failure.
const guard = 10 * time.Second

// start is the time of the test clock.
var start = time.Date(2026, 11, 26, 0, 51, 28, 123_000_000, time.UTC)

// harness runs a Gateway behind an httptest server and records every
// $connect and $disconnect event.
type harness struct {
	gw          *apigw.Gateway
	srv         *httptest.Server
	clock       *clocktest.Clock
	connects    chan events.APIGatewayWebsocketProxyRequest
	disconnects chan events.APIGatewayWebsocketProxyRequest
	// inProcess makes management() reach the management API through
	// Gateway.RoundTrip instead of HTTP on the server's port.
	inProcess bool
}

// managementTransports are the two ways the management API is reached: over
// HTTP on the gateway's port (any client), and in-process through
// Gateway.RoundTrip (the local stack's functions). Every management API
// conformance test runs over both.
var managementTransports = []struct {
	name      string
	inProcess bool
}{{"http", false}, {"in-process", true}}

// newHarness starts a gateway for cfg. $connect (if cfg has none: accept)
// and $disconnect handlers are wrapped to record their events; the route
// selection expression defaults to $request.body.type and the clock to a
// test clock at start.
func newHarness(tb testing.TB, cfg apigw.Config) *harness {
	tb.Helper()
	h := &harness{
		clock:       clocktest.New(start),
		connects:    make(chan events.APIGatewayWebsocketProxyRequest, 4096),
		disconnects: make(chan events.APIGatewayWebsocketProxyRequest, 4096),
	}
	if cfg.RouteSelectionExpression == "" {
		cfg.RouteSelectionExpression = "$request.body.type"
	}
	if cfg.Now == nil {
		cfg.Now = h.clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	accept := func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
	ignore := func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
	routes := []apigw.Route{{Key: apigw.RouteConnect, Handler: accept}, {Key: apigw.RouteDisconnect, Handler: ignore}}
	for _, rt := range cfg.Routes {
		switch rt.Key {
		case apigw.RouteConnect:
			routes[0] = rt
		case apigw.RouteDisconnect:
			routes[1] = rt
		default:
			routes = append(routes, rt)
		}
	}
	routes[0].Handler = record(h.connects, routes[0].Handler)
	routes[1].Handler = record(h.disconnects, routes[1].Handler)
	cfg.Routes = routes

	h.gw = apigw.New(cfg)
	h.srv = httptest.NewServer(h.gw)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		if err := h.gw.Close(ctx); err != nil {
			tb.Errorf("close gateway: %v", err)
		}
		h.srv.Close()
	})
	return h
}

// record sends each event to ch before calling next.
func record(ch chan<- events.APIGatewayWebsocketProxyRequest, next apigw.Handler) apigw.Handler {
	return func(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		ch <- req
		return next(ctx, req)
	}
}

// url is the WebSocket URL of the gateway.
func (h *harness) url() string { return "ws" + strings.TrimPrefix(h.srv.URL, "http") }

// dial connects a client and returns it with its connection ID.
func (h *harness) dial(tb testing.TB, opts *websocket.DialOptions) (*websocket.Conn, string) {
	tb.Helper()
	return h.dialURL(tb, h.url(), opts)
}

func (h *harness) dialURL(tb testing.TB, url string, opts *websocket.DialOptions) (*websocket.Conn, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { _ = c.CloseNow() })
	c.SetReadLimit(-1)
	ev := receive(tb, h.connects)
	return c, ev.RequestContext.ConnectionID
}

// management returns the real AWS SDK management client for the gateway,
// with endpoint path suffix (e.g. "/local" for the stage), over HTTP or, if
// h.inProcess, through the gateway's RoundTrip.
func (h *harness) management(suffix string) *apigatewaymanagementapi.Client {
	cfg := aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint:     aws.String(h.srv.URL + suffix),
		RetryMaxAttempts: 1,
	}
	if h.inProcess {
		cfg.HTTPClient = h.gw
	}
	return apigatewaymanagementapi.NewFromConfig(cfg)
}

// receive returns the next value from ch.
func receive[T any](tb testing.TB, ch <-chan T) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		tb.Fatalf("timed out waiting for %T", *new(T))
		panic("unreachable")
	}
}

// read returns the next message the client receives.
func read(tb testing.TB, c *websocket.Conn) (websocket.MessageType, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	typ, data, err := c.Read(ctx)
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return typ, string(data)
}

// readText returns the next message, which must be a text message.
func readText(tb testing.TB, c *websocket.Conn) string {
	tb.Helper()
	typ, data := read(tb, c)
	if typ != websocket.MessageText {
		tb.Fatalf("got a %v message %q, want text", typ, data)
	}
	return data
}

// send sends a text message.
func send(tb testing.TB, c *websocket.Conn, msg string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// expectClose reads until the connection ends and checks the close code the
// server sent.
func expectClose(tb testing.TB, c *websocket.Conn, want websocket.StatusCode) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		if got := websocket.CloseStatus(err); got != want {
			tb.Fatalf("connection ended with %v (status %d), want close status %d", err, got, want)
		}
		return
	}
}

// reply returns a two-way route answering "route <key>".
func reply(key string) apigw.Route {
	return apigw.Route{Key: key, TwoWay: true, Handler: func(_ context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: "route " + req.RequestContext.RouteKey}, nil
	}}
}
