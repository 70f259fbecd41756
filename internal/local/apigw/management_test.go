package apigw_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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

func TestPostToConnection(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string // BaseEndpoint suffix
		data     []byte
		wantType websocket.MessageType
	}{
		{name: "text", data: []byte(`{"type":"notification","message":"hi"}`), wantType: websocket.MessageText},
		{name: "stage in the endpoint", endpoint: "/local", data: []byte(`{"type":"notification"}`), wantType: websocket.MessageText},
		{name: "not UTF-8 is binary", data: []byte{0xff, 0xfe, 0x00}, wantType: websocket.MessageBinary},
		{name: "128 KB", data: bytes.Repeat([]byte("x"), 128*1024), wantType: websocket.MessageText},
	}
	for _, tr := range managementTransports {
		for _, tt := range tests {
			t.Run(tr.name+"/"+tt.name, func(t *testing.T) {
				h := newHarness(t, apigw.Config{})
				h.inProcess = tr.inProcess
				c, id := h.dial(t, nil)
				ctx, cancel := context.WithTimeout(context.Background(), guard)
				defer cancel()
				_, err := h.management(tt.endpoint).PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: tt.data})
				if err != nil {
					t.Fatalf("PostToConnection: %v", err)
				}
				typ, got := read(t, c)
				if typ != tt.wantType || got != string(tt.data) {
					t.Errorf("client received a %v message of %d bytes, want %v, %d bytes", typ, len(got), tt.wantType, len(tt.data))
				}
			})
		}
	}
}

// TestPostsInSequence: posts to one connection arrive exactly as sent, in
// order, whatever the size of the ones before (the gateway reuses its body
// buffers between posts).
func TestPostsInSequence(t *testing.T) {
	tests := []struct {
		name  string
		posts [][]byte
	}{
		{name: "shrinking", posts: [][]byte{bytes.Repeat([]byte("a"), 128*1024), []byte(`{"n":2}`), []byte("3")}},
		{name: "growing", posts: [][]byte{[]byte("1"), bytes.Repeat([]byte("b"), 4096), bytes.Repeat([]byte("c"), 64*1024)}},
		{name: "text after binary", posts: [][]byte{{0xff, 0xfe, 0xfd, 0xfc}, []byte("ok")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{})
			c, id := h.dial(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			for i, data := range tt.posts {
				if _, err := h.management("").PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: data}); err != nil {
					t.Fatalf("post %d: %v", i, err)
				}
				if _, got := read(t, c); got != string(data) {
					t.Fatalf("post %d: client received %d bytes starting %q, want %d bytes starting %q",
						i, len(got), got[:min(len(got), 8)], len(data), data[:min(len(data), 8)])
				}
			}
		})
	}
}

// TestSlowClientDisconnected: a client that stops taking its messages is
// disconnected once a message has waited the write timeout; the post that
// waited, and every one after it, fails with GoneException, and
// $disconnect reports 1006 (the connection was dropped, not closed).
func TestSlowClientDisconnected(t *testing.T) {
	const writeTimeout = 200 * time.Millisecond
	tests := []struct {
		name  string
		size  int  // of each post; the client's and server's socket buffers fill up
		quiet bool // one post, then a pause longer than the write timeout, before the others
	}{
		{name: "large posts", size: 100 * 1024},
		{name: "small posts", size: 4 * 1024},
		{name: "after a quiet period", size: 100 * 1024, quiet: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{})
			apigw.SetWriteTimeout(h.gw, writeTimeout)
			_, id := h.dial(t, nil) // never reads
			ctx, cancel := context.WithTimeout(context.Background(), 2*guard)
			defer cancel()
			if tt.quiet {
				if _, err := h.management("").PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("first")}); err != nil {
					t.Fatalf("first post: %v", err)
				}
				time.Sleep(3 * writeTimeout)
			}
			data := bytes.Repeat([]byte("x"), tt.size)
			var err error
			for i := 0; err == nil; i++ {
				if i == 100_000 {
					t.Fatal("every post succeeded although the client reads nothing")
				}
				_, err = h.management("").PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: data})
			}
			var gone *types.GoneException
			if !errors.As(err, &gone) {
				t.Fatalf("post to a client that reads nothing: error %v, want GoneException", err)
			}
			ev := receive(t, h.disconnects)
			if rc := ev.RequestContext; rc.ConnectionID != id || rc.DisconnectStatusCode != 1006 {
				t.Errorf("$disconnect: connection %q, status %d; want %q, 1006", rc.ConnectionID, rc.DisconnectStatusCode, id)
			}
			_, err = h.management("").PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("late")})
			if !errors.As(err, &gone) {
				t.Errorf("post after the disconnect: error %v, want GoneException", err)
			}
		})
	}
}

