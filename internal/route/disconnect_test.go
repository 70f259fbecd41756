package route_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/route"
)

func TestDisconnect(t *testing.T) {
	mine := connection.New(testConnID, "42", t0, "49.105.91.154", "ua")
	other := connection.New("other=", "42", t0, "49.105.91.154", "ua")
	tests := []struct {
		name        string
		stored      []connection.Connection
		storeErr    error
		edit        func(*events.APIGatewayWebsocketProxyRequest)
		want        int
		wantDeletes []string
		wantLeft    []string // connection IDs still stored
	}{
		{name: "deletes the row", stored: []connection.Connection{mine, other}, want: http.StatusOK, wantDeletes: []string{testConnID}, wantLeft: []string{"other="}},
		{name: "already gone", stored: []connection.Connection{other}, want: http.StatusOK, wantDeletes: []string{testConnID}, wantLeft: []string{"other="}},
		{name: "store fails", stored: []connection.Connection{mine}, storeErr: errStore, want: http.StatusInternalServerError, wantDeletes: []string{testConnID}, wantLeft: []string{testConnID}},
		{
			name:     "event without connection id",
			stored:   []connection.Connection{mine},
			edit:     func(r *events.APIGatewayWebsocketProxyRequest) { r.RequestContext.ConnectionID = "" },
			want:     http.StatusOK,
			wantLeft: []string{testConnID},
		},
		{
			name:     "empty event",
			stored:   []connection.Connection{mine},
			edit:     func(r *events.APIGatewayWebsocketProxyRequest) { *r = events.APIGatewayWebsocketProxyRequest{} },
			want:     http.StatusOK,
			wantLeft: []string{testConnID},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := event(t, "disconnect.json")
			if tt.edit != nil {
				tt.edit(&req)
			}
			conns := newFakeConns(tt.stored...)
			conns.err = tt.storeErr
			log, logs := logBuffer()
			h := route.NewDisconnect(conns, log)

			resp, err := h.Handle(t.Context(), req)
			if err != nil || resp.StatusCode != tt.want {
				t.Fatalf("Handle() = %d, %v; want %d", resp.StatusCode, err, tt.want)
			}
			if !slices.Equal(conns.deletes, tt.wantDeletes) {
				t.Errorf("deleted %q; want %q", conns.deletes, tt.wantDeletes)
			}
			var left []string
			for id := range conns.rows {
				left = append(left, id)
			}
			slices.Sort(left)
			if !slices.Equal(left, tt.wantLeft) {
				t.Errorf("left %q; want %q", left, tt.wantLeft)
			}
			if strings.Contains(resp.Body, "secret internal detail") {
				t.Errorf("body %q leaks the store error", resp.Body)
			}
			if tt.storeErr != nil && !strings.Contains(logs.String(), "secret internal detail") {
				t.Errorf("store error not logged: %s", logs)
			}
		})
	}
}

func TestDisconnectTwice(t *testing.T) {
	conns := newFakeConns(connection.New(testConnID, "42", t0, "", ""))
	h := route.NewDisconnect(conns, nil)
	req := event(t, "disconnect.json")
	for i := range 2 {
		if resp, err := h.Handle(t.Context(), req); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d: Handle() = %d, %v; want 200", i+1, resp.StatusCode, err)
		}
	}
	if len(conns.rows) != 0 {
		t.Fatalf("rows left: %v", conns.rows)
	}
}
