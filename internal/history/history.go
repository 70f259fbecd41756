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

// Item is one stored notification of one user. Its category is the
// notification's (Notification.Category; CategoryGeneral when empty).
type Item struct {
	UserID       string                    // owner
	Notification notification.Notification // as sent; stores return it with Cursor set to Position.Cursor()
	Position     Position                  // set by the store; ignored by Add
	// Read is set by MarkRead, MarkCategoryRead and MarkAllRead. On Add it
	// says that the item is stored already read: the notifier sets it to
	// !UnreadRule.Unread(n), so that progress steps do not count as unread.
	Read bool
	// Archived is set by Archive: the item is left out of After, Before and
	// UnreadCount, and kept until ExpiresAt. Ignored by Add.
	Archived  bool
	ExpiresAt time.Time // TTL: after this the item is ignored and deleted
}

// Filter narrows what After and Before return. The zero Filter keeps every
// item that is not archived.
type Filter struct {
	Category   string // only items of this category (notification.ParseCategory); "" any
	UnreadOnly bool   // only unread items
}

// Page is what After and Before return.
type Page struct {
	Items   []Item // in the order the method states
	HasMore bool   // more items may match beyond Next
	// Next is where the next page starts when HasMore: the after (After) or
	// before (Before) to call again with. It is the last item's position,
	// or further when the page stopped at ScanPages with fewer items than
	// asked for (a filter skipped the rest). 0 when !HasMore.
	Next Position
}

// ScanPages bounds the work of one After or Before call: it reads at most
// ScanPages x (limit+1) items of the user's history, skipping those that do
// not match the filter, are archived or have expired, and returns what
// matched with HasMore and Next when it stopped there.
const ScanPages = 8

// MaxCategoryMarks is the most items one MarkCategoryRead marks read (the
// oldest unread first); the rest stay unread for another call.
const MaxCategoryMarks = 500

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
	// After returns up to limit items matching f at positions greater than
	// after (all when after is 0), in position order, reading at most
	// ScanPages x (limit+1) items (see Page.Next). Archived items are never
	// returned.
	After(ctx context.Context, userID string, after Position, f Filter, limit int) (Page, error)
	// Before returns up to limit items matching f at positions less than
	// before (the newest when before is 0), newest first, bounded like After.
	Before(ctx context.Context, userID string, before Position, f Filter, limit int) (Page, error)
	// Position returns the position of the user's notification with that ID,
	// or ErrNotFound if the user has none (or it has expired). It serves
	// clients that still resume after an ID.
	Position(ctx context.Context, userID, id string) (Position, error)
	// MarkRead marks the user's items with those IDs as read; unknown IDs
	// and other users' IDs are ignored.
	MarkRead(ctx context.Context, userID string, ids []string) error
	// MarkCategoryRead marks read the user's unread items of category (up
	// to MaxCategoryMarks, the oldest first). It may miss an item added a
	// moment before (DynamoStore reads an eventually consistent index).
	MarkCategoryRead(ctx context.Context, userID, category string) error
	// MarkAllRead marks every item the user has so far as read.
	MarkAllRead(ctx context.Context, userID string) error
	// Archive hides the user's items with those IDs from After, Before and
	// UnreadCount; they are kept until they expire. Unknown IDs and other
	// users' IDs are ignored.
	Archive(ctx context.Context, userID string, ids []string) error
	// UnreadCount returns how many of the user's items are unread and not archived.
	UnreadCount(ctx context.Context, userID string) (int, error)
}
