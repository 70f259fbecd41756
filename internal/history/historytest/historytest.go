// Package historytest is the contract that every history.Store
// implementation must meet. Each implementation's tests call Run.
package historytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
)

// fixture is one subtest's store, clock and context.
type fixture struct {
	s   history.Store
	clk *clocktest.Clock
	ctx context.Context
}

// Run checks that the stores newStore returns meet the history.Store
// contract. newStore must return an empty store whose clock is now; Run calls
// it once per subtest.
func Run(t *testing.T, newStore func(t *testing.T, now func() time.Time) history.Store) {
	setup := setupWith(newStore)
	runInbox(t, setup)

	t.Run("RoundTrip", func(t *testing.T) {
		f := setup(t)
		notes := []notification.Notification{
			notification.General("Budget transfer queued", map[string]any{
				"count": 3, "ratio": 0.5, "tags": []any{"a", "b"}, "nested": map[string]any{"ok": true}}),
			notification.UploadStarted("602", "Starting Oracle upload"),
			notification.UploadProgress("602", "Upload to UCM", 2, 5, notification.StatusProcessing, "Uploading"),
			notification.UploadCompleted("602", "Done", "/results/602.csv"),
			notification.UploadFailed("603", "Failed", "ESS job 12345 ended in ERROR: <xml> & \"quotes\""),
			notification.ConnectionEstablished("123", "abc="),
			notification.General("ünïcödé ✓ 日本", nil),
		}
		var want []history.Item
		for _, n := range notes {
			want = append(want, f.add(t, "user-a", n))
		}
		f.assertAfter(t, "user-a", 0, 100, false, want...)
	})

	t.Run("Order", func(t *testing.T) {
		f := setup(t)
		items := f.fill(t, "user-a", 5)
		f.assertAfter(t, "user-a", 0, 100, false, items...)
		f.assertBefore(t, "user-a", 0, 100, false, reversed(items)...)
	})

	t.Run("Paging", func(t *testing.T) {
		tests := []struct {
			name  string
			total int
			limit int
			pages []int // sizes of the pages, in order
		}{
			{name: "25 by 10", total: 25, limit: 10, pages: []int{10, 10, 5}},
			{name: "20 by 10 ends on a page boundary", total: 20, limit: 10, pages: []int{10, 10}},
			{name: "7 by 1", total: 7, limit: 1, pages: []int{1, 1, 1, 1, 1, 1, 1}},
			{name: "3 by 10", total: 3, limit: 10, pages: []int{3}},
			{name: "none", total: 0, limit: 10, pages: []int{0}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := setup(t)
				items := f.fill(t, "user-a", tt.total)
				f.fill(t, "user-b", 3) // another user's items never show up in the pages
				for _, dir := range []struct {
					name string
					want []history.Item
					page func(cursor history.Position) ([]history.Item, bool, error)
				}{
					{name: "After", want: items, page: func(c history.Position) ([]history.Item, bool, error) {
						p, err := f.s.After(f.ctx, "user-a", c, history.Filter{}, tt.limit)
						return p.Items, p.HasMore, err
					}},
					{name: "Before", want: reversed(items), page: func(c history.Position) ([]history.Item, bool, error) {
						p, err := f.s.Before(f.ctx, "user-a", c, history.Filter{}, tt.limit)
						return p.Items, p.HasMore, err
					}},
				} {
					var all []history.Item
					var cursor history.Position
					for i, size := range tt.pages {
						got, more, err := dir.page(cursor)
						if err != nil {
							t.Fatalf("%s page %d: %v", dir.name, i, err)
						}
						if len(got) != size || more != (i < len(tt.pages)-1) {
							t.Fatalf("%s page %d = %d items, hasMore %v; want %d, %v",
								dir.name, i, len(got), more, size, i < len(tt.pages)-1)
						}
						all = append(all, got...)
						if len(got) > 0 {
							cursor = got[len(got)-1].Position
						}
					}
					assertItems(t, dir.name+" pages", all, dir.want...)
				}
			})
		}
	})

	t.Run("Cursors", func(t *testing.T) {
		f := setup(t)
		items := f.fill(t, "user-a", 5)
		tests := []struct {
			name       string
			cursor     history.Position
			after      []history.Item // After(cursor), oldest first
			afterMore  bool
			before     []history.Item // Before(cursor), newest first
			beforeMore bool
		}{
			{name: "zero", cursor: 0, after: items, before: reversed(items)},
			{name: "first", cursor: items[0].Position, after: items[1:], before: nil},
			{name: "last", cursor: items[4].Position, after: nil, before: reversed(items[:4])},
			{name: "middle", cursor: items[2].Position, after: items[3:], before: reversed(items[:2])},
			{name: "past the last", cursor: items[4].Position + 1, after: nil, before: reversed(items)},
			{name: "far past the last", cursor: 1 << 62, after: nil, before: reversed(items)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f.assertAfter(t, "user-a", tt.cursor, 100, tt.afterMore, tt.after...)
				f.assertBefore(t, "user-a", tt.cursor, 100, tt.beforeMore, tt.before...)
			})
		}
	})

	t.Run("Limits", func(t *testing.T) {
		f := setup(t)
		items := f.fill(t, "user-a", history.MaxLimit+1)
		tests := []struct {
			name  string
			limit int
			want  int
		}{
			{name: "zero means the default", limit: 0, want: history.DefaultLimit},
			{name: "negative means the default", limit: -7, want: history.DefaultLimit},
			{name: "one", limit: 1, want: 1},
			{name: "the maximum", limit: history.MaxLimit, want: history.MaxLimit},
			{name: "just over the maximum", limit: history.MaxLimit + 1, want: history.MaxLimit},
			{name: "far over the maximum", limit: 1 << 40, want: history.MaxLimit},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f.assertAfter(t, "user-a", 0, tt.limit, true, items[:tt.want]...)
				f.assertBefore(t, "user-a", 0, tt.limit, true, reversed(items)[:tt.want]...)
			})
		}
	})

	t.Run("DuplicateAdd", func(t *testing.T) {
		f := setup(t)
		first := f.add(t, "user-a", notification.General("original", map[string]any{"v": 1}))
		if err := f.s.MarkRead(f.ctx, "user-a", []string{first.Notification.ID}); err != nil {
			t.Fatal(err)
		}
		first.Read = true
		tests := []struct {
			name string
			item history.Item
		}{
			{name: "same item again", item: first},
			{name: "same id, other content, unread", item: history.Item{UserID: "user-a",
				Notification: notification.Notification{ID: first.Notification.ID, Type: notification.TypeNotification,
					Message: "replacement"},
				ExpiresAt: f.clk.Now().Add(time.Hour)}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if p, err := f.s.Add(f.ctx, tt.item); err != nil || p != first.Position {
					t.Fatalf("Add of a duplicate = %d, %v; want the first position %d", p, err, first.Position)
				}
				f.assertAfter(t, "user-a", 0, 100, false, first)
				f.assertUnread(t, "user-a", 0)
			})
		}
		// The same ID is a different item for another user.
		other := first
		other.UserID, other.Read = "user-b", false
		other = f.store(t, other)
		f.assertAfter(t, "user-b", 0, 100, false, other)
		f.assertUnread(t, "user-b", 1)
		f.assertAfter(t, "user-a", 0, 100, false, first)
	})

	t.Run("PositionsFollowAcceptanceNotIDs", func(t *testing.T) {
		// IDs made from the event time do not decide the order: an item
		// with an old ID, stored after a client's cursor, comes after it.
		f := setup(t)
		old := f.newItem("user-a", notification.General("stamped first, stored last", nil))
		first := f.fill(t, "user-a", 3)
		for i, it := range first {
			if it.Position != history.Position(i+1) || it.Notification.Cursor != it.Position.Cursor() {
				t.Fatalf("item %d at position %d cursor %q, want %d", i, it.Position, it.Notification.Cursor, i+1)
			}
		}
		cursor := first[2].Position
		late := f.store(t, old)
		future := f.newItem("user-a", notification.General("stamped far ahead", nil))
		future.Notification.ID = notification.NewID(f.clk.Now().Add(24 * time.Hour))
		future = f.store(t, future)
		after := f.fill(t, "user-a", 2)
		f.assertAfter(t, "user-a", cursor, 100, false, append([]history.Item{late, future}, after...)...)
		f.assertAfter(t, "user-a", future.Position, 100, false, after...)
		f.assertBefore(t, "user-a", 0, 100, false, reversed(append(append(first, late, future), after...))...)
	})

	t.Run("LegacyIDCursor", func(t *testing.T) {
		f := setup(t)
		items := f.fill(t, "user-a", 3)
		short := f.newItem("user-a", notification.General("short-lived", nil))
		short.ExpiresAt = f.clk.Now().Add(time.Minute)
		short = f.store(t, short)
		for _, it := range append(items, short) {
			if p, err := f.s.Position(f.ctx, "user-a", it.Notification.ID); err != nil || p != it.Position {
				t.Errorf("Position(%s) = %d, %v; want %d", it.Notification.ID, p, err, it.Position)
			}
		}
		for _, tt := range []struct{ name, user, id string }{
			{name: "unknown id", user: "user-a", id: "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
			{name: "another user's id", user: "user-b", id: items[0].Notification.ID},
			{name: "empty id", user: "user-a", id: ""},
			{name: "no user", user: "", id: items[0].Notification.ID},
			{name: "oversized id", user: "user-a", id: strings.Repeat("x", history.MaxIDLength+1)},
		} {
			if p, err := f.s.Position(f.ctx, tt.user, tt.id); !errors.Is(err, history.ErrNotFound) {
				t.Errorf("%s: Position = %d, %v; want ErrNotFound", tt.name, p, err)
			}
		}
		f.clk.Advance(time.Minute)
		if p, err := f.s.Position(f.ctx, "user-a", short.Notification.ID); !errors.Is(err, history.ErrNotFound) {
			t.Errorf("Position of an expired item = %d, %v; want ErrNotFound", p, err)
		}
	})

	t.Run("Watermark", func(t *testing.T) {
		f := setup(t)
		items := f.fill(t, "user-a", 4)
		if err := f.s.MarkRead(f.ctx, "user-a", []string{items[1].Notification.ID}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.MarkAllRead(f.ctx, "user-a"); err != nil {
			t.Fatal(err)
		}
		later := f.fill(t, "user-a", 2)
		for i := range items {
			items[i].Read = true
		}
		f.assertUnread(t, "user-a", 2)
		// Marking an item below the watermark read again changes nothing;
		// marking one above it does.
		if err := f.s.MarkRead(f.ctx, "user-a", []string{items[0].Notification.ID, later[0].Notification.ID}); err != nil {
			t.Fatal(err)
		}
		later[0].Read = true
		f.assertUnread(t, "user-a", 1)
		f.assertAfter(t, "user-a", 0, 100, false, append(items, later...)...)
		f.assertBefore(t, "user-a", 0, 2, true, reversed(later)...)
		if err := f.s.MarkAllRead(f.ctx, "user-a"); err != nil {
			t.Fatal(err)
		}
		later[1].Read = true
		f.assertUnread(t, "user-a", 0)
		f.assertAfter(t, "user-a", items[3].Position, 100, false, later...)
	})

	t.Run("MarkRead", func(t *testing.T) {
		tests := []struct {
			name string
			ids  func(items []history.Item) []string
			read []int // indexes of the items read afterwards
		}{
			{name: "none", ids: func([]history.Item) []string { return nil }},
			{name: "some", ids: func(it []history.Item) []string {
				return []string{it[0].Notification.ID, it[2].Notification.ID}
			}, read: []int{0, 2}},
			{name: "all, in any order", ids: func(it []history.Item) []string {
				return []string{it[3].Notification.ID, it[1].Notification.ID, it[0].Notification.ID, it[2].Notification.ID}
			}, read: []int{0, 1, 2, 3}},
			{name: "duplicates", ids: func(it []history.Item) []string {
				return []string{it[1].Notification.ID, it[1].Notification.ID}
			}, read: []int{1}},
			{name: "unknown, empty and oversized ids are ignored", ids: func(it []history.Item) []string {
				return []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV", "", strings.Repeat("x", 5000), it[3].Notification.ID, "~"}
			}, read: []int{3}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := setup(t)
				items := f.fill(t, "user-a", 4)
				ids := tt.ids(items)
				if err := f.s.MarkRead(f.ctx, "user-a", ids); err != nil {
					t.Fatalf("MarkRead(%.60q) = %v", ids, err)
				}
				// Marking again changes nothing.
				if err := f.s.MarkRead(f.ctx, "user-a", ids); err != nil {
					t.Fatalf("MarkRead again = %v", err)
				}
				for _, i := range tt.read {
					items[i].Read = true
				}
				f.assertAfter(t, "user-a", 0, 100, false, items...)
				f.assertUnread(t, "user-a", len(items)-len(tt.read))
			})
		}
	})

	t.Run("MarkReadOfOtherUsersIDs", func(t *testing.T) {
		f := setup(t)
		a := f.fill(t, "user-a", 3)
		b := f.fill(t, "user-b", 2)
		var aIDs []string
		for _, it := range a {
			aIDs = append(aIDs, it.Notification.ID)
		}
		if err := f.s.MarkRead(f.ctx, "user-b", aIDs); err != nil {
			t.Fatal(err)
		}
		if err := f.s.MarkRead(f.ctx, "user-a-prefix", aIDs); err != nil {
			t.Fatal(err)
		}
		f.assertAfter(t, "user-a", 0, 100, false, a...)
		f.assertUnread(t, "user-a", 3)
		f.assertAfter(t, "user-b", 0, 100, false, b...)
		f.assertUnread(t, "user-b", 2)
		f.assertAfter(t, "user-a-prefix", 0, 100, false)
	})

	t.Run("MarkAllRead", func(t *testing.T) {
		f := setup(t)
		a := f.fill(t, "user-a", 6)
		b := f.fill(t, "user-b", 2)
		if err := f.s.MarkRead(f.ctx, "user-a", []string{a[1].Notification.ID}); err != nil {
			t.Fatal(err)
		}
		f.assertUnread(t, "user-a", 5)
		for range 2 { // the second time finds nothing to do
			if err := f.s.MarkAllRead(f.ctx, "user-a"); err != nil {
				t.Fatal(err)
			}
			for i := range a {
				a[i].Read = true
			}
			f.assertAfter(t, "user-a", 0, 100, false, a...)
			f.assertUnread(t, "user-a", 0)
		}
		f.assertAfter(t, "user-b", 0, 100, false, b...)
		f.assertUnread(t, "user-b", 2)
		// A notification after MarkAllRead is unread again.
		later := f.add(t, "user-a", notification.General("later", nil))
		f.assertUnread(t, "user-a", 1)
		f.assertBefore(t, "user-a", 0, 1, true, later)
		for _, user := range []string{"user-nobody", ""} {
			if err := f.s.MarkAllRead(f.ctx, user); err != nil {
				t.Errorf("MarkAllRead(%q) = %v, want nil", user, err)
			}
		}
	})

	t.Run("UnreadCount", func(t *testing.T) {
		f := setup(t)
		f.assertUnread(t, "user-a", 0)
		f.fill(t, "user-a", 3)
		read := f.newItem("user-a", notification.General("already read", nil))
		read.Read = true
		f.store(t, read)
		f.assertUnread(t, "user-a", 3)
		f.assertUnread(t, "user-b", 0)
		f.assertUnread(t, "", 0)
	})

	t.Run("Expiry", func(t *testing.T) {
		tests := []struct {
			name    string
			advance time.Duration // after adding; short items expire 1h after the clock's start
			live    bool          // whether the short-lived items are still visible
		}{
			{name: "well before", advance: 30 * time.Minute, live: true},
			// ExpiresAt is kept to the second: the clock started 250ms into one.
			{name: "last instant before the expiry second", advance: time.Hour - 250*time.Millisecond - time.Nanosecond, live: true},
			{name: "at the expiry second", advance: time.Hour - 250*time.Millisecond, live: false},
			{name: "long after", advance: 24 * time.Hour, live: false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := setup(t)
				start := f.clk.Now()
				var short, long []history.Item
				for i := range 4 { // the oldest items expire first, as with a fixed retention
					it := f.newItem("user-a", notification.General(fmt.Sprintf("short %d", i), nil))
					it.ExpiresAt = start.Add(time.Hour)
					short = append(short, it)
				}
				for i := range 4 {
					long = append(long, f.newItem("user-a", notification.General(fmt.Sprintf("long %d", i), nil)))
				}
				for i := range short {
					short[i] = f.store(t, short[i])
				}
				for i := range long {
					long[i] = f.store(t, long[i])
				}
				f.clk.Advance(tt.advance - f.clk.Now().Sub(start))
				visible := long
				if tt.live {
					visible = append(slices.Clone(short), long...)
				}
				f.assertAfter(t, "user-a", 0, 100, false, visible...)
				f.assertBefore(t, "user-a", 0, 100, false, reversed(visible)...)
				f.assertUnread(t, "user-a", len(visible))
				// Pages skip expired items without losing count of what follows.
				f.assertAfter(t, "user-a", 0, 2, true, visible[:2]...)
				older := reversed(visible[:len(visible)-len(long)])
				f.assertBefore(t, "user-a", long[0].Position, 2, tt.live, older[:min(2, len(older))]...)
				if err := f.s.MarkAllRead(f.ctx, "user-a"); err != nil {
					t.Fatal(err)
				}
				f.assertUnread(t, "user-a", 0)
			})
		}
	})

	t.Run("ExpiresAtDefaultsToRetention", func(t *testing.T) {
		f := setup(t)
		it := f.newItem("user-a", notification.General("no expiry given", nil))
		it.ExpiresAt = time.Time{}
		it = f.store(t, it)
		it.ExpiresAt = f.clk.Now().Add(history.DefaultRetention)
		f.assertAfter(t, "user-a", 0, 100, false, it)
		f.clk.Advance(history.DefaultRetention)
		f.assertAfter(t, "user-a", 0, 100, false)
		f.assertUnread(t, "user-a", 0)
	})

	t.Run("AddAlreadyExpired", func(t *testing.T) {
		f := setup(t)
		it := f.newItem("user-a", notification.General("too late", nil))
		it.ExpiresAt = f.clk.Now().Add(-time.Second)
		f.store(t, it)
		f.assertAfter(t, "user-a", 0, 100, false)
		f.assertUnread(t, "user-a", 0)
	})

	t.Run("UsersIsolated", func(t *testing.T) {
		f := setup(t)
		users := []string{"1", "12", "user 1", "User-1"}
		want := map[string][]history.Item{}
		for i := range 3 {
			for _, u := range users {
				want[u] = append(want[u], f.add(t, u, notification.General(fmt.Sprintf("%s #%d", u, i), nil)))
			}
		}
		if err := f.s.MarkAllRead(f.ctx, "12"); err != nil {
			t.Fatal(err)
		}
		for i := range want["12"] {
			want["12"][i].Read = true
		}
		for _, u := range users {
			f.assertAfter(t, u, 0, 100, false, want[u]...)
			f.assertBefore(t, u, 0, 100, false, reversed(want[u])...)
			unread := 3
			if u == "12" {
				unread = 0
			}
			f.assertUnread(t, u, unread)
		}
		f.assertAfter(t, "user", 0, 100, false)
		f.assertAfter(t, "", 0, 100, false)
	})

	t.Run("FiveWhileOffline", func(t *testing.T) {
		f := setup(t)
		seen := f.fill(t, "user-a", 3)
		lastSeen := seen[len(seen)-1].Position
		var missed []history.Item
		steps := []string{"Preparing Data", "Upload to UCM", "Interface Loader", "Budget Import", "Verify Results"}
		for i, step := range steps {
			missed = append(missed, f.add(t, "user-a", notification.UploadProgress("602", step, i+1, len(steps),
				notification.StatusCompleted, step+" done")))
			f.add(t, "user-b", notification.General("not for user-a", nil))
		}
		f.assertAfter(t, "user-a", lastSeen, 100, false, missed...)
		f.assertUnread(t, "user-a", 8)
	})

	t.Run("InvalidInput", func(t *testing.T) {
		f := setup(t)
		kept := f.add(t, "user-a", notification.General("kept", nil))
		long := strings.Repeat("7", history.MaxIDLength+1)
		tests := []struct {
			name    string
			op      func() error
			invalid bool // wants ErrInvalid; otherwise any error
		}{
			{name: "add without user", invalid: true, op: func() error {
				return addErr(f.s.Add(f.ctx, f.newItem("", notification.General("x", nil))))
			}},
			{name: "add without id", invalid: true, op: func() error {
				return addErr(f.s.Add(f.ctx, history.Item{UserID: "user-a", Notification: notification.General("x", nil)}))
			}},
			{name: "add with an oversized id", invalid: true, op: func() error {
				it := f.newItem("user-a", notification.General("x", nil))
				it.Notification.ID = long
				return addErr(f.s.Add(f.ctx, it))
			}},
			{name: "add with data JSON cannot encode", op: func() error {
				return addErr(f.s.Add(f.ctx, f.newItem("user-a", notification.General("x", map[string]any{"f": func() {}}))))
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.op()
				if err == nil || tt.invalid && !errors.Is(err, history.ErrInvalid) {
					t.Errorf("error = %v, want %s", err, map[bool]string{true: "ErrInvalid", false: "an error"}[tt.invalid])
				}
			})
		}
		f.assertAfter(t, "user-a", 0, 100, false, kept)
		f.assertUnread(t, "user-a", 1)
	})
}

