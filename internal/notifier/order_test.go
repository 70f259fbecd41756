package notifier_test

import (
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
)

// TestRedeliveredMessageKeepsItsPosition delivers one SQS message twice
// (SQS standard queues are at-least-once), with another message between the
// two deliveries: the message is stored once, at one position, and both of
// its posts carry that position's cursor, on the memory store and on
// DynamoDB (moto_server).
func TestRedeliveredMessageKeepsItsPosition(t *testing.T) {
	stores := []struct {
		name string
		new  func(t *testing.T) history.Store
	}{
		{name: "memory", new: func(*testing.T) history.Store { return history.NewMemoryStore(func() time.Time { return t0 }) }},
		{name: "dynamodb", new: func(t *testing.T) history.Store {
			client := awstest.DynamoDB(t)
			return history.NewDynamoStore(client, awstest.TemplateTable(t, client, "NotificationsTable"),
				func() time.Time { return t0 })
		}},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			w := newWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour))
			hist := st.new(t)
			n := notifier.New(w.conns, hist, w.gw.client("/prod"), notifier.Options{Now: func() time.Time { return t0 }})
			h := notifier.NewQueueHandler(n, &fakeSQS{}, dlqURL, nil)
			first := message("msg-1", `{"user_id":"123","message":"Budget approved"}`)
			other := message("msg-2", `{"user_id":"123","message":"Budget rejected"}`)
			again := first
			again.Attributes = map[string]string{"SentTimestamp": first.Attributes["SentTimestamp"], "ApproximateReceiveCount": "2"}
			for _, m := range []events.SQSMessage{first, other, again} {
				resp, err := h.Handle(ctxOf(t), events.SQSEvent{Records: []events.SQSMessage{m}})
				if err != nil || len(resp.BatchItemFailures) != 0 {
					t.Fatalf("Handle(%s) = %v, %v", m.MessageId, resp.BatchItemFailures, err)
				}
			}
			posts := w.gw.postsTo("tab-a")
			if len(posts) != 3 {
				t.Fatalf("%d posts, want 3", len(posts))
			}
			var got [][2]any // id, cursor of each post
			for _, p := range posts {
				m := decodePost(t, p)
				got = append(got, [2]any{m["id"], m["cursor"]})
			}
			if got[0] != got[2] || got[0][1] != "c1" || got[1][1] != "c2" || got[0][0] == got[1][0] {
				t.Errorf("posts (id, cursor) = %v, want the redelivery to repeat the first with c1, the other c2", got)
			}
			page, err := hist.After(ctxOf(t), "123", 0, history.Filter{}, 100)
			if err != nil || page.HasMore || len(page.Items) != 2 {
				t.Fatalf("history = %d items, %v, %v; want 2", len(page.Items), page.HasMore, err)
			}
			for i, it := range page.Items {
				if it.Position != history.Position(i+1) || it.Notification.ID != got[i][0] {
					t.Errorf("history item %d = %s at %d, want %v at %d", i, it.Notification.ID, it.Position, got[i][0], i+1)
				}
			}
		})
	}
}
