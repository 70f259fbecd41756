package oracle

import (
	"errors"
	"strings"
	"testing"
)

func TestStatusError(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		kind     Kind
		sentinel error
	}{
		{name: "400", code: 400, kind: Permanent},
		{name: "401", code: 401, kind: Permanent, sentinel: ErrUnauthorized},
		{name: "403", code: 403, kind: Permanent, sentinel: ErrUnauthorized},
		{name: "404", code: 404, kind: Permanent, sentinel: ErrNotFound},
		{name: "408", code: 408, kind: Transient},
		{name: "409", code: 409, kind: Permanent},
		{name: "422", code: 422, kind: Permanent},
		{name: "429", code: 429, kind: Transient},
		{name: "500", code: 500, kind: Transient},
		{name: "502", code: 502, kind: Transient},
		{name: "503", code: 503, kind: Transient},
		{name: "504", code: 504, kind: Transient},
		{name: "302 left unfollowed", code: 302, kind: Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := statusError("op", "request 1: ", tt.code, []byte("details"))
			if err.Kind != tt.kind || err.StatusCode != tt.code {
				t.Errorf("Kind %v code %d, want %v %d", err.Kind, err.StatusCode, tt.kind, tt.code)
			}
			if IsTransient(err) != (tt.kind == Transient) {
				t.Errorf("IsTransient = %v", IsTransient(err))
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("%v does not wrap %v", err, tt.sentinel)
			}
			if !strings.HasPrefix(err.Error(), "oracle: op: request 1: HTTP ") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "empty", body: "", want: ""},
		{name: "short", body: "Authentication failed.", want: "Authentication failed."},
		{name: "whitespace collapsed", body: "  <html>\n\t<body>  oops </body>\r\n", want: "<html> <body> oops </body>"},
		{name: "controls and bad bytes dropped", body: "a\x00b\xffc\x1bd", want: "a b c d"},
		{name: "long is cut", body: strings.Repeat("z", 1000), want: strings.Repeat("z", maxSnippet) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := snippet([]byte(tt.body)); got != tt.want {
				t.Errorf("snippet = %q, want %q", got, tt.want)
			}
		})
	}
}
