package route

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notification"
)

// inboxFilter is the part of history and resume that narrows what they
// return (docs/protocol.md).
type inboxFilter struct {
	Category   *string `json:"category"`    // only this category
	UnreadOnly bool    `json:"unread_only"` // only unread notifications
}

// filter returns f as a history.Filter, or an invalid_request error naming
// the field.
func (f inboxFilter) filter() (history.Filter, error) {
	c, err := categoryField(f.Category)
	if err != nil {
		return history.Filter{}, err
	}
	return history.Filter{Category: c, UnreadOnly: f.UnreadOnly}, nil
}

// categoryField returns the category a client named, "" when the field is
// absent, and an invalid_request error for one notification.ParseCategory
// refuses (an empty string included: a filter names a category).
func categoryField(c *string) (string, error) {
	if c == nil {
		return "", nil
	}
	if *c == "" {
		return "", &replyError{code: CodeInvalidRequest, message: "category must be a category"}
	}
	category, err := notification.ParseCategory(*c)
	if err != nil {
		return "", &replyError{code: CodeInvalidRequest, message: "category must be a category"}
	}
	return category, nil
}

// archive hides the given notifications from the user's history and unread
// count, and replies with the unread count (read_state, as mark_read).
func (h *Message) archive(ctx context.Context, req events.APIGatewayWebsocketProxyRequest, body []byte) (any, error) {
	var r struct {
		IDs []string `json:"ids"`
	}
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if len(r.IDs) == 0 {
		return nil, &replyError{code: CodeInvalidRequest, message: `give "ids"`}
	}
	ids, err := notificationIDs(r.IDs)
	if err != nil {
		return nil, err
	}
	userID, err := h.user(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := h.history.Archive(ctx, userID, ids); err != nil {
		return nil, fmt.Errorf("socket: archive: %w", err)
	}
	return h.readState(ctx, "archive", userID)
}
