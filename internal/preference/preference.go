// Package preference keeps what each user wants to receive, per category of
// notification and per channel (in_app, email), and decides which channels a
// notification takes.
//
// A user's preferences are sparse: only what the user set is stored; every
// other channel of every category follows the operator's Defaults
// (PREFERENCE_DEFAULTS), so a change of the defaults applies to every user
// who has not chosen otherwise, without a migration. Critical notifications
// are never muted in the app (Decide).
//
// Two implementations share one contract (see package preferencetest):
// DynamoStore, for Lambda, and MemoryStore, for the local stack and unit tests.
package preference

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notification"
)

// Channels a notification can take.
const (
	ChannelInApp = "in_app" // posted to the user's WebSocket connections
	ChannelEmail = "email"  // e-mailed to the profile's address (internal/mail), alone or in a digest
)

// Other is the key of Defaults for every category not named.
const Other = "*"

// MaxCategories is the most categories one change may name.
const MaxCategories = 50

// Errors callers branch on. Errors returned by this package wrap them.
var (
	// ErrInvalid is returned for an argument no user can have: an empty
	// user ID, a category that ParseCategory refuses, an unknown channel.
	// Its text, after the wrapping prefix, names the field.
	ErrInvalid = errors.New("preference: invalid")
)

// Channels says which channels are on.
type Channels struct {
	InApp bool `json:"in_app"`
	Email bool `json:"email"`
}

// Change sets some channels of one category; a nil field is left as it was.
type Change struct {
	InApp *bool `json:"in_app,omitempty"`
	Email *bool `json:"email,omitempty"`
}

// apply returns c with ch's channels set.
func (c Channels) apply(ch Change) Channels {
	if ch.InApp != nil {
		c.InApp = *ch.InApp
	}
	if ch.Email != nil {
		c.Email = *ch.Email
	}
	return c
}

// merge returns ch with later's channels set over it.
func (ch Change) merge(later Change) Change {
	if later.InApp != nil {
		ch.InApp = boolPtr(*later.InApp)
	}
	if later.Email != nil {
		ch.Email = boolPtr(*later.Email)
	}
	return ch
}

// On returns a pointer to on, for a Change.
func On(on bool) *bool { return &on }

func boolPtr(b bool) *bool { return &b }

// Profile is what upstream says about a user, never a browser: the address
// e-mail goes to, the locale it is written in, and the phone that critical
// notifications are texted to when SMS is enabled.
type Profile struct {
	Email   string `json:"email,omitempty"`
	Locale  string `json:"locale,omitempty"`
	Phone   string `json:"phone,omitempty"`   // E.164, such as +15555550100; "" no SMS
	Bounced bool   `json:"bounced,omitempty"` // mail to Email bounced or drew a complaint; e-mail is off until the address changes
}

// Preferences are one user's: the categories the user set (sparse: a
// category or channel not in it follows the Defaults) and the profile.
type Preferences struct {
	UserID     string
	Categories map[string]Change
	Profile    Profile
}

// Store keeps users' preferences. Every method touches only the given user's.
// Implementations are safe for concurrent use.
type Store interface {
	// Get returns the user's preferences; a user who has none has zero
	// Categories and Profile, and no error.
	Get(ctx context.Context, userID string) (Preferences, error)
	// Set applies changes (ParseChanges) to the user's categories, leaving
	// what they do not name, and returns the preferences after it. It
	// returns ErrInvalid for an empty user ID or a change that ParseChanges
	// would refuse.
	Set(ctx context.Context, userID string, changes map[string]Change) (Preferences, error)
	// SetProfile replaces the user's profile (clearing Bounced unless p sets
	// it) and returns the preferences after it. It returns ErrInvalid for an
	// empty user ID.
	SetProfile(ctx context.Context, userID string, p Profile) (Preferences, error)
	// MarkBounced sets Bounced in the user's profile if its address is
	// still address (a bounce reports the address mail went to, which
	// upstream may have changed since), and says whether it did. It
	// returns ErrInvalid for an empty user ID or address.
	MarkBounced(ctx context.Context, userID, address string) (bool, error)
}

// Defaults are the operator's channels per category, with one for every
// other category. The zero value has no categories and InAppOnly for others.
type Defaults struct {
	categories map[string]Channels
	other      *Channels
}

// InAppOnly is the default of a category the operator did not configure.
var InAppOnly = Channels{InApp: true}

// ParseDefaults parses PREFERENCE_DEFAULTS: a JSON object from category (or
// Other) to {"in_app":bool,"email":bool}; an omitted channel is
// InAppOnly's. Empty means the zero Defaults.
func ParseDefaults(s string) (Defaults, error) {
	if strings.TrimSpace(s) == "" {
		return Defaults{}, nil
	}
	changes, err := parseChanges([]byte(s), true)
	if err != nil {
		return Defaults{}, fmt.Errorf("preference defaults: %w", err)
	}
	d := Defaults{categories: map[string]Channels{}}
	for c, ch := range changes {
		if c == Other {
			o := InAppOnly.apply(ch)
			d.other = &o
			continue
		}
		d.categories[c] = InAppOnly.apply(ch)
	}
	return d, nil
}

