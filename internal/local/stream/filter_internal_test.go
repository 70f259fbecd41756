package stream

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// streamRecords returns the documents of testdata/stream-event.json's
// records (INSERT, MODIFY, REMOVE by TTL), as the matcher sees them.
func streamRecords(t *testing.T) []any {
	t.Helper()
	b, err := os.ReadFile("testdata/stream-event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	docs := make([]any, len(ev.Records))
	for i, r := range ev.Records {
		if docs[i], err = recordDocument(r); err != nil {
			t.Fatal(err)
		}
	}
	return docs
}

func TestFilterMatch(t *testing.T) {
	docs := streamRecords(t)
	tests := []struct {
		name    string
		filters []string
		want    []bool // for the INSERT, MODIFY and REMOVE records
	}{
		{name: "event name", filters: []string{`{"eventName":["INSERT"]}`}, want: []bool{true, false, false}},
		{name: "any of several values", filters: []string{`{"eventName":["INSERT","MODIFY"]}`}, want: []bool{true, true, false}},
		{name: "any of several filters", filters: []string{`{"eventName":["REMOVE"]}`, `{"dynamodb":{"NewImage":{"userId":{"S":["456"]}}}}`},
			want: []bool{false, true, true}},
		{name: "new image string", filters: []string{`{"dynamodb":{"NewImage":{"userId":{"S":["123"]}}}}`}, want: []bool{true, false, false}},
		{name: "all fields must match", filters: []string{`{"eventName":["INSERT"],"dynamodb":{"NewImage":{"userId":{"S":["456"]}}}}`},
			want: []bool{false, false, false}},
		{name: "a number does not match a string", filters: []string{`{"dynamodb":{"NewImage":{"userId":{"S":[123]}}}}`}, want: []bool{false, false, false}},
		{name: "N values are strings", filters: []string{`{"dynamodb":{"NewImage":{"expiresAt":{"N":["1772374500"]}}}}`}, want: []bool{true, false, false}},
		{name: "numbers compare by value", filters: []string{`{"dynamodb":{"SizeBytes":[180.0]}}`}, want: []bool{true, true, true}},
		{name: "other number", filters: []string{`{"dynamodb":{"SizeBytes":[181]}}`}, want: []bool{false, false, false}},
		{name: "boolean", filters: []string{`{"dynamodb":{"NewImage":{"live":{"BOOL":[true]}}}}`}, want: []bool{true, false, false}},
		{name: "boolean false", filters: []string{`{"dynamodb":{"NewImage":{"live":{"BOOL":[false]}}}}`}, want: []bool{false, false, false}},
		{name: "NULL attribute", filters: []string{`{"dynamodb":{"NewImage":{"note":{"NULL":[true]}}}}`}, want: []bool{false, true, false}},
		{name: "set member", filters: []string{`{"dynamodb":{"NewImage":{"roles":{"SS":["viewer"]}}}}`}, want: []bool{true, false, false}},
		{name: "missing field", filters: []string{`{"dynamodb":{"OldImage":{"userId":{"S":["123"]}}}}`}, want: []bool{false, false, false}},
		{name: "values against an object", filters: []string{`{"dynamodb":{"Keys":["Xyz1AbCdIAMCJ0g="]}}`}, want: []bool{false, false, false}},
		{name: "object against a value", filters: []string{`{"eventName":{"S":["INSERT"]}}`}, want: []bool{false, false, false}},
		{name: "TTL deletion", filters: []string{`{"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}`},
			want: []bool{false, false, true}},
		{name: "key", filters: []string{`{"dynamodb":{"Keys":{"connectionId":{"S":["Old4AbCdIAMCJ2i="]}}}}`}, want: []bool{false, false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &consumer{}
			var err error
			if c.filters, err = compileFilters(tt.filters); err != nil {
				t.Fatalf("compile: %v", err)
			}
			got := make([]bool, len(docs))
			for i, d := range docs {
				got[i] = slices.ContainsFunc(c.filters, func(p pattern) bool { return p.match(d) })
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("matches %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFilterMatchNull covers JSON null, which the stream records never hold.
func TestFilterMatchNull(t *testing.T) {
	p, err := compilePattern(`{"a":[null]}`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  any
		want bool
	}{
		{name: "null", doc: map[string]any{"a": nil}, want: true},
		{name: "missing", doc: map[string]any{}, want: false},
		{name: "empty string", doc: map[string]any{"a": ""}, want: false},
		{name: "false", doc: map[string]any{"a": false}, want: false},
		{name: "array holding null", doc: map[string]any{"a": []any{"x", nil}}, want: true},
		{name: "not an object", doc: "a", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.match(tt.doc); got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestConsumerMatches: no filter delivers everything; filters are ORed.
func TestConsumerMatches(t *testing.T) {
	b, err := os.ReadFile("testdata/stream-event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		filters []string
		want    []bool
	}{
		{name: "no filters", want: []bool{true, true, true}},
		{name: "two filters", filters: []string{`{"eventName":["INSERT"]}`, `{"eventName":["REMOVE"]}`}, want: []bool{true, false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &consumer{}
			if c.filters, err = compileFilters(tt.filters); err != nil {
				t.Fatal(err)
			}
			var got []bool
			for _, r := range ev.Records {
				got = append(got, c.matches(r))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("matches %v, want %v", got, tt.want)
			}
		})
	}
}
