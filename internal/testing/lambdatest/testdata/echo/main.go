// Command echo is a throwaway Lambda function for the lambdatest tests: it
// answers each event with the event, an environment variable, facts from the
// Lambda context, and how many times this process has been invoked.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Say  string `json:"say"`
	Fail bool   `json:"fail"`
}

type reply struct {
	Said         string `json:"said"`
	Greeting     string `json:"greeting"`      // env GREETING
	Leak         string `json:"leak"`          // env LAMBDATEST_LEAK, which must not be set
	RuntimeAPI   bool   `json:"runtime_api"`   // AWS_LAMBDA_RUNTIME_API is set
	RequestID    string `json:"request_id"`    // from the Lambda context
	HasDeadline  bool   `json:"has_deadline"`  // the context carries the function timeout
	Invocations  int    `json:"invocations"`   // in this process
	FunctionName string `json:"function_name"` // lambdacontext.FunctionName
	MetadataOff  string `json:"metadata_off"`  // AWS_EC2_METADATA_DISABLED
}

func main() {
	count := 0 // kept across invocations, as in a warm Lambda environment
	lambda.Start(func(ctx context.Context, e event) (reply, error) {
		count++
		fmt.Printf("echo invocation %d\n", count)
		if d, err := time.ParseDuration(os.Getenv("ECHO_SLEEP")); err == nil {
			time.Sleep(d) // ignores ctx on purpose: this is how a hung handler looks
		}
		if e.Fail {
			return reply{}, errors.New("asked to fail")
		}
		lc, _ := lambdacontext.FromContext(ctx)
		_, hasDeadline := ctx.Deadline()
		r := reply{Said: e.Say, Greeting: os.Getenv("GREETING"), Leak: os.Getenv("LAMBDATEST_LEAK"),
			RuntimeAPI: os.Getenv("AWS_LAMBDA_RUNTIME_API") != "", HasDeadline: hasDeadline,
			Invocations: count, FunctionName: lambdacontext.FunctionName,
			MetadataOff: os.Getenv("AWS_EC2_METADATA_DISABLED")}
		if lc != nil {
			r.RequestID = lc.AwsRequestID
		}
		_ = json.NewEncoder(os.Stderr).Encode(map[string]int{"stderr_invocation": count})
		return r, nil
	})
}
