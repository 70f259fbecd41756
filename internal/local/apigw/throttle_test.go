package apigw_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/finance/fbdi-notify/internal/local/apigw"
)

// TestMessageThrottling: a route's token bucket of 2 refilled at 1/s lets
// two messages through, answers the third "Too Many Requests" without
// invoking the handler, and lets one more through a second later. Other
// routes are not throttled.
func TestMessageThrottling(t *testing.T) {
	h := newHarness(t, apigw.Config{
		Routes:    []apigw.Route{reply("ping"), reply(apigw.RouteDefault)},
		Throttles: map[string]apigw.Throttle{"ping": {Burst: 2, Rate: 1}},
	})
	c, id := h.dial(t, nil)
	expect := func(msg, want string) {
		t.Helper()
		send(t, c, msg)
		if got := readText(t, c); !strings.HasPrefix(got, want) {
			t.Fatalf("reply to %s = %s; want %s...", msg, got, want)
		}
	}
	throttled := `{"message": "Too Many Requests", "connectionId":"` + id + `"`
	expect(`{"type":"ping"}`, "route ping")
	expect(`{"type":"ping"}`, "route ping")
	expect(`{"type":"ping"}`, throttled)
	expect(`{"type":"other"}`, "route $default") // its own route, not throttled
	h.clock.Advance(time.Second)
	expect(`{"type":"ping"}`, "route ping")
	expect(`{"type":"ping"}`, throttled)
}

// TestConnectThrottling: a throttled $connect is refused with 429 and its
// handler is not invoked.
func TestConnectThrottling(t *testing.T) {
	h := newHarness(t, apigw.Config{Throttles: map[string]apigw.Throttle{
		apigw.RouteConnect:    {Burst: 1, Rate: 0.5},
		apigw.RouteDisconnect: {Burst: 0, Rate: 0}, // ignored: $disconnect is never throttled
	}})
	first, _ := h.dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, h.url(), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second dial: %v (response %v); want 429", err, resp)
	}
	if body, _ := io.ReadAll(resp.Body); string(body) != `{"message":"Too Many Requests"}` {
		t.Errorf("refusal body = %s", body)
	}
	select {
	case ev := <-h.connects:
		t.Fatalf("$connect invoked for a throttled connect: %v", ev.RequestContext.ConnectionID)
	default:
	}
	if err := first.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	receive(t, h.disconnects)
	h.clock.Advance(2 * time.Second)
	h.dial(t, nil) // the bucket has one token again
}
