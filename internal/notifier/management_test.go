package notifier_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"

	"github.com/finance/fbdi-notify/internal/notifier"
)

// TestManagementClientKeepsItsConnections: fan-outs of DefaultConcurrency
// posts at a time reuse the connections of the first one (the SDK's own
// HTTP client keeps 10 and would open about 22 more for every later fan-out).
func TestManagementClientKeepsItsConnections(t *testing.T) {
	var opened atomic.Int64
	var paths sync.Map
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths.Store(r.URL.Path, true)
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("id", "key", "")}
	api := notifier.NewManagementClient(cfg, srv.URL+"/prod")
	const rounds = 4
	var firstRound int64
	for round := range rounds {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range notifier.DefaultConcurrency {
			wg.Go(func() {
				<-start
				if _, err := api.PostToConnection(context.Background(), &apigatewaymanagementapi.PostToConnectionInput{
					ConnectionId: aws.String("abc="), Data: []byte("x")}); err != nil {
					t.Errorf("PostToConnection: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if round == 0 {
			firstRound = opened.Load()
		}
	}
	if _, ok := paths.Load("/prod/@connections/abc="); !ok {
		t.Errorf("the client did not post to the endpoint's stage path")
	}
	// Later rounds may race a connection back into the pool now and then;
	// the SDK's default would open about 22 per round.
	if later := opened.Load() - firstRound; later > 8 {
		t.Errorf("%d connections opened by the first fan-out, %d more by the %d after it; want them reused", firstRound, later, rounds-1)
	}
}
