package publisher

import (
	"fmt"

	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/userid"
	"github.com/finance/fbdi-notify/schemas"
)

// Notification types an upstream system may send (docs/protocol.md#notification-queue).
const (
	TypeNotification    = notification.TypeNotification    // a general notification: Message, Data
	TypeUploadStarted   = notification.TypeUploadStarted   // TransactionID, Message
	TypeUploadProgress  = notification.TypeUploadProgress  // TransactionID, Step, StepNumber, TotalSteps, Status, Message
	TypeUploadCompleted = notification.TypeUploadCompleted // TransactionID, Success, ResultPath, Message
	TypeUploadFailed    = notification.TypeUploadFailed    // TransactionID, Error, Message
)

// Step statuses of a TypeUploadProgress notification.
const (
	StatusProcessing = notification.StatusProcessing
	StatusCompleted  = notification.StatusCompleted
	StatusFailed     = notification.StatusFailed
)

// MaxNotificationBytes is the largest notification queue body the system
// accepts.
const MaxNotificationBytes = 131072

// Notification is one notification queue message. Give UserID or UserIDs,
// not both; set only the fields of its Type (see the Type constants): a
// field that does not belong to the type is refused. Zero values are left
// out of the message.
type Notification struct {
	ID            string         `json:"id,omitempty"`             // optional ULID; a message sent twice with one ID is stored once
	UserID        string         `json:"user_id,omitempty"`        // the user to notify
	UserIDs       []string       `json:"user_ids,omitempty"`       // or several users, each told once
	Type          string         `json:"type,omitempty"`           // default TypeNotification
	Message       string         `json:"message,omitempty"`        // required for TypeNotification
	Data          map[string]any `json:"data,omitempty"`           // TypeNotification only: passed to the browser unchanged
	TransactionID string         `json:"transaction_id,omitempty"` // required for the upload types
	Step          string         `json:"step,omitempty"`           // TypeUploadProgress: the step's name
	StepNumber    int            `json:"step_number,omitempty"`    // TypeUploadProgress: 1 to TotalSteps
	TotalSteps    int            `json:"total_steps,omitempty"`    // TypeUploadProgress: the workflow's steps (5 for FBDI)
	Status        string         `json:"status,omitempty"`         // TypeUploadProgress: a Status constant
	Success       bool           `json:"success,omitempty"`        // TypeUploadCompleted: true or left out
	ResultPath    string         `json:"result_path,omitempty"`    // TypeUploadCompleted: where the result is seen
	Error         string         `json:"error,omitempty"`          // TypeUploadFailed, required: why it failed
}

// body returns n as a queue message body, or an *InvalidError when the
// system would refuse it.
func (n Notification) body() ([]byte, error) {
	body, err := marshal(n)
	if err != nil {
		return nil, err
	}
	if err := n.checkUsers(); err != nil {
		return nil, err
	}
	if err := checkSchema(schemas.NotificationMessage, body); err != nil {
		return nil, err
	}
	// What the schema cannot say (its description lists these).
	if n.StepNumber > n.TotalSteps {
		return nil, &InvalidError{Field: "step_number", Reason: fmt.Sprintf("%d is more than total_steps %d", n.StepNumber, n.TotalSteps)}
	}
	if len(body) > MaxNotificationBytes {
		return nil, &InvalidError{Reason: fmt.Sprintf("body is %d bytes; a notification must fit in %d", len(body), MaxNotificationBytes)}
	}
	return body, nil
}

// checkUsers applies the system's user id rule (package userid), which
// counts bytes where the schema counts characters, and says when both or
// neither of UserID and UserIDs is given.
func (n Notification) checkUsers() error {
	switch {
	case n.UserID != "" && n.UserIDs != nil:
		return &InvalidError{Field: "user_ids", Reason: "both user_id and user_ids are set; use one"}
	case n.UserID != "":
		if err := userid.Validate(n.UserID); err != nil {
			return &InvalidError{Field: "user_id", Reason: err.Error()}
		}
	case n.UserIDs == nil:
		return &InvalidError{Field: "user_id", Reason: "is required (or user_ids)"}
	}
	for i, u := range n.UserIDs {
		if err := userid.Validate(u); err != nil {
			return &InvalidError{Field: fmt.Sprintf("user_ids[%d]", i), Reason: err.Error()}
		}
	}
	return nil
}
