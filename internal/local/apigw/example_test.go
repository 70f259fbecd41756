package apigw_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/local/apigw"
)

// The local stack serves the same handlers the Lambda functions run; the
// management endpoint for the notifier is http://127.0.0.1:3001 (or with the
// stage, http://127.0.0.1:3001/local).
func ExampleNew() {
	handle := func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
	gw := apigw.New(apigw.Config{
		RouteSelectionExpression: "$request.body.type",
		Routes: []apigw.Route{
			{Key: apigw.RouteConnect, Handler: handle},    // connect.Handler.Handle
			{Key: apigw.RouteDisconnect, Handler: handle}, // disconnect.Handler.Handle
			{Key: apigw.RouteDefault, Handler: handle, TwoWay: true},
			{Key: "ping", Handler: handle, TwoWay: true},
		},
		Fallback: http.NotFoundHandler(), // the test page and the SQS intake
		Logger:   slog.New(slog.NewJSONHandler(os.Stdout, nil)),
	})
	srv := &http.Server{Addr: "127.0.0.1:3001", Handler: gw, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Close(shutdown) // every client gets 1001 and $disconnect runs
		_ = srv.Shutdown(shutdown)
	}()
	_ = srv.ListenAndServe()
}
