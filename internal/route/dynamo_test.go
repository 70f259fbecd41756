package route_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/finance/fbdi-notify/internal/auth"
	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

// TestWithDynamoDB runs the three handlers against the real DynamoDB stores
// on moto_server: connect, the message routes, then disconnect.
func TestWithDynamoDB(t *testing.T) {
	client := awstest.DynamoDB(t)
	ctx := awstest.Context(t)
	clock := func() time.Time { return t0 }
	conns := connection.NewDynamoStore(client, awstest.TemplateTable(t, client, "ConnectionsTable"), clock)
	hist := history.NewDynamoStore(client, awstest.TemplateTable(t, client, "NotificationsTable"), clock)

	verifier, err := auth.NewVerifier(testSecret, auth.DefaultLeeway, clock)
	if err != nil {
		t.Fatal(err)
	}
	connect := route.NewConnect(verifier, conns, clock, nil)
	disconnect := route.NewDisconnect(conns, nil)
	poster := &fakePoster{}
	message := route.NewMessage(route.MessageConfig{Connections: conns, History: hist,
		Posters: func(string) route.Poster { return poster }})

	req := event(t, "connect.json")
	setHeader(&req, "Sec-WebSocket-Protocol", "bearer, "+hs256(t, jwt.MapClaims{"user_id": 42}))
	if resp, err := connect.Handle(ctx, req); err != nil || resp.StatusCode != http.StatusOK || resp.Headers["Sec-WebSocket-Protocol"] != "bearer" {
		t.Fatalf("connect = %+v, %v; want 200 echoing bearer", resp, err)
	}
	if c, err := conns.Get(ctx, testConnID); err != nil || c.UserID != "42" {
		t.Fatalf("stored connection %+v, %v; want user 42", c, err)
	}

	var mine []string
	for i, user := range []string{"42", "7", "42", "42"} {
		n := notification.General(fmt.Sprintf("note %d", i), nil)
		n.Stamp(t0.Add(time.Duration(i) * time.Second))
		if _, err := hist.Add(ctx, history.Item{UserID: user, Notification: n, ExpiresAt: t0.Add(history.DefaultRetention)}); err != nil {
			t.Fatal(err)
		}
		if user == "42" {
			mine = append(mine, n.ID)
		}
	}

	steps := []struct {
		name string
		body string
		want string
	}{
		{name: "history", body: `{"type":"history","limit":2}`, want: fmt.Sprintf(`"items":[{"id":"%s"`, mine[2])},
		{name: "unread count", body: `{"type":"history"}`, want: `"unread_count":3,"has_more":false}`},
		{name: "mark one read", body: fmt.Sprintf(`{"type":"mark_read","ids":[%q]}`, mine[0]), want: `{"type":"read_state","unread_count":2}`},
		{name: "resume after the first's id", body: fmt.Sprintf(`{"type":"resume","after":%q}`, mine[0]), want: `{"type":"resume_complete","count":2,"has_more":false,"cursor":"c3"}`},
		{name: "resume after the second's cursor", body: `{"type":"resume","after":"c2"}`, want: `{"type":"resume_complete","count":1,"has_more":false,"cursor":"c3"}`},
		{name: "mark all read", body: `{"type":"mark_read","all":true}`, want: `{"type":"read_state","unread_count":0}`},
		{name: "status before the lead wires it", body: `{"type":"status","transaction_id":"602"}`, want: `"code":"not_found"`},
	}
	for _, step := range steps {
		req := event(t, "message.json")
		req.Body = step.body
		resp, err := message.Handle(ctx, req)
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, step.want) {
			t.Fatalf("%s: reply %d %s, %v; want 200 containing %s", step.name, resp.StatusCode, resp.Body, err, step.want)
		}
	}
	if len(poster.posts) != 3 {
		t.Fatalf("resumes posted %d; want 3", len(poster.posts))
	}
	if n, err := hist.UnreadCount(ctx, "7"); err != nil || n != 1 {
		t.Fatalf("user 7 unread = %d, %v; want 1 (untouched)", n, err)
	}

	for range 2 { // idempotent
		if resp, err := disconnect.Handle(ctx, event(t, "disconnect.json")); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("disconnect = %d, %v; want 200", resp.StatusCode, err)
		}
	}
	if _, err := conns.Get(ctx, testConnID); !errors.Is(err, connection.ErrNotFound) {
		t.Fatalf("Get after disconnect: %v; want ErrNotFound", err)
	}
	req = event(t, "message.json")
	req.Body = `{"type":"history"}`
	if resp, _ := message.Handle(ctx, req); !strings.Contains(resp.Body, `"code":"unauthorized"`) {
		t.Fatalf("history after disconnect: %s; want unauthorized", resp.Body)
	}
}
