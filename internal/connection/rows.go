package connection

import (
	"errors"
	"time"
)

// maxKeyBytes is DynamoDB's limit on a partition key value (connectionId, and
// userId as the byUser index key). MemoryStore enforces it too, so both
// stores accept exactly the same connections.
const maxKeyBytes = 2048

var (
	errEmptyID   = errors.New("empty or oversized connection id")
	errEmptyUser = errors.New("empty or oversized user id")
)

// validKey reports whether s can be a key value: non-empty and at most
// maxKeyBytes long.
func validKey(s string) bool { return s != "" && len(s) <= maxKeyBytes }

// validate returns why c cannot be stored, or nil.
func validate(c Connection) error {
	if !validKey(c.ID) {
		return errEmptyID
	}
	if !validKey(c.UserID) {
		return errEmptyUser
	}
	return nil
}

// normalize returns c as a store returns it: times in UTC, ConnectedAt
// without a monotonic reading, ExpiresAt truncated to the second (the TTL
// attribute holds epoch seconds).
func normalize(c Connection) Connection {
	c.ConnectedAt = c.ConnectedAt.UTC()
	c.ExpiresAt = time.Unix(c.ExpiresAt.Unix(), 0).UTC()
	return c
}

// live reports whether a row expiring at expiresAt is still valid at now. It
// compares epoch seconds, exactly like the DynamoDB filter `expiresAt > :now`.
func live(expiresAt, now time.Time) bool { return now.Unix() < expiresAt.Unix() }
