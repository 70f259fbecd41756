package apigw

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"
)

// requestTimeLayout is the format of requestContext.requestTime, e.g.
// "20/Jan/2024:11:55:08 +0000".
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// awsHeaderNames spells the WebSocket headers as API Gateway passes them;
// net/http canonicalizes them to "Sec-Websocket-...". Handlers should still
// match header names case-insensitively, as AWS's own examples do.
var awsHeaderNames = map[string]string{
	"Sec-Websocket-Key":        "Sec-WebSocket-Key",
	"Sec-Websocket-Version":    "Sec-WebSocket-Version",
	"Sec-Websocket-Extensions": "Sec-WebSocket-Extensions",
	"Sec-Websocket-Protocol":   "Sec-WebSocket-Protocol",
}

// omittedHeaders are request headers API Gateway does not pass to $connect:
// hop-by-hop headers, and those it sets itself.
var omittedHeaders = map[string]bool{
	"Connection":        true,
	"Upgrade":           true,
	"X-Forwarded-For":   true,
	"X-Forwarded-Port":  true,
	"X-Forwarded-Proto": true,
	"X-Amzn-Trace-Id":   true,
}

// connectEvent is the $connect event for the upgrade request r.
func (g *Gateway) connectEvent(r *http.Request, c *conn, now time.Time) events.APIGatewayWebsocketProxyRequest {
	h := make(headers)
	h.add("Host", c.domainName)
	for k, vs := range r.Header {
		if omittedHeaders[k] {
			continue
		}
		if name, ok := awsHeaderNames[k]; ok {
			k = name
		}
		h.add(k, vs...)
	}
	forwardedFor := c.sourceIP
	if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
		forwardedFor = prior + ", " + c.sourceIP
	}
	h.add("X-Forwarded-For", forwardedFor)
	h.add("X-Forwarded-Port", localPort(r))
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	h.add("X-Forwarded-Proto", proto)
	h.add("X-Amzn-Trace-Id", traceID(now))

	req := events.APIGatewayWebsocketProxyRequest{
		Headers:           h.single(),
		MultiValueHeaders: h,
		RequestContext:    g.requestContext(c, RouteConnect, "CONNECT", newID(), now),
	}
	if q := r.URL.Query(); len(q) > 0 {
		req.MultiValueQueryStringParameters = q
		req.QueryStringParameters = headers(q).single()
	}
	return req
}

// messageEvent is the MESSAGE event for one client message. Binary messages
// are passed base64-encoded.
func (g *Gateway) messageEvent(c *conn, routeKey, requestID string, typ websocket.MessageType, data []byte, now time.Time) events.APIGatewayWebsocketProxyRequest {
	req := events.APIGatewayWebsocketProxyRequest{
		RequestContext: g.requestContext(c, routeKey, "MESSAGE", requestID, now),
		Body:           string(data),
	}
	req.RequestContext.MessageID = newID()
	if typ == websocket.MessageBinary {
		req.Body = base64.StdEncoding.EncodeToString(data)
		req.IsBase64Encoded = true
	}
	return req
}

// disconnectEvent is the $disconnect event, with the headers API Gateway sends then.
func (g *Gateway) disconnectEvent(c *conn, code websocket.StatusCode, reason string, now time.Time) events.APIGatewayWebsocketProxyRequest {
	h := make(headers)
	h.add("Host", c.domainName)
	h.add("x-api-key", "")
	h.add("X-Forwarded-For", "")
	h.add("x-restapi", "")
	req := events.APIGatewayWebsocketProxyRequest{
		Headers:           h.single(),
		MultiValueHeaders: h,
		RequestContext:    g.requestContext(c, RouteDisconnect, "DISCONNECT", newID(), now),
	}
	req.RequestContext.DisconnectStatusCode = int64(code)
	req.RequestContext.DisconnectReason = &reason
	return req
}

// requestContext holds the fields API Gateway sends with every event.
func (g *Gateway) requestContext(c *conn, routeKey, eventType, requestID string, now time.Time) events.APIGatewayWebsocketProxyRequestContext {
	return events.APIGatewayWebsocketProxyRequestContext{
		RouteKey:          routeKey,
		EventType:         eventType,
		ExtendedRequestID: requestID,
		RequestTime:       now.UTC().Format(requestTimeLayout),
		MessageDirection:  "IN",
		Stage:             g.cfg.Stage,
		ConnectedAt:       c.connectedAt.UnixMilli(),
		RequestTimeEpoch:  now.UnixMilli(),
		Identity:          events.APIGatewayRequestIdentity{SourceIP: c.sourceIP, UserAgent: c.userAgent},
		RequestID:         requestID,
		DomainName:        c.domainName,
		ConnectionID:      c.id,
		APIID:             g.cfg.APIID,
	}
}

// headers collects multi-value headers or query parameters.
type headers map[string][]string

func (h headers) add(name string, values ...string) {
	h[name] = append(h[name], values...)
}

// single keeps the last value of each name, as API Gateway's single-value maps do.
func (h headers) single() map[string]string {
	m := make(map[string]string, len(h))
	for k, vs := range h {
		if len(vs) > 0 {
			m[k] = vs[len(vs)-1]
		}
	}
	return m
}

// parseSelectionExpression returns the JSON field path of a route selection
// expression "$request.body.a.b" or "${request.body.a.b}".
func parseSelectionExpression(expr string) ([]string, error) {
	e := strings.TrimSpace(expr)
	if strings.HasPrefix(e, "${") && strings.HasSuffix(e, "}") {
		e = "$" + e[2:len(e)-1]
	}
	rest, ok := strings.CutPrefix(e, "$request.body.")
	if !ok {
		return nil, fmt.Errorf("gateway: route selection expression %q: want $request.body.<field>", expr)
	}
	path := strings.Split(rest, ".")
	for _, field := range path {
		if field == "" {
			return nil, fmt.Errorf("gateway: route selection expression %q: empty field name", expr)
		}
	}
	return path, nil
}

// selectKey evaluates the selection path over a message: the string at that
// path of a JSON object, or "" for anything else.
func selectKey(path []string, data []byte) string {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	for _, field := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = obj[field]
	}
	key, _ := v.(string)
	return key
}

// newID returns an ID shaped like API Gateway's connection, request and
// message IDs: 16 characters of standard base64 ending in "=", e.g. "L0SM9cOFvHcCIhw=".
func newID() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// newUUID returns a random (version 4) UUID, the shape of Lambda and
// management API request IDs.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	// Hex by hand rather than fmt: every management API call makes one.
	var u [36]byte
	hex.Encode(u[0:8], b[0:4])
	hex.Encode(u[9:13], b[4:6])
	hex.Encode(u[14:18], b[6:8])
	hex.Encode(u[19:23], b[8:10])
	hex.Encode(u[24:], b[10:])
	u[8], u[13], u[18], u[23] = '-', '-', '-', '-'
	return string(u[:])
}

// traceID returns an X-Amzn-Trace-Id value for time t.
func traceID(t time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%x", t.Unix(), b)
}

// sourceIP is the client's IP address, requestContext.identity.sourceIp.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localPort is the port the request came in on, for X-Forwarded-Port.
func localPort(r *http.Request) string {
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(addr.String()); err == nil {
			return port
		}
	}
	return ""
}

// domainName is requestContext.domainName (and the Host header) for r.
func (g *Gateway) domainName(r *http.Request) string {
	if g.cfg.DomainName != "" {
		return g.cfg.DomainName
	}
	return r.Host
}
