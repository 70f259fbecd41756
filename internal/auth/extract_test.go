package auth_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/auth"
)

// connectEvent returns the $connect event in testdata, which carries no credentials.
func connectEvent(tb testing.TB) events.APIGatewayWebsocketProxyRequest {
	tb.Helper()
	raw, err := os.ReadFile("testdata/connect.json")
	if err != nil {
		tb.Fatal(err)
	}
	var req events.APIGatewayWebsocketProxyRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		tb.Fatal(err)
	}
	return req
}

// setHeader sets a header the way API Gateway does: in Headers (last value)
// and in MultiValueHeaders (every value).
func setHeader(req *events.APIGatewayWebsocketProxyRequest, name string, values ...string) {
	req.Headers[name] = values[len(values)-1]
	req.MultiValueHeaders[name] = values
}

// setQuery sets a query parameter the way API Gateway does.
func setQuery(req *events.APIGatewayWebsocketProxyRequest, name string, values ...string) {
	if req.QueryStringParameters == nil {
		req.QueryStringParameters = map[string]string{}
		req.MultiValueQueryStringParameters = map[string][]string{}
	}
	req.QueryStringParameters[name] = values[len(values)-1]
	req.MultiValueQueryStringParameters[name] = values
}

func TestExtract(t *testing.T) {
	const (
		jwtA = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiYSJ9.c2lnbmF0dXJlQQ"
		jwtB = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiYiJ9.c2lnbmF0dXJlQg"
		jwtC = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiYyJ9.c2lnbmF0dXJlQw"
	)
	big := strings.Repeat("a", auth.MaxTokenSize)
	tests := []struct {
		name    string
		edit    func(*events.APIGatewayWebsocketProxyRequest)
		want    auth.Credentials
		wantErr error
	}{
		{
			name: "token as the only protocol offer is echoed",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) { setHeader(r, "Sec-WebSocket-Protocol", jwtA) },
			want: auth.Credentials{Token: jwtA, Source: auth.FromProtocol, Protocol: jwtA},
		},
		{
			name: "plain name offered before the token is echoed instead",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Sec-WebSocket-Protocol", "bearer, "+jwtA)
			},
			want: auth.Credentials{Token: jwtA, Source: auth.FromProtocol, Protocol: "bearer"},
		},
		{
			name: "plain name offered after the token is echoed instead",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Sec-WebSocket-Protocol", jwtA+",bearer")
			},
			want: auth.Credentials{Token: jwtA, Source: auth.FromProtocol, Protocol: "bearer"},
		},
		{
			name: "offers split over several header lines",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Sec-WebSocket-Protocol", "access_token", jwtA)
			},
			want: auth.Credentials{Token: jwtA, Source: auth.FromProtocol, Protocol: "access_token"},
		},
		{
			name: "first token-shaped offer wins",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Sec-WebSocket-Protocol", jwtA+", "+jwtB)
			},
			want: auth.Credentials{Token: jwtA, Source: auth.FromProtocol, Protocol: jwtA},
		},
		{
			name: "lower-case header name in Headers only",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				r.Headers["sec-websocket-protocol"] = "bearer, " + jwtA
			},
			want: auth.Credentials{Token: jwtA, Source: auth.FromProtocol, Protocol: "bearer"},
		},
		{
			name: "header in MultiValueHeaders only",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				r.MultiValueHeaders["SEC-WEBSOCKET-PROTOCOL"] = []string{jwtA}
			},
			want: auth.Credentials{Token: jwtA, Source: auth.FromProtocol, Protocol: jwtA},
		},
		{
			name: "no MultiValueHeaders at all",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				r.MultiValueHeaders = nil
				r.Headers["Authorization"] = "Bearer " + jwtA
			},
			want: auth.Credentials{Token: jwtA, Source: auth.FromAuthorization},
		},
		{
			name: "protocol wins over Authorization and query",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Sec-WebSocket-Protocol", jwtA)
				setHeader(r, "Authorization", "Bearer "+jwtB)
				setQuery(r, "token", jwtC)
			},
			want: auth.Credentials{Token: jwtA, Source: auth.FromProtocol, Protocol: jwtA},
		},
		{
			name: "Authorization bearer",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) { setHeader(r, "Authorization", "Bearer "+jwtB) },
			want: auth.Credentials{Token: jwtB, Source: auth.FromAuthorization},
		},
		{
			name: "Authorization scheme and name are case-insensitive",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) { setHeader(r, "authorization", "bearer  "+jwtB) },
			want: auth.Credentials{Token: jwtB, Source: auth.FromAuthorization},
		},
		{
			name: "Authorization wins over query",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Authorization", "Bearer "+jwtB)
				setQuery(r, "token", jwtC)
			},
			want: auth.Credentials{Token: jwtB, Source: auth.FromAuthorization},
		},
		{
			name: "protocol without a token is still echoed for a header token",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Sec-WebSocket-Protocol", "graphql-ws, json")
				setHeader(r, "Authorization", "Bearer "+jwtB)
			},
			want: auth.Credentials{Token: jwtB, Source: auth.FromAuthorization, Protocol: "graphql-ws"},
		},
		{
			name: "Basic authorization is ignored",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Authorization", "Basic dXNlcjpwYXNz")
				setQuery(r, "token", jwtC)
			},
			want: auth.Credentials{Token: jwtC, Source: auth.FromQuery},
		},
		{
			name: "query token",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) { setQuery(r, "token", jwtC) },
			want: auth.Credentials{Token: jwtC, Source: auth.FromQuery},
		},
		{
			name: "query token without multi-value parameters",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				r.QueryStringParameters = map[string]string{"token": jwtC}
			},
			want: auth.Credentials{Token: jwtC, Source: auth.FromQuery},
		},

		{name: "no credentials", edit: func(*events.APIGatewayWebsocketProxyRequest) {}, wantErr: auth.ErrNoToken},
		{
			name:    "user_id query without token",
			edit:    func(r *events.APIGatewayWebsocketProxyRequest) { setQuery(r, "user_id", "42") },
			wantErr: auth.ErrNoToken,
		},
		{
			name:    "empty query token",
			edit:    func(r *events.APIGatewayWebsocketProxyRequest) { setQuery(r, "token", "") },
			wantErr: auth.ErrNoToken,
		},
		{
			name:    "query parameter names are case-sensitive",
			edit:    func(r *events.APIGatewayWebsocketProxyRequest) { setQuery(r, "TOKEN", jwtC) },
			wantErr: auth.ErrNoToken,
		},
		{
			name:    "Bearer without token",
			edit:    func(r *events.APIGatewayWebsocketProxyRequest) { setHeader(r, "Authorization", "Bearer ") },
			wantErr: auth.ErrNoToken,
		},
		{
			name:    "protocol names only",
			edit:    func(r *events.APIGatewayWebsocketProxyRequest) { setHeader(r, "Sec-WebSocket-Protocol", "bearer") },
			wantErr: auth.ErrNoToken,
		},
		{
			name: "oversized protocol header",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Sec-WebSocket-Protocol", "bearer, "+big)
			},
			wantErr: auth.ErrTooLarge,
		},
		{
			name: "oversized protocol header over several lines",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Sec-WebSocket-Protocol", big[:auth.MaxTokenSize/2], big[:auth.MaxTokenSize/2+1])
			},
			wantErr: auth.ErrTooLarge,
		},
		{
			name:    "oversized Authorization header",
			edit:    func(r *events.APIGatewayWebsocketProxyRequest) { setHeader(r, "Authorization", "Bearer "+big) },
			wantErr: auth.ErrTooLarge,
		},
		{
			name:    "oversized query token",
			edit:    func(r *events.APIGatewayWebsocketProxyRequest) { setQuery(r, "token", big+"a") },
			wantErr: auth.ErrTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := connectEvent(t)
			tt.edit(&req)
			got, err := auth.Extract(req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Extract() error = %v; want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("Extract() = %+v (token %q, protocol %q); want token %q, protocol %q",
					got, got.Token, got.Protocol, tt.want.Token, tt.want.Protocol)
			}
		})
	}
}

func TestCredentialsNeverPrintToken(t *testing.T) {
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiYSJ9.c2lnbmF0dXJlQQ"
	c := auth.Credentials{Token: token, Source: auth.FromProtocol, Protocol: token}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("connect", "credentials", c)
	for _, text := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), c.String(), logged.String()} {
		assertNoTokenIn(t, text, token)
		if !strings.Contains(text, "protocol") {
			t.Errorf("%q does not say where the token came from", text)
		}
	}
}
