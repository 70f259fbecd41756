package awstest

import (
	"context"
	"maps"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// Calls counts the operations that SDK clients make, by operation name
// (PutItem, Query, SendMessage, ...). It is safe for concurrent use.
//
// A test that pins what a store costs counts on the real client instead of
// wrapping it, so every operation is seen, including one the test did not
// think of.
type Calls struct {
	mu sync.Mutex
	n  map[string]int
}

// CountCalls returns a config for moto_server, as Config does, whose clients
// count their operations in the returned Calls: one per call of a client
// method (the SDK's retries of it are not counted), so one per page of a
// paginator.
func CountCalls(tb testing.TB) (aws.Config, *Calls) {
	tb.Helper()
	cfg := Config(tb)
	c := &Calls{}
	cfg.APIOptions = append(cfg.APIOptions, c.register)
	return cfg, c
}

// register adds the counting step to one operation's middleware stack.
func (c *Calls) register(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awstest.Calls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
			middleware.InitializeOutput, middleware.Metadata, error,
		) {
			c.add(middleware.GetOperationName(ctx))
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (c *Calls) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[op]++
}

// Reset returns the counts since the last Reset (or since the config was
// made), never nil, and starts again from zero.
func (c *Calls) Reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	if n == nil {
		n = map[string]int{}
	}
	return n
}

// CallsCase is one row of a test that pins the SDK calls an operation makes.
type CallsCase struct {
	Name string
	Op   func(ctx context.Context) error
	Want map[string]int // operation -> calls; empty when Op must make none
}

// Check runs each case, in order, as a subtest of t: the subtest fails if
// Op returns an error or makes other calls than Want, counted by c.
func (c *Calls) Check(t *testing.T, ctx context.Context, cases []CallsCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			c.Reset()
			if err := tc.Op(ctx); err != nil {
				t.Fatal(err)
			}
			if got := c.Reset(); !maps.Equal(got, tc.Want) {
				t.Errorf("calls = %v, want %v", got, tc.Want)
			}
		})
	}
}
