package route_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/internal/testing/bgtest"
)

const derivedEndpoint = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod"

// world is a Message handler over fakes. User "42" holds the testdata
// connection and has five notifications (the two oldest read); user "7" has
// three unread ones.
type world struct {
	h         *route.Message
	conns     *fakeConns
	hist      *fakeHistory
	poster    *fakePoster
	endpoints []string    // arguments of every Posters call
	status    [][2]string // userID, transactionID of every StatusFunc call
	logs      *bgtest.Buffer
	mine      []string // user 42's notification IDs, oldest first
	theirs    []string // user 7's
}

func newWorld(tb testing.TB, edit func(*route.MessageConfig)) *world {
	tb.Helper()
	w := &world{
		conns:  newFakeConns(connection.New(testConnID, "42", t0, "49.105.91.154", "ua")),
		hist:   newFakeHistory(),
		poster: &fakePoster{},
	}
	w.mine = w.hist.add("42", 5, 2, t0)
	w.theirs = w.hist.add("7", 3, 0, t0.Add(-1e9)) // interleaved in time with 42's
	log, logs := logBuffer()
	w.logs = logs
	cfg := route.MessageConfig{
		Connections: w.conns,
		History:     w.hist,
		Posters: func(endpoint string) route.Poster {
			w.endpoints = append(w.endpoints, endpoint)
			return w.poster
		},
		Status: func(_ context.Context, userID, transactionID string) (any, bool, error) {
			w.status = append(w.status, [2]string{userID, transactionID})
			if transactionID != "602" {
				return nil, false, nil
			}
			return map[string]any{"type": "workflow_status", "transaction_id": "602", "state": "running", "current_step": 2}, true, nil
		},
		Logger: log,
	}
	if edit != nil {
		edit(&cfg)
	}
	w.h = route.NewMessage(cfg)
	return w
}

// send delivers body on the testdata connection and returns the raw reply,
// failing unless the handler kept the connection open (200, no error).
func (w *world) send(tb testing.TB, body string) string {
	tb.Helper()
	req := event(tb, "message.json")
	req.Body = body
	return w.sendEvent(tb, req)
}

func (w *world) sendEvent(tb testing.TB, req events.APIGatewayWebsocketProxyRequest) string {
	tb.Helper()
	resp, err := w.h.Handle(tb.Context(), req)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("Handle() = %d, %v; want 200 and no error", resp.StatusCode, err)
	}
	return resp.Body
}

// decodeReply unmarshals a reply that must be one JSON object.
func decodeReply(tb testing.TB, body string) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		tb.Fatalf("reply %q is not a JSON object: %v", body, err)
	}
	return m
}

