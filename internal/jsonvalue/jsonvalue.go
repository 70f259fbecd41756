// Package jsonvalue decodes JSON values that other systems send in more than
// one form. Text is a string or a number read as text: Oracle sends its IDs
// as either, and a workflow message's options may be either.
package jsonvalue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Text is a JSON string or number read as text. A string loses its
// surrounding white space; a number is kept exactly as written (300000046975971
// gives "300000046975971", 1.50 gives "1.50"); null is "". Any other value
// (true, an object, an array) is an error.
type Text string

// UnmarshalJSON sets t from a JSON string, number or null, or returns an
// error saying that data is neither a string nor a number.
func (t *Text) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		*t = ""
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*t = Text(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("got %s; want a string or a number", kind(data))
	}
	*t = Text(n)
	return nil
}

// kind names the JSON value data starts as a sender would.
func kind(data []byte) string {
	switch {
	case len(data) == 0:
		return "nothing"
	case data[0] == 't' || data[0] == 'f':
		return "true or false"
	case data[0] == '{':
		return "a JSON object"
	case data[0] == '[':
		return "a JSON array"
	}
	return "invalid JSON"
}
