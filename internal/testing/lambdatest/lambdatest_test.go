package lambdatest_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/testing/lambdatest"
)

// reply is what testdata/echo answers.
type reply struct {
	Said         string `json:"said"`
	Greeting     string `json:"greeting"`
	Leak         string `json:"leak"`
	RuntimeAPI   bool   `json:"runtime_api"`
	RequestID    string `json:"request_id"`
	HasDeadline  bool   `json:"has_deadline"`
	Invocations  int    `json:"invocations"`
	FunctionName string `json:"function_name"`
	MetadataOff  string `json:"metadata_off"`
}

func invoke(tb testing.TB, f *lambdatest.Function, event string) reply {
	tb.Helper()
	var r reply
	out := f.Invoke(tb, []byte(event))
	if err := json.Unmarshal(out, &r); err != nil {
		tb.Fatalf("reply %s: %v", out, err)
	}
	return r
}

func TestInvoke(t *testing.T) {
	t.Setenv("LAMBDATEST_LEAK", "from the test process")
	f := lambdatest.Start(t, lambdatest.Build(t, "./testdata/echo"), map[string]string{"GREETING": "hello"})

	tests := []struct {
		name  string
		event string
		want  reply
	}{
		{name: "first", event: `{"say":"ping"}`, want: reply{Said: "ping", Greeting: "hello", RuntimeAPI: true,
			HasDeadline: true, Invocations: 1, FunctionName: "test_function", MetadataOff: "true"}},
		{name: "same process again", event: `{"say":"again"}`, want: reply{Said: "again", Greeting: "hello",
			RuntimeAPI: true, HasDeadline: true, Invocations: 2, FunctionName: "test_function", MetadataOff: "true"}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := invoke(t, f, tt.event)
			if got.RequestID == "" || seen[got.RequestID] {
				t.Errorf("request ID %q is empty or repeated", got.RequestID)
			}
			seen[got.RequestID] = true
			got.RequestID = ""
			if got != tt.want {
				t.Errorf("reply = %+v, want %+v", got, tt.want)
			}
		})
	}
	// The emulator forwards the function's output asynchronously: wait for it
	// (the deadline only guards against a hang; it is not a timing check).
	has := func(out string) bool {
		return strings.Contains(out, "echo invocation 2") && strings.Contains(out, `{"stderr_invocation":2}`)
	}
	for deadline := time.Now().Add(10 * time.Second); !has(f.Output()) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if out := f.Output(); !has(out) {
		t.Errorf("Output lacks the function's stdout and stderr:\n%s", out)
	}
}

// A handler error is the function's answer, not a failed invocation.
func TestInvokeHandlerError(t *testing.T) {
	f := lambdatest.Start(t, lambdatest.Build(t, "./testdata/echo"), nil)
	res, err := f.InvokeResult(context.Background(), []byte(`{"fail":true}`))
	if err != nil {
		t.Fatalf("InvokeResult: %v", err)
	}
	var lambdaErr struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal(res.Payload, &lambdaErr); err != nil || lambdaErr.ErrorMessage != "asked to fail" {
		t.Errorf("payload %s (%v), want Lambda's error object with errorMessage \"asked to fail\"", res.Payload, err)
	}
	// The process survives a handler error and serves the next event.
	if got := invoke(t, f, `{"say":"after"}`); got.Said != "after" || got.Invocations != 2 {
		t.Errorf("after an error: %+v", got)
	}
}

// A payload the handler cannot decode is an error answer; the runtime goes on.
func TestInvokeMalformedEvent(t *testing.T) {
	f := lambdatest.Start(t, lambdatest.Build(t, "./testdata/echo"), nil)
	res, err := f.InvokeResult(context.Background(), []byte(`{"say":`))
	if err != nil {
		t.Fatalf("InvokeResult: %v", err)
	}
	if !strings.Contains(string(res.Payload), "errorMessage") {
		t.Errorf("payload %s, want an error object", res.Payload)
	}
	if got := invoke(t, f, `{"say":"ok"}`); got.Said != "ok" {
		t.Errorf("after a malformed event: %+v", got)
	}
}

// Functions run side by side, each in its own emulator on its own ports.
func TestFunctionsRunSideBySide(t *testing.T) {
	bootstrap := lambdatest.Build(t, "./testdata/echo")
	a := lambdatest.Start(t, bootstrap, map[string]string{"GREETING": "a"})
	b := lambdatest.Start(t, bootstrap, map[string]string{"GREETING": "b"})
	var wg sync.WaitGroup
	got := make([]reply, 2)
	for i, f := range []*lambdatest.Function{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.InvokeResult(context.Background(), []byte(`{}`))
			if err == nil {
				err = json.Unmarshal(res.Payload, &got[i])
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got[0].Greeting != "a" || got[1].Greeting != "b" {
		t.Errorf("greetings %q, %q; want a, b", got[0].Greeting, got[1].Greeting)
	}
}

// A function that runs past its timeout is reported as a failed invocation.
func TestInvokeTimeout(t *testing.T) {
	f := lambdatest.Start(t, lambdatest.Build(t, "./testdata/echo"), map[string]string{"AWS_LAMBDA_FUNCTION_TIMEOUT": "1", "ECHO_SLEEP": "3s"})
	_, err := f.InvokeResult(context.Background(), []byte(`{"say":"slow"}`))
	if !errors.Is(err, lambdatest.ErrInvoke) {
		t.Errorf("InvokeResult error %v, want ErrInvoke", err)
	}
}