// For returns the default channels of category.
func (d Defaults) For(category string) Channels {
	if c, ok := d.categories[category]; ok {
		return c
	}
	if d.other != nil {
		return *d.other
	}
	return InAppOnly
}

// All returns the configured defaults by category, with Other.
func (d Defaults) All() map[string]Channels {
	all := maps.Clone(d.categories)
	if all == nil {
		all = map[string]Channels{}
	}
	all[Other] = d.For(Other)
	return all
}

// Effective returns p's channels for every category the operator configured
// or the user set: the user's choice where there is one, else the default.
func (d Defaults) Effective(p Preferences) map[string]Channels {
	out := map[string]Channels{}
	for c := range d.categories {
		out[c] = d.For(c)
	}
	for c, ch := range p.Categories {
		out[c] = d.For(c).apply(ch)
	}
	return out
}

// Decide returns the channels n takes for the user with preferences p: the
// user's choice for n's category, else the default; a critical notification
// is always posted in the app; e-mail needs an address that has not bounced.
func (d Defaults) Decide(p Preferences, n notification.Notification) Channels {
	category, err := notification.ParseCategory(n.Category)
	if err != nil {
		category = n.Category
	}
	c := d.For(category).apply(p.Categories[category])
	if n.Critical {
		c.InApp = true
	}
	if p.Profile.Email == "" || p.Profile.Bounced {
		c.Email = false
	}
	return c
}

// ParseChanges parses the "categories" of a set_preferences: a JSON object
// from category (notification.ParseCategory, non-empty) to an object of
// channels (in_app, email) set to true or false. It returns an error wrapping
// ErrInvalid that names the field, as "categories.<name>.<channel>", for
// anything else, and for more than MaxCategories categories.
func ParseChanges(raw []byte) (map[string]Change, error) {
	return parseChanges(raw, false)
}

func parseChanges(raw []byte, other bool) (map[string]Change, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("%w: categories must be an object", ErrInvalid)
	}
	if len(fields) > MaxCategories {
		return nil, fmt.Errorf("%w: categories names %d categories; at most %d at once", ErrInvalid, len(fields), MaxCategories)
	}
	changes := make(map[string]Change, len(fields))
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		field := "categories." + truncate(name)
		if !(other && name == Other) {
			if c, err := notification.ParseCategory(name); err != nil || c != name {
				return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, field, notification.ErrCategory)
			}
		}
		var channels map[string]json.RawMessage
		if err := json.Unmarshal(fields[name], &channels); err != nil || channels == nil {
			return nil, fmt.Errorf("%w: %s must be an object of channels", ErrInvalid, field)
		}
		var ch Change
		for _, channel := range slices.Sorted(maps.Keys(channels)) {
			var on bool
			value := bytes.TrimSpace(channels[channel])
			if !bytes.Equal(value, []byte("true")) && !bytes.Equal(value, []byte("false")) {
				if channel != ChannelInApp && channel != ChannelEmail {
					return nil, fmt.Errorf("%w: %s.%s: unknown channel; want in_app or email", ErrInvalid, field, truncate(channel))
				}
				return nil, fmt.Errorf("%w: %s.%s must be true or false", ErrInvalid, field, channel)
			}
			on = value[0] == 't'
			switch channel {
			case ChannelInApp:
				ch.InApp = &on
			case ChannelEmail:
				ch.Email = &on
			default:
				return nil, fmt.Errorf("%w: %s.%s: unknown channel; want in_app or email", ErrInvalid, field, truncate(channel))
			}
		}
		changes[name] = ch
	}
	return changes, nil
}

// validChanges checks changes made in code as ParseChanges checks JSON.
func validChanges(changes map[string]Change) error {
	if len(changes) > MaxCategories {
		return fmt.Errorf("%w: %d categories; at most %d at once", ErrInvalid, len(changes), MaxCategories)
	}
	for name := range changes {
		if c, err := notification.ParseCategory(name); err != nil || c != name {
			return fmt.Errorf("%w: categories.%s: %v", ErrInvalid, truncate(name), notification.ErrCategory)
		}
	}
	return nil
}

// truncate shortens a client's name for an error message.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return truncate(strings.ToValidUTF8(s[:max], "")) + "…"
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// ReadDefaults reads the operator's defaults from PREFERENCE_DEFAULTS
// (ParseDefaults; unset: in_app only), recording a problem on env when it
// is not one. Every function that decides or shows channels reads them so.
func ReadDefaults(env *lambdaenv.Env) Defaults {
	d, err := ParseDefaults(env.Optional("PREFERENCE_DEFAULTS"))
	if err != nil {
		env.Problem("PREFERENCE_DEFAULTS is not a JSON object such as {\"general\":{\"in_app\":true,\"email\":false},\"*\":{\"in_app\":true}}: %v", err)
	}
	return d
}
