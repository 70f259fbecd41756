package workflow_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/local/oraclesim"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/testing/metricstest"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// assertTotals checks metric totals: each want is a metric, its dimensions
// (name, value pairs besides Stack) and its expected total.
func assertTotals(t *testing.T, points []metricstest.Point, want []metricWant) {
	t.Helper()
	for _, w := range want {
		t.Run(w.name, func(t *testing.T) {
			if got := metricstest.Total(points, w.metric, w.dims...); got != w.total {
				t.Errorf("%s %v = %v, want %v", w.metric, w.dims, got, w.total)
			}
		})
	}
}

type metricWant struct {
	name   string
	metric string
	dims   []string // name, value pairs
	total  float64
}

// TestMetricsOfCompletedWorkflow: a budget transfer that completes counts
// one completed workflow (by Outcome, and by Kind and Outcome) and records
// each of its five steps' time, from the step's start to its end as the
// workflow keeps them, across the polls of its jobs.
func TestMetricsOfCompletedWorkflow(t *testing.T) {
	h := newHarness(t, backends()[0])
	h.sendFile("budget_transfer.json")
	h.drain()
	st := assertEnded(t, h, "602", workflow.StatusSucceeded)
	points := h.metrics()

	kind := []string{metrics.DimKind, string(workflow.KindBudgetTransfer)}
	assertTotals(t, points, []metricWant{
		{"completed by outcome", metrics.Workflows, []string{metrics.DimOutcome, "completed"}, 1},
		{"completed by kind and outcome", metrics.Workflows, append(kind, metrics.DimOutcome, "completed"), 1},
		{"none failed", metrics.Workflows, []string{metrics.DimOutcome, "failed"}, 0},
		{"no Oracle error", metrics.OracleErrors, nil, 0},
	})
	if len(st.Steps) != workflow.TotalSteps {
		t.Fatalf("steps = %d, want %d", len(st.Steps), workflow.TotalSteps)
	}
	for _, l := range st.Steps {
		t.Run(l.Name, func(t *testing.T) {
			got := metricstest.Find(points, metrics.StepDuration, append(kind, metrics.DimStep, l.Name)...)
			want := float64(l.EndedAt.Sub(l.StartedAt).Milliseconds())
			if len(got) != 1 || len(got[0].Values) != 1 || got[0].Values[0] != want || got[0].Unit != "Milliseconds" {
				t.Errorf("StepDuration of %s = %+v, want one value of %v ms", l.Name, got, want)
			}
		})
	}
	// The job steps span polls two simulated minutes apart: their time is
	// the step's, not one invocation's.
	if il := st.Steps[2]; il.EndedAt.Sub(il.StartedAt) < h.step {
		t.Errorf("Interface Loader took %s, want at least one poll (%s)", il.EndedAt.Sub(il.StartedAt), h.step)
	}
}

// TestMetricsOfFailedWorkflow: a journal import whose AutoPost child ends
// in ERROR counts one failed workflow, by Outcome and by Kind, and records
// the time of the four steps that completed only.
func TestMetricsOfFailedWorkflow(t *testing.T) {
	h := newHarness(t, backends()[0])
	h.sim.SetOutcome("AutomaticPosting", oraclesim.Outcome{State: oracle.StateSucceeded, ChildState: oracle.StateError})
	h.sendFile("journal_import.json")
	h.drain()
	assertEnded(t, h, "603", workflow.StatusFailed)
	points := h.metrics()

	kind := []string{metrics.DimKind, string(workflow.KindJournalImport)}
	assertTotals(t, points, []metricWant{
		{"failed by outcome", metrics.Workflows, []string{metrics.DimOutcome, "failed"}, 1},
		{"failed by kind and outcome", metrics.Workflows, append(kind, metrics.DimOutcome, "failed"), 1},
		{"none completed", metrics.Workflows, []string{metrics.DimOutcome, "completed"}, 0},
	})
	var steps []string
	for _, p := range points {
		if p.Name == metrics.StepDuration {
			steps = append(steps, p.Dims[metrics.DimStep])
		}
	}
	slices.Sort(steps)
	want := []string{workflow.StepInterfaceLoader, workflow.StepJournalImport, workflow.StepPreparingData,
		workflow.StepUploadToUCM}
	if !slices.Equal(steps, want) {
		t.Errorf("StepDuration recorded for %v, want the completed steps %v", steps, want)
	}
}

