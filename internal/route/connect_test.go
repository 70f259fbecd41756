package route_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/internal/testing/bgtest"
)

// token signs claims with method and key.
func token(tb testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// claims returns claims valid at t0 with extra merged in (nil values delete).
func claims(extra jwt.MapClaims) jwt.MapClaims {
	c := jwt.MapClaims{"token_type": "access", "exp": t0.Add(5 * time.Minute).Unix(), "iat": t0.Unix(), "jti": "abc"}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func hs256(tb testing.TB, extra jwt.MapClaims) string {
	return token(tb, jwt.SigningMethodHS256, testSecret, claims(extra))
}

func setHeader(req *events.APIGatewayWebsocketProxyRequest, name, value string) {
	req.Headers[name] = value
	req.MultiValueHeaders[name] = []string{value}
}

func setQuery(req *events.APIGatewayWebsocketProxyRequest, name, value string) {
	if req.QueryStringParameters == nil {
		req.QueryStringParameters = map[string]string{}
		req.MultiValueQueryStringParameters = map[string][]string{}
	}
	req.QueryStringParameters[name] = value
	req.MultiValueQueryStringParameters[name] = []string{value}
}

func newConnect(tb testing.TB, conns connection.Store) (*route.Connect, *bgtest.Buffer) {
	tb.Helper()
	log, buf := logBuffer()
	return newConnectLogging(tb, conns, log), buf
}

func TestConnectAccepts(t *testing.T) {
	good := hs256(t, jwt.MapClaims{"user_id": 42})
	tests := []struct {
		name         string
		edit         func(*events.APIGatewayWebsocketProxyRequest)
		wantUser     string
		wantProtocol string // "" means no Sec-WebSocket-Protocol header
	}{
		{
			name:         "token as the only subprotocol is echoed",
			edit:         func(r *events.APIGatewayWebsocketProxyRequest) { setHeader(r, "Sec-WebSocket-Protocol", good) },
			wantUser:     "42",
			wantProtocol: good,
		},
		{
			name: "bearer subprotocol is echoed instead of the token",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Sec-WebSocket-Protocol", "bearer, "+good)
			},
			wantUser:     "42",
			wantProtocol: "bearer",
		},
		{
			name:     "Authorization bearer",
			edit:     func(r *events.APIGatewayWebsocketProxyRequest) { setHeader(r, "authorization", "Bearer "+good) },
			wantUser: "42",
		},
		{
			name:     "query token, as the existing clients send it",
			edit:     func(r *events.APIGatewayWebsocketProxyRequest) { setQuery(r, "token", good) },
			wantUser: "42",
		},
		{
			name: "query token with a user_id parameter naming someone else",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setQuery(r, "token", good)
				setQuery(r, "user_id", "7")
			},
			wantUser: "42",
		},
		{
			name: "id claim when there is no user_id",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setQuery(r, "token", hs256(t, jwt.MapClaims{"id": "17", "username": "bob"}))
			},
			wantUser: "17",
		},
		{
			name: "username claim when there is no user_id or id",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setQuery(r, "token", hs256(t, jwt.MapClaims{"username": "bob"}))
			},
			wantUser: "bob",
		},
		{
			name: "user_id claim wins over id and username",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setQuery(r, "token", hs256(t, jwt.MapClaims{"user_id": "5", "id": "17", "username": "bob"}))
			},
			wantUser: "5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := event(t, "connect.json")
			tt.edit(&req)
			conns := newFakeConns()
			h, logs := newConnect(t, conns)

			resp, err := h.Handle(t.Context(), req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("Handle() = %d %q, %v; want 200", resp.StatusCode, resp.Body, err)
			}
			if got := resp.Headers["Sec-WebSocket-Protocol"]; got != tt.wantProtocol {
				t.Errorf("Sec-WebSocket-Protocol = %q; want %q", got, tt.wantProtocol)
			}
			want := connection.New(testConnID, tt.wantUser, t0, "49.105.91.154", req.RequestContext.Identity.UserAgent)
			if len(conns.puts) != 1 || conns.puts[0] != want {
				t.Fatalf("stored %+v; want exactly %+v", conns.puts, want)
			}
			if strings.Contains(logs.String(), good) {
				t.Errorf("log contains the token: %s", logs)
			}
		})
	}
}

