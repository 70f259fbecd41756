package oracle

import "testing"

func TestStateSemantics(t *testing.T) {
	tests := []struct {
		name                        string
		state                       State
		terminal, succeeded, failed bool
	}{
		{name: "wait", state: StateWait},
		{name: "ready", state: StateReady},
		{name: "running", state: StateRunning},
		{name: "blocked", state: StateBlocked},
		{name: "hold", state: StateHold},
		{name: "paused", state: StatePaused},
		{name: "pending validation", state: StatePendingValidation},
		{name: "cancelling", state: StateCancelling},
		{name: "completed is post-processing", state: StateCompleted},
		{name: "error auto retry keeps going", state: StateErrorAutoRetry},
		{name: "unknown", state: StateUnknown},
		{name: "unrecognised string", state: State("SCHEDULE_ENDED_SOMEHOW")},
		{name: "empty", state: State("")},
		{name: "succeeded", state: StateSucceeded, terminal: true, succeeded: true},
		{name: "finished", state: StateFinished, terminal: true, succeeded: true},
		{name: "warning fails a transfer", state: StateWarning, terminal: true, failed: true},
		{name: "error", state: StateError, terminal: true, failed: true},
		{name: "cancelled", state: StateCancelled, terminal: true, failed: true},
		{name: "expired", state: StateExpired, terminal: true, failed: true},
		{name: "validation failed", state: StateValidationFailed, terminal: true, failed: true},
		{name: "error manual recovery", state: StateErrorManualRecovery, terminal: true, failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.state.Terminal(); got != tt.terminal {
				t.Errorf("%s.Terminal() = %v, want %v", tt.state, got, tt.terminal)
			}
			if got := tt.state.Succeeded(); got != tt.succeeded {
				t.Errorf("%s.Succeeded() = %v, want %v", tt.state, got, tt.succeeded)
			}
			if got := tt.state.Failed(); got != tt.failed {
				t.Errorf("%s.Failed() = %v, want %v", tt.state, got, tt.failed)
			}
		})
	}
}

func TestParseState(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want State
	}{
		{name: "as sent", in: "SUCCEEDED", want: StateSucceeded},
		{name: "lower case and spaces", in: " warning\n", want: StateWarning},
		{name: "unknown kept", in: "Mystery", want: State("MYSTERY")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseState(tt.in); got != tt.want {
				t.Errorf("ParseState(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
