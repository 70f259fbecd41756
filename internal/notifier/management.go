package notifier

import (
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/preference"
)

// NewManagementClient returns the API Gateway management API client a
// function posts through: cfg's region, credentials and retryer, endpoint
// (https://{api-id}.execute-api.{region}.amazonaws.com/{stage}) as its base
// endpoint, and an HTTP client that keeps DefaultConcurrency idle
// connections to it. The SDK's default keeps 10 per host, so every fan-out
// wider than that closed the other connections after use and opened them
// again, with a TLS handshake each, on the next one.
func NewManagementClient(cfg aws.Config, endpoint string) *apigatewaymanagementapi.Client {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = DefaultConcurrency
	})
	return apigatewaymanagementapi.NewFromConfig(cfg, func(o *apigatewaymanagementapi.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = httpClient
	})
}

// NewDynamo returns the Notifier of a deployed function: connections and
// history in the DynamoDB tables connectionsTable and notificationsTable
// (through db), posts through the management API at endpoint
// (NewManagementClient), the real clock. Unless opts sets Preferences, the
// users' preferences are their rows of notificationsTable.
func NewDynamo(cfg aws.Config, db *dynamodb.Client, connectionsTable, notificationsTable, endpoint string, opts Options) *Notifier {
	if opts.Preferences == nil {
		opts.Preferences = preference.NewDynamoStore(db, notificationsTable)
	}
	return New(connection.NewDynamoStore(db, connectionsTable, time.Now), history.NewDynamoStore(db, notificationsTable, time.Now),
		NewManagementClient(cfg, endpoint), opts)
}
