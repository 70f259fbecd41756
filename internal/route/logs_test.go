package route_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/golang-jwt/jwt/v5"

	"github.com/finance/fbdi-notify/internal/auth"
	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/internal/testing/logtest"
)

// The API Gateway ids of the testdata events.
var (
	connectIDs    = map[string]string{"apigw_request_id": "R1kmxFdUtjMFpLw=", "connection_id": testConnID, "route_key": "$connect"}
	disconnectIDs = map[string]string{"apigw_request_id": "R1koeHsUtjMFbRw=", "connection_id": testConnID, "route_key": "$disconnect"}
	messageIDs    = map[string]string{"apigw_request_id": "R1knPH17NjMFftw=", "connection_id": testConnID, "route_key": "ping"}
)

// TestRoutesLogTheInvocation: every line a route logs for one invocation,
// whatever its outcome, names the Lambda invocation (aws_request_id) and
// the API Gateway event (apigw_request_id, connection_id, route_key), and
// no line uses a retired key (err, request_id).
func TestRoutesLogTheInvocation(t *testing.T) {
	valid := hs256(t, jwt.MapClaims{"user_id": "42"})
	errPost := errors.New("post: connection reset")
	tests := []struct {
		name     string
		fixture  string // of testdata
		token    string // connect: the token query parameter
		body     string // message: the body
		storeErr error  // every connection store call fails with it
		postErr  error  // message: every post fails with it
		wantIDs  map[string]string
	}{
		{name: "connected", fixture: "connect.json", token: valid, wantIDs: connectIDs},
		{name: "connect rejected", fixture: "connect.json", token: "not-a-jwt", wantIDs: connectIDs},
		{name: "connect store failed", fixture: "connect.json", token: valid, storeErr: errStore, wantIDs: connectIDs},
		{name: "disconnected", fixture: "disconnect.json", wantIDs: disconnectIDs},
		{name: "disconnect store failed", fixture: "disconnect.json", storeErr: errStore, wantIDs: disconnectIDs},
		{name: "message handled", fixture: "message.json", body: `{"type":"history"}`, wantIDs: messageIDs},
		{name: "message rejected", fixture: "message.json", body: `{"type":"gossip"}`, wantIDs: messageIDs},
		{name: "resume stopped: connection gone", fixture: "message.json", body: `{"type":"resume"}`,
			postErr: route.ErrGone, wantIDs: messageIDs},
		{name: "message failed", fixture: "message.json", body: `{"type":"resume"}`, postErr: errPost, wantIDs: messageIDs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logs := logtest.New()
			conns := newFakeConns(connection.New(testConnID, "42", t0, "49.105.91.154", "ua"))
			conns.err = tt.storeErr
			req := event(t, tt.fixture)
			var h func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)
			switch tt.fixture {
			case "connect.json":
				setQuery(&req, "token", tt.token)
				h = newConnectLogging(t, conns, log).Handle
			case "disconnect.json":
				h = route.NewDisconnect(conns, log).Handle
			default:
				req.Body = tt.body
				w := newWorld(t, func(c *route.MessageConfig) { c.Connections, c.Logger = conns, log })
				w.poster.fail = func(int) error { return tt.postErr }
				h = w.h.Handle
			}
			ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-" + tt.name})
			if _, err := h(ctx, req); err != nil {
				t.Fatal(err)
			}
			want := maps.Clone(tt.wantIDs)
			want["aws_request_id"] = "lambda-" + tt.name
			logs.Check(t, want)
		})
	}
}

// newConnectLogging returns a Connect over conns that logs to log, with
// the clock at t0.
func newConnectLogging(tb testing.TB, conns connection.Store, log *slog.Logger) *route.Connect {
	tb.Helper()
	v, err := auth.NewVerifier(testSecret, auth.DefaultLeeway, func() time.Time { return t0 })
	if err != nil {
		tb.Fatal(err)
	}
	return route.NewConnect(v, conns, func() time.Time { return t0 }, log)
}
