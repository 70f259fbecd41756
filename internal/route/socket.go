// Package route handles the routes of the API Gateway WebSocket API.
//
// Connect authenticates a client on $connect and records its connection,
// Disconnect forgets it on $disconnect, and Message answers what clients send
// (routes ping, resume, history, mark_read, status and $default;
// docs/protocol.md#client-to-server). The Lambda functions and the local stack invoke the same Handle methods
// with the same event shapes.
//
// Handlers never return an error to the runtime: every outcome is a response,
// so API Gateway sees a deliberate status code and message routes keep the
// connection open. Clients never see internal error text; details are logged.
package route

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
)

// ErrGone is the error a Poster returns, or wraps, when the connection it
// posts to no longer exists: connection.ErrGone, which *notifier.Notifier
// returns too, so a Notifier is a Poster as it is.
var ErrGone = connection.ErrGone

// Poster sends data to one WebSocket connection through the API Gateway
// management API. PostTo returns an error matching ErrGone if the connection
// no longer exists.
type Poster interface {
	PostTo(ctx context.Context, connectionID string, data []byte) error
}

// invocation returns the logger of one invocation, and ctx carrying it
// (lambdaenv.Invocation): log with the Lambda request id and the event's API
// Gateway request id, connection id and route key. It never adds headers or
// the query string, which may hold a token.
func invocation(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest) (context.Context, *slog.Logger) {
	rc := req.RequestContext
	return lambdaenv.Invocation(ctx, log,
		slog.String("apigw_request_id", rc.RequestID),
		slog.String("connection_id", rc.ConnectionID),
		slog.String("route_key", rc.RouteKey))
}

// status returns a response with code and its standard text as the body.
func status(code int) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{
		StatusCode: code,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body:       http.StatusText(code),
	}
}

// orDiscard returns log, or a logger that discards everything if log is nil.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
