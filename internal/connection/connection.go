// Package connection keeps the mapping from API Gateway WebSocket connections
// to the users that hold them.
//
// Two implementations share one contract (see package connectiontest):
// DynamoStore, for Lambda, and MemoryStore, for the local stack and unit tests.
package connection

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Get when no live connection has that ID.
var ErrNotFound = errors.New("connection: not found")

// ErrGone means API Gateway no longer knows the connection (the management
// API answered 410), or does not know it yet: posts fail until $connect has
// returned. The packages that post (notifier, socket) return errors matching
// it, so that one sentinel serves every caller.
var ErrGone = errors.New("connection: gone")

// ErrWelcomed is returned by ClaimWelcome when the connection has been
// claimed for its welcome already.
var ErrWelcomed = errors.New("connection: already welcomed")

// ErrRateLimited is returned by Spend when the connection has used up its
// window's units.
var ErrRateLimited = errors.New("connection: rate limited")

// MaxAge is API Gateway's maximum WebSocket connection duration.
const MaxAge = 2 * time.Hour

// ExpiryMargin is added to MaxAge for the TTL attribute, so a row outlives its
// connection and DynamoDB's TTL sweeper only removes rows whose $disconnect was lost.
const ExpiryMargin = 15 * time.Minute

// Connection is one open WebSocket connection.
type Connection struct {
	ID          string    // API Gateway connection ID
	UserID      string    // authenticated user
	ConnectedAt time.Time // when $connect succeeded
	ExpiresAt   time.Time // after this the row is ignored and TTL deletes it
	SourceIP    string    // requestContext.identity.sourceIp
	UserAgent   string    // User-Agent header, truncated
}

// New returns a connection for userID connected at t, expiring at t + MaxAge + ExpiryMargin.
func New(id, userID string, t time.Time, sourceIP, userAgent string) Connection {
	t = t.UTC()
	return Connection{ID: id, UserID: userID, ConnectedAt: t, ExpiresAt: t.Add(MaxAge + ExpiryMargin),
		SourceIP: sourceIP, UserAgent: userAgent}
}

// Store keeps connections. Implementations are safe for concurrent use.
type Store interface {
	// Put records c, replacing any row with the same ID.
	Put(ctx context.Context, c Connection) error
	// Delete removes the connection with that ID. Deleting a missing ID is not an error.
	Delete(ctx context.Context, id string) error
	// Get returns the connection with that ID, or ErrNotFound if there is none
	// or it has expired.
	Get(ctx context.Context, id string) (Connection, error)
	// ByUser returns the user's connections that have not expired, in no
	// particular order; none is an empty slice and no error. Its cost grows
	// with the user's connections, never with the table.
	ByUser(ctx context.Context, userID string) ([]Connection, error)

	// ClaimWelcome records that the connection is being welcomed, at, unless
	// it has been already: it returns ErrWelcomed if it was claimed before
	// (and not released), ErrNotFound if there is no live connection with
	// that ID. Only one of any number of concurrent claims succeeds.
	ClaimWelcome(ctx context.Context, id string, at time.Time) error
	// ReleaseWelcome undoes the claim ClaimWelcome made at the same time at,
	// so that the welcome can be claimed again. Releasing a claim that is
	// gone, or was made at another time, is not an error and changes nothing.
	ReleaseWelcome(ctx context.Context, id string, at time.Time) error

	// Spend takes cost units from the connection's budget of the current
	// window of limit (windows of limit.Window, aligned on the Unix epoch).
	// If the window's units would go above limit.Units it spends nothing and
	// returns ErrRateLimited with how long until the window ends. It returns
	// ErrNotFound if there is no live connection with that ID.
	Spend(ctx context.Context, id string, cost int, limit Limit) (retryAfter time.Duration, err error)
}

// Limit is a connection's budget of units per fixed window.
type Limit struct {
	Units  int           // units a connection may spend in one window
	Window time.Duration // length of a window; at least a millisecond
}

// window returns the start of the window holding now, in Unix milliseconds,
// and the time left until it ends.
func (l Limit) window(now time.Time) (start int64, left time.Duration) {
	size := max(l.Window.Milliseconds(), 1)
	ms := now.UnixMilli()
	start = ms - ms%size
	return start, time.Duration(start+size-ms) * time.Millisecond
}
