package notifier_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/preference"
)

// countingPrefs is a preference.Store in memory that counts the reads of
// each user.
type countingPrefs struct {
	*preference.MemoryStore
	mu   sync.Mutex
	gets map[string]int
}

func newCountingPrefs() *countingPrefs {
	return &countingPrefs{MemoryStore: preference.NewMemoryStore(), gets: map[string]int{}}
}

func (c *countingPrefs) Get(ctx context.Context, userID string) (preference.Preferences, error) {
	c.mu.Lock()
	c.gets[userID]++
	c.mu.Unlock()
	return c.MemoryStore.Get(ctx, userID)
}

func (c *countingPrefs) reads(userID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets[userID]
}

// mute turns off in_app of category for userID.
func mute(t *testing.T, s preference.Store, userID, category string) {
	t.Helper()
	_, err := s.Set(context.Background(), userID, map[string]preference.Change{category: {InApp: preference.On(false)}})
	must(t, err)
}

func TestMutedCategory(t *testing.T) {
	defaults, err := preference.ParseDefaults(`{"reports":{"in_app":false}}`)
	must(t, err)
	tests := []struct {
		name       string
		note       notification.Notification
		mute       string // category the user mutes
		wantPosted bool
		wantRead   bool // as stored
	}{
		{name: "muted category stored read, not posted", note: withCategory(notification.General("Hi", nil), "ap"),
			mute: "ap", wantPosted: false, wantRead: true},
		{name: "other category posted, unread", note: withCategory(notification.General("Hi", nil), "gl"),
			mute: "ap", wantPosted: true, wantRead: false},
		{name: "general muted", note: notification.General("Hi", nil),
			mute: notification.CategoryGeneral, wantPosted: false, wantRead: true},
		{name: "critical posted when muted", note: withCategory(notification.UploadFailed("602", "Failed", "ESS ERROR"), notification.CategoryFBDI),
			mute: notification.CategoryFBDI, wantPosted: true, wantRead: false},
		{name: "muted by the operator's default", note: withCategory(notification.General("Hi", nil), "reports"),
			wantPosted: false, wantRead: true},
		{name: "progress posted, stored read by the unread rule", note: withCategory(notification.UploadProgress("602", "Upload", 1, 5, notification.StatusProcessing, "Up"), notification.CategoryFBDI),
			mute: "ap", wantPosted: true, wantRead: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefs := newCountingPrefs()
			if tt.mute != "" {
				mute(t, prefs, "u1", tt.mute)
			}
			w := newWorld(t, notifier.Options{Preferences: prefs, Defaults: defaults}, conn("c1", "u1", time.Hour))

			report, err := w.n.Notify(ctxOf(t), "u1", tt.note)
			must(t, err)

			if posted := len(w.gw.postsTo("c1")) == 1; posted != tt.wantPosted {
				t.Errorf("posted %v (report %+v); want %v", posted, report, tt.wantPosted)
			}
			items := w.hist.of("u1")
			if len(items) != 1 {
				t.Fatalf("%d items stored; want 1 (muted or not, history keeps it)", len(items))
			}
			if items[0].Read != tt.wantRead {
				t.Errorf("stored Read = %v; want %v", items[0].Read, tt.wantRead)
			}
			if byUser, _ := w.conns.calls(); !tt.wantPosted && byUser != 0 {
				t.Errorf("looked up connections %d times for a muted notification; want none", byUser)
			}
		})
	}
}

func withCategory(n notification.Notification, category string) notification.Notification {
	n.Category = category
	return n
}

