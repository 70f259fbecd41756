// Command message is the MessageFunction: it answers the client messages of
// routes $default, ping, resume, history, mark_read and status (socket.Message).
// Resume posts through the management API at MANAGEMENT_ENDPOINT, or at the
// event's https://{domainName}/{stage} when that is unset.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/socket"
	"github.com/finance/fbdi-notify/internal/workflow"
)

func main() {
	log := lambdaenv.Logger(os.Getenv)
	cfg, err := lambdaenv.AWSConfig(os.Getenv)
	if err != nil {
		log.Error("bad configuration", "aws_error", err)
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	conns := connection.NewDynamoStore(db, os.Getenv("CONNECTIONS_TABLE"), time.Now)
	hist := history.NewDynamoStore(db, os.Getenv("NOTIFICATIONS_TABLE"), time.Now)
	posters := &posterCache{new: func(endpoint string) socket.Poster {
		api := notifier.NewManagementClient(cfg, endpoint)
		return gonePoster{notifier.New(conns, hist, api, notifier.Options{Logger: log})}
	}}
	h := socket.NewMessage(socket.MessageConfig{
		Connections: conns,
		History:     hist,
		Posters:     posters.get, // one client per endpoint, built on first use and kept
		Endpoint:    os.Getenv("MANAGEMENT_ENDPOINT"),
		Status:      workflow.NewService(workflow.NewDynamoStore(db, os.Getenv("WORKFLOWS_TABLE"), time.Now)).Status,
		Logger:      log,
	})
	lambda.Start(h.Handle)
}

// posterCache keeps one management API client per endpoint for the life of
// the execution environment.
type posterCache struct {
	mu      sync.Mutex
	posters map[string]socket.Poster
	new     func(endpoint string) socket.Poster
}

func (c *posterCache) get(endpoint string) socket.Poster {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.posters[endpoint]
	if !ok {
		if c.posters == nil {
			c.posters = map[string]socket.Poster{}
		}
		p = c.new(endpoint)
		c.posters[endpoint] = p
	}
	return p
}

// gonePoster reports the notifier's gone connections as socket.ErrGone.
type gonePoster struct{ n *notifier.Notifier }

func (p gonePoster) PostTo(ctx context.Context, connectionID string, data []byte) error {
	err := p.n.PostTo(ctx, connectionID, data)
	if errors.Is(err, notifier.ErrGone) {
		return fmt.Errorf("%w: %w", socket.ErrGone, err)
	}
	return err
}
