package apigw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/url"
	"regexp"
	"testing"
)

// frame returns a frame header for a payload of n bytes, followed by the payload.
func frame(fin bool, opcode byte, masked bool, n int) []byte {
	var b []byte
	first := opcode
	if fin {
		first |= 0x80
	}
	b = append(b, first)
	var maskBit byte
	if masked {
		maskBit = 0x80
	}
	switch {
	case n < 126:
		b = append(b, maskBit|byte(n))
	case n <= 0xffff:
		b = append(b, maskBit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, maskBit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if masked {
		b = append(b, 1, 2, 3, 4)
	}
	return append(b, bytes.Repeat([]byte{'x'}, n)...)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestFrameLimiter(t *testing.T) {
	const maxFrame, maxMessage = 100, 250
	// A ping inside a fragmented message does not count towards it.
	ok := concat(frame(true, 1, true, 100), frame(false, 2, true, 100), frame(true, 9, true, 4), frame(false, 0, true, 100), frame(true, 0, true, 50))
	tests := []struct {
		name     string
		stream   []byte
		wantErr  error
		wantPass int  // bytes passed on before the error (all if no error)
		wantDone bool // a close frame went past
	}{
		{name: "frames and message at the limits", stream: ok, wantPass: len(ok)},
		{name: "16-bit length frame over limit", stream: concat(frame(true, 1, true, 10), frame(true, 1, true, 300)),
			wantErr: errFrameTooBig, wantPass: len(frame(true, 1, true, 10))},
		{name: "64-bit length frame over limit", stream: concat(frame(true, 2, true, 70000)),
			wantErr: errFrameTooBig, wantPass: 0},
		{name: "frame one byte over limit", stream: frame(true, 1, true, maxFrame+1), wantErr: errFrameTooBig},
		{name: "message over limit across continuations",
			stream:  concat(frame(false, 1, true, 100), frame(false, 0, true, 100), frame(true, 0, true, 51)),
			wantErr: errMessageTooBig, wantPass: 2 * len(frame(false, 0, true, 100))},
		{name: "new message resets the count",
			stream:   concat(frame(true, 1, true, 100), frame(true, 1, true, 100), frame(true, 1, true, 100)),
			wantPass: 3 * len(frame(true, 1, true, 100))},
		{name: "close frame after data", stream: concat(frame(true, 1, true, 5), frame(true, 8, true, 2)),
			wantPass: len(frame(true, 1, true, 5)) + len(frame(true, 8, true, 2)), wantDone: true},
		{name: "empty close frame", stream: frame(true, 8, true, 0), wantPass: len(frame(true, 8, true, 0)), wantDone: true},
		{name: "close frame after a broken limit is still followed", stream: concat(frame(true, 1, true, 101), frame(true, 8, true, 2)),
			wantErr: errFrameTooBig, wantPass: 0, wantDone: true},
		{name: "unmasked server frames", stream: concat(frame(true, 1, false, 100), frame(true, 1, false, 101)),
			wantErr: errFrameTooBig, wantPass: len(frame(true, 1, false, 100))},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 3, 7, 64, len(tt.stream)} {
			l := frameLimiter{maxFrame: maxFrame, maxMessage: maxMessage}
			passed, sent := 0, 0
			var err error
			for sent < len(tt.stream) {
				end := min(sent+chunk, len(tt.stream))
				n, serr := l.scan(tt.stream[sent:end])
				if err == nil {
					passed += n
					err = serr
				}
				sent = end
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("%s, chunks of %d: err = %v, want %v", tt.name, chunk, err, tt.wantErr)
			}
			// The start of a breaking header that came in an earlier chunk
			// was passed on (at most 13 of its 14 bytes).
			slack := 0
			if tt.wantErr != nil && chunk < len(tt.stream) {
				slack = 13
			}
			if passed < tt.wantPass || passed > tt.wantPass+slack {
				t.Errorf("%s, chunks of %d: passed %d bytes, want %d (+%d)", tt.name, chunk, passed, tt.wantPass, slack)
			}
			if l.closeRead != tt.wantDone {
				t.Errorf("%s, chunks of %d: closeRead = %v, want %v", tt.name, chunk, l.closeRead, tt.wantDone)
			}
		}
	}
}

func TestParseManagementPath(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		wantStage string
		wantID    string
		wantOK    bool
	}{
		{name: "no stage", path: "/@connections/L0SM9cOFvHcCIhw%3D", wantID: "L0SM9cOFvHcCIhw=", wantOK: true},
		{name: "stage", path: "/prod/@connections/L0SM9cOFvHcCIhw=", wantStage: "prod", wantID: "L0SM9cOFvHcCIhw=", wantOK: true},
		{name: "escaped at sign", path: "/%40connections/abc", wantID: "abc", wantOK: true},
		{name: "slash and plus in id", path: "/local/@connections/ab%2Fc+d%3D", wantStage: "local", wantID: "ab/c+d=", wantOK: true},
		{name: "missing id", path: "/@connections/", wantOK: false},
		{name: "empty stage", path: "//@connections/abc", wantOK: false},
		{name: "too deep", path: "/a/b/@connections/abc", wantOK: false},
		{name: "other path", path: "/connections/abc", wantOK: false},
		{name: "root", path: "/", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse("http://127.0.0.1:3001" + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			stage, id, ok := parseManagementPath(u)
			if stage != tt.wantStage || id != tt.wantID || ok != tt.wantOK {
				t.Errorf("parseManagementPath(%q) = %q, %q, %v; want %q, %q, %v", tt.path, stage, id, ok, tt.wantStage, tt.wantID, tt.wantOK)
			}
		})
	}
}

func TestSelectionExpression(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		body    string
		want    string
		wantErr bool
	}{
		{name: "top-level field", expr: "$request.body.type", body: `{"type":"ping"}`, want: "ping"},
		{name: "braced form", expr: "${request.body.type}", body: `{"type":"ping"}`, want: "ping"},
		{name: "nested field", expr: "$request.body.meta.kind", body: `{"meta":{"kind":"resume"}}`, want: "resume"},
		{name: "missing field", expr: "$request.body.type", body: `{"action":"ping"}`, want: ""},
		{name: "number", expr: "$request.body.type", body: `{"type":5}`, want: ""},
		{name: "not an object", expr: "$request.body.type", body: `["ping"]`, want: ""},
		{name: "nested through a string", expr: "$request.body.a.b", body: `{"a":"x"}`, want: ""},
		{name: "invalid JSON", expr: "$request.body.type", body: `{"type":"ping"`, want: ""},
		{name: "empty body", expr: "$request.body.type", body: ``, want: ""},
		{name: "header expression", expr: "$request.header.type", wantErr: true},
		{name: "empty field", expr: "$request.body.a..b", wantErr: true},
		{name: "no field", expr: "$request.body.", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, err := parseSelectionExpression(tt.expr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseSelectionExpression(%q) error = %v, want error %v", tt.expr, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := selectKey(path, []byte(tt.body)); got != tt.want {
				t.Errorf("selectKey(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestNewIDShape(t *testing.T) {
	shape := regexp.MustCompile(`^[A-Za-z0-9+/]{15}=$`)
	seen := make(map[string]bool)
	for range 1000 {
		id := newID()
		if !shape.MatchString(id) {
			t.Fatalf("newID() = %q, want API Gateway's shape %v", id, shape)
		}
		if seen[id] {
			t.Fatalf("newID() returned %q twice", id)
		}
		seen[id] = true
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if u := newUUID(); !uuid.MatchString(u) {
		t.Errorf("newUUID() = %q, want a version 4 UUID", u)
	}
}

// TestLimitedConnDrains: after a broken limit nothing more reaches the
// library, and the client's bytes are consumed up to its close frame, so
// that closing the socket then does not reset the connection (which would
// destroy the 1009 close frame on its way to the client).
func TestLimitedConnDrains(t *testing.T) {
	good := frame(true, 1, true, 10)
	stream := concat(good, frame(true, 2, true, 500), frame(true, 1, true, 20), frame(true, 8, true, 2))
	src := bytes.NewReader(stream)
	c := &limitedConn{r: src, limits: frameLimiter{maxFrame: 100, maxMessage: 1000}}

	var passed []byte
	buf := make([]byte, 64)
	var err error
	for err == nil {
		var n int
		n, err = c.Read(buf)
		passed = append(passed, buf[:n]...)
	}
	if !errors.Is(err, errFrameTooBig) {
		t.Fatalf("first error = %v, want errFrameTooBig", err)
	}
	if !bytes.Equal(passed, good) {
		t.Errorf("passed on %d bytes, want only the %d of the frame before the limit", len(passed), len(good))
	}
	n, err := c.Read(buf)
	if n != 0 || err != io.EOF {
		t.Errorf("read after the limit = %d, %v; want 0, EOF once the close frame went past", n, err)
	}
	if src.Len() != 0 {
		t.Errorf("left %d bytes unread, want the stream consumed up to the close frame", src.Len())
	}
}