func TestManagementErrors(t *testing.T) {
	for _, tr := range managementTransports {
		t.Run(tr.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{})
			h.inProcess = tr.inProcess
			_, id := h.dial(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			mgmt := h.management("")
			unknown := aws.String("L0SM9cOFvHcCIhw=")
			tests := []struct {
				name string
				call func() error
				want any // pointer to the SDK error type
			}{
				{name: "post to unknown ID", want: new(*types.GoneException), call: func() error {
					_, err := mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: unknown, Data: []byte("x")})
					return err
				}},
				{name: "get unknown ID", want: new(*types.GoneException), call: func() error {
					_, err := mgmt.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: unknown})
					return err
				}},
				{name: "delete unknown ID", want: new(*types.GoneException), call: func() error {
					_, err := mgmt.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: unknown})
					return err
				}},
				{name: "post over 128 KB", want: new(*types.PayloadTooLargeException), call: func() error {
					_, err := mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: make([]byte, 128*1024+1)})
					return err
				}},
				{name: "post over 128 KB to unknown ID", want: new(*types.PayloadTooLargeException), call: func() error {
					_, err := mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: unknown, Data: make([]byte, 128*1024+1)})
					return err
				}},
				{name: "wrong stage", want: new(*types.ForbiddenException), call: func() error {
					_, err := h.management("/prod").PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("x")})
					return err
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					err := tt.call()
					if !errors.As(err, tt.want) {
						t.Errorf("error = %v, want %T", err, tt.want)
					}
				})
			}
		})
	}
}

// TestManagementWireFormat pins the responses byte for byte, for clients
// other than the Go SDK: API Gateway sends GoneException with an empty body.
// The in-process transport answers exactly as HTTP does.
func TestManagementWireFormat(t *testing.T) {
	h := newHarness(t, apigw.Config{})
	tests := []struct {
		name, method, path string
		body               string
		wantStatus         int
		wantType           string
		wantBody           string
	}{
		{name: "gone", method: http.MethodPost, path: "/@connections/L0SM9cOFvHcCIhw%3D", body: "x",
			wantStatus: 410, wantType: "GoneException", wantBody: ""},
		{name: "payload too large", method: http.MethodPost, path: "/local/@connections/L0SM9cOFvHcCIhw%3D", body: strings.Repeat("x", 128*1024+1),
			wantStatus: 413, wantType: "PayloadTooLargeException", wantBody: `{"message":"Message too long"}`},
		{name: "forbidden stage", method: http.MethodGet, path: "/prod/@connections/abc",
			wantStatus: 403, wantType: "ForbiddenException", wantBody: `{"message":"Forbidden"}`},
	}
	clients := map[string]*http.Client{"http": http.DefaultClient, "in-process": {Transport: h.gw}}
	for _, tr := range managementTransports {
		for _, tt := range tests {
			t.Run(tr.name+"/"+tt.name, func(t *testing.T) {
				req, err := http.NewRequest(tt.method, h.srv.URL+tt.path, strings.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := clients[tr.name].Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != tt.wantStatus || resp.Header.Get("X-Amzn-ErrorType") != tt.wantType || string(body) != tt.wantBody {
					t.Errorf("%s %s: %d, x-amzn-ErrorType %q, body %q; want %d, %q, %q",
						tt.method, tt.path, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body, tt.wantStatus, tt.wantType, tt.wantBody)
				}
				if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Amzn-RequestId") == "" ||
					resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
					t.Errorf("headers %v, want Content-Type application/json, x-amzn-RequestId and Content-Length %d", resp.Header, len(body))
				}
			})
		}
	}
}

