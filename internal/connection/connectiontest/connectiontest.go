// Package connectiontest is the contract that every connection.Store
// implementation must meet. Each implementation's tests call Run.
package connectiontest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
)

// start is the clock's first reading in every test: the current time, so
// that rows a real server might expire with its own clock are live, with a
// fractional second, so that the stores' rounding is exercised.
func start() time.Time {
	return time.Now().UTC().Truncate(time.Second).Add(2*time.Minute + 250*time.Millisecond)
}

// Run checks that the stores newStore returns meet the connection.Store
// contract. newStore must return an empty store whose clock is now; Run calls
// it once per subtest.
func Run(t *testing.T, newStore func(t *testing.T, now func() time.Time) connection.Store) {
	setup := setupWith(newStore)

	t.Run("PutThenGet", func(t *testing.T) {
		s, clock, ctx := setup(t)
		c := connection.New("conn-A1=", "user-a", clock.Now(), "203.0.113.7", "Mozilla/5.0 (X11)")
		mustPut(t, ctx, s, c)
		got, err := s.Get(ctx, c.ID)
		if err != nil {
			t.Fatalf("Get(%q) = %v", c.ID, err)
		}
		assertEqual(t, got, c)
	})

	t.Run("PutWithoutOptionalFields", func(t *testing.T) {
		s, clock, ctx := setup(t)
		c := connection.New("conn-bare", "user-a", clock.Now(), "", "")
		mustPut(t, ctx, s, c)
		got, err := s.Get(ctx, c.ID)
		if err != nil {
			t.Fatalf("Get(%q) = %v", c.ID, err)
		}
		assertEqual(t, got, c)
	})

	t.Run("GetMissing", func(t *testing.T) {
		s, _, ctx := setup(t)
		for _, id := range []string{"never-put", ""} {
			if _, err := s.Get(ctx, id); !errors.Is(err, connection.ErrNotFound) {
				t.Errorf("Get(%q) error = %v, want ErrNotFound", id, err)
			}
		}
	})

	t.Run("PutInvalid", func(t *testing.T) {
		s, clock, ctx := setup(t)
		long := strings.Repeat("x", 2049)
		tests := []struct {
			name string
			c    connection.Connection
		}{
			{name: "empty id", c: connection.New("", "user-a", clock.Now(), "", "")},
			{name: "empty user", c: connection.New("conn-1", "", clock.Now(), "", "")},
			{name: "id too long for a key", c: connection.New(long, "user-a", clock.Now(), "", "")},
			{name: "user too long for a key", c: connection.New("conn-2", long, clock.Now(), "", "")},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := s.Put(ctx, tt.c); err == nil {
					t.Fatalf("Put(%.20q, user %.20q) = nil, want an error", tt.c.ID, tt.c.UserID)
				}
				if _, err := s.Get(ctx, tt.c.ID); !errors.Is(err, connection.ErrNotFound) {
					t.Errorf("Get after a rejected Put: error = %v, want ErrNotFound", err)
				}
			})
		}
		assertUser(t, ctx, s, "user-a")
	})

	t.Run("ByUser", func(t *testing.T) {
		s, clock, ctx := setup(t)
		a1 := connection.New("conn-a1", "user-a", clock.Now(), "198.51.100.1", "tab 1")
		a2 := connection.New("conn-a2", "user-a", clock.Now(), "198.51.100.1", "tab 2")
		b1 := connection.New("conn-b1", "user-b", clock.Now(), "198.51.100.2", "other")
		for _, c := range []connection.Connection{a1, b1, a2} {
			mustPut(t, ctx, s, c)
		}
		tests := []struct {
			name string
			user string
			want []connection.Connection
		}{
			{name: "two tabs", user: "user-a", want: []connection.Connection{a1, a2}},
			{name: "one tab", user: "user-b", want: []connection.Connection{b1}},
			{name: "unknown user", user: "user-c", want: nil},
			{name: "prefix of a user", user: "user", want: nil},
			{name: "empty user", user: "", want: nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				assertUser(t, ctx, s, tt.user, tt.want...)
			})
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s, clock, ctx := setup(t)
		a1 := connection.New("conn-a1", "user-a", clock.Now(), "", "")
		a2 := connection.New("conn-a2", "user-a", clock.Now(), "", "")
		mustPut(t, ctx, s, a1)
		mustPut(t, ctx, s, a2)
		if err := s.Delete(ctx, a1.ID); err != nil {
			t.Fatalf("Delete(%q) = %v", a1.ID, err)
		}
		if _, err := s.Get(ctx, a1.ID); !errors.Is(err, connection.ErrNotFound) {
			t.Errorf("Get(%q) after Delete: error = %v, want ErrNotFound", a1.ID, err)
		}
		assertUser(t, ctx, s, "user-a", a2)
		for _, id := range []string{a1.ID, "never-put", ""} {
			if err := s.Delete(ctx, id); err != nil {
				t.Errorf("Delete(%q) of a missing ID = %v, want nil", id, err)
			}
		}
		assertUser(t, ctx, s, "user-a", a2)
	})

	t.Run("Expiry", func(t *testing.T) {
		lifetime := connection.MaxAge + connection.ExpiryMargin
		tests := []struct {
			name    string
			advance time.Duration // from the time of Put
			live    bool
		}{
			{name: "just connected", advance: 0, live: true},
			{name: "past MaxAge but within the margin", advance: connection.MaxAge + time.Minute, live: true},
			// ExpiresAt is kept to the second, so the row lives until the
			// second in which it expires begins.
			{name: "last instant before the expiry second", advance: lifetime - 250*time.Millisecond - time.Nanosecond, live: true},
			{name: "at the expiry second", advance: lifetime - 250*time.Millisecond, live: false},
			{name: "long expired", advance: 48 * time.Hour, live: false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, clock, ctx := setup(t)
				c := connection.New("conn-old", "user-a", clock.Now(), "", "")
				mustPut(t, ctx, s, c)
				clock.Advance(tt.advance)
				// A connection made now is always live and must stay visible.
				fresh := connection.New("conn-new", "user-a", clock.Now(), "", "")
				mustPut(t, ctx, s, fresh)

				_, err := s.Get(ctx, c.ID)
				if tt.live && err != nil {
					t.Errorf("Get(%q) = %v, want the live connection", c.ID, err)
				}
				if !tt.live && !errors.Is(err, connection.ErrNotFound) {
					t.Errorf("Get(%q) error = %v, want ErrNotFound for an expired connection", c.ID, err)
				}
				if tt.live {
					assertUser(t, ctx, s, "user-a", c, fresh)
				} else {
					assertUser(t, ctx, s, "user-a", fresh)
				}
			})
		}
	})

	t.Run("ReplaceSameID", func(t *testing.T) {
		s, clock, ctx := setup(t)
		old := connection.New("conn-1", "user-a", clock.Now(), "192.0.2.1", "old agent")
		mustPut(t, ctx, s, old)
		clock.Advance(time.Minute)
		tests := []struct {
			name string
			c    connection.Connection
		}{
			{name: "same user, new details", c: connection.New("conn-1", "user-a", clock.Now(), "192.0.2.2", "new agent")},
			{name: "another user", c: connection.New("conn-1", "user-b", clock.Now(), "192.0.2.3", "b agent")},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				mustPut(t, ctx, s, tt.c)
				got, err := s.Get(ctx, tt.c.ID)
				if err != nil {
					t.Fatalf("Get(%q) = %v", tt.c.ID, err)
				}
				assertEqual(t, got, tt.c)
				for _, user := range []string{"user-a", "user-b"} {
					if user == tt.c.UserID {
						assertUser(t, ctx, s, user, tt.c)
					} else {
						assertUser(t, ctx, s, user)
					}
				}
			})
		}
	})

	t.Run("UsersIsolated", func(t *testing.T) {
		s, clock, ctx := setup(t)
		users := []string{"1", "12", "123", "user 1", "User-1"}
		want := map[string][]connection.Connection{}
		for i := range 3 {
			for _, u := range users {
				c := connection.New(fmt.Sprintf("conn-%s-%d", u, i), u, clock.Now(), "", "")
				mustPut(t, ctx, s, c)
				want[u] = append(want[u], c)
			}
		}
		for _, u := range users {
			assertUser(t, ctx, s, u, want[u]...)
		}
	})

	t.Run("ManyConnectionsOfOneUser", func(t *testing.T) {
		s, clock, ctx := setup(t)
		var want []connection.Connection
		for i := range 60 {
			c := connection.New(fmt.Sprintf("conn-%03d", i), "busy", clock.Now(), "", fmt.Sprintf("tab %d", i))
			mustPut(t, ctx, s, c)
			want = append(want, c)
			clock.Advance(time.Second)
		}
		mustPut(t, ctx, s, connection.New("conn-other", "quiet", clock.Now(), "", ""))
		assertUser(t, ctx, s, "busy", want...)
	})

	t.Run("Count", func(t *testing.T) {
		s, clock, ctx := setup(t)
		counter, ok := s.(Counter)
		if !ok {
			t.Fatalf("%T has no Count method: every connection store counts its connections", s)
		}
		count := func(what string, want int) {
			t.Helper()
			if n, err := counter.Count(ctx); err != nil || n != want {
				t.Errorf("Count %s = %d, %v; want %d", what, n, err, want)
			}
		}
		count("of an empty store", 0)
		a1 := connection.New("conn-a1", "user-a", clock.Now(), "", "")
		mustPut(t, ctx, s, a1)
		mustPut(t, ctx, s, connection.New("conn-a2", "user-a", clock.Now(), "", ""))
		mustPut(t, ctx, s, connection.New("conn-b1", "user-b", clock.Now(), "", ""))
		if err := s.ClaimWelcome(ctx, a1.ID, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Spend(ctx, a1.ID, 1, connection.Limit{Units: 5, Window: time.Minute}); err != nil {
			t.Fatal(err)
		}
		count("of three connections, one welcomed and rate-limited", 3)
		mustPut(t, ctx, s, connection.New("conn-a2", "user-a", clock.Now(), "", "replaced"))
		count("after a Put of the same ID", 3)
		if err := s.Delete(ctx, "conn-b1"); err != nil {
			t.Fatal(err)
		}
		count("after a Delete", 2)
		clock.Advance(time.Hour)
		mustPut(t, ctx, s, connection.New("conn-c1", "user-c", clock.Now(), "", ""))
		clock.Advance(connection.MaxAge + connection.ExpiryMargin - time.Hour)
		count("once the first two expired", 1)
	})

	t.Run("ClaimWelcome", func(t *testing.T) {
		s, clock, ctx := setup(t)
		c := connection.New("conn-w", "user-a", clock.Now(), "", "")
		mustPut(t, ctx, s, c)
		first := clock.Now()
		steps := []struct {
			name    string
			do      func() error
			wantErr error
		}{
			{name: "first claim", do: func() error { return s.ClaimWelcome(ctx, c.ID, first) }},
			{name: "second claim (a batch retried)", do: func() error { return s.ClaimWelcome(ctx, c.ID, first.Add(time.Second)) }, wantErr: connection.ErrWelcomed},
			{name: "release of another claim", do: func() error { return s.ReleaseWelcome(ctx, c.ID, first.Add(time.Second)) }},
			{name: "still claimed", do: func() error { return s.ClaimWelcome(ctx, c.ID, first.Add(2*time.Second)) }, wantErr: connection.ErrWelcomed},
			{name: "release of the claim", do: func() error { return s.ReleaseWelcome(ctx, c.ID, first) }},
			{name: "claim after release", do: func() error { return s.ClaimWelcome(ctx, c.ID, first.Add(3*time.Second)) }},
			{name: "claim once more", do: func() error { return s.ClaimWelcome(ctx, c.ID, first.Add(4*time.Second)) }, wantErr: connection.ErrWelcomed},
			{name: "claim of a missing connection", do: func() error { return s.ClaimWelcome(ctx, "never-put", first) }, wantErr: connection.ErrNotFound},
			{name: "claim of an empty ID", do: func() error { return s.ClaimWelcome(ctx, "", first) }, wantErr: connection.ErrNotFound},
			{name: "release of a missing connection", do: func() error { return s.ReleaseWelcome(ctx, "never-put", first) }},
		}
		for _, st := range steps {
			if err := st.do(); !errors.Is(err, st.wantErr) {
				t.Errorf("%s: error = %v, want %v", st.name, err, st.wantErr)
			}
		}
		if got, err := s.Get(ctx, c.ID); err != nil || !same(got, c) {
			t.Errorf("Get(%q) after claims = %+v, %v; want the connection unchanged", c.ID, got, err)
		}
		if _, err := s.Get(ctx, "never-put"); !errors.Is(err, connection.ErrNotFound) {
			t.Errorf("a claim of a missing connection created it: Get error = %v", err)
		}
		clock.Advance(48 * time.Hour)
		expired := connection.New("conn-w2", "user-a", clock.Now().Add(-48*time.Hour), "", "")
		mustPut(t, ctx, s, expired)
		if err := s.ClaimWelcome(ctx, expired.ID, clock.Now()); !errors.Is(err, connection.ErrNotFound) {
			t.Errorf("ClaimWelcome of an expired connection = %v, want ErrNotFound", err)
		}
	})

	t.Run("Spend", func(t *testing.T) {
		s, clock, ctx := setup(t)
		c := connection.New("conn-s", "user-a", clock.Now(), "", "")
		mustPut(t, ctx, s, c)
		other := connection.New("conn-t", "user-a", clock.Now(), "", "")
		mustPut(t, ctx, s, other)
		limit := connection.Limit{Units: 10, Window: 10 * time.Second}
		left := func() time.Duration {
			return limit.Window - time.Duration(clock.Now().UnixMilli()%limit.Window.Milliseconds())*time.Millisecond
		}
		spend := func(id string, cost int, wantErr error) {
			t.Helper()
			retry, err := s.Spend(ctx, id, cost, limit)
			if !errors.Is(err, wantErr) {
				t.Fatalf("Spend(%q, %d) error = %v, want %v", id, cost, err, wantErr)
			}
			if want := left(); errors.Is(err, connection.ErrRateLimited) && retry != want {
				t.Errorf("Spend(%q, %d) retry after %v, want %v (the rest of the window)", id, cost, retry, want)
			}
		}
		spend(c.ID, 4, nil)
		spend(c.ID, 5, nil)
		spend(c.ID, 2, connection.ErrRateLimited) // 11 > 10: nothing spent
		spend(c.ID, 1, nil)                       // exactly 10
		spend(c.ID, 1, connection.ErrRateLimited)
		spend(other.ID, 10, nil) // each connection has its own budget
		spend(other.ID, 11, connection.ErrRateLimited)
		if got, err := s.Get(ctx, c.ID); err != nil || !same(got, c) {
			t.Errorf("Get(%q) after spends = %+v, %v; want the connection unchanged", c.ID, got, err)
		}

		clock.Advance(left()) // the next window
		spend(c.ID, 1, nil)   // first spend of a window
		spend(c.ID, 9, nil)
		spend(c.ID, 1, connection.ErrRateLimited)
		clock.Advance(3 * limit.Window) // windows later, nothing spent between
		spend(c.ID, 10, nil)

		spend("never-put", 1, connection.ErrNotFound)
		spend("", 1, connection.ErrNotFound)
		if _, err := s.Get(ctx, "never-put"); !errors.Is(err, connection.ErrNotFound) {
			t.Errorf("a spend on a missing connection created it: Get error = %v", err)
		}
		mustPut(t, ctx, s, c) // a row put again starts without spends, as a new row
		spend(c.ID, 10, nil)
		clock.Advance(48 * time.Hour)
		spend(c.ID, 1, connection.ErrNotFound) // expired
	})

	t.Run("ConcurrentPuts", func(t *testing.T) {
		s, clock, ctx := setup(t)
		const n = 24
		want := map[string][]connection.Connection{}
		var all []connection.Connection
		for i := range n {
			u := fmt.Sprintf("user-%d", i%3)
			c := connection.New(fmt.Sprintf("conn-%02d", i), u, clock.Now(), "", "")
			want[u] = append(want[u], c)
			all = append(all, c)
		}
		var wg sync.WaitGroup
		for _, c := range all {
			wg.Go(func() {
				if err := s.Put(ctx, c); err != nil {
					t.Errorf("Put(%q) = %v", c.ID, err)
				}
				// Readers race with writers; only errors matter here.
				if _, err := s.ByUser(ctx, c.UserID); err != nil {
					t.Errorf("ByUser(%q) during puts = %v", c.UserID, err)
				}
			})
		}
		wg.Wait()
		for u, conns := range want {
			assertUser(t, ctx, s, u, conns...)
		}
	})
}

