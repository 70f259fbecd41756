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

// ErrInvalid is returned, wrapped, for an argument that no stored item can
// match: an empty user ID or notification ID on Add, or an ID or cursor longer
// than MaxIDLength. Callers map it to a client error.
var ErrInvalid = errors.New("history: invalid argument")

// MaxIDLength is the longest notification ID (and After/Before cursor), in
// bytes: DynamoDB's limit on a sort key. User IDs may be up to 2048 bytes.
const MaxIDLength = 1024

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

// record is one stored item, as both stores keep it and as one row of the
// notifications table.
type record struct {
	UserID    string `dynamodbav:"userId"`           // partition key
	ID        string `dynamodbav:"id"`               // sort key: the notification's ULID
	Payload   string `dynamodbav:"payload"`          // the notification as JSON
	ExpiresAt int64  `dynamodbav:"expiresAt"`        // epoch seconds; TTL attribute
	Unread    string `dynamodbav:"unread,omitempty"` // the ID while unread, absent once read (sparse index key)
}

// newRecord validates item and encodes it. A zero ExpiresAt means now +
// DefaultRetention, so an item is never stored already expired by mistake.
func newRecord(item Item, now time.Time) (record, error) {
	id := item.Notification.ID
	if !validUser(item.UserID) || !validID(id) {
		return record{}, fmt.Errorf("history: add %.64q for user %.64q: %w", id, item.UserID, ErrInvalid)
	}
	payload, err := json.Marshal(item.Notification)
	if err != nil {
		return record{}, fmt.Errorf("history: add %s: %w", id, err)
	}
	expires := item.ExpiresAt
	if expires.IsZero() {
		expires = now.Add(DefaultRetention)
	}
	r := record{UserID: item.UserID, ID: id, Payload: string(payload), ExpiresAt: expires.Unix()}
	if !item.Read {
		r.Unread = id
	}
	return r, nil
}

// item decodes r. The sort key is authoritative for the notification's ID.
func (r record) item() (Item, error) {
	var n notification.Notification
	if err := json.Unmarshal([]byte(r.Payload), &n); err != nil {
		return Item{}, fmt.Errorf("decode %s: %w", r.ID, err)
	}
	n.ID = r.ID
	return Item{UserID: r.UserID, Notification: n, Read: r.Unread == "", ExpiresAt: time.Unix(r.ExpiresAt, 0).UTC()}, nil
}

// live reports whether r is visible at now: like the DynamoDB filter
// `expiresAt > :now` on epoch seconds.
func (r record) live(now time.Time) bool { return now.Unix() < r.ExpiresAt }