func TestConnectRejects(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	query := func(tok string) func(*events.APIGatewayWebsocketProxyRequest) {
		return func(r *events.APIGatewayWebsocketProxyRequest) { setQuery(r, "token", tok) }
	}
	forged := func() string {
		mine := strings.Split(hs256(t, jwt.MapClaims{"user_id": "42"}), ".")
		admin := strings.Split(hs256(t, jwt.MapClaims{"user_id": "1"}), ".")
		return mine[0] + "." + admin[1] + "." + mine[2]
	}
	tests := []struct {
		name string
		edit func(*events.APIGatewayWebsocketProxyRequest)
		want int
	}{
		{name: "missing token", edit: func(*events.APIGatewayWebsocketProxyRequest) {}, want: http.StatusUnauthorized},
		{name: "user_id query without token (the old bypass)", edit: func(r *events.APIGatewayWebsocketProxyRequest) { setQuery(r, "user_id", "42") }, want: http.StatusUnauthorized},
		{name: "expired", edit: query(hs256(t, jwt.MapClaims{"user_id": "42", "exp": t0.Add(-time.Minute).Unix()})), want: http.StatusUnauthorized},
		{name: "without exp", edit: query(hs256(t, jwt.MapClaims{"user_id": "42", "exp": nil})), want: http.StatusUnauthorized},
		{name: "not yet valid", edit: query(hs256(t, jwt.MapClaims{"user_id": "42", "nbf": t0.Add(time.Minute).Unix()})), want: http.StatusUnauthorized},
		{name: "forged signature", edit: query(forged()), want: http.StatusUnauthorized},
		{name: "refresh token", edit: query(hs256(t, jwt.MapClaims{"user_id": "42", "token_type": "refresh"})), want: http.StatusUnauthorized},
		{name: "alg none", edit: query(token(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(jwt.MapClaims{"user_id": "42"}))), want: http.StatusUnauthorized},
		{name: "RS256", edit: query(token(t, jwt.SigningMethodRS256, rsaKey, claims(jwt.MapClaims{"user_id": "42"}))), want: http.StatusUnauthorized},
		{name: "wrong secret", edit: query(token(t, jwt.SigningMethodHS256, []byte("not-the-secret"), claims(jwt.MapClaims{"user_id": "42"}))), want: http.StatusUnauthorized},
		{name: "user claim empty", edit: query(hs256(t, jwt.MapClaims{"user_id": ""})), want: http.StatusUnauthorized},
		{name: "user claim bool", edit: query(hs256(t, jwt.MapClaims{"user_id": true})), want: http.StatusUnauthorized},
		{name: "user claim object", edit: query(hs256(t, jwt.MapClaims{"user_id": map[string]any{"id": 42}})), want: http.StatusUnauthorized},
		{name: "user claim fraction", edit: query(hs256(t, jwt.MapClaims{"user_id": 4.2})), want: http.StatusUnauthorized},
		{name: "user claim absent", edit: query(hs256(t, nil)), want: http.StatusUnauthorized},
		{name: "garbage token", edit: query("garbage"), want: http.StatusUnauthorized},
		{
			name: "bad token in the subprotocol is not rescued by a good query token",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Sec-WebSocket-Protocol", "bearer, "+hs256(t, jwt.MapClaims{"user_id": "42", "exp": t0.Add(-time.Hour).Unix()}))
				setQuery(r, "token", hs256(t, jwt.MapClaims{"user_id": "42"}))
			},
			want: http.StatusUnauthorized,
		},
		{
			name: "oversized header",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setHeader(r, "Sec-WebSocket-Protocol", "bearer, "+hs256(t, jwt.MapClaims{"user_id": "42", "pad": strings.Repeat("x", 9000)}))
			},
			want: http.StatusUnauthorized,
		},
		{
			name: "malformed event: empty",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) { *r = events.APIGatewayWebsocketProxyRequest{} },
			want: http.StatusUnauthorized,
		},
		{
			name: "malformed event: valid token but no connection id",
			edit: func(r *events.APIGatewayWebsocketProxyRequest) {
				setQuery(r, "token", hs256(t, jwt.MapClaims{"user_id": "42"}))
				r.RequestContext.ConnectionID = ""
			},
			want: http.StatusBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := event(t, "connect.json")
			tt.edit(&req)
			conns := newFakeConns()
			h, logs := newConnect(t, conns)

			resp, err := h.Handle(t.Context(), req)
			if err != nil || resp.StatusCode != tt.want {
				t.Fatalf("Handle() = %d %q, %v; want %d", resp.StatusCode, resp.Body, err, tt.want)
			}
			if n := conns.writes(); n != 0 {
				t.Fatalf("store saw %d writes; want none", n)
			}
			if resp.Body != http.StatusText(tt.want) {
				t.Errorf("body = %q; want the generic %q", resp.Body, http.StatusText(tt.want))
			}
			if _, ok := resp.Headers["Sec-WebSocket-Protocol"]; ok {
				t.Errorf("rejection echoes a subprotocol")
			}
			for _, v := range req.QueryStringParameters {
				if len(v) > 8 && strings.Contains(logs.String(), v) {
					t.Errorf("log contains a query value: %s", logs)
				}
			}
			for _, v := range req.Headers {
				if len(v) > 100 && strings.Contains(logs.String(), v) {
					t.Errorf("log contains a header value: %s", logs)
				}
			}
		})
	}
}