// TestMetricsOfRefusedUpload: Oracle answers the first upload with 503; the
// upload is retried through a delayed continuation: one Oracle error on
// uploadFileToUCM, one retry, and the workflow completes.
func TestMetricsOfRefusedUpload(t *testing.T) {
	h := newHarness(t, backends()[0], func(c *workflow.Config) { c.RetryBase = 2 * time.Second })
	h.sim.FailNext(oraclesim.OpUpload, oraclesim.HTTP503, 1)
	h.sendFile("budget_transfer.json")
	h.finish(time.Hour)
	assertEnded(t, h, "602", workflow.StatusSucceeded)
	points := h.metrics()

	assertTotals(t, points, []metricWant{
		{"one retry", metrics.OracleRetries, nil, 1},
		{"one upload error", metrics.OracleErrors, []string{metrics.DimCall, workflow.CallUploadFileToUCM}, 1},
		{"no submission error", metrics.OracleErrors, []string{metrics.DimCall, workflow.CallSubmitESSJobRequest}, 0},
		{"completed", metrics.Workflows, []string{metrics.DimOutcome, "completed"}, 1},
	})
	if n := len(metricstest.Find(points, metrics.OracleErrors, metrics.DimCall, workflow.CallUploadFileToUCM)); n == 0 {
		t.Error("OracleErrors has no point with only Call=uploadFileToUCM")
	}
}

// TestMetricsOfOpenBreaker: Oracle down for everyone; with a threshold of
// one refusal the breaker opens, the workflows park (each counted once),
// and BreakerOpen is 1 while it is open; once Oracle is back and the probe
// closes it, 0 again.
func TestMetricsOfOpenBreaker(t *testing.T) {
	h := newGatedHarness(t, backends()[0], &oraclegate.Config{Threshold: 1, ProbeInterval: 30 * time.Second},
		deployedTimings)
	h.timed(100 * time.Millisecond)
	h.sim.SetDown(true)
	ids := sendTransfers(h, 3)
	h.runFor(2 * time.Minute)
	during := h.metrics()
	h.sim.SetDown(false)
	h.finish(time.Hour)
	for _, id := range ids {
		assertEnded(t, h, id, workflow.StatusSucceeded)
	}
	after := h.metrics()[len(during):]

	parked := metricstest.Total(during, metrics.WorkflowsParked)
	if parked < 1 || parked > float64(len(ids)) {
		t.Errorf("WorkflowsParked = %v, want between 1 and %d (once per parked workflow)", parked, len(ids))
	}
	gauge := func(points []metricstest.Point) []float64 {
		var vs []float64
		for _, p := range metricstest.Find(points, metrics.BreakerOpen) {
			if p.Unit != "None" {
				t.Errorf("BreakerOpen unit = %s, want None (a gauge)", p.Unit)
			}
			vs = append(vs, p.Values...)
		}
		return vs
	}
	if vs := gauge(during); !slices.Contains(vs, 1) {
		t.Errorf("BreakerOpen during the outage = %v, want a 1", vs)
	}
	if vs := gauge(after); len(vs) == 0 || vs[len(vs)-1] != 0 {
		t.Errorf("BreakerOpen after the outage = %v, want ending in 0", vs)
	}
	assertTotals(t, after, []metricWant{
		{"no workflow parked after", metrics.WorkflowsParked, nil, 0},
	})
}

// TestMetricsOfStrandedWorkflow: every poll is lost; the sweeper finds the
// workflow past its step's deadline and fails it: one stranded workflow,
// one failed workflow.
func TestMetricsOfStrandedWorkflow(t *testing.T) {
	h := newHarness(t, backends()[0], func(c *workflow.Config) { c.Deadline = 10 * time.Minute })
	h.sent.drop = func(body string) bool { return pollSeq(body) > 0 }
	h.sendFile("budget_transfer.json")
	h.drain()
	h.finish(time.Hour)
	assertEnded(t, h, "602", workflow.StatusFailed)
	points := h.metrics()

	assertTotals(t, points, []metricWant{
		{"stranded", metrics.WorkflowsStranded, nil, 1},
		{"failed", metrics.Workflows, []string{metrics.DimOutcome, "failed"}, 1},
	})
}

// countFunc is a workflow.Counter.
type countFunc func(context.Context) (int, error)

func (f countFunc) Count(ctx context.Context) (int, error) { return f(ctx) }