func TestPing(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "number timestamp", body: `{"type":"ping","timestamp":1705751700453}`, want: `{"type":"pong","timestamp":1705751700453}`},
		{name: "number beyond float64 kept verbatim", body: `{"type":"ping","timestamp":12345678901234567890.50}`, want: `{"type":"pong","timestamp":12345678901234567890.50}`},
		{name: "string timestamp", body: `{"type":"ping","timestamp":"2025-03-14T09:26:53Z"}`, want: `{"type":"pong","timestamp":"2025-03-14T09:26:53Z"}`},
		{name: "object timestamp", body: `{"type":"ping","timestamp":{"t": [1, 2]}}`, want: `{"type":"pong","timestamp":{"t":[1,2]}}`},
		{name: "no timestamp", body: `{"type":"ping"}`, want: `{"type":"pong","timestamp":null}`},
		{name: "extra fields ignored", body: "{\r\n\t\"type\": \"ping\", \"timestamp\": 5, \"limit\": \"x\"\r\n}", want: `{"type":"pong","timestamp":5}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			if got := w.send(t, tt.body); got != tt.want {
				t.Fatalf("reply %s; want %s", got, tt.want)
			}
			if len(w.conns.gets) != 0 {
				t.Errorf("ping looked up the connection %d times; want none", len(w.conns.gets))
			}
		})
	}
}

func TestPingFromTestdataEvent(t *testing.T) {
	w := newWorld(t, nil)
	if got := w.sendEvent(t, event(t, "message.json")); got != `{"type":"pong","timestamp":1705751700453}` {
		t.Fatalf("reply %s", got)
	}
}

func TestResume(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		afterIndex  int // index into mine of "after"; -1: none
		wantPosted  []int
		wantHasMore bool
		wantLimit   int
	}{
		{name: "everything", body: `{"type":"resume"}`, afterIndex: -1, wantPosted: []int{0, 1, 2, 3, 4}, wantLimit: route.DefaultResumeLimit},
		{name: "empty after", body: `{"type":"resume","after":""}`, afterIndex: -1, wantPosted: []int{0, 1, 2, 3, 4}, wantLimit: route.DefaultResumeLimit},
		{name: "after an id", body: `{"type":"resume","after":"%s"}`, afterIndex: 1, wantPosted: []int{2, 3, 4}, wantLimit: route.DefaultResumeLimit},
		{name: "after an id in lower case", body: `{"type":"resume","after":"%s"}`, afterIndex: 1, wantPosted: []int{2, 3, 4}, wantLimit: route.DefaultResumeLimit},
		{name: "limit leaves more", body: `{"type":"resume","after":"%s","limit":2}`, afterIndex: 0, wantPosted: []int{1, 2}, wantHasMore: true, wantLimit: 2},
		{name: "limit clamped", body: `{"type":"resume","limit":100000}`, afterIndex: -1, wantPosted: []int{0, 1, 2, 3, 4}, wantLimit: route.MaxResumeLimit},
		{name: "after the newest", body: `{"type":"resume","after":"%s"}`, afterIndex: 4, wantPosted: nil, wantLimit: route.DefaultResumeLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			body, after := tt.body, ""
			if tt.afterIndex >= 0 {
				after = w.mine[tt.afterIndex]
				if strings.Contains(tt.name, "lower case") {
					after = strings.ToLower(after)
				}
				body = fmt.Sprintf(tt.body, after)
			}
			reply := decodeReply(t, w.send(t, body))

			// The cursor is the last posted one's (user 42's items are at
			// positions 1..5), or the "after" sent when none was posted.
			cursor := after
			if n := len(tt.wantPosted); n > 0 {
				cursor = fmt.Sprintf("c%d", tt.wantPosted[n-1]+1)
			}
			want := map[string]any{"type": "resume_complete", "count": float64(len(tt.wantPosted)), "has_more": tt.wantHasMore,
				"cursor": cursor}
			if fmt.Sprint(reply) != fmt.Sprint(want) {
				t.Fatalf("reply %v; want %v", reply, want)
			}
			if len(w.poster.posts) != len(tt.wantPosted) {
				t.Fatalf("posted %d; want %d", len(w.poster.posts), len(tt.wantPosted))
			}
			for i, data := range w.poster.posts {
				note := decodeReply(t, string(data))
				if note["id"] != w.mine[tt.wantPosted[i]] || note["replayed"] != true || note["type"] != "notification" ||
					note["cursor"] != fmt.Sprintf("c%d", tt.wantPosted[i]+1) {
					t.Errorf("post %d = %s; want notification %s with replayed:true and cursor c%d", i, data,
						w.mine[tt.wantPosted[i]], tt.wantPosted[i]+1)
				}
				if w.poster.to[i] != testConnID {
					t.Errorf("post %d went to %q; want %q", i, w.poster.to[i], testConnID)
				}
			}
			if !slices.Equal(w.hist.limits, []int{tt.wantLimit}) {
				t.Errorf("store asked with limits %v; want [%d]", w.hist.limits, tt.wantLimit)
			}
			assertOnlyUser(t, w, "42")
			if len(tt.wantPosted) == 0 && len(w.endpoints) != 0 {
				t.Errorf("a poster was made for nothing to post")
			}
		})
	}
}

func TestResumeEndpoint(t *testing.T) {
	tests := []struct {
		name       string
		configured string
		want       string
	}{
		{name: "derived from the event", configured: "", want: derivedEndpoint},
		{name: "configured", configured: "https://ws.example.com/v1", want: "https://ws.example.com/v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, func(c *route.MessageConfig) { c.Endpoint = tt.configured })
			w.send(t, `{"type":"resume"}`)
			w.send(t, `{"type":"resume"}`)
			if !slices.Equal(w.endpoints, []string{tt.want}) {
				t.Fatalf("posters made for %q; want one for %q", w.endpoints, tt.want)
			}
		})
	}
}

func TestResumeStopsWhenGone(t *testing.T) {
	w := newWorld(t, nil)
	w.poster.fail = func(i int) error {
		if i == 2 {
			return fmt.Errorf("notifier: post: %w", route.ErrGone)
		}
		return nil
	}
	if body := w.send(t, `{"type":"resume"}`); body != "" {
		t.Fatalf("reply %q to a gone connection; want none", body)
	}
	if len(w.poster.to) != 3 || len(w.poster.posts) != 2 {
		t.Fatalf("attempted %d posts (%d delivered); want to stop after the gone one (3, 2)", len(w.poster.to), len(w.poster.posts))
	}
}

func TestResumeStopsOnPostFailure(t *testing.T) {
	w := newWorld(t, nil)
	w.poster.fail = func(i int) error {
		if i == 1 {
			return errStore
		}
		return nil
	}
	reply := decodeReply(t, w.send(t, `{"type":"resume"}`))
	if reply["type"] != "error" || reply["code"] != route.CodeInternal {
		t.Fatalf("reply %v; want internal_error", reply)
	}
	if len(w.poster.to) != 2 {
		t.Fatalf("attempted %d posts; want to stop at the failure (2)", len(w.poster.to))
	}
}

func TestHistory(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantItems   []int // indexes into mine, in reply order
		wantHasMore bool
	}{
		{name: "newest first", body: `{"type":"history"}`, wantItems: []int{4, 3, 2, 1, 0}},
		{name: "limit", body: `{"type":"history","limit":2}`, wantItems: []int{4, 3}, wantHasMore: true},
		{name: "before", body: `{"type":"history","before":"%s","limit":2}`, wantItems: []int{2, 1}, wantHasMore: true},
		{name: "someone else's user_id in the body is ignored", body: `{"type":"history","user_id":"7"}`, wantItems: []int{4, 3, 2, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			body := tt.body
			if strings.Contains(body, "%s") {
				body = fmt.Sprintf(body, w.mine[3])
			}
			var reply struct {
				Type        string           `json:"type"`
				Items       []map[string]any `json:"items"`
				UnreadCount *int             `json:"unread_count"`
				HasMore     *bool            `json:"has_more"`
			}
			if err := json.Unmarshal([]byte(w.send(t, body)), &reply); err != nil {
				t.Fatal(err)
			}
			if reply.Type != "history" || reply.UnreadCount == nil || *reply.UnreadCount != 3 || reply.HasMore == nil || *reply.HasMore != tt.wantHasMore {
				t.Fatalf("reply %+v; want history with unread_count 3, has_more %t", reply, tt.wantHasMore)
			}
			if len(reply.Items) != len(tt.wantItems) {
				t.Fatalf("got %d items; want %d", len(reply.Items), len(tt.wantItems))
			}
			for i, item := range reply.Items {
				idx := tt.wantItems[i]
				wantRead := idx < 2
				if item["id"] != w.mine[idx] || item["read"] != wantRead || item["type"] != "notification" || item["message"] != "note" {
					t.Errorf("item %d = %v; want %s with read:%t", i, item, w.mine[idx], wantRead)
				}
				if _, ok := item["replayed"]; ok {
					t.Errorf("item %d carries replayed", i)
				}
			}
			assertOnlyUser(t, w, "42")
		})
	}
}

func TestHistoryEmpty(t *testing.T) {
	w := newWorld(t, nil)
	w.conns.rows[testConnID] = connection.New(testConnID, "nobody", t0, "", "")
	if got, want := w.send(t, `{"type":"history"}`), `{"type":"history","items":[],"unread_count":0,"has_more":false}`; got != want {
		t.Fatalf("reply %s; want %s", got, want)
	}
}

func TestMarkRead(t *testing.T) {
	tests := []struct {
		name       string
		body       func(w *world) string
		wantUnread int
		wantTheirs int // user 7's unread count after
	}{
		{name: "ids", body: func(w *world) string { return fmt.Sprintf(`{"type":"mark_read","ids":[%q,%q]}`, w.mine[2], w.mine[4]) }, wantUnread: 1, wantTheirs: 3},
		{name: "ids in lower case", body: func(w *world) string {
			return fmt.Sprintf(`{"type":"mark_read","ids":[%q]}`, strings.ToLower(w.mine[2]))
		}, wantUnread: 2, wantTheirs: 3},
		{name: "all", body: func(*world) string { return `{"type":"mark_read","all":true}` }, wantUnread: 0, wantTheirs: 3},
		{name: "empty ids", body: func(*world) string { return `{"type":"mark_read","ids":[]}` }, wantUnread: 3, wantTheirs: 3},
		{name: "another user's ids change nothing", body: func(w *world) string { return fmt.Sprintf(`{"type":"mark_read","ids":[%q]}`, w.theirs[0]) }, wantUnread: 3, wantTheirs: 3},
		{name: "all does not reach another user", body: func(*world) string { return `{"type":"mark_read","all":true,"user_id":"7"}` }, wantUnread: 0, wantTheirs: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			got := w.send(t, tt.body(w))
			if want := fmt.Sprintf(`{"type":"read_state","unread_count":%d}`, tt.wantUnread); got != want {
				t.Fatalf("reply %s; want %s", got, want)
			}
			assertOnlyUser(t, w, "42")
			if n := w.hist.unread("7"); n != tt.wantTheirs {
				t.Fatalf("user 7 has %d unread; want %d", n, tt.wantTheirs)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	w := newWorld(t, nil)
	got := decodeReply(t, w.send(t, `{"type":"status","transaction_id":"602"}`))
	if got["type"] != "workflow_status" || got["transaction_id"] != "602" || got["state"] != "running" {
		t.Fatalf("reply %v; want the StatusFunc's workflow_status", got)
	}
	if !slices.Equal(w.status, [][2]string{{"42", "602"}}) {
		t.Fatalf("StatusFunc calls %v; want [[42 602]]", w.status)
	}
}

func TestStatusWithoutStatusFunc(t *testing.T) {
	w := newWorld(t, func(c *route.MessageConfig) { c.Status = nil })
	reply := decodeReply(t, w.send(t, `{"type":"status","transaction_id":"602"}`))
	if reply["code"] != route.CodeNotFound {
		t.Fatalf("reply %v; want not_found", reply)
	}
}

func TestMessageErrors(t *testing.T) {
	tooMany := `"` + strings.Repeat(`01JPA0000000000000000000AA","`, route.MaxMarkReadIDs) + `01JPA0000000000000000000AA"`
	tests := []struct {
		name   string
		body   string
		setup  func(*world)
		config func(*route.MessageConfig)
		want   string // error code
	}{
		{name: "garbage", body: "not json at all", want: route.CodeInvalidJSON},
		{name: "truncated", body: `{"type":"ping"`, want: route.CodeInvalidJSON},
		{name: "empty body", body: "", want: route.CodeInvalidJSON},
		{name: "array", body: `[{"type":"ping"}]`, want: route.CodeInvalidJSON},
		{name: "string", body: `"ping"`, want: route.CodeInvalidJSON},
		{name: "null", body: `null`, want: route.CodeInvalidJSON},
		{name: "trailing garbage", body: `{"type":"ping"} x`, want: route.CodeInvalidJSON},
		{name: "invalid UTF-8", body: "{\"type\":\"ping\",\"timestamp\":\"\xff\"", want: route.CodeInvalidJSON},
		{name: "too large", body: `{"type":"ping","timestamp":"` + strings.Repeat("x", route.MaxMessageSize) + `"}`, want: route.CodeTooLarge},
		{name: "missing type", body: `{"timestamp":1}`, want: route.CodeUnknownType},
		{name: "null type", body: `{"type":null}`, want: route.CodeUnknownType},
		{name: "numeric type", body: `{"type":1}`, want: route.CodeUnknownType},
		{name: "unknown type", body: `{"type":"subscribe","channel":"all"}`, want: route.CodeUnknownType},
		{name: "type differs in case", body: `{"type":"PING"}`, want: route.CodeUnknownType},
		{name: "reply type sent as request", body: `{"type":"pong"}`, want: route.CodeUnknownType},

		{name: "resume limit zero", body: `{"type":"resume","limit":0}`, want: route.CodeInvalidRequest},
		{name: "resume limit negative", body: `{"type":"resume","limit":-5}`, want: route.CodeInvalidRequest},
		{name: "resume limit string", body: `{"type":"resume","limit":"ten"}`, want: route.CodeInvalidRequest},
		{name: "resume limit fraction", body: `{"type":"resume","limit":1.5}`, want: route.CodeInvalidRequest},
		{name: "resume limit beyond int", body: `{"type":"resume","limit":1e40}`, want: route.CodeInvalidRequest},
		{name: "resume after not an id", body: `{"type":"resume","after":"yesterday"}`, want: route.CodeInvalidRequest},
		{name: "resume after number", body: `{"type":"resume","after":5}`, want: route.CodeInvalidRequest},
		{name: "history before not an id", body: `{"type":"history","before":"../../etc"}`, want: route.CodeInvalidRequest},
		{name: "history before number", body: `{"type":"history","before":5}`, want: route.CodeInvalidRequest},
		{name: "status transaction list", body: `{"type":"status","transaction_id":["602"]}`, want: route.CodeInvalidRequest},
		{name: "mark_read ids not strings", body: `{"type":"mark_read","ids":{"a":1}}`, want: route.CodeInvalidRequest},
		{name: "history limit zero", body: `{"type":"history","limit":0}`, want: route.CodeInvalidRequest},
		{name: "mark_read with neither ids nor all", body: `{"type":"mark_read"}`, want: route.CodeInvalidRequest},
		{name: "mark_read all false", body: `{"type":"mark_read","all":false}`, want: route.CodeInvalidRequest},
		{name: "mark_read ids null", body: `{"type":"mark_read","ids":null}`, want: route.CodeInvalidRequest},
		{name: "mark_read ids not a list", body: `{"type":"mark_read","ids":"01JPA0000000000000000000AA"}`, want: route.CodeInvalidRequest},
		{name: "mark_read ids of numbers", body: `{"type":"mark_read","ids":[1,2]}`, want: route.CodeInvalidRequest},
		{name: "mark_read empty id", body: `{"type":"mark_read","ids":[""]}`, want: route.CodeInvalidRequest},
		{name: "mark_read bad id", body: `{"type":"mark_read","ids":["not-an-id"]}`, want: route.CodeInvalidRequest},
		{name: "mark_read too many ids", body: `{"type":"mark_read","ids":[` + tooMany + `]}`, want: route.CodeInvalidRequest},
		{name: "mark_read all not bool", body: `{"type":"mark_read","all":"yes"}`, want: route.CodeInvalidRequest},
		{name: "mark_read bad category", body: `{"type":"mark_read","category":"FBDI"}`, want: route.CodeInvalidRequest},
		{name: "mark_read empty category", body: `{"type":"mark_read","category":""}`, want: route.CodeInvalidRequest},
		{name: "mark_read category not a string", body: `{"type":"mark_read","category":1}`, want: route.CodeInvalidRequest},
		{name: "history bad category", body: `{"type":"history","category":"a b"}`, want: route.CodeInvalidRequest},
		{name: "history category too long", body: `{"type":"history","category":"` + strings.Repeat("a", 41) + `"}`, want: route.CodeInvalidRequest},
		{name: "history unread_only not bool", body: `{"type":"history","unread_only":"yes"}`, want: route.CodeInvalidRequest},
		{name: "resume bad category", body: `{"type":"resume","category":"-x"}`, want: route.CodeInvalidRequest},
		{name: "resume unread_only not bool", body: `{"type":"resume","unread_only":1}`, want: route.CodeInvalidRequest},
		{name: "archive without ids", body: `{"type":"archive"}`, want: route.CodeInvalidRequest},
		{name: "archive empty ids", body: `{"type":"archive","ids":[]}`, want: route.CodeInvalidRequest},
		{name: "archive bad id", body: `{"type":"archive","ids":["x"]}`, want: route.CodeInvalidRequest},
		{name: "archive too many ids", body: `{"type":"archive","ids":[` + tooMany + `]}`, want: route.CodeInvalidRequest},
		{name: "archive store fails", body: `{"type":"archive","ids":["01JPA0000000000000000000AA"]}`, setup: func(w *world) { w.hist.err = errStore }, want: route.CodeInternal},
		{name: "status without transaction", body: `{"type":"status"}`, want: route.CodeInvalidRequest},
		{name: "status numeric transaction", body: `{"type":"status","transaction_id":602}`, want: route.CodeInvalidRequest},
		{name: "status transaction too long", body: `{"type":"status","transaction_id":"` + strings.Repeat("6", route.MaxTransactionIDLength+1) + `"}`, want: route.CodeInvalidRequest},
		{name: "status unknown transaction", body: `{"type":"status","transaction_id":"999"}`, want: route.CodeNotFound},

		{name: "unregistered connection", body: `{"type":"history"}`, setup: func(w *world) { delete(w.conns.rows, testConnID) }, want: route.CodeUnauthorized},
		{name: "connection lookup fails", body: `{"type":"resume"}`, setup: func(w *world) { w.conns.err = errStore }, want: route.CodeInternal},
		{name: "history store fails", body: `{"type":"history"}`, setup: func(w *world) { w.hist.err = errStore }, want: route.CodeInternal},
		{name: "resume store fails", body: `{"type":"resume"}`, setup: func(w *world) { w.hist.err = errStore }, want: route.CodeInternal},
		{name: "mark_read store fails", body: `{"type":"mark_read","all":true}`, setup: func(w *world) { w.hist.err = errStore }, want: route.CodeInternal},
		{
			name: "status lookup fails", body: `{"type":"status","transaction_id":"602"}`, want: route.CodeInternal,
			config: func(c *route.MessageConfig) {
				c.Status = func(context.Context, string, string) (any, bool, error) { return nil, false, errStore }
			},
		},
		{
			name: "status reply not encodable", body: `{"type":"status","transaction_id":"602"}`, want: route.CodeInternal,
			config: func(c *route.MessageConfig) {
				c.Status = func(context.Context, string, string) (any, bool, error) {
					return map[string]any{"type": "workflow_status", "bad": make(chan int)}, true, nil
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, tt.config)
			if tt.setup != nil {
				tt.setup(w)
			}
			raw := w.send(t, tt.body)
			reply := decodeReply(t, raw)
			if reply["type"] != "error" || reply["code"] != tt.want {
				t.Fatalf("reply %s; want error %s", raw, tt.want)
			}
			if msg, _ := reply["message"].(string); msg == "" || len(reply) != 3 {
				t.Errorf("reply %s; want exactly type, code and a message", raw)
			}
			if strings.Contains(raw, "secret internal detail") {
				t.Errorf("reply %s leaks an internal error", raw)
			}
			if tt.want == route.CodeInternal && !strings.Contains(w.logs.String(), `"level":"ERROR"`) {
				t.Errorf("internal error not logged: %s", w.logs)
			}
			if len(w.poster.posts) != 0 {
				t.Errorf("posted %d notifications on error", len(w.poster.posts))
			}
			if w.hist.unread("42") != 3 || w.hist.unread("7") != 3 {
				t.Errorf("read state changed on error")
			}
		})
	}
}

func TestMessageBase64Body(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "valid", body: base64.StdEncoding.EncodeToString([]byte(`{"type":"ping","timestamp":3}`)), want: `{"type":"pong","timestamp":3}`},
		{name: "not base64", body: "!!!", want: `{"type":"error","code":"invalid_json","message":"message must be a JSON object"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			req := event(t, "message.json")
			req.Body, req.IsBase64Encoded = tt.body, true
			if got := w.sendEvent(t, req); got != tt.want {
				t.Fatalf("reply %s; want %s", got, tt.want)
			}
		})
	}
}

