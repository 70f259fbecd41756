package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
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

	rec := &recorder{header: http.Header{}}
	// A real server answers a handler's panic by dropping the connection;
	// the caller sees an error either way.
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("management API handler panicked", "panic", p)
			resp, err = nil, fmt.Errorf("gateway: management API request failed: %v", p)
		}
	}()
	g.serveManagement(rec, in, stage, id)
	return rec.response(req), nil
}

// Do is RoundTrip under the name the AWS SDK's HTTPClient interface uses.
func (g *Gateway) Do(req *http.Request) (*http.Response, error) { return g.RoundTrip(req) }

// recorder is the http.ResponseWriter of an in-process management call.
type recorder struct {
	header http.Header
	sent   http.Header // the headers when the status was written, as read off the wire
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
		// As a client reads them off the wire: canonical keys (the
		// management API sets x-amzn-ErrorType as API Gateway spells it).
		r.sent = make(http.Header, len(r.header)+1)
		for k, v := range r.header {
			r.sent[http.CanonicalHeaderKey(k)] = v
		}
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		if r.header.Get("Content-Type") == "" {
			r.header.Set("Content-Type", http.DetectContentType(p))
		}
		r.WriteHeader(http.StatusOK)
	}
	return r.body.Write(p)
}

// response is what a client would read from net/http's server: the
// status, the headers as they were when the status was written, a
// Content-Length, and the body.
func (r *recorder) response(req *http.Request) *http.Response {
	r.WriteHeader(http.StatusOK)
	h := r.sent
	if r.status != http.StatusNoContent && h.Get("Content-Length") == "" {
		h.Set("Content-Length", strconv.Itoa(r.body.Len()))
	}
	return &http.Response{
		Status:        strconv.Itoa(r.status) + " " + http.StatusText(r.status),
		StatusCode:    r.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(r.body.Bytes())),
		ContentLength: int64(r.body.Len()),
		Request:       req,
	}
}
