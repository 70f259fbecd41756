package notifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/oklog/ulid/v2"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
)

func TestNotifyReachesEveryConnectionOfTheUserOnly(t *testing.T) {
	w := newWorld(t, notifier.Options{},
		conn("tab-1=", "u1", time.Hour), conn("tab-2=", "u1", time.Minute), conn("tab-3=", "u1", 2*time.Hour),
		conn("other=", "u2", time.Hour))

	report, err := w.n.Notify(ctxOf(t), "u1", notification.General("Budget approved", map[string]any{"amount": 12.5}))
	must(t, err)

	if want := []string{"tab-1=", "tab-2=", "tab-3="}; !slices.Equal(report.Delivered, want) {
		t.Errorf("Delivered = %v, want %v", report.Delivered, want)
	}
	if len(report.Gone) != 0 || len(report.Failed) != 0 {
		t.Errorf("Gone = %v, Failed = %v, want none", report.Gone, report.Failed)
	}
	if got := w.gw.postsTo("other="); len(got) != 0 {
		t.Errorf("another user's connection received %d posts: %s", len(got), got)
	}
	first := w.gw.postsTo("tab-1=")
	for _, id := range report.Delivered {
		posts := w.gw.postsTo(id)
		if len(posts) != 1 || string(posts[0]) != string(first[0]) {
			t.Errorf("posts to %s = %q, want one copy of %q", id, posts, first)
		}
	}
	got := decodePost(t, first[0])
	want := map[string]any{"id": report.ID, "type": "notification", "category": "general", "timestamp": "2026-03-01T12:00:00Z",
		"message": "Budget approved", "data": map[string]any{"amount": 12.5}, "cursor": "c1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("posted %v, want %v", got, want)
	}
	if _, err := ulid.ParseStrict(report.ID); err != nil {
		t.Errorf("notification ID %q is not a ULID: %v", report.ID, err)
	}

	items := w.hist.of("u1")
	if len(items) != 1 || items[0].Notification.ID != report.ID || !items[0].ExpiresAt.Equal(t0.Add(history.DefaultRetention)) {
		t.Errorf("history of u1 = %+v, want the notification expiring after the default retention", items)
	}
	if items := w.hist.of("u2"); len(items) != 0 {
		t.Errorf("history of u2 = %+v, want none", items)
	}
	byUser, deleted := w.conns.calls()
	if adds, posts := w.hist.addCalls(), w.gw.totalPosts(); adds != 1 || byUser != 1 || posts != 3 || len(deleted) != 0 {
		t.Errorf("calls: %d history writes, %d lookups, %d posts, %d deletes; want 1, 1, 3, 0", adds, byUser, posts, len(deleted))
	}
}

func TestNotifyDeletesAGoneConnectionOnItsFirst410(t *testing.T) {
	w := newWorld(t, notifier.Options{},
		conn("live", "u1", time.Hour), conn("stale", "u1", time.Hour), conn("new", "u1", time.Second))
	w.gw.script("stale", gone)
	w.gw.script("new", gone, ok)

	for round := 1; round <= 3; round++ {
		report, err := w.n.Notify(ctxOf(t), "u1", notification.General(fmt.Sprintf("round %d", round), nil))
		must(t, err)
		if round == 1 {
			if !slices.Equal(report.Gone, []string{"stale"}) {
				t.Errorf("round 1: Gone = %v, want [stale]", report.Gone)
			}
			// A connection younger than ConnectGrace may not be live yet: reported, kept.
			if len(report.Failed) != 1 || report.Failed[0].ConnectionID != "new" || !errors.Is(report.Failed[0].Err, notifier.ErrGone) {
				t.Errorf("round 1: Failed = %+v, want new with ErrGone", report.Failed)
			}
		} else if len(report.Gone) != 0 || len(report.Failed) != 0 {
			t.Errorf("round %d: Gone = %v, Failed = %v, want none", round, report.Gone, report.Failed)
		}
	}
	if got := len(w.gw.postsTo("stale")); got != 1 {
		t.Errorf("stale connection got %d posts, want 1 (none after its 410)", got)
	}
	if got := len(w.gw.postsTo("live")); got != 3 {
		t.Errorf("live connection got %d posts, want 3", got)
	}
	if got := len(w.gw.postsTo("new")); got != 3 {
		t.Errorf("new connection got %d posts, want 3 (kept after its early 410)", got)
	}
	if _, deleted := w.conns.calls(); !slices.Equal(deleted, []string{"stale"}) {
		t.Errorf("deleted %v, want exactly [stale]", deleted)
	}
}

