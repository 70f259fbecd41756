// Package invoke calls Lambda functions through the Lambda Invoke API (the
// Lambda service, or `sam local start-lambda` on this machine), so that the
// local gateway and the local event-source pollers can hand their events to
// functions that run elsewhere, exactly as API Gateway and Lambda's
// event-source mappings do.
package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// API is the part of the Lambda client that Func uses.
type API interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// ErrFunction means the function ran and failed: it returned an error,
// panicked, timed out or crashed (the Invoke API's X-Amz-Function-Error).
// An event source then treats the event as failed, as on AWS.
var ErrFunction = errors.New("invoke: function error")

// FunctionError is the error object Lambda returns for a failed function.
type FunctionError struct {
	Function string
	Kind     string // X-Amz-Function-Error: Unhandled or Handled
	Type     string `json:"errorType"`
	Message  string `json:"errorMessage"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("invoke: %s failed (%s): %s: %s", e.Function, e.Kind, e.Type, e.Message)
}

// Unwrap makes errors.Is(err, ErrFunction) true.
func (e *FunctionError) Unwrap() error { return ErrFunction }

// Func returns a handler that invokes function (a name, ARN or, for `sam
// local start-lambda`, the template's logical ID) synchronously with the
// JSON of its event and decodes the function's answer into Out: the same
// signature as the function's own handler, so that it plugs in where that
// handler would. A function error is a *FunctionError (errors.Is
// ErrFunction); an answer that does not decode is an error too.
func Func[In, Out any](api API, function string) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, ev In) (Out, error) {
		var out Out
		payload, err := json.Marshal(ev)
		if err != nil {
			return out, fmt.Errorf("invoke: %s: encode event: %w", function, err)
		}
		res, err := api.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(function), Payload: payload,
			InvocationType: types.InvocationTypeRequestResponse})
		if err != nil {
			return out, fmt.Errorf("invoke: %s: %w", function, err)
		}
		if res.FunctionError != nil {
			fe := &FunctionError{Function: function, Kind: aws.ToString(res.FunctionError)}
			if json.Unmarshal(res.Payload, fe) != nil || fe.Message == "" {
				fe.Message = string(res.Payload)
			}
			return out, fe
		}
		if err := json.Unmarshal(res.Payload, &out); err != nil {
			return out, fmt.Errorf("invoke: %s: decode the answer %.200q: %w", function, res.Payload, err)
		}
		return out, nil
	}
}
