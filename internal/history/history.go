// Package history keeps every notification sent to a user, so that a user who
// was offline gets them on resume and can page through them with a read flag.
//
// Each stored notification has a per-user Position: 1 for the first the store
// accepted for that user, then one more per new notification, in the order
// the store accepted them (docs/design.md#order-and-positions). Resume and
// history read in that order, so every client of a user sees one order, with
// no gaps and no repeats, whatever the notifications' IDs and timestamps.
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
	Notification notification.Notification // as sent; stores return it with Cursor set to Position.Cursor()
	Position     Position                  // set by the store; ignored by Add
	Read         bool                      // set by MarkRead / MarkAllRead
	ExpiresAt    time.Time                 // TTL: after this the item is ignored and deleted
}

// Store keeps users' notifications. Every method touches only the given
// user's items: no call can read or change another user's. Expired items are
// never returned nor counted. Implementations are safe for concurrent use.
type Store interface {
	// Add stores item at the user's next position and returns it. Adding an
	// ID that the user already has is not an error: it returns the stored
	// item's position and leaves it unchanged (deliveries are at-least-once).
	// It returns ErrInvalid for an empty user or notification ID and
	// ErrContention when other writers kept taking the position.
	Add(ctx context.Context, item Item) (Position, error)
	// After returns up to limit items at positions greater than after (all
	// when after is 0), in position order, and whether more follow.
	After(ctx context.Context, userID string, after Position, limit int) (items []Item, hasMore bool, err error)
	// Before returns up to limit items at positions less than before (the
	// newest when before is 0), newest first, and whether older ones exist.
	Before(ctx context.Context, userID string, before Position, limit int) (items []Item, hasMore bool, err error)
	// Position returns the position of the user's notification with that ID,
	// or ErrNotFound if the user has none (or it has expired). It serves
	// clients that still resume after an ID.
	Position(ctx context.Context, userID, id string) (Position, error)
	// MarkRead marks the user's items with those IDs as read; unknown IDs
	// and other users' IDs are ignored.
	MarkRead(ctx context.Context, userID string, ids []string) error
	// MarkAllRead marks every item the user has so far as read.
	MarkAllRead(ctx context.Context, userID string) error
	// UnreadCount returns how many of the user's items are unread.
	UnreadCount(ctx context.Context, userID string) (int, error)
}
