package history_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/history/historytest"
	"github.com/finance/fbdi-notify/internal/notification"
)

func TestMemoryStore(t *testing.T) {
	newStore := func(t *testing.T, now func() time.Time) history.Store { return history.NewMemoryStore(now) }
	historytest.Run(t, newStore)
	historytest.RunConcurrent(t, newStore)
}

// BenchmarkMemoryStoreAfter measures a resume page (After, limit 100) from
// the middle of a user's history, for histories of growing size: the cost
// must follow the page, not the history.
func BenchmarkMemoryStoreAfter(b *testing.B) {
	for _, size := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("items=%d", size), func(b *testing.B) {
			ctx := context.Background()
			t0 := time.Now()
			s := history.NewMemoryStore(func() time.Time { return t0 })
			var positions []history.Position
			for i := range size {
				n := notification.UploadProgress("602", "Upload to UCM", 2, 5, notification.StatusProcessing,
					fmt.Sprintf("step %d", i))
				n.Stamp(t0.Add(time.Duration(i) * time.Millisecond))
				p, err := s.Add(ctx, history.Item{UserID: "busy", Notification: n, ExpiresAt: t0.Add(time.Hour)})
				if err != nil {
					b.Fatal(err)
				}
				positions = append(positions, p)
			}
			after := positions[size/2]
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.After(ctx, "busy", after, history.Filter{}, 100)
				items, more := page.Items, page.HasMore
				if err != nil || len(items) != 100 || !more {
					b.Fatalf("After = %d items, %v, %v", len(items), more, err)
				}
			}
		})
	}
}