// TestSweepRecordsConnectionsOpen: each sweep records the connections open
// now as the ConnectionsOpen gauge; a failed count records nothing and the
// sweep goes on.
func TestSweepRecordsConnectionsOpen(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	conns := connection.NewMemoryStore(func() time.Time { return now })
	for _, c := range []connection.Connection{
		connection.New("c1", "123", now, "", ""),
		connection.New("c2", "123", now, "", ""),
		connection.New("c3", "456", now, "", ""),
		connection.New("old", "456", now.Add(-3*time.Hour), "", ""), // expired
	} {
		if err := conns.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		counter workflow.Counter
		want    []float64 // the gauge's values
	}{
		{name: "memory store", counter: conns, want: []float64{3}},
		{name: "count failed", counter: countFunc(func(context.Context) (int, error) {
			return 0, errors.New("throttled")
		}), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			rec := metrics.New(&out, "test", nil)
			h := newHarness(t, backends()[0])
			s, err := workflow.NewSweeper(h.store, h.sent, h.inbox.notify, h.cfg,
				workflow.SweepOptions{Metrics: rec, Connections: tt.counter})
			if err != nil {
				t.Fatal(err)
			}
			handle := metrics.Flushing(rec, s.Handle)
			if _, err := handle(ctx, events.EventBridgeEvent{}); err != nil {
				t.Fatalf("sweep = %v, want no error", err)
			}
			var got []float64
			for _, p := range metricstest.Find(metricstest.Parse(t, out.Bytes()), metrics.ConnectionsOpen) {
				got = append(got, p.Values...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ConnectionsOpen = %v, want %v", got, tt.want)
			}
		})
	}
}

// fixedGate is a workflow.Gate whose Admit always decides d and whose
// Record says the breaker is open when opens is set.
type fixedGate struct {
	d     oraclegate.Decision
	opens bool
}

func (g fixedGate) Admit(context.Context, int64) (oraclegate.Decision, error) { return g.d, nil }
func (g fixedGate) Record(context.Context, bool, bool) (bool, error)          { return g.opens, nil }
func (fixedGate) Acquire(context.Context, string) (bool, error)               { return true, nil }
func (fixedGate) Release(context.Context, string) error                       { return nil }

// TestBreakerGaugeFollowsTheGate: every answer of the Gate is recorded as
// BreakerOpen: Admit's, 1 when the breaker is open (the workflow parks,
// counted once), 0 when closed; and Record's, 1 when the refusal it
// reported opened the breaker.
func TestBreakerGaugeFollowsTheGate(t *testing.T) {
	tests := []struct {
		name   string
		d      oraclegate.Decision
		down   bool      // Oracle refuses every call: the upload is refused, reported with Record
		gauge  []float64 // BreakerOpen values of one invocation
		parked float64
	}{
		{name: "open: the upload parks", d: oraclegate.Decision{Open: true, Wait: 30 * time.Second},
			gauge: []float64{1}, parked: 1},
		{name: "closed: the upload and the first submission go", d: oraclegate.Decision{Allow: true},
			gauge: []float64{0, 0}, parked: 0},
		{name: "closed, then the refused upload opens it", d: oraclegate.Decision{Allow: true}, down: true,
			gauge: []float64{0, 1}, parked: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, backends()[0])
			var out bytes.Buffer
			rec := metrics.New(&out, "test", h.clock.Now)
			e, err := workflow.NewEngine(h.store, h.oracle, h.sent, h.inbox.notify, h.cfg,
				workflow.Options{Now: h.clock.Now, Gate: fixedGate{d: tt.d, opens: tt.down}, Metrics: rec})
			if err != nil {
				t.Fatal(err)
			}
			h.sim.SetDown(tt.down)
			body, err := os.ReadFile("testdata/budget_transfer.json")
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Process(context.Background(), body, workflow.Delivery{MessageID: "m1", ReceiveCount: 1}); err != nil {
				t.Fatalf("Process = %v", err)
			}
			if err := rec.Flush(); err != nil {
				t.Fatal(err)
			}
			points := metricstest.Parse(t, out.Bytes())
			var got []float64
			for _, p := range metricstest.Find(points, metrics.BreakerOpen) {
				got = append(got, p.Values...)
			}
			if !slices.Equal(got, tt.gauge) {
				t.Errorf("BreakerOpen = %v, want %v", got, tt.gauge)
			}
			if n := metricstest.Total(points, metrics.WorkflowsParked); n != tt.parked {
				t.Errorf("WorkflowsParked = %v, want %v", n, tt.parked)
			}
		})
	}
}