func mustPut(t *testing.T, ctx context.Context, s connection.Store, c connection.Connection) {
	t.Helper()
	if err := s.Put(ctx, c); err != nil {
		t.Fatalf("Put(%q) = %v", c.ID, err)
	}
}

// stored returns c as the contract says a store gives it back: UTC times,
// ExpiresAt truncated to the second.
func stored(c connection.Connection) connection.Connection {
	c.ConnectedAt = c.ConnectedAt.UTC()
	c.ExpiresAt = c.ExpiresAt.UTC().Truncate(time.Second)
	return c
}

func same(got, want connection.Connection) bool {
	want = stored(want)
	return got.ID == want.ID && got.UserID == want.UserID && got.SourceIP == want.SourceIP &&
		got.UserAgent == want.UserAgent && got.ConnectedAt.Equal(want.ConnectedAt) &&
		got.ExpiresAt.Equal(want.ExpiresAt) && got.ConnectedAt.Location() == time.UTC &&
		got.ExpiresAt.Location() == time.UTC
}

func assertEqual(t *testing.T, got, want connection.Connection) {
	t.Helper()
	if !same(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, stored(want))
	}
}

// assertUser checks that ByUser(user) returns exactly want, in any order.
func assertUser(t *testing.T, ctx context.Context, s connection.Store, user string, want ...connection.Connection) {
	t.Helper()
	got, err := s.ByUser(ctx, user)
	if err != nil {
		t.Fatalf("ByUser(%q) = %v", user, err)
	}
	if got == nil {
		t.Errorf("ByUser(%q) = nil, want an empty slice when there is none", user)
	}
	byID := func(a, b connection.Connection) int { return strings.Compare(a.ID, b.ID) }
	got = slices.SortedFunc(slices.Values(got), byID)
	want = slices.SortedFunc(slices.Values(want), byID)
	if !slices.EqualFunc(got, want, same) {
		t.Errorf("ByUser(%q) = %d connections %v\nwant %d %v", user, len(got), ids(got), len(want), ids(want))
	}
}

