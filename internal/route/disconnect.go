package route

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/connection"
)

// Disconnect handles $disconnect: it forgets the connection. It is safe for
// concurrent use.
type Disconnect struct {
	conns connection.Store
	log   *slog.Logger
}

// NewDisconnect returns a Disconnect that removes connections from conns and
// logs to log (nil: discard).
func NewDisconnect(conns connection.Store, log *slog.Logger) *Disconnect {
	return &Disconnect{conns: conns, log: orDiscard(log)}
}

// Handle deletes the connection's row. It is idempotent: a connection that is
// already gone, or an event without a connection ID, gives 200. It returns
// 500 only if the store fails. The error is always nil. (API Gateway ignores
// the $disconnect response; the status shows in the logs and metrics.)
func (h *Disconnect) Handle(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	ctx, log := invocation(ctx, h.log, req)
	id := req.RequestContext.ConnectionID
	if id == "" {
		log.Warn("disconnect event without connection id")
		return status(http.StatusOK), nil
	}
	if err := h.conns.Delete(ctx, id); err != nil {
		log.Error("disconnect store failed", slog.Any("error", err))
		return status(http.StatusInternalServerError), nil
	}
	log.Info("disconnected", slog.Int64("close_code", req.RequestContext.DisconnectStatusCode))
	return status(http.StatusOK), nil
}
