package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// newStores returns the embedded stores, or DynamoDB stores on the API that
// AWS_ENDPOINT_URL names (tables created from the stores' own definitions
// when missing).
func newStores(ctx context.Context, cfg config) (stores, error) {
	if cfg.AWSEndpoint == "" {
		return stores{
			connections: connection.NewMemoryStore(time.Now),
			history:     history.NewMemoryStore(time.Now),
			workflows:   workflow.NewMemoryStore(time.Now),
		}, nil
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"))
	if err != nil {
		return stores{}, fmt.Errorf("aws config: %w", err)
	}
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(cfg.AWSEndpoint) })
	names := map[string]*dynamodb.CreateTableInput{
		cfg.TablePrefix + "connections":   connection.TableInput(cfg.TablePrefix + "connections"),
		cfg.TablePrefix + "notifications": history.TableInput(cfg.TablePrefix + "notifications"),
		cfg.TablePrefix + "workflows":     workflow.TableInput(cfg.TablePrefix + "workflows"),
	}
	for name, in := range names {
		_, err := db.CreateTable(ctx, in)
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return stores{}, fmt.Errorf("create table %s: %w", name, err)
		}
	}
	return stores{
		connections: connection.NewDynamoStore(db, cfg.TablePrefix+"connections", time.Now),
		history:     history.NewDynamoStore(db, cfg.TablePrefix+"notifications", time.Now),
		workflows:   workflow.NewDynamoStore(db, cfg.TablePrefix+"workflows", time.Now),
	}, nil
}
