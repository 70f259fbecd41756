package connection_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/connection/connectiontest"
)

func TestMemoryStore(t *testing.T) {
	newStore := func(t *testing.T, now func() time.Time) connection.Store { return connection.NewMemoryStore(now) }
	connectiontest.Run(t, newStore)
	connectiontest.RunConcurrent(t, newStore)
}

// BenchmarkMemoryStoreByUser measures ByUser for a user with 1,000
// connections, alone and among other users' connections: the cost must
// follow the user's connections, not the store's.
func BenchmarkMemoryStoreByUser(b *testing.B) {
	for _, others := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("user=1000/others=%d", others), func(b *testing.B) {
			ctx := context.Background()
			t0 := time.Now()
			s := connection.NewMemoryStore(func() time.Time { return t0 })
			fill(b, s, "busy", 1000, t0)
			for i := range others {
				fill(b, s, fmt.Sprintf("user-%d", i), 1, t0)
			}
			b.ReportAllocs()
			for b.Loop() {
				conns, err := s.ByUser(ctx, "busy")
				if err != nil || len(conns) != 1000 {
					b.Fatalf("ByUser = %d connections, %v; want 1000", len(conns), err)
				}
			}
		})
	}
}

func fill(tb testing.TB, s connection.Store, user string, n int, t time.Time) {
	tb.Helper()
	for i := range n {
		c := connection.New(fmt.Sprintf("%s-conn-%d", user, i), user, t, "203.0.113.1", "bench")
		if err := s.Put(context.Background(), c); err != nil {
			tb.Fatal(err)
		}
	}
}