func ids(conns []connection.Connection) []string {
	out := make([]string, len(conns))
	for i, c := range conns {
		out[i] = c.ID
	}
	return out
}

// RunConcurrent checks that the store keeps its contract under concurrent
// writers. Only stores whose conditional writes are atomic can pass it:
// DynamoDB's are, but moto_server checks a condition and then writes without
// a lock, so the DynamoDB store runs Run against moto and its conditions are
// pinned by its own unit tests instead; the in-memory store runs both.
func RunConcurrent(t *testing.T, newStore func(t *testing.T, now func() time.Time) connection.Store) {
	setup := setupWith(newStore)

	t.Run("ConcurrentClaimsWelcomeOnce", func(t *testing.T) {
		s, clock, ctx := setup(t)
		c := connection.New("conn-race", "user-a", clock.Now(), "", "")
		mustPut(t, ctx, s, c)
		const n = 8
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			claims int
		)
		for i := range n {
			wg.Go(func() {
				err := s.ClaimWelcome(ctx, c.ID, clock.Now().Add(time.Duration(i)*time.Millisecond))
				switch {
				case err == nil:
					mu.Lock()
					claims++
					mu.Unlock()
				case !errors.Is(err, connection.ErrWelcomed):
					t.Errorf("ClaimWelcome = %v", err)
				}
			})
		}
		wg.Wait()
		if claims != 1 {
			t.Errorf("%d of %d concurrent claims succeeded, want 1", claims, n)
		}
	})

	t.Run("ConcurrentSpends", func(t *testing.T) {
		s, clock, ctx := setup(t)
		c := connection.New("conn-burst", "user-a", clock.Now(), "", "")
		mustPut(t, ctx, s, c)
		// A window that holds the whole test, whatever the time.
		limit := connection.Limit{Units: 10, Window: 1000 * time.Hour}
		const n = 24
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			spends int
		)
		for range n {
			wg.Go(func() {
				_, err := s.Spend(ctx, c.ID, 1, limit)
				switch {
				case err == nil:
					mu.Lock()
					spends++
					mu.Unlock()
				case !errors.Is(err, connection.ErrRateLimited):
					t.Errorf("Spend = %v", err)
				}
			})
		}
		wg.Wait()
		if spends != limit.Units {
			t.Errorf("%d of %d concurrent spends of 1 succeeded, want %d", spends, n, limit.Units)
		}
	})
}

// Counter is the count operation every connection store has beside
// connection.Store (DynamoStore.Count, MemoryStore.Count): it is not part
// of Store, since only the sweeper counts, on a schedule.
type Counter interface {
	Count(ctx context.Context) (int, error)
}

// setupWith returns the set-up of one subtest: a new store from newStore, its
// clock, and a context that ends with the subtest.
func setupWith(newStore func(t *testing.T, now func() time.Time) connection.Store) func(t *testing.T) (connection.Store, *clocktest.Clock, context.Context) {
	return func(t *testing.T) (connection.Store, *clocktest.Clock, context.Context) {
		t.Helper()
		clk := clocktest.New(start())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		t.Cleanup(cancel)
		return newStore(t, clk.Now), clk, ctx
	}
}