func TestGetConnection(t *testing.T) {
	for _, tr := range managementTransports {
		t.Run(tr.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{Routes: []apigw.Route{reply("ping")}})
			h.inProcess = tr.inProcess
			c, id := h.dial(t, &websocket.DialOptions{HTTPHeader: http.Header{"User-Agent": {"Mozilla/5.0 (test)"}}})
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			mgmt := h.management("/local")

			out, err := mgmt.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
			if err != nil {
				t.Fatalf("GetConnection: %v", err)
			}
			if !out.ConnectedAt.Equal(start) || !out.LastActiveAt.Equal(start) ||
				aws.ToString(out.Identity.SourceIp) != "127.0.0.1" || aws.ToString(out.Identity.UserAgent) != "Mozilla/5.0 (test)" {
				t.Errorf("GetConnection = connectedAt %v, lastActiveAt %v, identity %q %q; want %v, %v, 127.0.0.1, Mozilla/5.0 (test)",
					out.ConnectedAt, out.LastActiveAt, aws.ToString(out.Identity.SourceIp), aws.ToString(out.Identity.UserAgent), start, start)
			}

			// A client message makes the connection active.
			later := start.Add(90 * time.Second)
			h.clock.Set(later)
			send(t, c, `{"type":"ping"}`)
			readText(t, c)
			out, err = mgmt.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
			if err != nil {
				t.Fatalf("GetConnection: %v", err)
			}
			if !out.ConnectedAt.Equal(start) || !out.LastActiveAt.Equal(later) {
				t.Errorf("after a message: connectedAt %v, lastActiveAt %v; want %v, %v", out.ConnectedAt, out.LastActiveAt, start, later)
			}

			// So does a message to the client (on AWS it also keeps the connection from idling).
			latest := later.Add(time.Minute)
			h.clock.Set(latest)
			if _, err := mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("keepalive")}); err != nil {
				t.Fatal(err)
			}
			readText(t, c)
			out, err = mgmt.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
			if err != nil {
				t.Fatalf("GetConnection: %v", err)
			}
			if !out.LastActiveAt.Equal(latest) {
				t.Errorf("after a post: lastActiveAt %v, want %v", out.LastActiveAt, latest)
			}
		})
	}
}

func TestDeleteConnection(t *testing.T) {
	for _, tr := range managementTransports {
		t.Run(tr.name, func(t *testing.T) {
			h := newHarness(t, apigw.Config{})
			h.inProcess = tr.inProcess
			c, id := h.dial(t, nil)
			other, otherID := h.dial(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			mgmt := h.management("")

			if _, err := mgmt.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)}); err != nil {
				t.Fatalf("DeleteConnection: %v", err)
			}
			expectClose(t, c, websocket.StatusNormalClosure)
			rc := receive(t, h.disconnects).RequestContext
			if rc.ConnectionID != id || rc.DisconnectStatusCode != 1000 || *rc.DisconnectReason != "Connection Closed Normally" {
				t.Errorf("$disconnect: connection %q, status %d, reason %q; want %q, 1000, Connection Closed Normally",
					rc.ConnectionID, rc.DisconnectStatusCode, *rc.DisconnectReason, id)
			}
			_, err := mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("x")})
			var gone *types.GoneException
			if !errors.As(err, &gone) {
				t.Errorf("PostToConnection after delete: %v, want GoneException", err)
			}

			// The other connection is untouched.
			if _, err := mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(otherID), Data: []byte("still here")}); err != nil {
				t.Fatalf("PostToConnection to the other connection: %v", err)
			}
			if got := readText(t, other); got != "still here" {
				t.Errorf("other connection got %q", got)
			}
		})
	}
}

// TestPostDuringConnect: like API Gateway, the connection does not exist for
// the management API until $connect has returned and the handshake completed.
func TestPostDuringConnect(t *testing.T) {
	duringConnect := make(chan error, 1)
	var h *harness
	h = newHarness(t, apigw.Config{Routes: []apigw.Route{{Key: apigw.RouteConnect,
		Handler: func(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			_, err := h.management("").PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{
				ConnectionId: aws.String(req.RequestContext.ConnectionID), Data: []byte("too early")})
			duringConnect <- err
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		}}}})
	c, id := h.dial(t, nil)
	var gone *types.GoneException
	if err := receive(t, duringConnect); !errors.As(err, &gone) {
		t.Errorf("PostToConnection during $connect: %v, want GoneException", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if _, err := h.management("").PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("welcome")}); err != nil {
		t.Fatalf("PostToConnection after the handshake: %v", err)
	}
	if got := readText(t, c); got != "welcome" {
		t.Errorf("client got %q, want only the message posted after the handshake", got)
	}
}

