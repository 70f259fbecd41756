// Package metrics records the functions' CloudWatch metrics in Embedded
// Metric Format (EMF): structured JSON lines on stdout, which CloudWatch Logs
// turns into metrics with no API call and no extra latency. The local stack
// prints the very same lines, so tests read them.
//
// A Recorder aggregates what one invocation records and writes it when the
// invocation ends (Flushing): one line per set of dimensions, counts summed,
// durations kept as values (at most MaxValues a line), so a batch of a
// hundred deliveries costs one log line, not a hundred.
//
// Every metric is in Namespace and carries the dimension Stack (the
// CloudFormation stack, "local" in the local stack), so two stacks in one
// account stay apart and an alarm needs no metric math. The other dimensions
// are few and bounded (a reason, a workflow kind, a step, an Oracle call):
// never a user, a connection or a transaction.
//
// A nil *Recorder records nothing, so code that takes one optionally needs
// no check. A Recorder is safe for concurrent use.
package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "FbdiNotify"

// DimStack is the dimension every metric carries: the stack's name.
const DimStack = "Stack"

// MaxValues is the most values of one metric in one EMF line (CloudWatch's
// limit); more are written on further lines.
const MaxValues = 100

// Unit is a CloudWatch unit.
type Unit string

// The units used here.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
	None         Unit = "None"
)

// Dim is one dimension of a data point: a name and its value.
type Dim struct {
	Name, Value string
}

// Recorder aggregates metrics until Flush writes them as EMF lines.
type Recorder struct {
	w     io.Writer
	stack string
	now   func() time.Time

	mu      sync.Mutex
	pending map[string]*group // by the dimension set's key
}

// group is the data points of one set of dimensions.
type group struct {
	dims    []Dim // sorted by name, Stack excluded
	metrics map[string]*metric
}

// metric is the aggregated data points of one metric in one group.
type metric struct {
	unit   Unit
	sum    bool      // Count: values are summed into one
	values []float64 // the values, or one sum
}

// New returns a Recorder writing EMF lines to w (os.Stdout in a function),
// for the stack named stack ("local" when empty), stamped by now (time.Now
// when nil).
func New(w io.Writer, stack string, now func() time.Time) *Recorder {
	if stack == "" {
		stack = "local"
	}
	if now == nil {
		now = time.Now
	}
	return &Recorder{w: w, stack: stack, now: now, pending: map[string]*group{}}
}

// Count adds n to the count named name with the given dimensions.
func (r *Recorder) Count(name string, n int, dims ...Dim) {
	r.add(name, Count, float64(n), dims)
}

// Duration records d, in milliseconds, as a value of name.
func (r *Recorder) Duration(name string, d time.Duration, dims ...Dim) {
	r.add(name, Milliseconds, float64(d.Microseconds())/1000, dims)
}

// Gauge records v, a level at this moment (unit None), as a value of name.
func (r *Recorder) Gauge(name string, v float64, dims ...Dim) {
	r.add(name, None, v, dims)
}

func (r *Recorder) add(name string, unit Unit, v float64, dims []Dim) {
	if r == nil {
		return
	}
	dims = slices.Clone(dims)
	slices.SortFunc(dims, func(a, b Dim) int { return strings.Compare(a.Name, b.Name) })
	var key strings.Builder
	for _, d := range dims {
		key.WriteString(d.Name + "\x00" + d.Value + "\x00")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.pending[key.String()]
	if g == nil {
		g = &group{dims: dims, metrics: map[string]*metric{}}
		r.pending[key.String()] = g
	}
	m := g.metrics[name]
	if m == nil {
		m = &metric{unit: unit, sum: unit == Count}
		g.metrics[name] = m
	}
	if m.sum && len(m.values) == 1 {
		m.values[0] += v
		return
	}
	m.values = append(m.values, v)
}

// Flush writes what was recorded since the last Flush, one line per set of
// dimensions (and per MaxValues values), and forgets it. Its error is the
// writer's.
func (r *Recorder) Flush() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	pending := r.pending
	r.pending = map[string]*group{}
	r.mu.Unlock()
	ts := r.now().UnixMilli()
	var buf bytes.Buffer
	for _, key := range slices.Sorted(maps.Keys(pending)) {
		for _, line := range pending[key].lines(r.stack, ts) {
			buf.Write(line)
			buf.WriteByte('\n')
		}
	}
	if buf.Len() == 0 {
		return nil
	}
	_, err := r.w.Write(buf.Bytes())
	return err
}

// lines renders g as EMF lines of at most MaxValues values per metric.
func (g *group) lines(stack string, ts int64) [][]byte {
	names := slices.Sorted(maps.Keys(g.metrics))
	var out [][]byte
	for part := 0; ; part++ {
		doc := map[string]any{DimStack: stack}
		dimNames := []string{DimStack}
		for _, d := range g.dims {
			doc[d.Name] = d.Value
			dimNames = append(dimNames, d.Name)
		}
		var defs []map[string]string
		for _, name := range names {
			m := g.metrics[name]
			lo := part * MaxValues
			if lo >= len(m.values) {
				continue
			}
			vals := m.values[lo:min(lo+MaxValues, len(m.values))]
			if len(vals) == 1 {
				doc[name] = vals[0]
			} else {
				doc[name] = vals
			}
			defs = append(defs, map[string]string{"Name": name, "Unit": string(m.unit)})
		}
		if len(defs) == 0 {
			return out
		}
		doc["_aws"] = map[string]any{
			"Timestamp": ts,
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  Namespace,
				"Dimensions": [][]string{dimNames},
				"Metrics":    defs,
			}},
		}
		line, err := json.Marshal(doc)
		if err != nil { // only strings and float64s: cannot happen
			panic(err)
		}
		out = append(out, line)
	}
}

// Flushing wraps a Lambda handler so that what an invocation recorded is
// written when it returns, whatever it returns. With a nil Recorder it
// returns h.
func Flushing[E, R any](r *Recorder, h func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	if r == nil {
		return h
	}
	return func(ctx context.Context, e E) (R, error) {
		defer r.Flush()
		return h(ctx, e)
	}
}
