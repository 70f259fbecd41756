package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/preference"
	"github.com/finance/fbdi-notify/internal/userid"
)

// Upstream messages of the notification queue that set a user's
// preferences instead of notifying (docs/protocol.md#notification-queue).
const (
	TypeUserProfile    = "user_profile"    // {"type":"user_profile","user_id":"123","email":"...","locale":"en","phone":"+15555550100"}
	TypeSetPreferences = "set_preferences" // {"type":"set_preferences","user_id":"123","categories":{...}}
)

// MaxLocale is the longest locale a user_profile may carry, in bytes.
const MaxLocale = 35

// localePattern is a BCP 47 tag's shape: letters, digits and hyphens,
// starting with a 2 or 3-letter language.
var localePattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// phonePattern is an E.164 number: "+", a country code and at most 15 digits.
var phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// prefsKey is the context key of an invocation's preferences cache.
type prefsKey struct{}

// prefsCache keeps the preferences read during one invocation, so that a
// batch of notifications for one user reads them once; the queue's own
// set_preferences and user_profile messages update it.
type prefsCache struct {
	mu    sync.Mutex
	users map[string]preference.Preferences
}

// withPrefsCache returns ctx carrying a new, empty preferences cache.
func withPrefsCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, prefsKey{}, &prefsCache{users: map[string]preference.Preferences{}})
}

// preferences returns the user's preferences, from ctx's cache when it has
// them. Without a preferences store every user has none.
func (n *Notifier) preferences(ctx context.Context, userID string) (preference.Preferences, error) {
	if n.prefs == nil {
		return preference.Preferences{UserID: userID}, nil
	}
	cache, _ := ctx.Value(prefsKey{}).(*prefsCache)
	if cache != nil {
		cache.mu.Lock()
		p, ok := cache.users[userID]
		cache.mu.Unlock()
		if ok {
			return p, nil
		}
	}
	p, err := n.prefs.Get(ctx, userID)
	if err != nil {
		return p, fmt.Errorf("notifier: preferences: %w", err)
	}
	remember(ctx, p)
	return p, nil
}

// remember puts p in ctx's cache, if it has one.
func remember(ctx context.Context, p preference.Preferences) {
	if cache, _ := ctx.Value(prefsKey{}).(*prefsCache); cache != nil {
		cache.mu.Lock()
		cache.users[p.UserID] = p
		cache.mu.Unlock()
	}
}

// upstream is a parsed user_profile or set_preferences message.
type upstream struct {
	typ     string
	userID  string
	profile preference.Profile
	changes map[string]preference.Change
}

// parseUpstream returns the message in body if it is a user_profile or a
// set_preferences (ok), or an error whose text is the reason it is malformed.
// Other types are not ok, for parseMessage.
func parseUpstream(body string) (u upstream, ok bool, err error) {
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(body), &fields) != nil {
		return u, false, nil
	}
	if json.Unmarshal(fields["type"], &u.typ) != nil || (u.typ != TypeUserProfile && u.typ != TypeSetPreferences) {
		return u, false, nil
	}
	allowed := []string{"type", "user_id", "email", "locale", "phone"}
	if u.typ == TypeSetPreferences {
		allowed = []string{"type", "user_id", "categories"}
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if !slices.Contains(allowed, name) {
			return u, true, malformed("unknown field %q for type %s", truncate(name, 64), u.typ)
		}
	}
	var id userid.ID
	raw, found := fields["user_id"]
	if !found {
		return u, true, malformed("missing user_id")
	}
	if err := json.Unmarshal(raw, &id); err != nil {
		return u, true, malformed("field user_id: %v", err)
	}
	u.userID = string(id)
	if u.typ == TypeSetPreferences {
		raw, found := fields["categories"]
		if !found {
			return u, true, malformed("missing categories")
		}
		if u.changes, err = preference.ParseChanges(raw); err != nil {
			return u, true, malformed("%s", strings.TrimPrefix(err.Error(), preference.ErrInvalid.Error()+": "))
		}
		return u, true, nil
	}
	for _, f := range []struct {
		name string
		to   *string
	}{{"email", &u.profile.Email}, {"locale", &u.profile.Locale}, {"phone", &u.profile.Phone}} {
		if raw, found := fields[f.name]; found && json.Unmarshal(raw, f.to) != nil {
			return u, true, malformed("field %s: want a string", f.name)
		}
	}
	if e := u.profile.Email; e != "" {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			return u, true, malformed("field email: not a bare e-mail address")
		}
	}
	if l := u.profile.Locale; l != "" && (len(l) > MaxLocale || !localePattern.MatchString(l)) {
		return u, true, malformed("field locale: %q is not a language tag such as en or fr-CA", truncate(l, 64))
	}
	if ph := u.profile.Phone; ph != "" && !phonePattern.MatchString(ph) {
		return u, true, malformed("field phone: not an E.164 number such as +15555550100")
	}
	return u, true, nil
}

// apply stores u's change and keeps the result in ctx's cache, so that the
// next notification of the batch follows it.
func (n *Notifier) apply(ctx context.Context, u upstream) error {
	if n.prefs == nil {
		return fmt.Errorf("notifier: %s for %.64q: no preferences store", u.typ, u.userID)
	}
	var (
		p   preference.Preferences
		err error
	)
	if u.typ == TypeUserProfile {
		p, err = n.prefs.SetProfile(ctx, u.userID, u.profile)
	} else {
		p, err = n.prefs.Set(ctx, u.userID, u.changes)
	}
	if err != nil {
		return fmt.Errorf("notifier: %s: %w", u.typ, err)
	}
	remember(ctx, p)
	return nil
}

// ReadUnreadRule reads the notification types stored unread from
// UNREAD_TYPES (notification.ParseUnreadRule; unset:
// notification.DefaultUnreadTypes), recording a problem on env when it is not
// a list of them. Every function that stores notifications reads it so.
func ReadUnreadRule(env *lambdaenv.Env) notification.UnreadRule {
	r, err := notification.ParseUnreadRule(env.Optional("UNREAD_TYPES"))
	if err != nil {
		env.Problem("UNREAD_TYPES is not a comma-separated list of notification types: %v", err)
	}
	return r
}
