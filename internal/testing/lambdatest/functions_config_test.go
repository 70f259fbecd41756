package lambdatest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/testing/lambdatest"
)

// TestFunctionsRefuseIncompleteConfiguration: a function whose environment
// lacks what it needs stops at its cold start, logging every missing or bad
// variable in one line, instead of starting and failing every event later.
func TestFunctionsRefuseIncompleteConfiguration(t *testing.T) {
	sb := newSandbox(t)
	tests := []struct {
		name, function string
		env            map[string]string
		wantLog        []string // in the "bad configuration" line
	}{
		{name: "worker without a management endpoint", function: "worker",
			env: map[string]string{"ORACLE_BASE_URL": "http://127.0.0.1:9/oracle", "WORKFLOW_QUEUE_URL": "q"},
			wantLog: []string{"MANAGEMENT_ENDPOINT is not set", "CONNECTIONS_TABLE is not set",
				"WORKFLOW_QUEUE_URL is not an absolute http or https URL", "ORACLE_USERNAME is not set"}},
		{name: "worker without Oracle", function: "worker",
			env:     map[string]string{"MANAGEMENT_ENDPOINT": "http://127.0.0.1:9", "WORKFLOW_QUEUE_URL": "http://127.0.0.1:9/q"},
			wantLog: []string{"ORACLE_BASE_URL is not set", "ORACLE_PASSWORD is not set"}},
		{name: "notify without a management endpoint", function: "notify", env: nil,
			wantLog: []string{"MANAGEMENT_ENDPOINT is not set", "NOTIFICATIONS_TABLE is not set"}},
		{name: "worker with a bad duration", function: "worker",
			env: map[string]string{"MANAGEMENT_ENDPOINT": "http://127.0.0.1:9", "ORACLE_BASE_URL": "http://127.0.0.1:9/oracle",
				"WORKFLOW_QUEUE_URL": "http://127.0.0.1:9/q", "ORACLE_POLL_INTERVAL": "soon"},
			wantLog: []string{`ORACLE_POLL_INTERVAL \"soon\" is not a duration`}},
		{name: "disconnect without its table", function: "disconnect", env: nil,
			wantLog: []string{"CONNECTIONS_TABLE is not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sb.start(t, tt.function, tt.env)
			res, err := f.InvokeResult(context.Background(), []byte(`{"Records":[]}`))
			failed := errors.Is(err, lambdatest.ErrInvoke) || strings.Contains(string(res.Payload), "errorType")
			if !failed {
				t.Fatalf("invocation answered %q, %v; want the function to fail at its cold start", res.Payload, err)
			}
			// The emulator may answer before the function's last line has
			// been copied from its pipe: wait for it a little.
			out := f.Output()
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out, `"msg":"bad configuration","error":"`) && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
				out = f.Output()
			}
			if !strings.Contains(out, `"msg":"bad configuration","error":"`) {
				t.Fatalf("the function's log has no bad configuration line with the error:\n%s", out)
			}
			for _, want := range tt.wantLog {
				if !strings.Contains(out, want) {
					t.Errorf("the function's log does not say %s:\n%s", want, out)
				}
			}
		})
	}
}
