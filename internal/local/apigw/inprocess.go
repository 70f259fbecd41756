package apigw

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
)

// RoundTrip serves one management API request in this process, without a
// network connection: the same handler answers it as answers
// /@connections/{id} on the gateway's port, with the same status, headers
// and body. It makes the gateway an http.RoundTripper (and, through Do, an
// AWS SDK HTTP client), so that functions running in the same process as
// the gateway reach the management API the way Lambda functions reach API
// Gateway's, through the real SDK client, at a fraction of the cost of a
// loopback HTTP exchange per post. Any other request is refused: this is
// not a way around the gateway's WebSocket or HTTP serving.
func (g *Gateway) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if req.URL == nil {
		return nil, fmt.Errorf("gateway: request has no URL")
	}
	stage, id, ok := parseManagementPath(req.URL)
	if !ok {
		return nil, fmt.Errorf("gateway: %s is not a management API path (/@connections/{id})", req.URL.EscapedPath())
	}
	// The request as a server would see it.
	in := new(http.Request)
	*in = *req
	in.RequestURI = req.URL.RequestURI()
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	if in.Header == nil {
		in.Header = http.Header{}
	}
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RemoteAddr = "127.0.0.1:0"
	defer in.Body.Close() // a RoundTripper closes the request body, even on errors

	rec := httptest.NewRecorder()
	// A real server answers a handler's panic by dropping the connection;
	// the caller sees an error either way.
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("management API handler panicked", "panic", p)
			resp, err = nil, fmt.Errorf("gateway: management API request failed: %v", p)
		}
	}()
	g.serveManagement(rec, in, stage, id)
	return wireResponse(rec, req), nil
}

// wireResponse is rec's response as a client reads it from net/http's
// server: header keys canonical (the management API spells
// x-amzn-ErrorType as API Gateway does) and a Content-Length.
func wireResponse(rec *httptest.ResponseRecorder, req *http.Request) *http.Response {
	resp := rec.Result()
	h := make(http.Header, len(resp.Header)+1)
	for k, v := range resp.Header {
		h[http.CanonicalHeaderKey(k)] = v
	}
	if resp.StatusCode != http.StatusNoContent && h.Get("Content-Length") == "" {
		h.Set("Content-Length", strconv.Itoa(rec.Body.Len()))
	}
	resp.Header = h
	resp.ContentLength = int64(rec.Body.Len())
	resp.Request = req
	return resp
}

// Do is RoundTrip under the name the AWS SDK's HTTPClient interface uses.
func (g *Gateway) Do(req *http.Request) (*http.Response, error) { return g.RoundTrip(req) }
