package route_test

import (
	"bytes"
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/route"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
	"github.com/finance/fbdi-notify/internal/testing/metricstest"
)

// counted returns what rec wrote to out, flushed: the sum of each metric by
// name, and by name and Reason as "name/reason" for those that have one.
func counted(tb testing.TB, rec *metrics.Recorder, out *bytes.Buffer) map[string]float64 {
	tb.Helper()
	if err := rec.Flush(); err != nil {
		tb.Fatal(err)
	}
	got := map[string]float64{}
	for _, p := range metricstest.Parse(tb, out.Bytes()) {
		key, dims := p.Name, 1
		if r, found := p.Dims[metrics.DimReason]; found {
			key, dims = key+"/"+r, 2
		}
		if len(p.Dims) != dims || p.Dims[metrics.DimStack] != "test" || p.Unit != string(metrics.Count) {
			tb.Errorf("%s: unit %s, dimensions %v; want a Count with Stack=test and at most a Reason", p.Name, p.Unit, p.Dims)
		}
		got[key] += p.Sum()
	}
	return got
}

// TestConnectMetrics: each $connect counts once, as accepted or as refused
// for the reason the handler refused it.
func TestConnectMetrics(t *testing.T) {
	query := func(tok string) func(*events.APIGatewayWebsocketProxyRequest) {
		return func(r *events.APIGatewayWebsocketProxyRequest) { setQuery(r, "token", tok) }
	}
	refused := func(reason string) map[string]float64 {
		return map[string]float64{metrics.ConnectsRefused + "/" + reason: 1}
	}
	tests := []struct {
		name     string
		edit     func(*events.APIGatewayWebsocketProxyRequest)
		storeErr error // the connection store's
		want     map[string]float64
	}{
		{name: "accepted", edit: query(hs256(t, jwt.MapClaims{"user_id": "42"})),
			want: map[string]float64{metrics.ConnectsAccepted: 1}},
		{name: "no token", edit: func(*events.APIGatewayWebsocketProxyRequest) {}, want: refused(route.RefusedNoToken)},
		{name: "expired", edit: query(hs256(t, jwt.MapClaims{"user_id": "42", "exp": t0.Add(-time.Minute).Unix()})),
			want: refused(route.RefusedExpired)},
		{name: "refresh token", edit: query(hs256(t, jwt.MapClaims{"user_id": "42", "token_type": "refresh"})),
			want: refused(route.RefusedTokenType)},
		{name: "garbage token", edit: query("garbage"), want: refused(route.RefusedInvalidToken)},
		{name: "not yet valid", edit: query(hs256(t, jwt.MapClaims{"user_id": "42", "nbf": t0.Add(time.Minute).Unix()})),
			want: refused(route.RefusedInvalidToken)},
		{name: "no connection id", edit: func(r *events.APIGatewayWebsocketProxyRequest) {
			setQuery(r, "token", hs256(t, jwt.MapClaims{"user_id": "42"}))
			r.RequestContext.ConnectionID = ""
		}, want: refused(route.RefusedNoConnection)},
		{name: "store error", edit: query(hs256(t, jwt.MapClaims{"user_id": "42"})), storeErr: errStore,
			want: refused(route.RefusedStoreError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := event(t, "connect.json")
			tt.edit(&req)
			conns := newFakeConns()
			conns.err = tt.storeErr
			var out bytes.Buffer
			rec := metrics.New(&out, "test", func() time.Time { return t0 })
			h := newConnectLogging(t, conns, nil).WithMetrics(rec)

			if _, err := h.Handle(t.Context(), req); err != nil {
				t.Fatal(err)
			}

			if got := counted(t, rec, &out); !maps.Equal(got, tt.want) {
				t.Errorf("metrics %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRateLimitMetrics: each message refused for its connection's budget
// counts once; those let through do not.
func TestRateLimitMetrics(t *testing.T) {
	clock := clocktest.New(t0)
	conns := connection.NewMemoryStore(clock.Now)
	if err := conns.Put(t.Context(), connection.New(testConnID, "42", clock.Now(), "49.105.91.154", "ua")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rec := metrics.New(&out, "test", clock.Now)
	w := newWorld(t, func(cfg *route.MessageConfig) {
		cfg.Connections = conns
		cfg.RateLimit = connection.Limit{Units: 2, Window: time.Hour}
		cfg.Metrics = rec
	})

	for range 5 {
		w.send(t, `{"type":"ping","timestamp":1}`)
	}

	if got, want := counted(t, rec, &out), map[string]float64{metrics.MessagesRateLimited: 3}; !maps.Equal(got, want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
}
