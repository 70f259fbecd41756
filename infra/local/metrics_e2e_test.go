package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/testing/metricstest"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// TestMetricLinesOfAnEndToEndRun reads the metric lines (CloudWatch EMF)
// the stack printed while two users connected, one token was refused, and a
// budget transfer ran its five steps: the counts CloudWatch would hold.
func TestMetricLinesOfAnEndToEndRun(t *testing.T) {
	s := startStack(t, "SWEEP_INTERVAL=300ms")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws://127.0.0.1:"+s.Port+"/?token=not-a-jwt", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial with a bad token: err %v, response %v; want 401", err, resp)
	}
	budgetTransferEndToEnd(t, s) // users 123 and 456 connected; 123's transfer completed

	steps := []string{workflow.StepPreparingData, workflow.StepUploadToUCM, workflow.StepInterfaceLoader,
		workflow.StepBudgetImport, workflow.StepVerifyResults}
	kind := string(workflow.KindBudgetTransfer)
	checks := []struct {
		name   string
		metric string
		dims   []string
		want   func(float64) bool
		says   string
	}{
		{"connects accepted", metrics.ConnectsAccepted, nil, eq(2), "2"},
		{"bad token refused", metrics.ConnectsRefused, []string{metrics.DimReason, "invalid_token"}, eq(1), "1"},
		// started, 5 x (processing, completed), completed: 12 for user 123.
		{"notifications stored", metrics.NotificationsStored, nil, eq(12), "12"},
		{"notifications delivered", metrics.NotificationsDelivered, nil, atLeast(12), ">= 12 (and the welcomes)"},
		{"no failure", metrics.NotificationsFailed, nil, eq(0), "0"},
		{"workflow completed", metrics.Workflows, []string{metrics.DimOutcome, workflow.OutcomeCompleted}, eq(1), "1"},
		{"workflow completed by kind", metrics.Workflows,
			[]string{metrics.DimKind, kind, metrics.DimOutcome, workflow.OutcomeCompleted}, eq(1), "1"},
		{"no workflow failed", metrics.Workflows, []string{metrics.DimOutcome, workflow.OutcomeFailed}, eq(0), "0"},
		{"no Oracle error", metrics.OracleErrors, nil, eq(0), "0"},
	}
	for _, step := range steps {
		checks = append(checks, struct {
			name   string
			metric string
			dims   []string
			want   func(float64) bool
			says   string
		}{"step " + step, metrics.StepDuration, []string{metrics.DimKind, kind, metrics.DimStep, step}, atLeast(0), "one value"})
	}

	// Lines are written when each invocation ends: wait until the sweeper
	// has counted both open connections after the workflow's last line.
	var points []metricstest.Point
	for deadline := time.Now().Add(30 * time.Second); ; {
		points = metricstest.Parse(t, []byte(s.logs.String()))
		open := metricstest.Find(points, metrics.ConnectionsOpen)
		if metricstest.Total(points, metrics.Workflows, metrics.DimOutcome, workflow.OutcomeCompleted) == 1 &&
			len(open) > 0 && last(open) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no completed workflow and 2 open connections in the metric lines after 30 s:\n%s", s.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range checks {
		found := metricstest.Find(points, c.metric, c.dims...)
		got := metricstest.Total(points, c.metric, c.dims...)
		if c.metric == metrics.StepDuration {
			if len(found) == 0 {
				t.Errorf("%s: no %s %v line", c.name, c.metric, c.dims)
			}
			continue
		}
		if c.metric == metrics.NotificationsFailed || c.metric == metrics.OracleErrors {
			got = 0 // recorded by reason or call: any line at all is a failure
			for _, p := range points {
				if p.Name == c.metric {
					got += p.Sum()
				}
			}
		}
		if !c.want(got) {
			t.Errorf("%s: %s %v = %v, want %s", c.name, c.metric, c.dims, got, c.says)
		}
	}
	if lat := metricstest.Find(points, metrics.FanoutLatency); len(lat) == 0 || lat[0].Unit != string(metrics.Milliseconds) {
		t.Errorf("FanoutLatency = %+v; want values in Milliseconds", lat)
	}
	for _, p := range points {
		if p.Dims[metrics.DimStack] != "local" {
			t.Fatalf("%s has Stack %q; want local", p.Name, p.Dims[metrics.DimStack])
		}
	}
}

func eq(want float64) func(float64) bool      { return func(v float64) bool { return v == want } }
func atLeast(want float64) func(float64) bool { return func(v float64) bool { return v >= want } }

// last is the last value of the last point.
func last(points []metricstest.Point) float64 {
	vals := points[len(points)-1].Values
	return vals[len(vals)-1]
}
