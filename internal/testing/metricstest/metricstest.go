// Package metricstest reads the EMF lines a metrics.Recorder writes, for
// tests: each line becomes the data points it carries, checked against the
// shape CloudWatch requires.
package metricstest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/finance/fbdi-notify/internal/metrics"
)

// Point is one metric of one EMF line.
type Point struct {
	Name   string
	Unit   string
	Dims   map[string]string // every dimension, Stack included
	Values []float64
}

// Sum is the sum of the point's values.
func (p Point) Sum() float64 {
	var s float64
	for _, v := range p.Values {
		s += v
	}
	return s
}

// Parse returns the data points of the EMF lines in out; lines that are not
// EMF (log lines) are skipped. A line that claims to be EMF but is malformed
// fails the test.
func Parse(tb testing.TB, out []byte) []Point {
	tb.Helper()
	var points []Point
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		p, err := parseLine(sc.Bytes())
		if err != nil {
			tb.Fatalf("metricstest: %v in %s", err, sc.Text())
		}
		points = append(points, p...)
	}
	return points
}

func parseLine(line []byte) ([]Point, error) {
	if !bytes.Contains(line, []byte(`"_aws"`)) {
		return nil, nil
	}
	var doc map[string]any
	if err := json.Unmarshal(line, &doc); err != nil {
		return nil, nil // not JSON: a plain log line that mentions _aws
	}
	var meta struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal(line, &meta); err != nil {
		return nil, err
	}
	if meta.AWS.Timestamp <= 0 || len(meta.AWS.CloudWatchMetrics) == 0 {
		return nil, fmt.Errorf("EMF line without a timestamp or metric directive")
	}
	var points []Point
	for _, d := range meta.AWS.CloudWatchMetrics {
		if d.Namespace != metrics.Namespace {
			return nil, fmt.Errorf("namespace %q, want %q", d.Namespace, metrics.Namespace)
		}
		if len(d.Dimensions) != 1 {
			return nil, fmt.Errorf("%d dimension sets, want 1", len(d.Dimensions))
		}
		dims := map[string]string{}
		for _, name := range d.Dimensions[0] {
			v, ok := doc[name].(string)
			if !ok {
				return nil, fmt.Errorf("dimension %q has no string value", name)
			}
			dims[name] = v
		}
		if dims[metrics.DimStack] == "" {
			return nil, fmt.Errorf("no %s dimension", metrics.DimStack)
		}
		for _, m := range d.Metrics {
			p := Point{Name: m.Name, Unit: m.Unit, Dims: dims}
			switch v := doc[m.Name].(type) {
			case float64:
				p.Values = []float64{v}
			case []any:
				if len(v) > metrics.MaxValues {
					return nil, fmt.Errorf("%s has %d values, more than %d", m.Name, len(v), metrics.MaxValues)
				}
				for _, x := range v {
					f, ok := x.(float64)
					if !ok {
						return nil, fmt.Errorf("%s has a value that is not a number", m.Name)
					}
					p.Values = append(p.Values, f)
				}
			default:
				return nil, fmt.Errorf("metric %s has no numeric value", m.Name)
			}
			points = append(points, p)
		}
	}
	return points, nil
}

// Total is the sum of the values of every point named name whose dimensions
// include all of dims (name, value pairs).
func Total(points []Point, name string, dims ...string) float64 {
	var s float64
	for _, p := range Find(points, name, dims...) {
		s += p.Sum()
	}
	return s
}

// Find returns the points named name whose dimensions include all of dims
// (name, value pairs), and no other dimension than Stack and those.
func Find(points []Point, name string, dims ...string) []Point {
	var out []Point
next:
	for _, p := range points {
		if p.Name != name || len(p.Dims) != 1+len(dims)/2 {
			continue
		}
		for i := 0; i+1 < len(dims); i += 2 {
			if p.Dims[dims[i]] != dims[i+1] {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}
