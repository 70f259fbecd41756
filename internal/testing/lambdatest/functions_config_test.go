package lambdatest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/finance/fbdi-notify/internal/testing/lambdatest"
)

// TestFunctionsRefuseIncompleteConfiguration: a function whose environment
// lacks what it needs stops at its cold start, logging which part is
// missing, instead of starting and failing every event later.
func TestFunctionsRefuseIncompleteConfiguration(t *testing.T) {
	sb := newSandbox(t)
	tests := []struct {
		name, function string
		env            map[string]string
		wantLog        string
	}{
		{name: "worker without a management endpoint", function: "worker",
			env:     map[string]string{"ORACLE_BASE_URL": "http://127.0.0.1:9/oracle", "WORKFLOW_QUEUE_URL": "q"},
			wantLog: `"management_endpoint_set":false`},
		{name: "worker without Oracle", function: "worker",
			env:     map[string]string{"MANAGEMENT_ENDPOINT": "http://127.0.0.1:9", "WORKFLOW_QUEUE_URL": "q"},
			wantLog: `"oracle_base_url_set":false`},
		{name: "notify without a management endpoint", function: "notify", env: nil,
			wantLog: `"management_endpoint_set":false`},
		{name: "worker with a bad duration", function: "worker",
			env: map[string]string{"MANAGEMENT_ENDPOINT": "http://127.0.0.1:9", "ORACLE_BASE_URL": "http://127.0.0.1:9/oracle",
				"WORKFLOW_QUEUE_URL": "q", "ORACLE_POLL_INTERVAL": "soon"},
			wantLog: "ORACLE_POLL_INTERVAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sb.start(t, tt.function, tt.env)
			res, err := f.InvokeResult(context.Background(), []byte(`{"Records":[]}`))
			failed := errors.Is(err, lambdatest.ErrInvoke) || strings.Contains(string(res.Payload), "errorType")
			if !failed {
				t.Fatalf("invocation answered %q, %v; want the function to fail at its cold start", res.Payload, err)
			}
			if out := f.Output(); !strings.Contains(out, "bad configuration") || !strings.Contains(out, tt.wantLog) {
				t.Errorf("the function's log does not say what is missing (%s):\n%s", tt.wantLog, out)
			}
		})
	}
}