func TestConnectStoreFailure(t *testing.T) {
	req := event(t, "connect.json")
	setQuery(&req, "token", hs256(t, jwt.MapClaims{"user_id": "42"}))
	conns := newFakeConns()
	conns.err = errStore
	h, logs := newConnect(t, conns)

	resp, err := h.Handle(t.Context(), req)
	if err != nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("Handle() = %d, %v; want 500", resp.StatusCode, err)
	}
	if strings.Contains(resp.Body, "secret internal detail") {
		t.Errorf("body %q leaks the store error", resp.Body)
	}
	if !strings.Contains(logs.String(), "secret internal detail") {
		t.Errorf("store error not logged: %s", logs)
	}
}

func TestConnectTruncatesUserAgent(t *testing.T) {
	tests := []struct {
		name      string
		userAgent string
		want      string
	}{
		{name: "short", userAgent: "curl/8.5.0", want: "curl/8.5.0"},
		{name: "ascii cut at the limit", userAgent: strings.Repeat("a", 300), want: strings.Repeat("a", route.MaxUserAgentLength)},
		// 255 ASCII bytes then a 3-byte character straddling the limit: cut before it.
		{name: "multibyte character not split", userAgent: strings.Repeat("a", 255) + "€tail", want: strings.Repeat("a", 255)},
		{name: "invalid UTF-8 replaced", userAgent: "agent\xff", want: "agent\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := event(t, "connect.json")
			setQuery(&req, "token", hs256(t, jwt.MapClaims{"user_id": "42"}))
			req.RequestContext.Identity.UserAgent = tt.userAgent
			conns := newFakeConns()
			h, _ := newConnect(t, conns)
			if resp, _ := h.Handle(t.Context(), req); resp.StatusCode != http.StatusOK {
				t.Fatalf("Handle() = %d; want 200", resp.StatusCode)
			}
			if got := conns.puts[0].UserAgent; got != tt.want {
				t.Fatalf("stored user agent %q; want %q", got, tt.want)
			}
		})
	}
}

func TestConnectUserAgentFromHeader(t *testing.T) {
	req := event(t, "connect.json")
	setQuery(&req, "token", hs256(t, jwt.MapClaims{"user_id": "42"}))
	req.RequestContext.Identity.UserAgent = ""
	req.Headers["user-agent"] = "from-header/1.0"
	delete(req.Headers, "User-Agent")
	conns := newFakeConns()
	h, _ := newConnect(t, conns)
	if resp, _ := h.Handle(t.Context(), req); resp.StatusCode != http.StatusOK {
		t.Fatalf("Handle() = %d; want 200", resp.StatusCode)
	}
	if got := conns.puts[0].UserAgent; got != "from-header/1.0" {
		t.Fatalf("stored user agent %q; want the header's", got)
	}
}

func TestConnectLogsIdentifyTheInvocation(t *testing.T) {
	req := event(t, "connect.json")
	setQuery(&req, "token", hs256(t, jwt.MapClaims{"user_id": "42"}))
	h, logs := newConnect(t, newFakeConns())
	if _, err := h.Handle(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"apigw_request_id":"R1kmxFdUtjMFpLw="`, `"route_key":"$connect"`, `"connection_id":"` + testConnID + `"`, `"token_source":"query"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s: %s", want, logs)
		}
	}
}
