// Package apigw emulates an Amazon API Gateway WebSocket API on one machine,
// for the local stack: WebSocket clients connect to it, it invokes the same
// Lambda handlers with the same event shapes that API Gateway sends, and the
// real AWS SDK management client (apigatewaymanagementapi) can post to,
// inspect and delete its connections at /@connections/{id}.
//
// What is emulated, each as API Gateway documents or does it:
//   - $connect runs before the handshake is accepted; a 3xx-5xx status
//     refuses the upgrade with that status, body and headers, and no
//     $disconnect follows; a handler error, panic or missing status gives
//     502. A returned Sec-WebSocket-Protocol header selects the subprotocol
//     (if the client offered it). While $connect runs the connection ID is
//     unknown to the management API (410, as on API Gateway); from its
//     successful return on, posts are delivered once the handshake is done.
//   - Route selection with $request.body.<path>; non-JSON messages, messages
//     without a matching key and keys naming a reserved route go to $default;
//     without $default the client gets API Gateway's "Forbidden" message.
//     A handler error (or panic) sends "Internal server error".
//   - Two-way routes send the handler's response body back to the client.
//   - 128 KB per message and 32 KB per frame from clients (close code 1009);
//     messages to clients are split into frames of at most 32 KB.
//   - 10 minute idle timeout (reset by a data message either way) and 2 hour
//     maximum duration, both closing with 1001; DELETE closes with 1000.
//   - $disconnect exactly once for every connection whose $connect
//     succeeded, after its last message was handled, with
//     disconnectStatusCode and disconnectReason; the ID is gone (410) from
//     the moment the connection starts closing.
//
// Messages of one connection are handled one at a time, in order; different
// connections are handled concurrently. A Gateway is safe for concurrent use.
package apigw

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"
)

// Reserved route keys.
const (
	RouteConnect    = "$connect"
	RouteDisconnect = "$disconnect"
	RouteDefault    = "$default"
)

// Defaults of Config, API Gateway's quotas.
const (
	DefaultStage                    = "local"
	DefaultAPIID                    = "local"
	DefaultRouteSelectionExpression = "$request.body.action"
	DefaultMaxMessageBytes          = 128 * 1024
	DefaultMaxFrameBytes            = 32 * 1024
	DefaultIdleTimeout              = 10 * time.Minute
	DefaultMaxDuration              = 2 * time.Hour
)

const (
	// integrationTimeout bounds every handler invocation, like API Gateway's
	// 29 second integration timeout.
	integrationTimeout = 29 * time.Second
	// writeTimeout bounds every message sent to a client; a client that does
	// not take a message in that time is disconnected.
	writeTimeout = 10 * time.Second
)

// Handler handles one route: the same signature as the Lambda handlers
// (Handle methods) that API Gateway invokes.
type Handler func(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)

// Route connects a route key to its handler.
type Route struct {
	Key     string  // "$connect", "$disconnect", "$default" or a value of the selection expression, e.g. "ping"
	Handler Handler // the integration
	TwoWay  bool    // has a route response: the handler's response Body is sent back to the client
}

// Config configures a Gateway. Zero fields take the defaults named below.
type Config struct {
	Routes []Route
	// RouteSelectionExpression picks the route key from a JSON message,
	// "$request.body.<field>[.<field>...]" (also written "${request.body.<field>}").
	// Default DefaultRouteSelectionExpression, API Gateway's suggestion.
	RouteSelectionExpression string
	Stage                    string        // requestContext.stage and management path prefix; default "local"
	DomainName               string        // requestContext.domainName; default the Host of the upgrade request
	APIID                    string        // requestContext.apiId; default "local"
	MaxMessageBytes          int           // largest client message; default 128 KB
	MaxFrameBytes            int           // largest frame either way; default 32 KB
	IdleTimeout              time.Duration // closes a connection without messages either way for this long; default 10m
	MaxDuration              time.Duration // closes every connection this long after connect; default 2h
	// Fallback serves requests that are neither WebSocket upgrades nor
	// management API calls; default 404.
	Fallback http.Handler
	Now      func() time.Time // clock for event timestamps and throttling; default time.Now
	Logger   *slog.Logger     // default discards

	// Throttles are the routes' throttling by route key, as the stage's
	// default and per-route settings give them; a route without one is not
	// throttled. $disconnect is never throttled.
	Throttles map[string]Throttle
}

