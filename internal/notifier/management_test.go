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
// posts at a time reuse their connections (the SDK's own HTTP client keeps
// 10 and would open about 22 more for every later fan-out).
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
	for range rounds {
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
	}
	if _, ok := paths.Load("/prod/@connections/abc="); !ok {
		t.Errorf("the client did not post to the endpoint's stage path")
	}
	// At most DefaultConcurrency posts are in flight, so as many connections
	// serve every round; a dial racing a connection back into the pool may
	// add a few. The SDK's default keeps 10 and opens about 22 per round.
	if n := opened.Load(); n > notifier.DefaultConcurrency+8 {
		t.Errorf("%d connections opened by %d fan-outs of %d posts; want them reused (at most about %d)",
			n, rounds, notifier.DefaultConcurrency, notifier.DefaultConcurrency)
	}
}
