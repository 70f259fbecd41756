package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/testing/metricstest"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func TestFlushAggregatesByDimensions(t *testing.T) {
	var out bytes.Buffer
	r := metrics.New(&out, "prod", func() time.Time { return t0 })
	r.Count(metrics.NotificationsDelivered, 2)
	r.Count(metrics.NotificationsDelivered, 3)
	r.Count(metrics.NotificationsFailed, 1, metrics.Reason("gone"))
	r.Count(metrics.NotificationsFailed, 1, metrics.Reason("throttled"))
	r.Count(metrics.NotificationsFailed, 1, metrics.Reason("gone"))
	r.Duration(metrics.FanoutLatency, 1500*time.Microsecond)
	r.Duration(metrics.FanoutLatency, 3*time.Millisecond)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 { // {}, {Reason=gone}, {Reason=throttled}
		t.Fatalf("got %d lines, want 3:\n%s", len(lines), out.String())
	}
	points := metricstest.Parse(t, out.Bytes())
	tests := []struct {
		name   string
		metric string
		dims   []string
		want   float64
	}{
		{"counts summed", metrics.NotificationsDelivered, nil, 5},
		{"by reason gone", metrics.NotificationsFailed, []string{metrics.DimReason, "gone"}, 2},
		{"by reason throttled", metrics.NotificationsFailed, []string{metrics.DimReason, "throttled"}, 1},
		{"durations in ms", metrics.FanoutLatency, nil, 4.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := metricstest.Total(points, tt.metric, tt.dims...); got != tt.want {
				t.Errorf("Total(%s %v) = %v, want %v", tt.metric, tt.dims, got, tt.want)
			}
		})
	}
	lat := metricstest.Find(points, metrics.FanoutLatency)
	if len(lat) != 1 || len(lat[0].Values) != 2 || lat[0].Unit != "Milliseconds" {
		t.Errorf("FanoutLatency = %+v, want one point with 2 values in Milliseconds", lat)
	}
	if lat[0].Dims[metrics.DimStack] != "prod" {
		t.Errorf("Stack = %q, want prod", lat[0].Dims[metrics.DimStack])
	}
	if !strings.Contains(lines[0], `"Timestamp":1796378400000`) {
		t.Errorf("line lacks the clock's timestamp: %s", lines[0])
	}

	out.Reset()
	if err := r.Flush(); err != nil || out.Len() != 0 {
		t.Errorf("second Flush wrote %q (err %v), want nothing", out.String(), err)
	}
}

func TestFlushSplitsAtMaxValues(t *testing.T) {
	var out bytes.Buffer
	r := metrics.New(&out, "", nil)
	for i := range metrics.MaxValues + 5 {
		r.Duration(metrics.StepDuration, time.Duration(i)*time.Millisecond, metrics.Step("upload"))
	}
	r.Count(metrics.Workflows, 1, metrics.Step("upload"))
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	points := metricstest.Parse(t, out.Bytes()) // fails on more than MaxValues a line
	steps := metricstest.Find(points, metrics.StepDuration, metrics.DimStep, "upload")
	if len(steps) != 2 || len(steps[0].Values)+len(steps[1].Values) != metrics.MaxValues+5 {
		t.Fatalf("StepDuration points = %d, want 2 holding %d values", len(steps), metrics.MaxValues+5)
	}
	if got := metricstest.Total(points, metrics.Workflows, metrics.DimStep, "upload"); got != 1 {
		t.Errorf("Workflows = %v, want 1 (once, not on every line)", got)
	}
	if steps[0].Dims[metrics.DimStack] != "local" {
		t.Errorf("Stack = %q, want local by default", steps[0].Dims[metrics.DimStack])
	}
}

func TestNilRecorderRecordsNothing(t *testing.T) {
	var r *metrics.Recorder
	r.Count(metrics.ConnectsAccepted, 1)
	r.Duration(metrics.FanoutLatency, time.Second)
	r.Gauge(metrics.ConnectionsOpen, 3)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestFlushingWritesWhateverTheHandlerReturns(t *testing.T) {
	var out bytes.Buffer
	r := metrics.New(&out, "x", nil)
	h := metrics.Flushing(r, func(ctx context.Context, n int) (string, error) {
		r.Count(metrics.ConnectsRefused, n, metrics.Reason("expired"))
		return "", errors.New("refused")
	})
	if _, err := h(context.Background(), 2); err == nil {
		t.Fatal("the handler's error was lost")
	}
	if got := metricstest.Total(metricstest.Parse(t, out.Bytes()), metrics.ConnectsRefused, metrics.DimReason, "expired"); got != 2 {
		t.Errorf("ConnectsRefused = %v after the invocation, want 2", got)
	}
}
