package apigw

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/coder/websocket"
)

// Close reasons, as API Gateway reports them in disconnectReason.
const (
	reasonGoingAway      = "Going away"
	reasonNormal         = "Connection Closed Normally"
	reasonMessageTooBig  = "Message too big"
	messageForbidden     = "Forbidden"
	messageInternalError = "Internal server error"
)

// errNotOpen is returned when sending to a connection whose handshake failed.
var errNotOpen = errors.New("gateway: connection not open")

// conn is one WebSocket connection, from the end of $connect on.
type conn struct {
	id           string
	ready        chan struct{}   // closed once the handshake ended; ws is set if it succeeded
	ws           *websocket.Conn // set before ready is closed
	sendMu       sync.Mutex      // one send at a time
	sending      atomic.Int64    // time.Since(epoch)+1 when the send being written began; 0 between sends
	watchMu      sync.Mutex
	watch        *time.Timer // disconnects a client that does not take a message within writeTimeout
	watching     atomic.Bool // watch is set to fire
	watchDone    bool        // the connection ended: watch stays stopped
	connectedAt  time.Time
	sourceIP     string
	userAgent    string
	domainName   string
	maxFrame     int
	now          func() time.Time
	idleTimeout  time.Duration
	writeTimeout time.Duration
	lastActive   atomic.Int64 // Unix milliseconds of the last message either way (by now, for GetConnection)
	epoch        time.Time    // time.Now() (not Config.Now) at the handshake; set before ready is closed
	activeAt     atomic.Int64 // time.Since(epoch) at the last message either way, for the idle timeout
	idleMu       sync.Mutex
	idle         *time.Timer // checks for an idle connection; set before ready is closed, nil once it ended

	closeOnce   sync.Once
	closeMu     sync.Mutex
	closeCode   websocket.StatusCode // set by shutdown: the server closed the connection
	closeReason string
	closeDone   chan struct{} // closed when the server-side close handshake ended
}