// newItem returns an unread item for user with a new ID, later than every ID
// made before, kept for DefaultRetention from the clock.
func (f fixture) newItem(user string, n notification.Notification) history.Item {
	f.clk.Advance(time.Millisecond)
	n.Stamp(f.clk.Now())
	return history.Item{UserID: user, Notification: n, ExpiresAt: f.clk.Now().Add(history.DefaultRetention)}
}

// add stores a new item and returns it, with its position.
func (f fixture) add(t *testing.T, user string, n notification.Notification) history.Item {
	t.Helper()
	return f.store(t, f.newItem(user, n))
}

// store adds it and returns it with the position Add returned, which must
// be the user's next.
func (f fixture) store(t *testing.T, it history.Item) history.Item {
	t.Helper()
	p, err := f.s.Add(f.ctx, it)
	if err != nil {
		t.Fatalf("Add(%s) = %v", it.Notification.ID, err)
	}
	it.Position, it.Notification.Cursor = p, p.Cursor()
	return it
}

// addErr is the error of an Add.
func addErr(_ history.Position, err error) error { return err }

// fill stores count new items for user and returns them, oldest first.
func (f fixture) fill(t *testing.T, user string, count int) []history.Item {
	t.Helper()
	items := make([]history.Item, count)
	for i := range items {
		items[i] = f.add(t, user, notification.General(fmt.Sprintf("%s message %d", user, i), map[string]any{"i": i}))
	}
	return items
}

