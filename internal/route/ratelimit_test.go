package route_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
)

// limitedWorld is a world whose connections are in a connection.MemoryStore
// on clock, limited to limit.
func limitedWorld(tb testing.TB, clock *clocktest.Clock, limit connection.Limit) *world {
	tb.Helper()
	conns := connection.NewMemoryStore(clock.Now)
	if err := conns.Put(tb.Context(), connection.New(testConnID, "42", clock.Now(), "49.105.91.154", "ua")); err != nil {
		tb.Fatal(err)
	}
	return newWorld(tb, func(cfg *route.MessageConfig) {
		cfg.Connections = conns
		cfg.RateLimit = limit
	})
}

func TestRateLimit(t *testing.T) {
	clock := clocktest.New(t0.Truncate(10 * time.Second).Add(7500 * time.Millisecond)) // 2.5 s before a window ends
	w := limitedWorld(t, clock, connection.Limit{Units: 5, Window: 10 * time.Second})
	limited := `{"type":"error","code":"rate_limited","message":"too many messages on this connection; retry later","retry_after":3}`

	for i := range 5 {
		if got := w.send(t, `{"type":"ping","timestamp":1}`); got != `{"type":"pong","timestamp":1}` {
			t.Fatalf("ping %d within the limit: reply %s", i+1, got)
		}
	}
	for _, body := range []string{`{"type":"ping","timestamp":1}`, `{"type":"history"}`, `not json`, `{"type":"nope"}`} {
		if got := w.send(t, body); got != limited {
			t.Errorf("%s over the limit: reply %s; want %s", body, got, limited)
		}
	}
	if len(w.hist.users) != 0 {
		t.Errorf("history was read %d times for refused messages; want none", len(w.hist.users))
	}
	if !strings.Contains(w.logs.String(), `"code":"rate_limited"`) {
		t.Errorf("no log line names the refusal:\n%s", w.logs)
	}

	clock.Advance(2500 * time.Millisecond) // the next window
	if got := w.send(t, `{"type":"ping","timestamp":2}`); got != `{"type":"pong","timestamp":2}` {
		t.Errorf("ping in the next window: reply %s", got)
	}
}

func TestRateLimitResume(t *testing.T) {
	clock := clocktest.New(t0)
	// A resume of 500 costs 26 units: one fits, a second does not.
	w := limitedWorld(t, clock, connection.Limit{Units: 30, Window: time.Hour})
	if got := decodeReply(t, w.send(t, `{"type":"resume","limit":500}`)); got["type"] != "resume_complete" {
		t.Fatalf("first resume: reply %v", got)
	}
	posted := len(w.poster.to)
	got := decodeReply(t, w.send(t, `{"type":"resume","limit":500}`))
	if got["code"] != route.CodeRateLimited {
		t.Fatalf("second resume: reply %v; want rate_limited", got)
	}
	if len(w.poster.to) != posted {
		t.Errorf("the refused resume posted %d notifications", len(w.poster.to)-posted)
	}
	// 4 units are left: pings still pass.
	for range 4 {
		if got := decodeReply(t, w.send(t, `{"type":"ping"}`)); got["type"] != "pong" {
			t.Fatalf("ping after the refused resume: reply %v", got)
		}
	}
}

func TestRateLimitStoreFailure(t *testing.T) {
	w := newWorld(t, nil)
	w.conns.err = errors.New("dynamodb: throttled")
	if got := w.send(t, `{"type":"ping","timestamp":1}`); got != `{"type":"pong","timestamp":1}` {
		t.Errorf("ping while the store fails: reply %s; want a pong", got)
	}
	if !strings.Contains(w.logs.String(), `"msg":"rate limit not checked"`) {
		t.Errorf("the unchecked limit is not logged:\n%s", w.logs)
	}
}

func TestCost(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
	}{
		{name: "ping", body: `{"type":"ping"}`, want: 1},
		{name: "history", body: `{"type":"history","limit":100}`, want: 1},
		{name: "not JSON", body: `{`, want: 1},
		{name: "resume without limit", body: `{"type":"resume"}`, want: 6},
		{name: "resume of 20", body: `{"type":"resume","limit":20}`, want: 2},
		{name: "resume of 21", body: `{"type":"resume","limit":21}`, want: 3},
		{name: "resume of 500", body: `{"type":"resume","limit":500}`, want: 26},
		{name: "resume above the maximum", body: `{"type":"resume","limit":100000}`, want: 26},
		{name: "resume with a limit of the wrong type", body: `{"type":"resume","limit":"500"}`, want: 6},
		{name: "resume with a zero limit", body: `{"type":"resume","limit":0}`, want: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := route.Cost([]byte(tt.body)); got != tt.want {
				t.Errorf("Cost(%s) = %d, want %d", tt.body, got, tt.want)
			}
		})
	}
}
