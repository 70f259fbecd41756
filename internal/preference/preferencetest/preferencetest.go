// Package preferencetest is the contract that every preference.Store
// implementation must meet. Each implementation's tests call Run.
package preferencetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/finance/fbdi-notify/internal/preference"
)

// Run checks that the stores newStore returns meet the preference.Store
// contract. newStore must return an empty store; Run calls it once per
// subtest.
func Run(t *testing.T, newStore func(t *testing.T) preference.Store) {
	on, off := preference.On(true), preference.On(false)
	ctx := context.Background()

	t.Run("NoneYet", func(t *testing.T) {
		s := newStore(t)
		got := get(t, s, "u1")
		if len(got.Categories) != 0 || got.Profile != (preference.Profile{}) || got.UserID != "u1" {
			t.Fatalf("Get of a new user = %+v; want empty preferences for u1", got)
		}
	})

	t.Run("PartialSetKeepsTheRest", func(t *testing.T) {
		s := newStore(t)
		set(t, s, "u1", map[string]preference.Change{
			"general": {InApp: off, Email: on},
			"fbdi":    {Email: on},
		})
		after := set(t, s, "u1", map[string]preference.Change{"general": {InApp: on}})
		want := map[string]preference.Change{
			"general": {InApp: on, Email: on},
			"fbdi":    {Email: on},
		}
		for name, got := range map[string]preference.Preferences{"Set": after, "Get": get(t, s, "u1")} {
			if !sameCategories(got.Categories, want) {
				t.Errorf("%s categories = %s; want %s", name, show(got.Categories), show(want))
			}
		}
	})

	t.Run("UsersApart", func(t *testing.T) {
		s := newStore(t)
		set(t, s, "u1", map[string]preference.Change{"general": {InApp: off}})
		if _, err := s.SetProfile(ctx, "u1", preference.Profile{Email: "a@example.com"}); err != nil {
			t.Fatal(err)
		}
		if got := get(t, s, "u2"); len(got.Categories) != 0 || got.Profile.Email != "" {
			t.Fatalf("u2 sees %+v; want nothing of u1's", got)
		}
	})

	t.Run("ProfileReplacedCategoriesKept", func(t *testing.T) {
		s := newStore(t)
		set(t, s, "u1", map[string]preference.Change{"general": {Email: on}})
		first := preference.Profile{Email: "a@example.com", Locale: "fr", Bounced: true}
		if _, err := s.SetProfile(ctx, "u1", first); err != nil {
			t.Fatal(err)
		}
		if got := get(t, s, "u1").Profile; got != first {
			t.Fatalf("profile = %+v; want %+v", got, first)
		}
		second := preference.Profile{Email: "b@example.com"}
		after, err := s.SetProfile(ctx, "u1", second)
		if err != nil {
			t.Fatal(err)
		}
		got := get(t, s, "u1")
		if after.Profile != second || got.Profile != second {
			t.Fatalf("profile after replace: SetProfile %+v, Get %+v; want %+v (locale and bounced cleared)", after.Profile, got.Profile, second)
		}
		if !sameCategories(got.Categories, map[string]preference.Change{"general": {Email: on}}) {
			t.Fatalf("categories after SetProfile = %s; want general email on kept", show(got.Categories))
		}
	})

	t.Run("MarkBounced", func(t *testing.T) {
		s := newStore(t)
		set(t, s, "u1", map[string]preference.Change{"general": {Email: on}})
		profile := preference.Profile{Email: "a@example.com", Locale: "en", Phone: "+15555550100"}
		if _, err := s.SetProfile(ctx, "u1", profile); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name    string
			userID  string
			address string
			want    bool // marked
		}{
			{name: "another address", userID: "u1", address: "old@example.com", want: false},
			{name: "a user without a profile", userID: "u2", address: "a@example.com", want: false},
			{name: "the profile's address", userID: "u1", address: "a@example.com", want: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.MarkBounced(ctx, tt.userID, tt.address)
				if err != nil || got != tt.want {
					t.Fatalf("MarkBounced(%s, %s) = %v, %v; want %v", tt.userID, tt.address, got, err, tt.want)
				}
			})
		}
		want := profile
		want.Bounced = true
		if got := get(t, s, "u1"); got.Profile != want || !sameCategories(got.Categories, map[string]preference.Change{"general": {Email: on}}) {
			t.Fatalf("after MarkBounced: %+v %s; want profile %+v and categories kept", got.Profile, show(got.Categories), want)
		}
		if got := get(t, s, "u2"); got.Profile != (preference.Profile{}) {
			t.Fatalf("u2's profile = %+v; a bounce for a user without one must not make one", got.Profile)
		}
		if _, err := s.MarkBounced(ctx, "u1", ""); !errors.Is(err, preference.ErrInvalid) {
			t.Fatalf("MarkBounced with no address: %v; want ErrInvalid", err)
		}
		// A new profile clears it.
		if _, err := s.SetProfile(ctx, "u1", preference.Profile{Email: "b@example.com"}); err != nil {
			t.Fatal(err)
		}
		if get(t, s, "u1").Profile.Bounced {
			t.Fatal("Bounced kept after a new profile")
		}
	})

	t.Run("CategoryWithDots", func(t *testing.T) {
		s := newStore(t)
		set(t, s, "u1", map[string]preference.Change{"ap.invoices-2": {InApp: off}})
		want := map[string]preference.Change{"ap.invoices-2": {InApp: off}}
		if got := get(t, s, "u1").Categories; !sameCategories(got, want) {
			t.Fatalf("categories = %s; want %s", show(got), show(want))
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		s := newStore(t)
		tests := []struct {
			name string
			call func() error
		}{
			{name: "get empty user", call: func() error { _, err := s.Get(ctx, ""); return err }},
			{name: "set empty user", call: func() error {
				_, err := s.Set(ctx, "", map[string]preference.Change{"general": {InApp: on}})
				return err
			}},
			{name: "set bad category", call: func() error {
				_, err := s.Set(ctx, "u1", map[string]preference.Change{"Bad Name": {InApp: on}})
				return err
			}},
			{name: "profile empty user", call: func() error { _, err := s.SetProfile(ctx, "", preference.Profile{}); return err }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.call(); !errors.Is(err, preference.ErrInvalid) {
					t.Fatalf("error %v; want ErrInvalid", err)
				}
			})
		}
		if got := get(t, s, "u1"); len(got.Categories) != 0 {
			t.Fatalf("a refused set stored %s", show(got.Categories))
		}
	})

	t.Run("ConcurrentSetsOfOtherCategories", func(t *testing.T) {
		s := newStore(t)
		names := []string{"a", "b", "c", "d", "e", "f"}
		var wg sync.WaitGroup
		for _, c := range names {
			wg.Go(func() {
				if _, err := s.Set(ctx, "u1", map[string]preference.Change{c: {InApp: off}}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got := get(t, s, "u1").Categories
		for _, c := range names {
			if ch, ok := got[c]; !ok || ch.InApp == nil || *ch.InApp {
				t.Errorf("category %s = %s; want in_app off (no set lost)", c, show(got))
			}
		}
	})
}

func get(t *testing.T, s preference.Store, userID string) preference.Preferences {
	t.Helper()
	p, err := s.Get(context.Background(), userID)
	if err != nil {
		t.Fatalf("Get(%s): %v", userID, err)
	}
	return p
}

func set(t *testing.T, s preference.Store, userID string, changes map[string]preference.Change) preference.Preferences {
	t.Helper()
	p, err := s.Set(context.Background(), userID, changes)
	if err != nil {
		t.Fatalf("Set(%s): %v", userID, err)
	}
	return p
}

// flat is a Change by value, to compare and print.
type flat struct{ InApp, Email string }

func flatten(m map[string]preference.Change) map[string]flat {
	v := func(b *bool) string {
		if b == nil {
			return "unset"
		}
		if *b {
			return "on"
		}
		return "off"
	}
	out := map[string]flat{}
	for c, ch := range m {
		out[c] = flat{v(ch.InApp), v(ch.Email)}
	}
	return out
}

func sameCategories(a, b map[string]preference.Change) bool {
	return reflect.DeepEqual(flatten(a), flatten(b))
}

func show(m map[string]preference.Change) any { return flatten(m) }