func (f fixture) assertAfter(t *testing.T, user string, cursor history.Position, limit int, wantMore bool, want ...history.Item) {
	t.Helper()
	f.assertAfterFiltered(t, user, cursor, history.Filter{}, limit, wantMore, want...)
}

func (f fixture) assertBefore(t *testing.T, user string, cursor history.Position, limit int, wantMore bool, want ...history.Item) {
	t.Helper()
	f.assertBeforeFiltered(t, user, cursor, history.Filter{}, limit, wantMore, want...)
}

func (f fixture) assertAfterFiltered(t *testing.T, user string, cursor history.Position, fl history.Filter, limit int, wantMore bool, want ...history.Item) history.Page {
	t.Helper()
	page, err := f.s.After(f.ctx, user, cursor, fl, limit)
	assertPage(t, fmt.Sprintf("After(%q, %d, %+v, %d)", user, cursor, fl, limit), page.Items, page.HasMore, err, wantMore, want)
	return page
}

func (f fixture) assertBeforeFiltered(t *testing.T, user string, cursor history.Position, fl history.Filter, limit int, wantMore bool, want ...history.Item) history.Page {
	t.Helper()
	page, err := f.s.Before(f.ctx, user, cursor, fl, limit)
	assertPage(t, fmt.Sprintf("Before(%q, %d, %+v, %d)", user, cursor, fl, limit), page.Items, page.HasMore, err, wantMore, want)
	return page
}

