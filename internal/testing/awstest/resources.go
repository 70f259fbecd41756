package awstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// cleanupTimeout bounds the deletion of a test's table or queue, which runs
// after the test's own context has ended.
const cleanupTimeout = 30 * time.Second

// Table creates the table that input describes, waits until it is active,
// enables TTL on ttlAttribute (none when it is "") and deletes the table when
// tb ends. It returns the table's name, input.TableName, which should come
// from UniqueName. Any failure to set the table up fails tb; a failure to
// delete it is only logged.
//
// A CreateTableInput holds no TTL, because DynamoDB sets it with a separate
// UpdateTimeToLive call; Table makes that call. TemplateTable makes a table
// of template.yaml with it.
func Table(tb testing.TB, client *dynamodb.Client, input *dynamodb.CreateTableInput, ttlAttribute string) string {
	tb.Helper()
	name := aws.ToString(input.TableName)
	if name == "" {
		tb.Fatal("awstest: CreateTableInput has no TableName")
	}
	ctx := Context(tb)
	// Names are unique to a test (UniqueName), so "already exists" can only
	// mean that the SDK retried a CreateTable whose first attempt landed
	// while moto_server was slow to answer: the table is ours.
	var inUse *types.ResourceInUseException
	if _, err := client.CreateTable(ctx, input); err != nil && !errors.As(err, &inUse) {
		tb.Fatalf("create table %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			tb.Logf("delete table %s: %v", name, err)
		}
	})
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		tb.Fatalf("wait for table %s: %v", name, err)
	}
	if ttlAttribute == "" {
		return name
	}
	if _, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(ttlAttribute), Enabled: aws.Bool(true),
		},
	}); err != nil {
		tb.Fatalf("enable TTL on %s.%s: %v", name, ttlAttribute, err)
	}
	return name
}

// Queue creates a standard queue named UniqueName(tb, prefix), deletes it
// when tb ends and returns its URL. A failure to create it fails tb; a
// failure to delete it is only logged.
func Queue(tb testing.TB, client *sqs.Client, prefix string) string {
	tb.Helper()
	name := UniqueName(tb, prefix)
	out, err := client.CreateQueue(Context(tb), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		tb.Fatalf("create queue %s: %v", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if _, err := client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			tb.Logf("delete queue %s: %v", name, err)
		}
	})
	return url
}