func TestQueuePreferences(t *testing.T) {
	prefs := newCountingPrefs()
	w := newWorld(t, notifier.Options{Preferences: prefs}, conn("c1", "u1", time.Hour), conn("c2", "u2", time.Hour))
	h := notifier.NewQueueHandler(w.n, &fakeSQS{}, dlqURL, nil)

	resp, err := h.Handle(ctxOf(t), events.SQSEvent{Records: []events.SQSMessage{
		message("m-1", `{"user_id":"u1","message":"one","category":"ap"}`),
		message("m-2", `{"user_id":"u1","message":"two","category":"ap"}`),
		message("m-3", `{"type":"set_preferences","user_id":"u1","categories":{"ap":{"in_app":false}}}`),
		message("m-4", `{"user_ids":["u1","u2"],"message":"three","category":"ap"}`),
		message("m-5", `{"type":"user_profile","user_id":123,"email":"ann@example.com","locale":"fr-CA","phone":"+15555550100"}`),
	}})
	must(t, err)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v; want none", resp.BatchItemFailures)
	}

	if got := len(w.gw.postsTo("c1")); got != 2 {
		t.Errorf("u1 got %d posts; want 2 (the third came after u1 muted ap)", got)
	}
	if got := len(w.gw.postsTo("c2")); got != 1 {
		t.Errorf("u2 got %d posts; want 1 (u1's change is u1's only)", got)
	}
	if got := len(w.hist.of("u1")); got != 3 {
		t.Errorf("u1 has %d items; want 3 (a muted one is kept)", got)
	}
	if got := prefs.reads("u1"); got != 1 {
		t.Errorf("u1's preferences read %d times in one batch; want 1", got)
	}
	if got := prefs.reads("u2"); got != 1 {
		t.Errorf("u2's preferences read %d times; want 1", got)
	}
	p, err := prefs.MemoryStore.Get(ctxOf(t), "123")
	must(t, err)
	if want := (preference.Profile{Email: "ann@example.com", Locale: "fr-CA", Phone: "+15555550100"}); p.Profile != want {
		t.Errorf("profile of 123 = %+v; want %+v", p.Profile, want)
	}

	// The next batch reads the preferences again: a change made elsewhere
	// (the WebSocket) applies to it.
	_, err = prefs.Set(ctxOf(t), "u1", map[string]preference.Change{"ap": {InApp: preference.On(true)}})
	must(t, err)
	_, err = h.Handle(ctxOf(t), events.SQSEvent{Records: []events.SQSMessage{message("m-6", `{"user_id":"u1","message":"four","category":"ap"}`)}})
	must(t, err)
	if got := len(w.gw.postsTo("c1")); got != 3 {
		t.Errorf("u1 got %d posts; want 3 after unmuting ap", got)
	}
}

// failingOutbox is an Outbox whose Stored always fails, counting calls.
type failingOutbox struct{ calls int }

func (o *failingOutbox) Stored(context.Context, preference.Preferences, notification.Notification, bool, bool) error {
	o.calls++
	return errors.New("mail queue unavailable")
}

// TestOutboxFailureDoesNotKeepTheNotificationFromTheTabs: the e-mail
// scheduler fails, yet the user's connection already has the notification;
// the call still fails, so that the caller tries the e-mail again.
func TestOutboxFailureDoesNotKeepTheNotificationFromTheTabs(t *testing.T) {
	defaults, err := preference.ParseDefaults(`{"*":{"in_app":true,"email":true}}`)
	must(t, err)
	outbox := &failingOutbox{}
	prefs := newCountingPrefs()
	_, err = prefs.SetProfile(ctxOf(t), "u1", preference.Profile{Email: "ana@example.com"})
	must(t, err)
	w := newWorld(t, notifier.Options{Preferences: prefs, Defaults: defaults, Outbox: outbox},
		conn("c1", "u1", time.Hour))
	_, err = w.n.Notify(ctxOf(t), "u1", notification.General("Hi", nil))
	if err == nil || outbox.calls != 1 {
		t.Fatalf("Notify = %v after %d outbox calls; want the outbox's error after 1", err, outbox.calls)
	}
	if posts := len(w.gw.postsTo("c1")); posts != 1 {
		t.Errorf("%d posts to the user's tab; want 1, before the outbox was told", posts)
	}
}