func (f fixture) assertUnread(t *testing.T, user string, want int) {
	t.Helper()
	got, err := f.s.UnreadCount(f.ctx, user)
	if err != nil || got != want {
		t.Errorf("UnreadCount(%q) = %d, %v; want %d", user, got, err, want)
	}
}

func assertPage(t *testing.T, call string, got []history.Item, more bool, err error, wantMore bool, want []history.Item) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s = %v", call, err)
	}
	if got == nil {
		t.Errorf("%s = nil, want an empty slice when there is none", call)
	}
	if more != wantMore {
		t.Errorf("%s hasMore = %v, want %v", call, more, wantMore)
	}
	assertItems(t, call, got, want...)
}

// assertItems checks that got is want, in order. Stores keep ExpiresAt to the
// second and return notifications as decoded from JSON.
func assertItems(t *testing.T, call string, got []history.Item, want ...history.Item) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %d items %v\nwant %d %v", call, len(got), ids(got), len(want), ids(want))
		return
	}
	for i := range got {
		g, w := got[i], want[i]
		w.ExpiresAt = w.ExpiresAt.UTC().Truncate(time.Second)
		gj, err := json.Marshal(g.Notification)
		if err != nil {
			t.Fatal(err)
		}
		wj, err := json.Marshal(w.Notification)
		if err != nil {
			t.Fatal(err)
		}
		if g.UserID != w.UserID || g.Read != w.Read || g.Position != w.Position || !g.ExpiresAt.Equal(w.ExpiresAt) || string(gj) != string(wj) {
			t.Errorf("%s item %d =\n %s %v %v %s\nwant\n %s %v %v %s", call, i,
				g.UserID, g.Read, g.ExpiresAt, gj, w.UserID, w.Read, w.ExpiresAt, wj)
		}
	}
}