func TestNotifyPostOutcomes(t *testing.T) {
	const base = 40 * time.Millisecond
	tests := []struct {
		name      string
		responses []string // to the posts to connection "c1"
		want      string   // delivered | gone | failed
		wantErr   error    // wrapped by the failure, when failed
		wantPosts int
	}{
		{name: "ok", responses: []string{ok}, want: "delivered", wantPosts: 1},
		{name: "limit exceeded then ok", responses: []string{limited, ok}, want: "delivered", wantPosts: 2},
		{name: "too many requests twice then ok", responses: []string{tooMany, tooMany, ok}, want: "delivered", wantPosts: 3},
		{name: "bare 429 then ok", responses: []string{bare429, ok}, want: "delivered", wantPosts: 2},
		{name: "throttled past every retry", responses: []string{limited}, want: "failed", wantErr: notifier.ErrThrottled, wantPosts: 4},
		{name: "payload too large", responses: []string{tooLarge}, want: "failed", wantErr: notifier.ErrTooLarge, wantPosts: 1},
		{name: "forbidden is not retried", responses: []string{forbidden}, want: "failed", wantPosts: 1},
		{name: "server error is not retried by the SDK either", responses: []string{broken}, want: "failed", wantPosts: 1},
		{name: "gone", responses: []string{gone}, want: "gone", wantPosts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, notifier.Options{MaxRetries: 3, RetryBase: base},
				conn("c1", "u1", time.Hour), conn("c2", "u1", time.Hour))
			w.gw.script("c1", tt.responses...)

			report, err := w.n.Notify(ctxOf(t), "u1", notification.UploadStarted("602", "Starting"))
			must(t, err)

			var got string
			switch {
			case slices.Contains(report.Delivered, "c1"):
				got = "delivered"
			case slices.Contains(report.Gone, "c1"):
				got = "gone"
			case len(report.Failed) == 1 && report.Failed[0].ConnectionID == "c1":
				got = "failed"
				if tt.wantErr != nil && !errors.Is(report.Failed[0].Err, tt.wantErr) {
					t.Errorf("failure %v, want it to wrap %v", report.Failed[0].Err, tt.wantErr)
				}
			}
			if got != tt.want {
				t.Errorf("c1 %s (report %+v), want %s", got, report, tt.want)
			}
			if !slices.Contains(report.Delivered, "c2") {
				t.Errorf("c2 not delivered (report %+v): one connection's failure stopped another", report)
			}
			if posts := len(w.gw.postsTo("c1")); posts != tt.wantPosts {
				t.Errorf("%d posts to c1, want %d", posts, tt.wantPosts)
			}
			waits := w.sleep.all()
			if len(waits) != tt.wantPosts-1 {
				t.Errorf("%d backoff waits, want %d", len(waits), tt.wantPosts-1)
			}
			for i, d := range waits { // full jitter: [0, base*2^i)
				if d < 0 || d >= base<<i {
					t.Errorf("wait %d = %v, want in [0, %v)", i, d, base<<i)
				}
			}
		})
	}
}

func TestNotifyRefusesOversizeBeforeAnyWrite(t *testing.T) {
	// The largest note that fits leaves room for the `,"replayed":true` resume adds.
	stamped := notification.General("x", nil)
	stamped.ID, stamped.Timestamp = notification.NewID(t0), t0
	notification.Classify(&stamped) // as stored and posted
	oneByte, err := json.Marshal(stamped)
	must(t, err)
	// Room is kept for the longest cursor and the replayed flag.
	const overhead = len(`,"cursor":"c18446744073709551615","replayed":true`)
	fits := notifier.MaxPayload - overhead - len(oneByte) + 1

	tests := []struct {
		name    string
		message int // bytes of message text
		wantErr bool
	}{
		{name: "largest that fits", message: fits},
		{name: "one byte over", message: fits + 1, wantErr: true},
		{name: "far over", message: 3 * notifier.MaxPayload, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, notifier.Options{}, conn("c1", "u1", time.Hour))
			note := stamped
			note.Message = strings.Repeat("x", tt.message)

			_, err := w.n.Notify(ctxOf(t), "u1", note)

			if !tt.wantErr {
				must(t, err)
				if posts := w.gw.postsTo("c1"); len(posts) != 1 || len(posts[0])+overhead-len(`,"cursor":"c1"`) != notifier.MaxPayload {
					t.Errorf("posted %d messages, want one of exactly the limit", len(posts))
				}
				return
			}
			if !errors.Is(err, notifier.ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if events := w.rec.all(); len(events) != 0 {
				t.Errorf("calls before refusing: %v, want none", events)
			}
		})
	}
}

