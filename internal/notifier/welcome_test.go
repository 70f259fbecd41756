package notifier_test

import (
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/oklog/ulid/v2"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/notifier"
)

// streamEvent returns testdata/dynamodb-stream-event.json: a batch of the
// connections table's stream.
func streamEvent(tb testing.TB) events.DynamoDBEvent {
	tb.Helper()
	var ev events.DynamoDBEvent
	must(tb, json.Unmarshal(readTestdata(tb, "dynamodb-stream-event.json"), &ev))
	if len(ev.Records) != 8 {
		tb.Fatalf("testdata/dynamodb-stream-event.json has %d records, want 8", len(ev.Records))
	}
	return ev
}

func TestWelcomeHandlesAStreamBatch(t *testing.T) {
	w := newWorld(t, notifier.Options{})
	w.gw.script("Late2AbCdIAMCJ1h=", gone, gone, ok) // live once $connect has returned
	w.gw.script("Broken7AbCdIA=", broken)
	w.gw.script("Gone8AbCdIAMC=", gone) // closed before it could be welcomed
	h := notifier.NewWelcomeHandler(w.n, notifier.WelcomeOptions{Window: time.Second})
	ev := streamEvent(t)

	resp, err := h.Handle(ctxOf(t), ev)
	must(t, err)

	want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: "100000000000000000007"}}
	if !slices.Equal(resp.BatchItemFailures, want) {
		t.Errorf("BatchItemFailures = %v, want %v", resp.BatchItemFailures, want)
	}
	tests := []struct {
		name      string
		conn      string
		wantPosts int
		wantUser  string // of the last post; "" when none must succeed
	}{
		{name: "live connection welcomed once (its MODIFY ignored)", conn: "Xyz1AbCdIAMCJ0g=", wantPosts: 1, wantUser: "123"},
		{name: "410 retried until live", conn: "Late2AbCdIAMCJ1h=", wantPosts: 3, wantUser: "456"},
		// Waits of 50, 100, 200, 400 and 500 ms exceed the 1 s window: six attempts.
		{name: "gone for the whole window", conn: "Gone8AbCdIAMC=", wantPosts: 6},
		{name: "server error reported for retry", conn: "Broken7AbCdIA=", wantPosts: 1},
		{name: "record without userId ignored", conn: "NoUser5AbCdIAM="},
		{name: "record with a numeric userId ignored", conn: "NumUser6AbCdIA="},
		{name: "REMOVE ignored", conn: "Old4AbCdIAMCJ2i="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			posts := w.gw.postsTo(tt.conn)
			if len(posts) != tt.wantPosts {
				t.Fatalf("%d posts, want %d", len(posts), tt.wantPosts)
			}
			if tt.wantUser == "" {
				return
			}
			got := decodePost(t, posts[len(posts)-1])
			if got["type"] != "connection_established" || got["user_id"] != tt.wantUser || got["connection_id"] != tt.conn ||
				got["message"] != "WebSocket connection established" || got["timestamp"] != "2026-03-01T12:00:00Z" {
				t.Errorf("posted %v, want connection_established for user %s on %s", got, tt.wantUser, tt.conn)
			}
			if _, err := ulid.ParseStrict(got["id"].(string)); err != nil {
				t.Errorf("id %v is not a ULID", got["id"])
			}
		})
	}
	if adds := w.hist.addCalls(); adds != 0 {
		t.Errorf("%d history writes, want none: the welcome is not history", adds)
	}
	if _, deleted := w.conns.calls(); len(deleted) != 0 {
		t.Errorf("deleted %v, want the store untouched", deleted)
	}
}

func TestWelcomeWindow(t *testing.T) {
	tests := []struct {
		name      string
		window    time.Duration
		wantPosts int
	}{
		{name: "default window of 5s", wantPosts: 14}, // 50+100+200+400+500*9 = 5250ms of waits
		{name: "short window", window: 100 * time.Millisecond, wantPosts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, notifier.Options{})
			w.gw.script("Xyz1AbCdIAMCJ0g=", gone)
			h := notifier.NewWelcomeHandler(w.n, notifier.WelcomeOptions{Window: tt.window})
			ev := streamEvent(t)

			resp, err := h.Handle(ctxOf(t), events.DynamoDBEvent{Records: ev.Records[:1]})
			must(t, err)

			if len(resp.BatchItemFailures) != 0 {
				t.Errorf("BatchItemFailures = %v, want none for a gone connection", resp.BatchItemFailures)
			}
			if posts := len(w.gw.postsTo("Xyz1AbCdIAMCJ0g=")); posts != tt.wantPosts {
				t.Errorf("%d posts, want %d", posts, tt.wantPosts)
			}
			var waited time.Duration
			for _, d := range w.sleep.all() {
				waited += d
			}
			if window := cmp.Or(tt.window, notifier.DefaultWelcomeWindow); waited < window || waited > window+time.Second {
				t.Errorf("waited %v in all, want just over the window %v", waited, window)
			}
		})
	}
}

