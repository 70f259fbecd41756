package awstest

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// ErrUnexpected is the error of a FakeDynamoDB operation whose function the
// test did not set.
var ErrUnexpected = errors.New("awstest: unexpected call")

// FakeDynamoDB is a DynamoDB client for unit tests that need no server: each
// operation runs the function its test set in the matching field, and fails
// with an error wrapping ErrUnexpected when that field is nil. It has the
// operations that the DynamoDB stores of this module use.
//
// FakeDynamoDB adds no locking: when the code under test calls concurrently,
// the functions must be safe for concurrent use.
type FakeDynamoDB struct {
	GetItemFn    func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	PutItemFn    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	UpdateItemFn func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	DeleteItemFn func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error)
	QueryFn      func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error)
}

// GetItem runs GetItemFn.
func (f *FakeDynamoDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return call("GetItem", f.GetItemFn, in)
}

// PutItem runs PutItemFn.
func (f *FakeDynamoDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return call("PutItem", f.PutItemFn, in)
}

// UpdateItem runs UpdateItemFn.
func (f *FakeDynamoDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return call("UpdateItem", f.UpdateItemFn, in)
}

// DeleteItem runs DeleteItemFn.
func (f *FakeDynamoDB) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return call("DeleteItem", f.DeleteItemFn, in)
}

// Query runs QueryFn.
func (f *FakeDynamoDB) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return call("Query", f.QueryFn, in)
}

// call runs fn, or fails naming op when the test did not set it.
func call[In, Out any](op string, fn func(In) (Out, error), in In) (Out, error) {
	if fn == nil {
		var zero Out
		return zero, fmt.Errorf("%w: %s", ErrUnexpected, op)
	}
	return fn(in)
}
