package route

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/connection"
)

// CodeRateLimited is the error code of a message refused because its
// connection has spent its budget: the reply carries retry_after, in whole
// seconds.
const CodeRateLimited = "rate_limited"

// DefaultRateLimit is each connection's budget of client messages when
// MessageConfig.RateLimit is zero: 100 units per 10 s window. Every message
// costs one unit, a resume more (see Cost).
var DefaultRateLimit = connection.Limit{Units: 100, Window: 10 * time.Second}

// resumeUnitPosts is how many notifications a resume may replay for one unit
// beyond the unit every message costs.
const resumeUnitPosts = 20

// Cost returns the units a client message costs: one, and for a resume one
// more per resumeUnitPosts notifications it may replay (its limit, clamped
// as resume clamps it; the default when absent or not a number), so that a
// resume of 100 costs 6 and one of 500 costs 26. A body that is not a JSON
// object costs one.
func Cost(body []byte) int {
	var m struct {
		Type  any `json:"type"`
		Limit any `json:"limit"`
	}
	if json.Unmarshal(body, &m) != nil || m.Type != TypeResume {
		return 1
	}
	n := float64(DefaultResumeLimit)
	if asked, ok := m.Limit.(float64); ok && asked >= 1 {
		n = min(math.Floor(asked), MaxResumeLimit)
	}
	return 1 + int(math.Ceil(n/resumeUnitPosts))
}

// rateLimited is the reply to a message over its connection's budget.
type rateLimited struct {
	retryAfter time.Duration
}

func (e *rateLimited) Error() string { return "socket: " + CodeRateLimited }

func (e *rateLimited) reply() any {
	return struct {
		errorReply
		RetryAfter int `json:"retry_after"` // whole seconds, at least 1
	}{
		errorReply: errorReply{Type: TypeError, Code: CodeRateLimited, Message: "too many messages on this connection; retry later"},
		RetryAfter: max(1, int(math.Ceil(e.retryAfter.Seconds()))),
	}
}

// spend takes the message's cost from its connection's budget, with one
// conditional write on the connection's row (connection.Store.Spend). It
// returns a *rateLimited when the budget is spent. A connection that is not
// registered is left for the request itself to refuse (or, for ping, to
// answer), and a store that fails lets the message through, logged: the
// limit guards against floods, and a flood cannot make the store fail.
func (h *Message) spend(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest) error {
	body, _, err := parse(req)
	if err != nil {
		body = nil // costs one, like any message; dispatch tells the client what is wrong
	}
	retryAfter, err := h.conns.Spend(ctx, req.RequestContext.ConnectionID, Cost(body), h.rate)
	switch {
	case errors.Is(err, connection.ErrRateLimited):
		return &rateLimited{retryAfter: retryAfter}
	case errors.Is(err, connection.ErrNotFound), err == nil:
		return nil
	default:
		log.Warn("rate limit not checked", slog.Any("error", err))
		return nil
	}
}
