// Package awstest connects tests to a real AWS API server (moto_server) that
// `make test` starts and names in MOTO_ENDPOINT, and gives them what the
// tests of every store need around it: tables and queues made for one test
// (Table, Queue), a count of the calls a store makes (CountCalls), and a
// scripted DynamoDB client for unit tests that need no server (FakeDynamoDB).
//
// Without MOTO_ENDPOINT a test that needs the server is skipped when run by
// hand with plain `go test`, and fails under CI (CI set), so it is never
// silently skipped there.
package awstest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// EnvEndpoint names the environment variable holding the moto_server URL.
const EnvEndpoint = "MOTO_ENDPOINT"

// Endpoint returns the moto_server URL, skipping (or, under CI, failing) tb
// when none is configured.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	ep := os.Getenv(EnvEndpoint)
	if ep == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is not set: run the tests with `make test`, which starts moto_server", EnvEndpoint)
		}
		tb.Skipf("%s is not set: run `make test` to include tests against moto_server", EnvEndpoint)
	}
	return ep
}

// Config returns an AWS config that talks to moto_server with dummy credentials.
func Config(tb testing.TB) aws.Config {
	tb.Helper()
	ep := Endpoint(tb)
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(ep),
		RetryMaxAttempts: 3,
	}
}

// DynamoDB returns a DynamoDB client for moto_server.
func DynamoDB(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	return dynamodb.NewFromConfig(Config(tb))
}

// SQS returns an SQS client for moto_server.
func SQS(tb testing.TB) *sqs.Client {
	tb.Helper()
	return sqs.NewFromConfig(Config(tb))
}

var seq atomic.Int64

// UniqueName returns a name no other test in this run uses, for a table or queue.
func UniqueName(tb testing.TB, prefix string) string {
	tb.Helper()
	n := seq.Add(1)
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, tb.Name())
	if len(clean) > 40 {
		clean = clean[len(clean)-40:]
	}
	return fmt.Sprintf("%s-%s-%d-%d", prefix, clean, time.Now().UnixNano()%1e6, n)
}

// Context returns a context that ends with the test, bounded by a minute.
func Context(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	return ctx
}
