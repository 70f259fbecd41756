// Package route handles the routes of the API Gateway WebSocket API.
//
// Connect authenticates a client on $connect and records its connection,
// Disconnect forgets it on $disconnect, and Message answers what clients send
// (routes ping, resume, history, mark_read, status and $default; SPEC section
// 1). The Lambda functions and the local stack invoke the same Handle methods
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
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/finance/fbdi-notify/internal/connection"
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

// requestLogger returns log with the attributes that identify one invocation.
// It never adds headers or the query string, which may hold a token.
func requestLogger(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest) *slog.Logger {
	rc := req.RequestContext
	attrs := []any{
		slog.String("request_id", rc.RequestID),
		slog.String("route", rc.RouteKey),
		slog.String("connection_id", rc.ConnectionID),
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("aws_request_id", lc.AwsRequestID))
	}
	return log.With(attrs...)
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