func TestMessageMalformedEvent(t *testing.T) {
	w := newWorld(t, nil)
	tests := []struct {
		name string
		req  events.APIGatewayWebsocketProxyRequest
		want string
	}{
		{name: "empty event", req: events.APIGatewayWebsocketProxyRequest{}, want: route.CodeInvalidJSON},
		{name: "no connection id", req: events.APIGatewayWebsocketProxyRequest{Body: `{"type":"history"}`}, want: route.CodeUnauthorized},
		{
			name: "resume with no domain to derive the endpoint from",
			req: events.APIGatewayWebsocketProxyRequest{Body: `{"type":"resume"}`,
				RequestContext: events.APIGatewayWebsocketProxyRequestContext{ConnectionID: testConnID}},
			want: route.CodeInternal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := decodeReply(t, w.sendEvent(t, tt.req))
			if reply["code"] != tt.want {
				t.Fatalf("reply %v; want code %s", reply, tt.want)
			}
		})
	}
	if len(w.conns.gets) != 1 { // only the resume looked a connection up; an empty ID never reaches the store
		t.Errorf("connection lookups %q; want one", w.conns.gets)
	}
}

func TestMessageLogs(t *testing.T) {
	w := newWorld(t, nil)
	w.send(t, `{"type":"history"}`)
	w.send(t, `{"type":"`+strings.Repeat("z", 64)+`"}`)
	logs := w.logs.String()
	for _, want := range []string{`"apigw_request_id":"R1knPH17NjMFftw="`, `"route_key":"ping"`, `"connection_id":"` + testConnID + `"`, `"type":"history"`, `"code":"unknown_type"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s: %s", want, logs)
		}
	}
	if strings.Contains(logs, strings.Repeat("z", 64)) {
		t.Errorf("logs echo a client-chosen type: %s", logs)
	}
}

func TestMessageLogsLambdaRequestID(t *testing.T) {
	w := newWorld(t, nil)
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "7c0b6f3e-lambda"})
	req := event(t, "message.json")
	req.Body = `{"type":"history"}`
	if _, err := w.h.Handle(ctx, req); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.logs.String(), `"aws_request_id":"7c0b6f3e-lambda"`) {
		t.Fatalf("logs lack the Lambda request id: %s", w.logs)
	}
}

func TestNewMessagePanicsOnMissingDependency(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewMessage without stores did not panic")
		}
	}()
	route.NewMessage(route.MessageConfig{})
}

// assertOnlyUser fails unless every history call was for userID.
func assertOnlyUser(tb testing.TB, w *world, userID string) {
	tb.Helper()
	for _, u := range w.hist.users {
		if u != userID {
			tb.Fatalf("history store called for user %q; want only %q (calls %q)", u, userID, w.hist.users)
		}
	}
	if len(w.hist.users) == 0 {
		tb.Fatalf("history store never called")
	}
}

func FuzzMessage(f *testing.F) {
	for _, seed := range []string{
		`{"type":"ping","timestamp":1}`, `{"type":"resume","after":"","limit":100}`, `{"type":"history","before":"01JPA0000000000000000000AA","limit":50}`,
		`{"type":"mark_read","ids":["01JPA0000000000000000000AA"]}`, `{"type":"mark_read","all":true}`, `{"type":"status","transaction_id":"602"}`,
		`{"type":"resume","limit":-1}`, `{"type":[]}`, `[]`, `{`, ``, "\x00", `{"type":"mark_read","ids":[null]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		w := newWorld(t, nil)
		req := event(t, "message.json")
		req.Body = body
		resp, err := w.h.Handle(context.Background(), req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("Handle(%q) = %d, %v", body, resp.StatusCode, err)
		}
		var reply struct {
			Type string `json:"type"`
			Code string `json:"code"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &reply); err != nil || reply.Type == "" {
			t.Fatalf("Handle(%q) reply %q is not a typed JSON object", body, resp.Body)
		}
		if reply.Code == route.CodeInternal {
			t.Fatalf("Handle(%q) gave internal_error with healthy stores", body)
		}
		if w.hist.unread("7") != 3 {
			t.Fatalf("Handle(%q) changed another user's notifications", body)
		}
	})
}

func BenchmarkPing(b *testing.B) {
	w := newWorld(b, nil)
	req := event(b, "message.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.h.Handle(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
