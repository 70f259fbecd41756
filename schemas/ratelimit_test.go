package schemas_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/schemas"
)

// TestRateLimitedReplyValidates: the reply to a message over its
// connection's budget is a server message the schema accepts.
func TestRateLimitedReplyValidates(t *testing.T) {
	ctx := context.Background()
	conns := connection.NewMemoryStore(nil)
	if err := conns.Put(ctx, connection.New(eventConnID, eventUserID, time.Now(), "203.0.113.24", "test")); err != nil {
		t.Fatal(err)
	}
	h := route.NewMessage(route.MessageConfig{
		Connections: conns,
		History:     history.NewMemoryStore(nil),
		Posters:     func(string) route.Poster { return replayPoster{t: t} },
		RateLimit:   connection.Limit{Units: 1, Window: time.Hour},
	})
	req := events.APIGatewayWebsocketProxyRequest{Body: `{"type":"ping"}`}
	req.RequestContext.ConnectionID = eventConnID
	var body string
	for range 2 {
		resp, err := h.Handle(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		body = resp.Body
	}
	if !strings.Contains(body, `"code":"rate_limited"`) {
		t.Fatalf("second ping = %s; want rate_limited", body)
	}
	assertValid(t, schemas.ServerMessage, []byte(body))
}