// TestPostsAndRepliesDoNotInterleave sends fragmented posts and route
// replies at once; every message must arrive whole.
func TestPostsAndRepliesDoNotInterleave(t *testing.T) {
	h := newHarness(t, apigw.Config{Routes: []apigw.Route{{Key: "ping", TwoWay: true,
		Handler: func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{Body: strings.Repeat("p", 70*1024)}, nil
		}}}})
	c, id := h.dial(t, nil)
	mgmt := h.management("")
	const posts, pings = 20, 20
	want := make(map[string]int)
	var wg sync.WaitGroup
	errs := make(chan error, posts)
	for i := range posts {
		msg := fmt.Sprintf("post-%02d-", i) + strings.Repeat("d", 90*1024)
		want[msg]++
		wg.Go(func() {
			_, err := mgmt.PostToConnection(context.Background(), &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(msg)})
			errs <- err
		})
	}
	want[strings.Repeat("p", 70*1024)] = pings
	for range pings {
		send(t, c, `{"type":"ping"}`)
	}
	for range posts + pings {
		got := readText(t, c)
		if want[got] == 0 {
			t.Fatalf("received a message that was not sent whole: %d bytes starting %q", len(got), got[:min(20, len(got))])
		}
		want[got]--
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("PostToConnection: %v", err)
		}
	}
}

// TestPostFrames reads a large post as raw frames: API Gateway sends at most
// 32 KB per frame.
func TestPostFrames(t *testing.T) {
	h := newHarness(t, apigw.Config{})
	conn, err := net.Dial("tcp", h.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(guard))
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", h.srv.Listener.Addr())
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	id := receive(t, h.connects).RequestContext.ConnectionID

	data := bytes.Repeat([]byte("y"), 128*1024)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if _, err := h.management("").PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: data}); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for first := true; ; first = false {
		fin, opcode, payload := readFrame(t, br)
		if len(payload) > 32*1024 {
			t.Errorf("frame of %d bytes, want at most 32 KB", len(payload))
		}
		wantOp := byte(0) // continuation
		if first {
			wantOp = 1 // text
		}
		if opcode != wantOp {
			t.Errorf("frame opcode %d, want %d", opcode, wantOp)
		}
		got = append(got, payload...)
		if fin {
			break
		}
	}
	if !bytes.Equal(got, data) {
		t.Errorf("reassembled %d bytes, want the %d posted", len(got), len(data))
	}
}

// readFrame reads one unmasked server frame.
func readFrame(tb testing.TB, r io.Reader) (fin bool, opcode byte, payload []byte) {
	tb.Helper()
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		tb.Fatalf("read frame header: %v", err)
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, _ = io.ReadFull(r, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, _ = io.ReadFull(r, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	if hdr[1]&0x80 != 0 {
		tb.Fatal("server frame is masked")
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		tb.Fatalf("read frame payload: %v", err)
	}
	return hdr[0]&0x80 != 0, hdr[0] & 0x0f, payload
}

// TestInProcessServesOnlyTheManagementAPI: RoundTrip answers
// /@connections/{id} and nothing else: WebSocket upgrades, the fallback
// handler and unknown paths stay on the port.
func TestInProcessServesOnlyTheManagementAPI(t *testing.T) {
	fallback := make(chan string, 1)
	h := newHarness(t, apigw.Config{Fallback: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fallback <- r.URL.Path
	})})
	client := &http.Client{Transport: h.gw}
	for _, path := range []string{"/", "/queue/notifications", "/@connections", "/a/b/@connections/x"} {
		resp, err := client.Get(h.srv.URL + path)
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET %s in-process: status %d, want an error", path, resp.StatusCode)
		}
	}
	select {
	case p := <-fallback:
		t.Errorf("the fallback handler served %s in-process", p)
	default:
	}
}
