package oracle

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors that callers branch on. They are always wrapped in an *Error
// that says which operation failed; test for them with errors.Is.
var (
	// ErrUnauthorized wraps HTTP 401 and 403: the user, password or token is
	// wrong, or the user lacks the role. Permanent until an operator acts.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRejected is returned when Oracle answers a job submission with
	// ReqstId -1 (or another non-positive id): the job was not created.
	ErrRejected = errors.New("job request rejected")
	// ErrNotFound is returned when a finder answers with no item for the
	// request ID, or Oracle answers HTTP 404.
	ErrNotFound = errors.New("not found")
	// ErrUnexpectedResponse is returned when a success response cannot be
	// understood: not JSON, a missing field, content that is not base64 or
	// not a zip.
	ErrUnexpectedResponse = errors.New("unexpected response")
)

// Kind says whether retrying the same call later can help.
type Kind int

// Kinds of failure.
const (
	// Transient failures may succeed if retried later: HTTP 5xx, 408 and 429,
	// connection errors and the per-request timeout of the *http.Client.
	Transient Kind = iota + 1
	// Permanent failures will fail again the same way: HTTP 400, 401, 403,
	// 404, 422 and other 4xx, a rejected job, a success body that cannot be
	// understood, invalid arguments.
	Permanent
	// Canceled means the caller's own context ended (canceled or past its
	// deadline) before Oracle answered. It says nothing about Oracle, so it is
	// neither retried by this package's rules nor a verdict on the request:
	// errors.Is(err, context.Canceled) or context.DeadlineExceeded holds.
	Canceled
)

// String returns "transient", "permanent" or "canceled".
func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Canceled:
		return "canceled"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is every error the Client returns. Its text names the operation, never
// contains credentials or URLs, and quotes at most a short sanitized snippet of
// a response body.
type Error struct {
	Op         string // operation: an OperationName (uploadFileToUCM, ...) or a finder name (ESSJobStatusRF, ...)
	StatusCode int    // HTTP status, or 0 when no response was received
	Kind       Kind   // Transient, Permanent or Canceled
	Msg        string // what went wrong, e.g. `request 14557: HTTP 500 body "..."`
	Err        error  // underlying error or sentinel (ErrUnauthorized, ErrRejected, ...); may be nil
}

// Error returns "oracle: {Op}: {Msg}[: {Err}]".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("oracle: ")
	b.WriteString(e.Op)
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// IsTransient reports whether err is an *Error of Kind Transient, that is
// whether the same call may succeed later.
func IsTransient(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == Transient
}

// permanent returns a Permanent *Error.
func permanent(op, msg string, err error) *Error {
	return &Error{Op: op, Kind: Permanent, Msg: msg, Err: err}
}

// transportError classifies an error from http.Client.Do or from reading a
// response body. The caller's context ending is Canceled; anything else
// (connection refused or reset, DNS, TLS, the http.Client's own Timeout) is
// Transient. The *url.Error wrapper is dropped because its text holds the URL.
func transportError(ctx context.Context, op, subject string, err error) *Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &Error{Op: op, Kind: Canceled, Msg: subject + "caller's context ended", Err: ctxErr}
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	msg := "request failed"
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		msg = "request timed out"
	}
	return &Error{Op: op, Kind: Transient, Msg: subject + msg, Err: err}
}

// statusError classifies a non-success HTTP status.
func statusError(op, subject string, code int, body []byte) *Error {
	e := &Error{Op: op, StatusCode: code, Kind: Permanent}
	e.Msg = subject + fmt.Sprintf("HTTP %d", code)
	if s := snippet(body); s != "" {
		e.Msg += fmt.Sprintf(" body %q", s)
	}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Err = ErrUnauthorized
	case code == http.StatusNotFound:
		e.Err = ErrNotFound
	case code >= 500, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
		e.Kind = Transient
	}
	return e
}

// maxSnippet bounds how much of a response body an error message quotes.
const maxSnippet = 120

// snippet returns the start of body made safe for a log line: valid UTF-8,
// control characters and runs of spaces collapsed to one space, at most
// maxSnippet bytes.
func snippet(body []byte) string {
	cut := len(body) > 4*maxSnippet
	if cut {
		body = body[:4*maxSnippet]
	}
	var b strings.Builder
	space := false
	for len(body) > 0 && b.Len() < maxSnippet {
		r, size := utf8.DecodeRune(body)
		body = body[size:]
		if r == utf8.RuneError && size <= 1 || unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	s := b.String()
	if s != "" && (cut || len(body) > 0) {
		s += "…"
	}
	return s
}