// Gateway is an emulated API Gateway WebSocket API. It is an http.Handler:
// WebSocket upgrade requests on any path open connections; /@connections/{id}
// and /{stage}/@connections/{id} are the management API; everything else goes
// to Config.Fallback.
type Gateway struct {
	cfg      Config
	routes   map[string]Route
	selector []string // JSON field path of the route selection expression
	log      *slog.Logger
	buckets  map[string]*bucket // by route key, from Config.Throttles
	// writeTimeout bounds each message to a client: the constant, which
	// tests of the timeout shorten.
	writeTimeout time.Duration

	mu     sync.Mutex
	conns  map[string]*conn // accepted, not yet closing
	closed bool             // Close was called: no new connections
	active sync.WaitGroup   // upgrade requests being served, from $connect to $disconnect
}

// New returns a Gateway for cfg. Like http.ServeMux.Handle, it panics on a
// configuration error: an invalid route selection expression, a route
// without a key or handler, or two routes with the same key.
func New(cfg Config) *Gateway {
	if cfg.RouteSelectionExpression == "" {
		cfg.RouteSelectionExpression = DefaultRouteSelectionExpression
	}
	if cfg.Stage == "" {
		cfg.Stage = DefaultStage
	}
	if cfg.APIID == "" {
		cfg.APIID = DefaultAPIID
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxFrameBytes <= 0 {
		cfg.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = DefaultMaxDuration
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	selector, err := parseSelectionExpression(cfg.RouteSelectionExpression)
	if err != nil {
		panic(err)
	}
	routes := make(map[string]Route, len(cfg.Routes))
	for _, rt := range cfg.Routes {
		if rt.Key == "" || rt.Handler == nil {
			panic(fmt.Sprintf("gateway: route %q needs a key and a handler", rt.Key))
		}
		if _, dup := routes[rt.Key]; dup {
			panic(fmt.Sprintf("gateway: route %q is defined twice", rt.Key))
		}
		routes[rt.Key] = rt
	}
	buckets := make(map[string]*bucket, len(cfg.Throttles))
	for key, t := range cfg.Throttles {
		if key != RouteDisconnect {
			buckets[key] = newBucket(t, cfg.Now())
		}
	}
	return &Gateway{
		cfg:          cfg,
		routes:       routes,
		buckets:      buckets,
		selector:     selector,
		log:          cfg.Logger,
		conns:        make(map[string]*conn),
		writeTimeout: writeTimeout,
	}
}

// ServeHTTP serves WebSocket upgrades, the management API and the fallback.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if stage, id, ok := parseManagementPath(r.URL); ok {
		g.serveManagement(w, r, stage, id)
		return
	}
	if isUpgrade(r) {
		g.serveWebSocket(w, r)
		return
	}
	if g.cfg.Fallback != nil {
		g.cfg.Fallback.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}

// Close closes every connection with 1001 (going away), runs their
// $disconnect handlers and refuses new connections (503). It returns once
// every $disconnect has returned, or with ctx's error when ctx ends first.
func (g *Gateway) Close(ctx context.Context) error {
	g.mu.Lock()
	g.closed = true
	conns := make([]*conn, 0, len(g.conns))
	for _, c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()

	for _, c := range conns {
		g.closeConn(c, websocket.StatusGoingAway, reasonGoingAway)
	}
	done := make(chan struct{})
	go func() {
		g.active.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("gateway: close: %w", ctx.Err())
	}
}

// begin counts an upgrade request as active, unless the gateway is closed.
func (g *Gateway) begin() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.active.Add(1)
	return true
}

// register makes c reachable through the management API. It reports false
// when the gateway was closed meanwhile.
func (g *Gateway) register(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.conns[c.id] = c
	return true
}

// unregister makes id gone for the management API.
func (g *Gateway) unregister(c *conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conns[c.id] == c {
		delete(g.conns, c.id)
	}
}

// lookup returns the live connection with that ID, or nil.
func (g *Gateway) lookup(id string) *conn {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.conns[id]
}

// closeConn closes c from the server side; $disconnect follows once its read
// loop ends.
func (g *Gateway) closeConn(c *conn, code websocket.StatusCode, reason string) {
	g.unregister(c)
	c.shutdown(code, reason)
}

// isUpgrade reports whether r asks for a WebSocket.
func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for _, token := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(token), "websocket") {
				return true
			}
		}
	}
	return false
}
