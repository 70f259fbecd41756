package apigw

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// The WebSocket library limits only whole messages, and only after reading
// them; API Gateway also limits every frame. So the gateway reads the
// client's bytes through limitedConn, which follows the frame headers
// (RFC 6455 section 5.2) as they stream past and fails the read at the first
// header that announces a frame, or a message, above the limits: before its
// payload is read or buffered. The gateway then closes with 1009, and
// limitedConn discards the client's bytes up to its close frame, so that
// closing the socket does not reset the connection and destroy the close
// frame on its way to the client.

var (
	errFrameTooBig   = errors.New("gateway: frame too big")
	errMessageTooBig = errors.New("gateway: message too big")
)

// frameLimiter follows the frame headers of a WebSocket byte stream.
type frameLimiter struct {
	maxFrame   uint64
	maxMessage uint64

	hdr       [14]byte // the header being read
	hdrLen    int      // bytes of it read so far
	hdrNeed   int      // its full length, once the second byte is known
	opcode    byte     // of the current frame
	remaining uint64   // payload bytes of the current frame still to come
	message   uint64   // payload bytes of the current data message so far
	tripped   bool     // a limit was broken; from then on frames are only followed
	closeRead bool     // a whole close frame went past
}

// scan consumes the next bytes p of the stream. It returns how many of them
// may be passed on: all of them, or, when a header breaks a limit, those
// before that header, with an error wrapping errFrameTooBig or errMessageTooBig.
func (l *frameLimiter) scan(p []byte) (int, error) {
	pass, err := len(p), error(nil)
	for i := 0; i < len(p); {
		if l.remaining > 0 {
			n := min(uint64(len(p)-i), l.remaining)
			i += int(n)
			l.remaining -= n
			if l.remaining == 0 {
				l.endFrame()
			}
			continue
		}
		start := i - l.hdrLen // where this header began; < 0 if in an earlier read
		l.hdr[l.hdrLen] = p[i]
		l.hdrLen++
		i++
		if l.hdrLen == 2 {
			l.hdrNeed = 2 + extendedLengthBytes(l.hdr[1]&0x7f)
			if l.hdr[1]&0x80 != 0 {
				l.hdrNeed += 4 // masking key
			}
		}
		if l.hdrLen < 2 || l.hdrLen < l.hdrNeed {
			continue
		}
		herr := l.endHeader()
		l.hdrLen, l.hdrNeed = 0, 0
		if herr != nil {
			pass, err = max(start, 0), herr
			l.tripped = true
		}
	}
	return pass, err
}

// endHeader takes in a complete header and checks it against the limits.
func (l *frameLimiter) endHeader() error {
	var length uint64
	switch n := l.hdr[1] & 0x7f; n {
	case 126:
		length = uint64(binary.BigEndian.Uint16(l.hdr[2:4]))
	case 127:
		length = binary.BigEndian.Uint64(l.hdr[2:10])
	default:
		length = uint64(n)
	}
	l.opcode = l.hdr[0] & 0x0f
	l.remaining = length
	if length == 0 {
		l.endFrame()
	}
	if l.tripped || l.opcode >= 8 {
		return nil // control frames: the library checks their 125 byte limit
	}
	if length > l.maxFrame {
		return fmt.Errorf("%w: %d bytes", errFrameTooBig, length)
	}
	if l.opcode != 0 { // text or binary starts a message; continuation (0) adds to it
		l.message = 0
	}
	l.message += length
	if l.message > l.maxMessage {
		return fmt.Errorf("%w: more than %d bytes", errMessageTooBig, l.maxMessage)
	}
	return nil
}

// endFrame notes the end of the current frame.
func (l *frameLimiter) endFrame() {
	if l.opcode == 8 {
		l.closeRead = true
	}
}

// extendedLengthBytes is the size of the extended payload length field.
func extendedLengthBytes(length7 byte) int {
	switch length7 {
	case 126:
		return 2
	case 127:
		return 8
	}
	return 0
}

// limitedConn is a hijacked connection whose reads pass a frameLimiter.
// Only the library's read path reads it, one read at a time.
type limitedConn struct {
	net.Conn
	r      io.Reader // bytes buffered before the hijack, then Conn
	limits frameLimiter
}

func (c *limitedConn) Read(p []byte) (int, error) {
	if c.limits.tripped {
		return c.drain(p)
	}
	n, err := c.r.Read(p)
	if k, lerr := c.limits.scan(p[:n]); lerr != nil {
		return k, lerr
	}
	return n, err
}

// drain discards the client's bytes until its close frame went past, then
// reports the end of the stream.
func (c *limitedConn) drain(p []byte) (int, error) {
	for !c.limits.closeRead {
		n, err := c.r.Read(p)
		_, _ = c.limits.scan(p[:n])
		if err != nil {
			return 0, err
		}
	}
	return 0, io.EOF
}

// limitingWriter makes the WebSocket library hijack a limitedConn.
type limitingWriter struct {
	http.ResponseWriter
	maxFrame, maxMessage int
}

// Hijack hands over the connection with its reads limited.
func (w *limitingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// http.Server's read and write timeouts must not end the WebSocket.
	_ = conn.SetDeadline(time.Time{})
	buffered, _ := brw.Reader.Peek(brw.Reader.Buffered())
	lc := &limitedConn{
		Conn:   conn,
		r:      io.MultiReader(bytes.NewReader(bytes.Clone(buffered)), conn),
		limits: frameLimiter{maxFrame: uint64(w.maxFrame), maxMessage: uint64(w.maxMessage)},
	}
	return lc, bufio.NewReadWriter(bufio.NewReader(lc), brw.Writer), nil
}
