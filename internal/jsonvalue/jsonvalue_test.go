package jsonvalue_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/finance/fbdi-notify/internal/jsonvalue"
)

func TestText(t *testing.T) {
	tests := []struct {
		name    string
		raw     string // the JSON value, as a struct field's
		want    jsonvalue.Text
		wantErr string // in the error's text; "" for success
	}{
		{name: "string", raw: `"Spreadsheet"`, want: "Spreadsheet"},
		{name: "string trimmed", raw: `" 2440817\n"`, want: "2440817"},
		{name: "inner space kept", raw: `"MIC, HQ"`, want: "MIC, HQ"},
		{name: "escaped", raw: `"A,{budget_entry_name}\u00e9"`, want: "A,{budget_entry_name}é"},
		{name: "empty string", raw: `""`, want: ""},
		{name: "blank string", raw: `"  "`, want: ""},
		{name: "integer", raw: `14557`, want: "14557"},
		{name: "integer beyond float64 precision", raw: `300000046975971123`, want: "300000046975971123"},
		{name: "negative", raw: `-1`, want: "-1"},
		{name: "number as written", raw: `1.50`, want: "1.50"},
		{name: "exponent as written", raw: `1.23e2`, want: "1.23e2"},
		{name: "null", raw: `null`, want: ""},
		{name: "true", raw: `true`, wantErr: "got true or false; want a string or a number"},
		{name: "object", raw: `{"a":1}`, wantErr: "got a JSON object; want a string or a number"},
		{name: "array", raw: `[1]`, wantErr: "got a JSON array; want a string or a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v struct{ Field jsonvalue.Text }
			v.Field = "previous"
			err := json.Unmarshal([]byte(`{"Field":`+tt.raw+`}`), &v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Unmarshal = %q, %v; want an error containing %q", v.Field, err, tt.wantErr)
				}
				return
			}
			if err != nil || v.Field != tt.want {
				t.Fatalf("Unmarshal = %q, %v; want %q", v.Field, err, tt.want)
			}
		})
	}
}
