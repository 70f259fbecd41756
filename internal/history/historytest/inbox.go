package historytest

import (
	"testing"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notification"
)

// runInbox checks categories, the read state given on Add, filters, the
// scan bound, MarkCategoryRead and Archive.
func runInbox(t *testing.T, setup func(t *testing.T) fixture) {
	// note returns a notification of category c ("" for none).
	note := func(c string) notification.Notification {
		n := notification.General("note "+c, nil)
		n.Category = c
		return n
	}
	// inbox stores, for user-a: fbdi unread, general (no category) unread,
	// fbdi read on Add (a progress step), ops unread.
	inbox := func(t *testing.T, f fixture) []history.Item {
		t.Helper()
		step := f.newItem("user-a", note(notification.CategoryFBDI))
		step.Read = true
		return []history.Item{
			f.add(t, "user-a", note(notification.CategoryFBDI)),
			f.add(t, "user-a", note("")),
			f.store(t, step),
			f.add(t, "user-a", note("ops")),
		}
	}

	t.Run("Filters", func(t *testing.T) {
		f := setup(t)
		it := inbox(t, f)
		f.add(t, "user-b", note(notification.CategoryFBDI))
		tests := []struct {
			name   string
			filter history.Filter
			want   []history.Item // oldest first
		}{
			{name: "none", want: it},
			{name: "category", filter: history.Filter{Category: notification.CategoryFBDI}, want: []history.Item{it[0], it[2]}},
			{name: "general is the default category", filter: history.Filter{Category: notification.CategoryGeneral}, want: []history.Item{it[1]}},
			{name: "unread only", filter: history.Filter{UnreadOnly: true}, want: []history.Item{it[0], it[1], it[3]}},
			{name: "both", filter: history.Filter{Category: notification.CategoryFBDI, UnreadOnly: true}, want: []history.Item{it[0]}},
			{name: "a category nobody has", filter: history.Filter{Category: "payroll"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f.assertAfterFiltered(t, "user-a", 0, tt.filter, 100, false, tt.want...)
				f.assertBeforeFiltered(t, "user-a", 0, tt.filter, 100, false, reversed(tt.want)...)
			})
		}
		f.assertUnread(t, "user-a", 3)
		if err := f.s.MarkAllRead(f.ctx, "user-a"); err != nil {
			t.Fatal(err)
		}
		f.assertAfterFiltered(t, "user-a", 0, history.Filter{UnreadOnly: true}, 100, false)
	})

	t.Run("ScanBound", func(t *testing.T) {
		f := setup(t)
		const limit = 2
		match := f.add(t, "user-a", note("ops"))
		others := f.fill(t, "user-a", history.ScanPages*(limit+1))
		ops := history.Filter{Category: "ops"}
		// Newest first: the request reads ScanPages x (limit+1) items, all
		// general, and stops with a cursor to continue from.
		page := f.assertBeforeFiltered(t, "user-a", 0, ops, limit, true)
		if page.Next != others[0].Position {
			t.Errorf("Before Next = %d, want %d (the last item read)", page.Next, others[0].Position)
		}
		f.assertBeforeFiltered(t, "user-a", page.Next, ops, limit, false, match)
		page = f.assertAfterFiltered(t, "user-a", match.Position, ops, limit, true)
		if page.Next != others[len(others)-1].Position {
			t.Errorf("After Next = %d, want %d", page.Next, others[len(others)-1].Position)
		}
		// A full page continues after its last item.
		page = f.assertAfterFiltered(t, "user-a", 0, history.Filter{}, limit, true, match, others[0])
		if page.Next != others[0].Position {
			t.Errorf("After Next = %d, want %d (the last item returned)", page.Next, others[0].Position)
		}
	})

	t.Run("MarkCategoryRead", func(t *testing.T) {
		f := setup(t)
		it := inbox(t, f)
		other := f.add(t, "user-b", note(notification.CategoryFBDI))
		if err := f.s.MarkCategoryRead(f.ctx, "user-a", notification.CategoryFBDI); err != nil {
			t.Fatal(err)
		}
		it[0].Read = true
		f.assertAfter(t, "user-a", 0, 100, false, it...)
		f.assertUnread(t, "user-a", 2)
		f.assertAfter(t, "user-b", 0, 100, false, other)
		for _, c := range []string{"payroll", notification.CategoryGeneral} {
			if err := f.s.MarkCategoryRead(f.ctx, "user-a", c); err != nil {
				t.Fatal(err)
			}
		}
		it[1].Read = true
		f.assertAfter(t, "user-a", 0, 100, false, it...)
		f.assertUnread(t, "user-a", 1)
	})

	t.Run("Archive", func(t *testing.T) {
		f := setup(t)
		it := inbox(t, f)
		other := f.add(t, "user-b", note(notification.CategoryFBDI))
		ids := []string{it[0].Notification.ID, it[2].Notification.ID, other.Notification.ID, "01ARZ3NDEKTSV4RRFFQ69G5FAV", it[0].Notification.ID}
		if err := f.s.Archive(f.ctx, "user-a", ids); err != nil {
			t.Fatal(err)
		}
		rest := []history.Item{it[1], it[3]}
		f.assertAfter(t, "user-a", 0, 100, false, rest...)
		f.assertBefore(t, "user-a", 0, 100, false, reversed(rest)...)
		f.assertAfterFiltered(t, "user-a", 0, history.Filter{Category: notification.CategoryFBDI}, 100, false)
		f.assertUnread(t, "user-a", 2)
		f.assertAfter(t, "user-b", 0, 100, false, other)
		// Kept until it expires: its ID still has its position.
		if p, err := f.s.Position(f.ctx, "user-a", it[0].Notification.ID); err != nil || p != it[0].Position {
			t.Errorf("Position of an archived item = %d, %v; want %d", p, err, it[0].Position)
		}
		if err := f.s.Archive(f.ctx, "user-a", ids); err != nil {
			t.Errorf("Archive again = %v", err)
		}
	})
}
