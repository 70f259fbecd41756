package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// pattern is a compiled Lambda event-filtering pattern: the fields a record
// must have, each matching its node.
//
// Only the exact-value subset of the rule syntax is supported: nested
// objects, and arrays of strings, numbers, booleans and null. Any other
// rule ("prefix", "anything-but", "numeric", "exists", "$or", ...) is
// refused when the pattern is compiled, so that no record is ever matched
// by a rule this package does not implement.
type pattern struct {
	fields map[string]*node
}

// node is either a nested pattern (fields) or a list of accepted values.
type node struct {
	fields map[string]*node
	values []any // string, json.Number, bool or nil
}

// compileFilters compiles every FilterCriteria pattern.
func compileFilters(srcs []string) ([]pattern, error) {
	out := make([]pattern, 0, len(srcs))
	for i, src := range srcs {
		p, err := compilePattern(src)
		if err != nil {
			return nil, fmt.Errorf("filter %d %s: %w", i+1, src, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// compilePattern compiles one pattern, a JSON object.
func compilePattern(src string) (pattern, error) {
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return pattern{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return pattern{}, errors.New("invalid JSON: data after the pattern")
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return pattern{}, errors.New("a pattern must be a JSON object")
	}
	n, err := compileNode("", obj)
	if err != nil {
		return pattern{}, err
	}
	return pattern{fields: n.fields}, nil
}

// compileNode compiles the object at path.
func compileNode(path string, obj map[string]any) (*node, error) {
	if len(obj) == 0 {
		return nil, fmt.Errorf("empty object at %s", orTop(path))
	}
	n := &node{fields: make(map[string]*node, len(obj))}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		at := k
		if path != "" {
			at = path + "." + k
		}
		if strings.HasPrefix(k, "$") {
			return nil, fmt.Errorf("unsupported rule %q at %s", k, orTop(path))
		}
		switch v := obj[k].(type) {
		case map[string]any:
			child, err := compileNode(at, v)
			if err != nil {
				return nil, err
			}
			n.fields[k] = child
		case []any:
			values, err := compileValues(at, v)
			if err != nil {
				return nil, err
			}
			n.fields[k] = &node{values: values}
		default:
			return nil, fmt.Errorf("value at %s must be an object or an array of values, not %s", at, compact(v))
		}
	}
	return n, nil
}

// compileValues checks the array of accepted values at path.
func compileValues(path string, arr []any) ([]any, error) {
	if len(arr) == 0 {
		return nil, fmt.Errorf("empty array at %s", path)
	}
	for _, v := range arr {
		switch v := v.(type) {
		case string, json.Number, bool, nil:
		case map[string]any:
			return nil, fmt.Errorf("unsupported rule %s at %s (only exact values are supported)", compact(v), path)
		default:
			return nil, fmt.Errorf("unsupported value %s at %s (only strings, numbers, booleans and null are supported)", compact(v), path)
		}
	}
	return arr, nil
}

// match reports whether the record doc (the JSON of the record Lambda
// delivers, decoded with numbers as json.Number) matches p.
func (p pattern) match(doc any) bool {
	return matchFields(p.fields, doc)
}

func matchFields(fields map[string]*node, doc any) bool {
	obj, ok := doc.(map[string]any)
	if !ok {
		return false
	}
	for k, n := range fields {
		v, present := obj[k]
		if !present {
			return false
		}
		if n.fields != nil {
			if !matchFields(n.fields, v) {
				return false
			}
			continue
		}
		if !matchValues(n.values, v) {
			return false
		}
	}
	return true
}

// matchValues reports whether v, or for an array one of its elements,
// equals one of values.
func matchValues(values []any, v any) bool {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if matchValues(values, e) {
				return true
			}
		}
		return false
	}
	for _, want := range values {
		if equal(want, v) {
			return true
		}
	}
	return false
}

// equal compares two scalars of decoded JSON: same type and value, numbers
// by their numeric value (1 equals 1.0).
func equal(a, b any) bool {
	switch a := a.(type) {
	case string:
		b, ok := b.(string)
		return ok && a == b
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		if a == b {
			return true
		}
		x, errA := strconv.ParseFloat(string(a), 64)
		y, errB := strconv.ParseFloat(string(b), 64)
		return errA == nil && errB == nil && x == y
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	case nil:
		return b == nil
	}
	return false
}

// recordDocument returns the JSON document of ev that patterns are matched
// against, as Lambda sees the record.
func recordDocument(ev events.DynamoDBEventRecord) (any, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("marshal record: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	return doc, nil
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func orTop(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}
