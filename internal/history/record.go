package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/finance/fbdi-notify/internal/notification"
)

// Paging limits of After and Before.
const (
	// DefaultLimit is the page size used when the limit asked for is zero or negative.
	DefaultLimit = 100
	// MaxLimit caps the page size; larger limits are reduced to it.
	MaxLimit = 500
)

// Errors callers branch on. Errors returned by this package wrap them.
var (
	// ErrInvalid is returned for an argument that no stored item can match:
	// an empty user ID or notification ID on Add, or an ID longer than
	// MaxIDLength. Callers map it to a client error.
	ErrInvalid = errors.New("history: invalid argument")
	// ErrNotFound is returned by Position for an ID the user does not have.
	ErrNotFound = errors.New("history: not found")
	// ErrContention is returned by Add when concurrent adds for the same user
	// took every position it tried. The caller retries later (the SQS
	// message becomes visible again).
	ErrContention = errors.New("history: contention")
)

// MaxIDLength is the longest notification ID, in bytes: DynamoDB's limit on
// a sort key, less the prefix of the ID's marker item. User IDs may be up to
// 2048 bytes.
const MaxIDLength = 1000

const maxUserIDLength = 2048 // DynamoDB's limit on a partition key

func validUser(userID string) bool { return userID != "" && len(userID) <= maxUserIDLength }
func validID(id string) bool       { return id != "" && len(id) <= MaxIDLength }

// clampLimit applies DefaultLimit and MaxLimit.
func clampLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultLimit
	case limit > MaxLimit:
		return MaxLimit
	}
	return limit
}

// record is one stored item, as both stores keep it and as the item row of
// the notifications table (see dynamo.go for the table's other rows).
type record struct {
	UserID    string   `dynamodbav:"userId"`              // partition key
	Key       string   `dynamodbav:"id"`                  // sort key: positionKey(Position)
	ID        string   `dynamodbav:"nid"`                 // the notification's ID
	Position  Position `dynamodbav:"pos"`                 // the user's position of the item
	Payload   string   `dynamodbav:"payload"`             // the notification as JSON, without cursor
	ExpiresAt int64    `dynamodbav:"expiresAt"`           // epoch seconds; TTL attribute
	Unread    Position `dynamodbav:"unreadPos,omitempty"` // the position while unread, absent once read (sparse index key)
	Category  string   `dynamodbav:"cat"`                 // the notification's category (Filter.Category)
	UnreadCat string   `dynamodbav:"unreadCat,omitempty"` // unreadCategoryKey while unread (sparse index key)
	Archived  bool     `dynamodbav:"archived,omitempty"`  // set by Archive
}

// unreadCategoryKey is the key of the sparse unreadCat index: the user and the
// category. A category has no '#', so the last '#' separates them.
func unreadCategoryKey(userID, category string) string { return userID + "#" + category }

// categoryOf is the category of n as stored: CategoryGeneral when it has none.
func categoryOf(n notification.Notification) string {
	if n.Category == "" {
		return notification.CategoryGeneral
	}
	return n.Category
}

// matches reports whether r passes f at watermark: not archived, of the
// category asked for, and unread when only unread items are asked for.
func (r record) matches(f Filter, watermark Position) bool {
	switch {
	case r.Archived:
		return false
	case f.Category != "" && r.Category != f.Category:
		return false
	case f.UnreadOnly && (r.Unread == 0 || r.Position <= watermark):
		return false
	}
	return true
}

// positionKey is the sort key of the item row at p: fixed width, so that the
// table's string order is the position order.
func positionKey(p Position) string { return fmt.Sprintf("p%020d", uint64(p)) }

// newRecord validates item and encodes it, for position p. A zero ExpiresAt
// means now + DefaultRetention, so an item is never stored already expired by
// mistake.
func newRecord(item Item, p Position, now time.Time) (record, error) {
	id := item.Notification.ID
	if !validUser(item.UserID) || !validID(id) {
		return record{}, fmt.Errorf("history: add %.64q for user %.64q: %w", id, item.UserID, ErrInvalid)
	}
	n := item.Notification
	n.Cursor = "" // the position is stored once, as pos
	payload, err := json.Marshal(n)
	if err != nil {
		return record{}, fmt.Errorf("history: add %s: %w", id, err)
	}
	expires := item.ExpiresAt
	if expires.IsZero() {
		expires = now.Add(DefaultRetention)
	}
	r := record{UserID: item.UserID, Key: positionKey(p), ID: id, Position: p, Payload: string(payload),
		ExpiresAt: expires.Unix(), Category: categoryOf(n)}
	if !item.Read {
		r.Unread = p
		r.UnreadCat = unreadCategoryKey(item.UserID, r.Category)
	}
	return r, nil
}

// item decodes r. Items at or below the user's read watermark are read.
func (r record) item(watermark Position) (Item, error) {
	var n notification.Notification
	if err := json.Unmarshal([]byte(r.Payload), &n); err != nil {
		return Item{}, fmt.Errorf("decode %s: %w", r.ID, err)
	}
	n.ID = r.ID
	n.Cursor = r.Position.Cursor()
	return Item{UserID: r.UserID, Notification: n, Position: r.Position,
		Read: r.Unread == 0 || r.Position <= watermark, Archived: r.Archived, ExpiresAt: time.Unix(r.ExpiresAt, 0).UTC()}, nil
}

// live reports whether r is visible at now: like the DynamoDB filter
// `expiresAt > :now` on epoch seconds.
func (r record) live(now time.Time) bool { return now.Unix() < r.ExpiresAt }