// TestWelcomeOnce: with Claims, a batch delivered again (Lambda retries a
// stream batch from its first failed record, so records that succeeded come
// again) welcomes each connection once; a post that failed releases its
// claim, so its retry posts.
func TestWelcomeOnce(t *testing.T) {
	w := newWorld(t, notifier.Options{},
		conn("Xyz1AbCdIAMCJ0g=", "123", 0), conn("Late2AbCdIAMCJ1h=", "456", 0),
		conn("Broken7AbCdIA=", "789", 0), conn("Gone8AbCdIAMC=", "789", 0))
	w.gw.script("Broken7AbCdIA=", broken, ok) // fails once, then is welcomed on the retry
	w.gw.script("Gone8AbCdIAMC=", gone)
	h := notifier.NewWelcomeHandler(w.n, notifier.WelcomeOptions{Window: 100 * time.Millisecond, Claims: w.conns})
	ev := streamEvent(t)

	first, err := h.Handle(ctxOf(t), ev)
	must(t, err)
	if want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: "100000000000000000007"}}; !slices.Equal(first.BatchItemFailures, want) {
		t.Fatalf("first delivery: BatchItemFailures = %v, want %v", first.BatchItemFailures, want)
	}
	second, err := h.Handle(ctxOf(t), ev) // the whole batch again
	must(t, err)
	if len(second.BatchItemFailures) != 0 {
		t.Errorf("second delivery: BatchItemFailures = %v, want none", second.BatchItemFailures)
	}

	tests := []struct {
		name      string
		conn      string
		wantPosts int
	}{
		{name: "welcomed once over two deliveries", conn: "Xyz1AbCdIAMCJ0g=", wantPosts: 1},
		{name: "welcomed once", conn: "Late2AbCdIAMCJ1h=", wantPosts: 1},
		{name: "failed post (500) retried, then welcomed", conn: "Broken7AbCdIA=", wantPosts: 2},
		// Gone for the whole window: the claim stays, the retry does not post.
		{name: "gone connection not tried again", conn: "Gone8AbCdIAMC=", wantPosts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if posts := len(w.gw.postsTo(tt.conn)); posts != tt.wantPosts {
				t.Errorf("%d posts, want %d", posts, tt.wantPosts)
			}
		})
	}
}

func TestWelcomeClaimFailures(t *testing.T) {
	tests := []struct {
		name        string
		stored      bool  // the connection's row exists
		claimErr    error // ClaimWelcome's error
		wantPosts   int
		wantFailure bool // the record is reported for retry
	}{
		{name: "row gone: disconnected before the welcome", stored: false, wantPosts: 0},
		{name: "claim fails: retried, nothing posted", stored: true, claimErr: errors.New("dynamodb: throttled"), wantFailure: true},
		{name: "claimed", stored: true, wantPosts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conns []connection.Connection
			if tt.stored {
				conns = append(conns, conn("Xyz1AbCdIAMCJ0g=", "123", 0))
			}
			w := newWorld(t, notifier.Options{}, conns...)
			w.conns.claimErr = tt.claimErr
			h := notifier.NewWelcomeHandler(w.n, notifier.WelcomeOptions{Claims: w.conns})
			resp, err := h.Handle(ctxOf(t), events.DynamoDBEvent{Records: streamEvent(t).Records[:1]})
			must(t, err)
			if got := len(resp.BatchItemFailures) == 1; got != tt.wantFailure {
				t.Errorf("BatchItemFailures = %v, want failure %v", resp.BatchItemFailures, tt.wantFailure)
			}
			if posts := len(w.gw.postsTo("Xyz1AbCdIAMCJ0g=")); posts != tt.wantPosts {
				t.Errorf("%d posts, want %d", posts, tt.wantPosts)
			}
		})
	}
}