// serveWebSocket runs one connection from $connect to $disconnect.
func (g *Gateway) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.Header.Get("Sec-WebSocket-Version") != "13" || r.Header.Get("Sec-WebSocket-Key") == "" {
		// API Gateway rejects a malformed handshake before $connect.
		http.Error(w, "bad WebSocket handshake", http.StatusBadRequest)
		return
	}
	if !g.begin() {
		http.Error(w, "gateway is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer g.active.Done()

	now := g.cfg.Now()
	c := &conn{
		id:           newID(),
		connectedAt:  now,
		sourceIP:     sourceIP(r),
		userAgent:    r.UserAgent(),
		domainName:   g.domainName(r),
		maxFrame:     g.cfg.MaxFrameBytes,
		now:          g.cfg.Now,
		idleTimeout:  g.cfg.IdleTimeout,
		writeTimeout: g.writeTimeout,
		ready:        make(chan struct{}),
		closeDone:    make(chan struct{}),
	}
	c.lastActive.Store(now.UnixMilli())
	log := g.log.With("connection_id", c.id)

	subprotocol := ""
	if rt, ok := g.routes[RouteConnect]; ok {
		if !g.allow(RouteConnect) {
			log.Info("connect throttled")
			writeJSONMessage(w, http.StatusTooManyRequests, messageTooManyRequests)
			return
		}
		req := g.connectEvent(r, c, now)
		resp, err := g.invoke(r.Context(), rt, req)
		if err == nil && (resp.StatusCode < 200 || resp.StatusCode > 599) {
			// Also no status at all: refused rather than guessed, so that a
			// handler that works here cannot fail on AWS.
			err = fmt.Errorf("gateway: $connect handler returned status %d", resp.StatusCode)
		}
		if err != nil {
			log.Error("connect handler failed", "apigw_request_id", req.RequestContext.RequestID, "error", err)
			writeJSONMessage(w, http.StatusBadGateway, messageInternalError)
			return
		}
		if resp.StatusCode > 299 {
			log.Info("connect refused", "status", resp.StatusCode)
			refuse(w, resp)
			return
		}
		subprotocol = responseHeader(resp, "Sec-WebSocket-Protocol")
	}
	// Registered before the handshake response goes out, so a client may be
	// posted to as soon as it sees the connection open; sends wait for ready.
	if !g.register(c) {
		close(c.ready)
		http.Error(w, "gateway is shutting down", http.StatusServiceUnavailable)
		g.disconnect(c, websocket.StatusGoingAway, reasonGoingAway, log)
		return
	}
	ws, err := accept(w, r, subprotocol, g.cfg.MaxFrameBytes, g.cfg.MaxMessageBytes)
	if err != nil {
		g.unregister(c)
		close(c.ready)
		log.Warn("websocket handshake failed", "error", err)
		g.disconnect(c, websocket.StatusAbnormalClosure, "", log)
		return
	}
	c.ws = ws
	c.epoch = time.Now()
	c.idleMu.Lock()
	c.idle = time.AfterFunc(g.cfg.IdleTimeout, func() { g.checkIdle(c) })
	c.idleMu.Unlock()
	limit := time.AfterFunc(g.cfg.MaxDuration, func() { g.closeConn(c, websocket.StatusGoingAway, reasonGoingAway) })
	close(c.ready)
	log.Info("websocket connected", "source_ip", c.sourceIP, "subprotocol", loggable(ws.Subprotocol()))

	code, reason := g.readLoop(c, log)
	limit.Stop()
	c.idleMu.Lock()
	c.idle.Stop()
	c.idle = nil
	c.idleMu.Unlock()
	c.watchMu.Lock()
	c.watchDone = true
	if c.watch != nil {
		c.watch.Stop()
	}
	c.watchMu.Unlock()
	g.unregister(c)
	if c.serverClosed() {
		<-c.closeDone
	} else {
		_ = ws.CloseNow()
	}
	log.Info("websocket disconnected", "code", int(code), "reason", reason)
	g.disconnect(c, code, reason, log)
}

// disconnect runs the $disconnect route for c.
func (g *Gateway) disconnect(c *conn, code websocket.StatusCode, reason string, log *slog.Logger) {
	rt, ok := g.routes[RouteDisconnect]
	if !ok {
		return
	}
	req := g.disconnectEvent(c, code, reason, g.cfg.Now())
	if _, err := g.invoke(context.Background(), rt, req); err != nil {
		log.Error("disconnect handler failed", "apigw_request_id", req.RequestContext.RequestID, "error", err)
	}
}

// accept completes the handshake with subprotocol (if the client offered it),
// without compression (API Gateway negotiates none) and without an origin
// check (API Gateway has none; a $connect handler may check Origin itself).
func accept(w http.ResponseWriter, r *http.Request, subprotocol string, maxFrame, maxMessage int) (*websocket.Conn, error) {
	opts := &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled}
	if subprotocol != "" {
		opts.Subprotocols = []string{subprotocol}
	}
	ws, err := websocket.Accept(&limitingWriter{ResponseWriter: w, maxFrame: maxFrame, maxMessage: maxMessage}, r, opts)
	if err != nil {
		return nil, fmt.Errorf("gateway: accept: %w", err)
	}
	// The frame scanner enforces the message limit before any payload is
	// read; the library's limit only has to stay out of its way.
	ws.SetReadLimit(int64(maxMessage))
	return ws, nil
}

// readLoop handles c's messages in order until the connection ends, and
// returns the close code and reason for $disconnect.
func (g *Gateway) readLoop(c *conn, log *slog.Logger) (websocket.StatusCode, string) {
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			return g.closeStatus(c, err)
		}
		c.touch()
		g.handleMessage(c, typ, data, log)
	}
}

// closeStatus returns the close code and reason for the read error err.
func (g *Gateway) closeStatus(c *conn, err error) (websocket.StatusCode, string) {
	if errors.Is(err, errFrameTooBig) || errors.Is(err, errMessageTooBig) || errors.Is(err, websocket.ErrMessageTooBig) {
		g.closeConn(c, websocket.StatusMessageTooBig, reasonMessageTooBig)
	}
	if code, reason, ok := c.closedStatus(); ok {
		return code, reason
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Reason
	}
	return websocket.StatusAbnormalClosure, ""
}

