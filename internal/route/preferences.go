package route

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
)

// Requests of a user's preferences (docs/protocol.md).
const (
	TypePreferences    = "preferences"
	TypeSetPreferences = "set_preferences"
)

// preferences answers {"type":"preferences"}. Until preferences are stored
// (internal/preference), it answers unknown_type, as before.
func (h *Message) preferences(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest, body []byte) (any, error) {
	return nil, &replyError{code: CodeUnknownType, message: "preferences are not available"}
}

// setPreferences answers {"type":"set_preferences",...}; see preferences.
func (h *Message) setPreferences(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest, body []byte) (any, error) {
	return nil, &replyError{code: CodeUnknownType, message: "preferences are not available"}
}
