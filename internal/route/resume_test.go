package route_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
)

// postedCursors returns the id and cursor of each post, in order.
func postedCursors(tb testing.TB, w *world) (ids, cursors []string) {
	tb.Helper()
	for _, data := range w.poster.posts {
		note := decodeReply(tb, string(data))
		id, _ := note["id"].(string)
		cursor, _ := note["cursor"].(string)
		ids, cursors = append(ids, id), append(cursors, cursor)
	}
	return ids, cursors
}

// TestResumeCarriesReadState: replayed notifications say whether they are
// read (the first 2 of user 42's 5 are), as history does, so that a
// reconnect never makes a read one (or one of a muted category, stored read)
// count as unread again.
func TestResumeCarriesReadState(t *testing.T) {
	w := newWorld(t, nil)
	w.send(t, `{"type":"resume","after":""}`)
	if len(w.poster.posts) != 5 {
		t.Fatalf("%d posts, want user 42's 5", len(w.poster.posts))
	}
	for i, data := range w.poster.posts {
		note := decodeReply(t, string(data))
		if read, ok := note["read"].(bool); !ok || read != (i < 2) || note["replayed"] != true {
			t.Errorf("replay %d: read %v, replayed %v; want read %v, replayed", i, note["read"], note["replayed"], i < 2)
		}
	}
}

func TestResumeAfterACursor(t *testing.T) {
	tests := []struct {
		name        string
		after       func(w *world) string
		wantPosted  []int // indexes into mine
		wantCursor  string
		wantInvalid bool
	}{
		{name: "a cursor", after: func(*world) string { return "c2" }, wantPosted: []int{2, 3, 4}, wantCursor: "c5"},
		{name: "the last cursor", after: func(*world) string { return "c5" }, wantCursor: "c5"},
		{name: "a cursor beyond the last", after: func(*world) string { return "c99" }, wantCursor: "c99"},
		{name: "a notification id, from an older client", after: func(w *world) string { return w.mine[2] },
			wantPosted: []int{3, 4}, wantCursor: "c5"},
		{name: "an id the user does not have replays from the oldest kept",
			after: func(w *world) string { return w.theirs[0] }, wantPosted: []int{0, 1, 2, 3, 4}, wantCursor: "c5"},
		{name: "c0 is no cursor", after: func(*world) string { return "c0" }, wantInvalid: true},
		{name: "neither a cursor nor an id", after: func(*world) string { return "hello" }, wantInvalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			reply := decodeReply(t, w.send(t, fmt.Sprintf(`{"type":"resume","after":%q}`, tt.after(w))))
			if tt.wantInvalid {
				if reply["code"] != route.CodeInvalidRequest || len(w.poster.posts) != 0 {
					t.Fatalf("reply %v after %d posts; want invalid_request and none", reply, len(w.poster.posts))
				}
				return
			}
			if reply["cursor"] != tt.wantCursor || reply["count"] != float64(len(tt.wantPosted)) || reply["has_more"] != false {
				t.Errorf("reply %v; want count %d, cursor %s", reply, len(tt.wantPosted), tt.wantCursor)
			}
			ids, cursors := postedCursors(t, w)
			if len(ids) != len(tt.wantPosted) {
				t.Fatalf("posted %v; want mine %v", ids, tt.wantPosted)
			}
			for i, want := range tt.wantPosted {
				if ids[i] != w.mine[want] || cursors[i] != fmt.Sprintf("c%d", want+1) {
					t.Errorf("post %d = %s %s; want %s c%d", i, ids[i], cursors[i], w.mine[want], want+1)
				}
			}
		})
	}
}

func TestHistoryBeforeACursor(t *testing.T) {
	tests := []struct {
		name   string
		before func(w *world) string
		want   []int // indexes into mine, newest first
	}{
		{name: "a cursor", before: func(*world) string { return "c4" }, want: []int{2, 1, 0}},
		{name: "a notification id", before: func(w *world) string { return w.mine[3] }, want: []int{2, 1, 0}},
		{name: "an id the user does not have: nothing older", before: func(w *world) string { return w.theirs[1] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			reply := decodeReply(t, w.send(t, fmt.Sprintf(`{"type":"history","before":%q}`, tt.before(w))))
			items, _ := reply["items"].([]any)
			if len(items) != len(tt.want) || reply["has_more"] != false {
				t.Fatalf("reply %v; want %d items", reply, len(tt.want))
			}
			for i, want := range tt.want {
				it := items[i].(map[string]any)
				if it["id"] != w.mine[want] || it["cursor"] != fmt.Sprintf("c%d", want+1) {
					t.Errorf("item %d = %v; want %s with cursor c%d", i, it, w.mine[want], want+1)
				}
			}
		})
	}
}

// deadlineCtx is a context whose deadline is on the test's clock.
type deadlineCtx struct {
	context.Context
	deadline time.Time
}

func (c deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// TestResumeStopsNearTheDeadline lets each post take 3 s of a 10 s
// invocation: resume posts while at least route.ResumeReserve remains,
// replies has_more with the last cursor posted, and the next resume, in a
// new invocation, continues from it with no gap and no repeat.
func TestResumeStopsNearTheDeadline(t *testing.T) {
	clk := clocktest.New(t0)
	w := newWorld(t, func(c *route.MessageConfig) { c.Now = clk.Now })
	w.poster.fail = func(int) error { clk.Advance(3 * time.Second); return nil }
	resume := func(body string) map[string]any {
		req := event(t, "message.json")
		req.Body = body
		resp, err := w.h.Handle(deadlineCtx{t.Context(), clk.Now().Add(10 * time.Second)}, req)
		if err != nil {
			t.Fatal(err)
		}
		return decodeReply(t, resp.Body)
	}

	first := resume(`{"type":"resume"}`)
	// Posts start at 10 s, 7 s and 4 s before the deadline; at 1 s it stops.
	if first["count"] != float64(3) || first["has_more"] != true || first["cursor"] != "c3" {
		t.Fatalf("first reply %v; want count 3, has_more, cursor c3", first)
	}
	second := resume(fmt.Sprintf(`{"type":"resume","after":%q}`, first["cursor"]))
	if second["count"] != float64(2) || second["has_more"] != false || second["cursor"] != "c5" {
		t.Fatalf("second reply %v; want count 2, no more, cursor c5", second)
	}
	ids, cursors := postedCursors(t, w)
	if fmt.Sprint(ids) != fmt.Sprint(w.mine) || fmt.Sprint(cursors) != "[c1 c2 c3 c4 c5]" {
		t.Errorf("posted %v %v; want each of %v once, in order", ids, cursors, w.mine)
	}
}