// handleMessage routes one client message and sends the route response.
func (g *Gateway) handleMessage(c *conn, typ websocket.MessageType, data []byte, log *slog.Logger) {
	rt, ok := g.route(data)
	requestID := newID()
	if !ok {
		c.sendLogged(websocket.MessageText, gatewayMessage(messageForbidden, c.id, requestID), log)
		return
	}
	if !g.allow(rt.Key) {
		log.Info("message throttled", "route_key", rt.Key, "apigw_request_id", requestID)
		c.sendLogged(websocket.MessageText, gatewayMessage(messageTooManyRequests, c.id, requestID), log)
		return
	}
	req := g.messageEvent(c, rt.Key, requestID, typ, data, g.cfg.Now())
	resp, err := g.invoke(context.Background(), rt, req)
	if err != nil {
		log.Error("route handler failed", "route_key", rt.Key, "apigw_request_id", requestID, "error", err)
		c.sendLogged(websocket.MessageText, gatewayMessage(messageInternalError, c.id, requestID), log)
		return
	}
	if rt.TwoWay && resp.Body != "" {
		body := []byte(resp.Body)
		if resp.IsBase64Encoded {
			if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
				body = b
			}
		}
		c.sendLogged(websocket.MessageText, body, log)
	}
}

// route returns the route for a client message, following API Gateway:
// the selected key if a custom route has it, else $default, else none.
func (g *Gateway) route(data []byte) (Route, bool) {
	if key := selectKey(g.selector, data); key != "" && !strings.HasPrefix(key, "$") {
		if rt, ok := g.routes[key]; ok {
			return rt, true
		}
	}
	rt, ok := g.routes[RouteDefault]
	return rt, ok
}

// invoke calls a route's handler as Lambda would: bounded by the integration
// timeout, with a Lambda context, a panic turned into an error.
func (g *Gateway) invoke(ctx context.Context, rt Route, req events.APIGatewayWebsocketProxyRequest) (resp events.APIGatewayProxyResponse, err error) {
	ctx, cancel := context.WithTimeout(ctx, integrationTimeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: newUUID()})
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("handler panicked", "route_key", rt.Key, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("gateway: %s handler panicked: %v", rt.Key, p)
		}
	}()
	return rt.Handler(ctx, req)
}

// touch notes activity: a message either way restarts the idle timeout, as
// on API Gateway (where a server message every few minutes keeps an
// otherwise silent client connected). It only records the time, so that a
// fan-out does not reset a timer per message: checkIdle looks at it when
// the idle timer fires.
func (c *conn) touch() {
	c.lastActive.Store(c.now().UnixMilli())
	c.activeAt.Store(int64(time.Since(c.epoch)))
}

// checkIdle runs when c's idle timer fires: it closes c if it has been
// idle for the idle timeout, else sets the timer for the time that is left.
func (g *Gateway) checkIdle(c *conn) {
	c.idleMu.Lock()
	if c.idle == nil { // the connection ended
		c.idleMu.Unlock()
		return
	}
	if left := c.idleTimeout - (time.Since(c.epoch) - time.Duration(c.activeAt.Load())); left > 0 {
		c.idle.Reset(left)
		c.idleMu.Unlock()
		return
	}
	c.idleMu.Unlock()
	g.closeConn(c, websocket.StatusGoingAway, reasonGoingAway)
}

// send delivers one message to the client within c.writeTimeout, once the
// handshake completed (waiting at most c.writeTimeout for it). Sends are
// serialized, so management API posts and route responses never interleave.
//
// A client that does not take the message within c.writeTimeout is
// disconnected (1006), as a cancelled write would do. The write is watched
// by a per-connection timer (armWatch, checkWrite) rather than bounded by a
// context or a socket deadline: those cost a timer operation or two and
// some allocations per message, which a 1,000-connection fan-out pays
// 1,000 times, while the watch is set at most once per writeTimeout.
func (c *conn) send(typ websocket.MessageType, p []byte) error {
	select {
	case <-c.ready:
	default:
		t := time.NewTimer(c.writeTimeout)
		select {
		case <-c.ready:
			t.Stop()
		case <-t.C:
			return errNotOpen
		}
	}
	if c.ws == nil {
		return errNotOpen
	}
	c.sendMu.Lock()
	c.sending.Store(int64(time.Since(c.epoch)) + 1)
	if !c.watching.Load() {
		c.armWatch()
	}
	// Never the caller's context: a cancelled write closes the connection.
	err := c.write(context.Background(), typ, p)
	c.sending.Store(0)
	c.sendMu.Unlock()
	if err != nil {
		return err
	}
	c.touch()
	return nil
}