func ids(items []history.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Notification.ID
	}
	return out
}

func reversed(items []history.Item) []history.Item {
	out := slices.Clone(items)
	slices.Reverse(out)
	return out
}

// RunConcurrent checks that the store keeps its contract under concurrent
// writers. Only stores whose conditional writes are atomic can pass it:
// DynamoDB's are, but moto_server checks a condition and then writes without
// a lock, so the DynamoDB store runs Run against moto and its conditions are
// pinned by its own unit tests instead; the in-memory store runs both.
func RunConcurrent(t *testing.T, newStore func(t *testing.T, now func() time.Time) history.Store) {
	setup := setupWith(newStore)

	t.Run("ConcurrentAdds", func(t *testing.T) {
		// Several writers add 16 items, every item three times, at once, as
		// SQS redeliveries and parallel batches do. A writer whose Add
		// reports ErrContention tries again, as SQS would. Every item gets
		// one position, the same for all its copies, and the positions are
		// 1..16 with no gap.
		f := setup(t)
		var items []history.Item
		for i := range 16 {
			items = append(items, f.newItem("user-a", notification.General(fmt.Sprintf("n%d", i), nil)))
		}
		const writers = 4
		got := make([]history.Position, 3*len(items))
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := w; i < len(got); i += writers {
					for {
						p, err := f.s.Add(f.ctx, items[i%len(items)])
						if errors.Is(err, history.ErrContention) {
							continue
						}
						if err != nil {
							t.Errorf("Add = %v", err)
						}
						got[i] = p
						break
					}
				}
			})
		}
		wg.Wait()
		byPos := make([]history.Item, len(items))
		for i, p := range got {
			it := items[i%len(items)]
			if p < 1 || int(p) > len(items) {
				t.Fatalf("Add of item %d returned position %d, want 1..%d", i%len(items), p, len(items))
			}
			if first := got[i%len(items)]; p != first {
				t.Errorf("item %d got positions %d and %d, want one", i%len(items), first, p)
			}
			if b := byPos[p-1]; b.UserID != "" && b.Notification.ID != it.Notification.ID {
				t.Errorf("position %d given to %s and %s", p, b.Notification.ID, it.Notification.ID)
			}
			it.Position, it.Notification.Cursor = p, p.Cursor()
			byPos[p-1] = it
		}
		f.assertAfter(t, "user-a", 0, 100, false, byPos...)
		f.assertUnread(t, "user-a", len(items))
	})
}

// setupWith returns the set-up of one subtest: a new store from newStore,
// its clock and a context that ends with the subtest.
func setupWith(newStore func(t *testing.T, now func() time.Time) history.Store) func(t *testing.T) fixture {
	return func(t *testing.T) fixture {
		t.Helper()
		// The current time, so that a real server's own TTL sweep finds
		// nothing to expire, with a fractional second, so that the stores'
		// rounding of ExpiresAt is exercised.
		clk := clocktest.New(time.Now().UTC().Truncate(time.Second).Add(250 * time.Millisecond))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		t.Cleanup(cancel)
		return fixture{s: newStore(t, clk.Now), clk: clk, ctx: ctx}
	}
}
