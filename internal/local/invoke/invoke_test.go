package invoke_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/finance/fbdi-notify/internal/local/invoke"
)

// invokeAPI is an HTTP server speaking the Lambda Invoke API
// (POST /2015-03-31/functions/{name}/invocations) as AWS and `sam local
// start-lambda` do; answer gives the function's status, X-Amz-Function-Error
// and body for the event it received.
func invokeAPI(t *testing.T, answer func(function string, event []byte) (int, string, string)) *lambda.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
		name, ok2 := strings.CutSuffix(name, "/invocations")
		if !ok || !ok2 || r.Method != http.MethodPost {
			http.Error(w, "not the Invoke API", http.StatusNotFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		status, functionError, out := answer(name, body)
		if functionError != "" {
			w.Header().Set("X-Amz-Function-Error", functionError)
		}
		w.WriteHeader(status)
		io.WriteString(w, out)
	}))
	t.Cleanup(srv.Close)
	return lambda.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("id", "key", ""),
		BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
}

func TestFunc(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		functionError string
		body          string
		wantResp      events.APIGatewayProxyResponse
		wantErr       error  // errors.Is target; nil means success
		wantMessage   string // in the error text
	}{
		{name: "answer decoded", status: 200, body: `{"statusCode":200,"body":"{\"type\":\"pong\"}"}`,
			wantResp: events.APIGatewayProxyResponse{StatusCode: 200, Body: `{"type":"pong"}`}},
		{name: "unhandled function error", status: 200, functionError: "Unhandled",
			body:    `{"errorMessage":"connections table unreachable","errorType":"errorString"}`,
			wantErr: invoke.ErrFunction, wantMessage: "connections table unreachable"},
		{name: "timeout text", status: 200, functionError: "Unhandled", body: `Task timed out after 3.00 seconds`,
			wantErr: invoke.ErrFunction, wantMessage: "Task timed out"},
		{name: "answer that is not the function's type", status: 200, body: `"a string"`, wantMessage: "decode the answer"},
		{name: "no such function", status: 404, body: `{"Type":"User","message":"Function not found"}`, wantMessage: "Connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotFunction string
			var gotEvent events.APIGatewayWebsocketProxyRequest
			api := invokeAPI(t, func(function string, event []byte) (int, string, string) {
				gotFunction = function
				_ = json.Unmarshal(event, &gotEvent)
				return tt.status, tt.functionError, tt.body
			})
			h := invoke.Func[events.APIGatewayWebsocketProxyRequest, events.APIGatewayProxyResponse](api, "ConnectFunction")
			req := events.APIGatewayWebsocketProxyRequest{RequestContext: events.APIGatewayWebsocketProxyRequestContext{
				RouteKey: "$connect", ConnectionID: "L0SM9cOFvHcCIhw="}}
			resp, err := h(context.Background(), req)
			if gotFunction != "ConnectFunction" || gotEvent.RequestContext.ConnectionID != "L0SM9cOFvHcCIhw=" {
				t.Errorf("the API got function %q, event %+v; want ConnectFunction with the event", gotFunction, gotEvent.RequestContext)
			}
			switch {
			case tt.wantMessage == "":
				if err != nil || resp.StatusCode != tt.wantResp.StatusCode || resp.Body != tt.wantResp.Body {
					t.Errorf("= %+v, %v; want %+v", resp, err, tt.wantResp)
				}
			case err == nil || !strings.Contains(err.Error(), tt.wantMessage):
				t.Errorf("error %v; want one mentioning %q", err, tt.wantMessage)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("error %v; want errors.Is %v", err, tt.wantErr)
			case tt.wantErr == nil && errors.Is(err, invoke.ErrFunction):
				t.Errorf("error %v is a function error; the function never ran", err)
			}
		})
	}
}

// A function error keeps Lambda's error object.
func TestFunctionErrorFields(t *testing.T) {
	api := invokeAPI(t, func(string, []byte) (int, string, string) {
		return 200, "Handled", `{"errorMessage":"boom","errorType":"ValidationError"}`
	})
	_, err := invoke.Func[events.SQSEvent, events.SQSEventResponse](api, "NotifyFunction")(context.Background(), events.SQSEvent{})
	var fe *invoke.FunctionError
	if !errors.As(err, &fe) || fe.Function != "NotifyFunction" || fe.Kind != "Handled" || fe.Type != "ValidationError" || fe.Message != "boom" {
		t.Errorf("error %#v; want NotifyFunction, Handled, ValidationError, boom", err)
	}
}