// write writes one message in frames of at most maxFrame bytes.
func (c *conn) write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	if len(p) <= c.maxFrame {
		return c.ws.Write(ctx, typ, p)
	}
	w, err := c.ws.Writer(ctx, typ)
	if err != nil {
		return err
	}
	for len(p) > 0 {
		n := min(len(p), c.maxFrame)
		if _, err := w.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return w.Close()
}

// armWatch sets the watch to fire writeTimeout from now.
func (c *conn) armWatch() {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if c.watchDone || c.watching.Load() {
		return
	}
	c.watching.Store(true)
	if c.watch == nil {
		c.watch = time.AfterFunc(c.writeTimeout, c.checkWrite)
		return
	}
	c.watch.Reset(c.writeTimeout)
}

// checkWrite runs when the watch fires: it drops the connection if the
// send being written began writeTimeout ago, sets the watch for the time
// that is left if a send is being written, and else leaves it unset until
// the next send.
func (c *conn) checkWrite() {
	c.watchMu.Lock()
	if c.watchDone {
		c.watchMu.Unlock()
		return
	}
	start := c.sending.Load()
	if start == 0 {
		c.watching.Store(false)
		// A send that began before the Store saw the watch set: look again.
		if start = c.sending.Load(); start == 0 {
			c.watchMu.Unlock()
			return
		}
		c.watching.Store(true)
	}
	if left := c.writeTimeout - (time.Since(c.epoch) - time.Duration(start-1)); left > 0 {
		c.watch.Reset(left)
		c.watchMu.Unlock()
		return
	}
	c.watchMu.Unlock()
	_ = c.ws.CloseNow() // the write fails; the read loop reports 1006
}

// loggable returns a negotiated subprotocol as it may be logged: a short
// plain name (bearer) as it is, anything else, such as a JWT a client offered
// as its only subprotocol, as "redacted".
func loggable(subprotocol string) string {
	if len(subprotocol) > 32 || strings.ContainsAny(subprotocol, ".=") {
		return "redacted"
	}
	return subprotocol
}

// sendLogged sends p and logs a failure; the read loop notices a dead connection.
func (c *conn) sendLogged(typ websocket.MessageType, p []byte, log *slog.Logger) {
	if err := c.send(typ, p); err != nil {
		log.Warn("send to client failed", "error", err)
	}
}

// shutdown starts the server-side close handshake once; the first code and
// reason win and are the ones $disconnect reports.
func (c *conn) shutdown(code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		c.closeMu.Lock()
		c.closeCode, c.closeReason = code, reason
		c.closeMu.Unlock()
		go func() {
			defer close(c.closeDone)
			<-c.ready
			if c.ws != nil {
				_ = c.ws.Close(code, reason)
			}
		}()
	})
}

// closedStatus returns the code and reason of a server-side close.
func (c *conn) closedStatus() (websocket.StatusCode, string, bool) {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.closeCode, c.closeReason, c.closeCode != 0
}

func (c *conn) serverClosed() bool {
	_, _, ok := c.closedStatus()
	return ok
}

// gatewayMessage is a message API Gateway itself sends to a client, byte for byte.
func gatewayMessage(message, connectionID, requestID string) []byte {
	return fmt.Appendf(nil, `{"message": %q, "connectionId":%q, "requestId":%q}`, message, connectionID, requestID)
}

// refuse answers a refused $connect with the handler's status, headers and body.
func refuse(w http.ResponseWriter, resp events.APIGatewayProxyResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// responseHeader returns the value of a response header, matching the name
// case-insensitively as API Gateway does.
func responseHeader(resp events.APIGatewayProxyResponse, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	for k, vs := range resp.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
	}
	return ""
}
