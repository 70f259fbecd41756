package route_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/route"
)

func TestInbox(t *testing.T) {
	tests := []struct {
		name        string
		body        func(w *world) string
		wantType    string
		wantFilter  history.Filter // passed to the history store's After or Before
		wantUnread  float64        // read_state and history's unread_count
		wantItems   int            // history: items in the page
		wantHistory int            // items history returns afterwards
	}{
		{name: "history by category", body: func(*world) string { return `{"type":"history","category":"general"}` },
			wantType: "history", wantFilter: history.Filter{Category: "general"}, wantUnread: 3, wantItems: 5, wantHistory: 5},
		{name: "history of a category with none", body: func(*world) string { return `{"type":"history","category":"fbdi"}` },
			wantType: "history", wantFilter: history.Filter{Category: "fbdi"}, wantUnread: 3, wantHistory: 5},
		{name: "history unread only", body: func(*world) string { return `{"type":"history","unread_only":true}` },
			wantType: "history", wantFilter: history.Filter{UnreadOnly: true}, wantUnread: 3, wantItems: 3, wantHistory: 5},
		{name: "mark_read by category", body: func(*world) string { return `{"type":"mark_read","category":"general"}` },
			wantType: "read_state", wantUnread: 0, wantHistory: 5},
		{name: "mark_read of another category", body: func(*world) string { return `{"type":"mark_read","category":"fbdi"}` },
			wantType: "read_state", wantUnread: 3, wantHistory: 5},
		{name: "archive", body: func(w *world) string {
			return fmt.Sprintf(`{"type":"archive","ids":[%q,%q,%q]}`, w.mine[0], w.mine[4], w.theirs[0])
		}, wantType: "read_state", wantUnread: 2, wantHistory: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			reply := decodeReply(t, w.send(t, tt.body(w)))
			if reply["type"] != tt.wantType || reply["unread_count"] != tt.wantUnread {
				t.Fatalf("reply = %v, want type %s, unread_count %v", reply, tt.wantType, tt.wantUnread)
			}
			if tt.wantType == "history" {
				if items, _ := reply["items"].([]any); len(items) != tt.wantItems {
					t.Errorf("items = %d, want %d", len(items), tt.wantItems)
				}
				if len(w.hist.filters) != 1 || w.hist.filters[0] != tt.wantFilter {
					t.Errorf("filters = %+v, want %+v", w.hist.filters, tt.wantFilter)
				}
			}
			page := decodeReply(t, w.send(t, `{"type":"history"}`))
			if items, _ := page["items"].([]any); len(items) != tt.wantHistory {
				t.Errorf("history afterwards = %d items, want %d", len(items), tt.wantHistory)
			}
			if theirs, _ := w.hist.After(t.Context(), "7", 0, history.Filter{}, 100); len(theirs.Items) != 3 {
				t.Errorf("user 7 has %d items, want 3", len(theirs.Items))
			}
		})
	}
}

func TestResumeFiltered(t *testing.T) {
	w := newWorld(t, nil)
	reply := decodeReply(t, w.send(t, `{"type":"resume","unread_only":true,"limit":2}`))
	if reply["count"] != 2.0 || reply["has_more"] != true || len(w.poster.posts) != 2 {
		t.Fatalf("reply = %v, %d posts; want 2 posted and has_more", reply, len(w.poster.posts))
	}
	if f := w.hist.filters; len(f) != 1 || f[0] != (history.Filter{UnreadOnly: true}) {
		t.Errorf("filters = %+v", f)
	}
}

