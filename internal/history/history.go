// Package history keeps every notification sent to a user, so that a user who
// was offline gets them on resume and can page through them with a read flag.
//
// Two implementations share one contract (see package historytest):
// DynamoStore, for Lambda, and MemoryStore, for the local stack and unit tests.
package history

import (
	"context"
	"time"

	"github.com/finance/fbdi-notify/internal/notification"
)

// DefaultRetention is how long a notification is kept unless configured otherwise.
const DefaultRetention = 30 * 24 * time.Hour

// Item is one stored notification of one user.
type Item struct {
	UserID       string                    // owner
	Notification notification.Notification // as sent; its ID orders the user's items
	Read         bool                      // set by MarkRead / MarkAllRead
	ExpiresAt    time.Time                 // TTL: after this the item is ignored and deleted
}

// Store keeps users' notifications. Every method touches only the given
// user's items: no call can read or change another user's. Expired items are
// never returned nor counted. Implementations are safe for concurrent use.
type Store interface {
	// Add stores item. Adding an ID that the user already has is not an
	// error and leaves the stored item unchanged (deliveries are at-least-once).
	Add(ctx context.Context, item Item) error
	// After returns up to limit items with IDs greater than afterID (all when
	// afterID is empty), oldest first, and whether more follow.
	After(ctx context.Context, userID, afterID string, limit int) (items []Item, hasMore bool, err error)
	// Before returns up to limit items with IDs less than beforeID (the
	// newest when beforeID is empty), newest first, and whether older ones exist.
	Before(ctx context.Context, userID, beforeID string, limit int) (items []Item, hasMore bool, err error)
	// MarkRead marks the user's items with those IDs as read; unknown IDs
	// and other users' IDs are ignored.
	MarkRead(ctx context.Context, userID string, ids []string) error
	// MarkAllRead marks every item of the user as read.
	MarkAllRead(ctx context.Context, userID string) error
	// UnreadCount returns how many of the user's items are unread.
	UnreadCount(ctx context.Context, userID string) (int, error)
}