func TestNotifyStoresHistoryBeforePosting(t *testing.T) {
	tests := []struct {
		name  string
		conns []connection.Connection
		want  []string // calls, in order
	}{
		{name: "no connections", want: []string{"add u1", "byuser u1"}},
		{name: "two connections", conns: []connection.Connection{conn("a", "u1", time.Hour), conn("b", "u1", time.Hour)},
			want: []string{"add u1", "byuser u1", "post a", "post b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, notifier.Options{Retention: 48 * time.Hour}, tt.conns...)

			report, err := w.n.Notify(ctxOf(t), "u1", notification.UploadFailed("602", "Import failed", "ESS job 42 errored"))
			must(t, err)

			got := w.rec.all()
			slices.Sort(got[2:]) // posts run concurrently
			if !slices.Equal(got, tt.want) {
				t.Errorf("calls %v, want %v", got, tt.want)
			}
			items := w.hist.of("u1")
			if len(items) != 1 || items[0].Notification.ID != report.ID || items[0].Notification.Error != "ESS job 42 errored" ||
				!items[0].ExpiresAt.Equal(t0.Add(48*time.Hour)) {
				t.Errorf("history %+v, want the notification expiring after 48h", items)
			}
		})
	}
}

func TestNotifyStoreFailuresAreReturnedBeforeAnyPost(t *testing.T) {
	errDown := errors.New("dynamodb unavailable")
	tests := []struct {
		name        string
		historyErr  error
		lookupErr   error
		wantLookups int
	}{
		{name: "history write fails", historyErr: errDown, wantLookups: 0},
		{name: "connection lookup fails", lookupErr: errDown, wantLookups: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, notifier.Options{}, conn("a", "u1", time.Hour))
			w.hist.failOn["u1"] = tt.historyErr
			w.conns.byUserErr = tt.lookupErr

			_, err := w.n.Notify(ctxOf(t), "u1", notification.General("hi", nil))

			if !errors.Is(err, errDown) {
				t.Errorf("err = %v, want it to wrap %v", err, errDown)
			}
			if byUser, _ := w.conns.calls(); byUser != tt.wantLookups {
				t.Errorf("%d lookups, want %d", byUser, tt.wantLookups)
			}
			if posts := w.gw.totalPosts(); posts != 0 {
				t.Errorf("%d posts after a store failure, want 0", posts)
			}
		})
	}
}

func TestNotifyManyStoresOneIDForEachUser(t *testing.T) {
	w := newWorld(t, notifier.Options{},
		conn("a", "u1", time.Hour), conn("b", "u1", time.Hour), conn("c", "u2", time.Hour), conn("d", "u4", time.Hour))

	report, err := w.n.NotifyMany(ctxOf(t), []string{"u2", "u1", "u3", "u1"}, notification.General("Period closed", nil))
	must(t, err)

	if want := []string{"a", "b", "c"}; !slices.Equal(report.Delivered, want) {
		t.Errorf("Delivered = %v, want %v", report.Delivered, want)
	}
	for _, user := range []string{"u1", "u2", "u3"} {
		if items := w.hist.of(user); len(items) != 1 || items[0].Notification.ID != report.ID {
			t.Errorf("history of %s = %+v, want the one notification %s", user, items, report.ID)
		}
	}
	if items := w.hist.of("u4"); len(items) != 0 {
		t.Errorf("history of u4 = %+v, want none", items)
	}
	byUser, _ := w.conns.calls()
	if adds, posts := w.hist.addCalls(), w.gw.totalPosts(); adds != 3 || byUser != 3 || posts != 3 {
		t.Errorf("calls: %d writes, %d lookups, %d posts; want 3, 3, 3", adds, byUser, posts)
	}
}

func TestNotifyManyPostsNothingWhenOneUserCannotBeStored(t *testing.T) {
	w := newWorld(t, notifier.Options{}, conn("a", "u1", time.Hour), conn("c", "u2", time.Hour))
	w.hist.failOn["u2"] = errors.New("throttled")

	if _, err := w.n.NotifyMany(ctxOf(t), []string{"u1", "u2"}, notification.General("hi", nil)); err == nil {
		t.Fatal("NotifyMany succeeded, want the history error")
	}
	if posts := w.gw.totalPosts(); posts != 0 {
		t.Errorf("%d posts, want none until every user's history is stored", posts)
	}
}