func TestInboxInvalid(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		field string // the invalid_request message names it
	}{
		{name: "history category empty", body: `{"type":"history","category":""}`, field: "category"},
		{name: "history category in upper case", body: `{"type":"history","category":"FBDI"}`, field: "category"},
		{name: "history category not a string", body: `{"type":"history","category":7}`, field: "category"},
		{name: "history unread_only not a boolean", body: `{"type":"history","unread_only":"yes"}`, field: "unread_only"},
		{name: "resume category too long", body: `{"type":"resume","category":"` + strings.Repeat("c", 41) + `"}`, field: "category"},
		{name: "mark_read category empty", body: `{"type":"mark_read","category":""}`, field: "category"},
		{name: "mark_read category with a space", body: `{"type":"mark_read","category":"pay roll","ids":[]}`, field: "category"},
		{name: "archive without ids", body: `{"type":"archive"}`, field: "ids"},
		{name: "archive of no ids", body: `{"type":"archive","ids":[]}`, field: "ids"},
		{name: "archive of 101 ids", body: `{"type":"archive","ids":[` +
			strings.TrimSuffix(strings.Repeat(`"01KJKQ5G8Z3V7X2N4P6R8T0W2Y",`, 101), ",") + `]}`, field: "ids"},
		{name: "archive of a bad id", body: `{"type":"archive","ids":["01KJKQ5G8Z3V7X2N4P6R8T0W2Y","nope"]}`, field: "ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			reply := decodeReply(t, w.send(t, tt.body))
			message, _ := reply["message"].(string)
			if reply["code"] != route.CodeInvalidRequest || !strings.Contains(message, tt.field) {
				t.Errorf("reply = %v, want invalid_request naming %s", reply, tt.field)
			}
			if len(w.hist.users) != 0 {
				t.Errorf("history was called for %v: a refused request must do nothing", w.hist.users)
			}
		})
	}
}

// filteredWorld is newWorld with, after user 42's five general items, one
// fbdi item (position 6) and 20 more general ones (7 to 26): more than a
// filtered page of limit 1 reads (history.ScanPages x 2 items).
func filteredWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, nil)
	n := notification.UploadStarted("602", "Budget transfer 602 started")
	n.Category = notification.CategoryFBDI
	n.Stamp(t0.Add(time.Minute))
	if _, err := w.hist.MemoryStore.Add(t.Context(), history.Item{UserID: "42", Notification: n,
		ExpiresAt: t0.Add(history.DefaultRetention)}); err != nil {
		t.Fatal(err)
	}
	w.hist.add("42", 20, 0, t0.Add(2*time.Minute))
	return w
}

func TestHistoryFilterCursor(t *testing.T) {
	w := filteredWorld(t)
	first := decodeReply(t, w.send(t, `{"type":"history","category":"fbdi","limit":1}`))
	cursor, _ := first["cursor"].(string)
	if items, _ := first["items"].([]any); len(items) != 0 || first["has_more"] != true || cursor == "" {
		t.Fatalf("first page = %v, want no items, has_more and a cursor past the items read", first)
	}
	next := decodeReply(t, w.send(t, fmt.Sprintf(`{"type":"history","category":"fbdi","limit":1,"before":%q}`, cursor)))
	items, _ := next["items"].([]any)
	if len(items) != 1 || next["has_more"] != false {
		t.Fatalf("next page = %v, want the fbdi item and no more", next)
	}
	if item, _ := items[0].(map[string]any); item["category"] != "fbdi" {
		t.Errorf("item = %v, want category fbdi", item)
	}
}

func TestResumeFilterCursor(t *testing.T) {
	w := filteredWorld(t)
	reply := decodeReply(t, w.send(t, `{"type":"resume","category":"fbdi","limit":1}`))
	if reply["count"] != 1.0 || reply["has_more"] != true || len(w.poster.posts) != 1 {
		t.Fatalf("reply = %v, %d posts; want the fbdi item replayed and has_more", reply, len(w.poster.posts))
	}
	var posted struct{ Cursor string }
	if err := json.Unmarshal(w.poster.posts[0], &posted); err != nil {
		t.Fatal(err)
	}
	cursor, _ := reply["cursor"].(string)
	if cursor == "" || cursor == posted.Cursor {
		t.Errorf("cursor = %q, want past the items the filter skipped after %q", cursor, posted.Cursor)
	}
	again := decodeReply(t, w.send(t, fmt.Sprintf(`{"type":"resume","category":"fbdi","limit":1,"after":%q}`, cursor)))
	if again["count"] != 0.0 || again["has_more"] != false || len(w.poster.posts) != 1 {
		t.Errorf("resume after the cursor = %v, %d posts; want nothing more", again, len(w.poster.posts))
	}
}
