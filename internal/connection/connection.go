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
}