func TestPostTo(t *testing.T) {
	tests := []struct {
		name      string
		stage     string   // path of the management endpoint
		responses []string // to the posts
		data      []byte
		wantErr   error // nil: success
		wantPosts int
	}{
		{name: "stage endpoint", stage: "/prod", responses: []string{ok}, data: []byte(`{"type":"pong"}`), wantPosts: 1},
		{name: "local endpoint without stage", responses: []string{ok}, data: []byte(`{"type":"pong"}`), wantPosts: 1},
		{name: "gone", stage: "/prod", responses: []string{gone}, data: []byte(`{}`), wantErr: notifier.ErrGone, wantPosts: 1},
		{name: "throttled then ok", stage: "/prod", responses: []string{limited, ok}, data: []byte(`{}`), wantPosts: 2},
		{name: "over the limit", stage: "/prod", data: make([]byte, notifier.MaxPayload+1), wantErr: notifier.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			gw := newGateway(t, rec)
			gw.script("abc=", tt.responses...)
			conns := newFakeConns(rec, conn("abc=", "u1", time.Hour))
			n := notifier.New(conns, newFakeHistory(rec), gw.client(tt.stage),
				notifier.Options{Sleep: (&sleeper{}).sleep})

			err := n.PostTo(ctxOf(t), "abc=", tt.data)

			if tt.wantErr == nil {
				must(t, err)
			} else if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			posts := gw.postsTo("abc=")
			if len(posts) != tt.wantPosts {
				t.Fatalf("%d posts, want %d", len(posts), tt.wantPosts)
			}
			if len(posts) > 0 && string(posts[len(posts)-1]) != string(tt.data) {
				t.Errorf("posted %q, want %q", posts[len(posts)-1], tt.data)
			}
			if _, deleted := conns.calls(); len(deleted) != 0 {
				t.Errorf("PostTo deleted %v, want the store untouched", deleted)
			}
		})
	}
}

func TestPostToStopsWaitingWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	posts := 0
	throttleThenCancel := posterFunc(func(context.Context, *apigatewaymanagementapi.PostToConnectionInput,
		...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error) {
		posts++
		cancel() // the Lambda deadline arrives while PostTo waits to retry
		return nil, &types.LimitExceededException{}
	})
	// The default Sleep, with a wait far longer than any test.
	n := notifier.New(nil, nil, throttleThenCancel, notifier.Options{RetryBase: time.Hour, RetryCap: time.Hour})

	err := n.PostTo(ctx, "abc=", []byte(`{}`))

	if !errors.Is(err, context.Canceled) || posts != 1 {
		t.Errorf("err = %v after %d posts, want context.Canceled after 1", err, posts)
	}
}

// posterFunc is a Poster made of a function.
type posterFunc func(ctx context.Context, in *apigatewaymanagementapi.PostToConnectionInput,
	optFns ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error)

func (f posterFunc) PostToConnection(ctx context.Context, in *apigatewaymanagementapi.PostToConnectionInput,
	optFns ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error) {
	return f(ctx, in, optFns...)
}

func BenchmarkNotifyFanOut1000(b *testing.B) {
	const connections = 1000
	conns := make([]connection.Connection, connections)
	for i := range conns {
		conns[i] = conn(fmt.Sprintf("conn-%04d", i), "u1", time.Hour)
	}
	post := posterFunc(func(context.Context, *apigatewaymanagementapi.PostToConnectionInput,
		...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error) {
		return &apigatewaymanagementapi.PostToConnectionOutput{}, nil
	})
	n := notifier.New(newFakeConns(nil, conns...), newFakeHistory(nil), post, notifier.Options{})
	ctx := context.Background()
	note := notification.UploadProgress("602", "Upload to UCM", 2, 5, notification.StatusProcessing, "Uploading")
	b.ReportAllocs()
	for b.Loop() {
		report, err := n.Notify(ctx, "u1", note)
		if err != nil || len(report.Delivered) != connections {
			b.Fatalf("delivered %d, err %v", len(report.Delivered), err)
		}
	}
	b.ReportMetric(float64(b.N*connections)/b.Elapsed().Seconds(), "deliveries/s")
}
