// Package logtest records the JSON log lines of code under test and checks
// them against the project's log vocabulary (see package lambdaenv): the
// ids every line of an invocation must carry, and the keys no line may use.
package logtest

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/finance/fbdi-notify/internal/testing/bgtest"
)

// Retired are the keys the vocabulary replaced: "error" for errors, and
// aws_request_id, apigw_request_id or ess_request_id for a request id.
var Retired = []string{"err", "request_id"}

// Recorder holds what a logger from New wrote. It is safe for concurrent
// use, as the logger is.
type Recorder struct {
	buf bgtest.Buffer
}

// New returns a JSON logger at debug level, as the functions' (lambdaenv.Logger)
// but writing to the returned Recorder.
func New() (*slog.Logger, *Recorder) {
	r := &Recorder{}
	return slog.New(slog.NewJSONHandler(&r.buf, &slog.HandlerOptions{Level: slog.LevelDebug})), r
}

// String returns the lines written so far.
func (r *Recorder) String() string { return r.buf.String() }

// Lines returns the lines written so far, decoded.
func (r *Recorder) Lines(tb testing.TB) []map[string]any {
	tb.Helper()
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			tb.Fatalf("log line is not a JSON object: %v\n%s", err, line)
		}
		lines = append(lines, m)
	}
	return lines
}

// Check fails tb unless something was logged, every line has each key of
// want with that value ("" accepts any non-empty string), and no line uses
// a Retired key, at any depth.
func (r *Recorder) Check(tb testing.TB, want map[string]string) {
	tb.Helper()
	lines := r.Lines(tb)
	if len(lines) == 0 {
		tb.Fatal("nothing was logged")
	}
	for _, line := range lines {
		for k, v := range want {
			got, _ := line[k].(string)
			if got == "" || v != "" && got != v {
				tb.Errorf("line %q: %s = %v, want %q", line["msg"], k, line[k], v)
			}
		}
		for _, k := range retired(line) {
			tb.Errorf("line %q uses the retired key %q", line["msg"], k)
		}
	}
}

// retired returns the Retired keys of a line and of its groups.
func retired(m map[string]any) []string {
	var found []string
	for k, v := range m {
		if slices.Contains(Retired, k) {
			found = append(found, k)
		}
		if group, ok := v.(map[string]any); ok {
			found = append(found, retired(group)...)
		}
	}
	return found
}
