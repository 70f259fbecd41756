// Package notification defines the messages the server sends to browsers.
//
// The wire format is field-compatible with the Django Channels module this
// system replaces (docs/protocol.md#server-to-client): every message is one flat JSON object
// whose "type" names it, plus an "id" that is unique and sorts by time (a
// ULID) and a "timestamp" in RFC 3339, UTC.
package notification

import (
	"crypto/rand"
	"io"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Types of server-to-client messages.
const (
	TypeConnectionEstablished = "connection_established"
	TypeNotification          = "notification"
	TypeUploadStarted         = "oracle_upload_started"
	TypeUploadProgress        = "oracle_upload_progress"
	TypeUploadCompleted       = "oracle_upload_completed"
	TypeUploadFailed          = "oracle_upload_failed"
)

// Step statuses carried by oracle_upload_progress.
const (
	StatusProcessing = "processing"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
)

// Notification is one server-to-client message. Fields that a type does not
// use are left zero and omitted from the JSON.
type Notification struct {
	ID        string    `json:"id"`        // ULID; unique, sorts by time
	Type      string    `json:"type"`      // one of the Type constants
	Timestamp time.Time `json:"timestamp"` // RFC 3339, UTC

	// Category groups notifications for preferences and inbox filters
	// (ParseCategory): CategoryFBDI for workflow notifications, whose Kind
	// says which workflow, else what upstream sent, CategoryGeneral by
	// default. Critical notifications cannot be muted; oracle_upload_failed
	// always is one (Classify).
	Category string `json:"category,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Critical bool   `json:"critical,omitempty"`

	Message      string         `json:"message,omitempty"`
	Data         map[string]any `json:"data,omitzero"`           // notification: always an object
	UserID       string         `json:"user_id,omitempty"`       // connection_established
	ConnectionID string         `json:"connection_id,omitempty"` // connection_established

	TransactionID string `json:"transaction_id,omitempty"` // oracle_upload_*
	Step          string `json:"step,omitempty"`           // oracle_upload_progress: step name
	StepNumber    int    `json:"step_number,omitempty"`    // 1-based
	TotalSteps    int    `json:"total_steps,omitempty"`
	Status        string `json:"status,omitempty"`      // processing | completed | failed
	Success       bool   `json:"success,omitempty"`     // oracle_upload_completed: always true
	ResultPath    string `json:"result_path,omitempty"` // oracle_upload_completed, optional
	Error         string `json:"error,omitempty"`       // oracle_upload_failed

	// Cursor is the notification's place in its user's history, opaque to
	// clients (history.Position.Cursor): resume after it returns exactly the
	// notifications stored after this one. Empty until stored.
	Cursor   string `json:"cursor,omitempty"`
	Replayed bool   `json:"replayed,omitempty"` // set on messages sent again by resume
}

var (
	entropyMu sync.Mutex
	entropy   = ulid.Monotonic(rand.Reader, 0)
)

// NewID returns a new ULID for time t. IDs made by one process sort in the
// order they were made, also within one millisecond.
func NewID(t time.Time) string {
	entropyMu.Lock()
	defer entropyMu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), io.Reader(entropy)).String()
}

// Stamp gives n a new ID and the timestamp t (in UTC, to the millisecond the
// ID carries) unless n already has an ID.
func (n *Notification) Stamp(t time.Time) {
	if n.ID != "" {
		return
	}
	t = t.UTC().Truncate(time.Millisecond)
	n.ID = NewID(t)
	n.Timestamp = t
}

// ConnectionEstablished is sent to a connection once it is live.
func ConnectionEstablished(userID, connectionID string) Notification {
	return Notification{Type: TypeConnectionEstablished, Message: "WebSocket connection established",
		UserID: userID, ConnectionID: connectionID}
}

// General is a plain notification with a message and free-form data.
func General(message string, data map[string]any) Notification {
	if data == nil {
		data = map[string]any{}
	}
	return Notification{Type: TypeNotification, Message: message, Data: data}
}

// UploadStarted announces that the workflow of a transaction has begun.
func UploadStarted(transactionID, message string) Notification {
	return Notification{Type: TypeUploadStarted, TransactionID: transactionID, Message: message}
}

// UploadProgress reports that step number of total has the given status.
func UploadProgress(transactionID, step string, number, total int, status, message string) Notification {
	return Notification{Type: TypeUploadProgress, TransactionID: transactionID, Step: step,
		StepNumber: number, TotalSteps: total, Status: status, Message: message}
}

// UploadCompleted reports that a transaction's workflow succeeded.
func UploadCompleted(transactionID, message, resultPath string) Notification {
	return Notification{Type: TypeUploadCompleted, TransactionID: transactionID, Message: message,
		Success: true, ResultPath: resultPath}
}

// UploadFailed reports that a transaction's workflow failed with reason errText.
func UploadFailed(transactionID, message, errText string) Notification {
	return Notification{Type: TypeUploadFailed, TransactionID: transactionID, Message: message, Error: errText}
}
