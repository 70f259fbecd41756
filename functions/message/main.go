// Command message is the MessageFunction: it answers the client messages of
// routes $default, ping, resume, history, mark_read and status (socket.Message).
// Resume posts through the management API at MANAGEMENT_ENDPOINT, or at the
// event's https://{domainName}/{stage} when that is unset.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/socket"
)

func main() {
	var level slog.Level
	_ = level.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))) // unset or unknown: info
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("bad configuration", "aws_error", err)
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	conns := connection.NewDynamoStore(db, os.Getenv("CONNECTIONS_TABLE"), time.Now)
	hist := history.NewDynamoStore(db, os.Getenv("NOTIFICATIONS_TABLE"), time.Now)
	h := socket.NewMessage(socket.MessageConfig{
		Connections: conns,
		History:     hist,
		Posters: func(endpoint string) socket.Poster {
			api := apigatewaymanagementapi.NewFromConfig(cfg, func(o *apigatewaymanagementapi.Options) { o.BaseEndpoint = aws.String(endpoint) })
			return gonePoster{notifier.New(conns, hist, api, notifier.Options{Logger: log})}
		},
		Endpoint: os.Getenv("MANAGEMENT_ENDPOINT"),
		// wired by the lead: the workflow store's status lookup replaces this placeholder.
		Status: func(context.Context, string, string) (any, bool, error) { return nil, false, nil },
		Logger: log,
	})
	lambda.Start(h.Handle)
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
