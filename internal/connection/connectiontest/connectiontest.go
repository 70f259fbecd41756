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
	setup := func(t *testing.T) (connection.Store, *clocktest.Clock, context.Context) {
		t.Helper()
		clk := clocktest.New(start())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		t.Cleanup(cancel)
		return newStore(t, clk.Now), clk, ctx
	}

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
