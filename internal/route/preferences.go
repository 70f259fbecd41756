package route

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/preference"
)

// Requests of a user's preferences (docs/protocol.md).
const (
	TypePreferences    = "preferences"
	TypeSetPreferences = "set_preferences"
)

// Preferences is what the preferences requests need (MessageConfig).
type Preferences struct {
	Store    preference.Store    // the users' preferences; nil: the requests answer unknown_type
	Defaults preference.Defaults // the operator's (PREFERENCE_DEFAULTS)
}

// preferencesReply is the reply to both requests: the user's channels for
// every category the operator configured or the user set, and the
// operator's defaults ("*" for every other category).
type preferencesReply struct {
	Type       string                         `json:"type"` // TypePreferences
	Categories map[string]preference.Channels `json:"categories"`
	Defaults   map[string]preference.Channels `json:"defaults"`
}

// preferences answers {"type":"preferences"} with the user's preferences.
func (h *Message) preferences(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest, body []byte) (any, error) {
	if h.prefs.Store == nil {
		return nil, &replyError{code: CodeUnknownType, message: "preferences are not available"}
	}
	userID, err := h.user(ctx, req)
	if err != nil {
		return nil, err
	}
	p, err := h.prefs.Store.Get(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("socket: preferences: %w", err)
	}
	return h.preferencesReply(p), nil
}

// setPreferences answers {"type":"set_preferences","categories":{...}}: it
// changes the channels named (a partial set leaves the rest) and replies
// as preferences does. Only categories may be set: the address and locale
// come from upstream (the notification queue's user_profile), never from a
// browser.
func (h *Message) setPreferences(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest, body []byte) (any, error) {
	if h.prefs.Store == nil {
		return nil, &replyError{code: CodeUnknownType, message: "preferences are not available"}
	}
	var r map[string]json.RawMessage
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(r)) {
		if name != "type" && name != "categories" {
			// An address, in particular, only ever comes from upstream.
			return nil, &replyError{code: CodeInvalidRequest, message: fmt.Sprintf("%.64q: set_preferences takes only categories", name)}
		}
	}
	if r["categories"] == nil {
		return nil, &replyError{code: CodeInvalidRequest, message: "categories is required"}
	}
	changes, err := preference.ParseChanges(r["categories"])
	if err != nil {
		return nil, &replyError{code: CodeInvalidRequest, message: strings.TrimPrefix(err.Error(), preference.ErrInvalid.Error()+": ")}
	}
	userID, err := h.user(ctx, req)
	if err != nil {
		return nil, err
	}
	p, err := h.prefs.Store.Set(ctx, userID, changes)
	switch {
	case errors.Is(err, preference.ErrInvalid):
		return nil, &replyError{code: CodeInvalidRequest, message: "categories are not valid"}
	case err != nil:
		return nil, fmt.Errorf("socket: set preferences: %w", err)
	}
	log.InfoContext(ctx, "preferences set", "categories", len(changes))
	return h.preferencesReply(p), nil
}

func (h *Message) preferencesReply(p preference.Preferences) preferencesReply {
	return preferencesReply{Type: TypePreferences, Categories: h.prefs.Defaults.Effective(p), Defaults: h.prefs.Defaults.All()}
}
