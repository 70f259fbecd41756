package notifier

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/oklog/ulid/v2"

	"github.com/finance/fbdi-notify/internal/deadletter"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/userid"
)

// sender is the part of the SQS client (*sqs.Client) the QueueHandler uses.
type sender = deadletter.Sender

// QueueHandler handles batches from the notification SQS queue
// (docs/protocol.md#notification-queue).
// It is safe for concurrent use.
//
// Each message body is one JSON object:
//
//	{"user_id":"123","type":"notification","message":"...","data":{...}}
//
// with "user_ids":[...] instead of "user_id" to reach several users (a user
// id is a string or a whole number, by the rule of package userid). "type"
// defaults to "notification"; the oracle_upload_* types carry their own fields
// (transaction_id, step, ...). An optional "id" (a ULID) names the
// notification; without one, the ID is derived from the SQS message ID and
// SentTimestamp, so a message SQS delivers twice is stored once.
type QueueHandler struct {
	n      *Notifier
	sqs    sender
	dlqURL string
	log    *slog.Logger

	// QueueOptions (retry.go)
	queueURL    string
	delays      []time.Duration
	reserve     time.Duration
	maxReceives int // 0: none
	now         func() time.Time
}

// NewQueueHandler returns a handler that delivers through n and moves malformed
// messages to the dead-letter queue at dlqURL through client. With an empty
// dlqURL malformed messages are reported as failed instead, which leaves them
// to the queue's redrive policy. A nil logger discards. It does not redeliver
// failed posts and keeps DefaultReserve: see WithOptions.
func NewQueueHandler(n *Notifier, client sender, dlqURL string, logger *slog.Logger) *QueueHandler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &QueueHandler{n: n, sqs: client, dlqURL: dlqURL, log: logger}
	return h.WithOptions(QueueOptions{})
}

// Handle delivers every message of the batch, one after another (so a batch
// keeps the order of a transaction's progress messages). A message that
// cannot be delivered now because history or the connection store failed is
// reported in BatchItemFailures, for SQS to deliver again; the rest of the
// batch is unaffected. A malformed message is sent to the dead-letter queue
// with its reason and counts as handled. A panic while handling a message is
// logged and the message reported in BatchItemFailures (lambdaenv.Recover).
//
// A post that failed for a reason that may pass is retried later, for that
// connection only, through a delayed redelivery message (QueueOptions); once
// the retries are used up the failure goes to the dead-letter queue. When
// less than QueueOptions.Reserve is left before ctx's deadline, Handle takes
// no new message (after the first) and reports the rest in
// BatchItemFailures, so a timeout never makes SQS deliver again a message
// already posted.
//
// On a message's last receive (ApproximateReceiveCount at least
// QueueOptions.MaxReceives), a failure that would have it delivered again
// sends it to the dead-letter queue instead, with the failure as its
// reason, and it counts as handled; only if that send fails is it reported
// in BatchItemFailures, for the redrive policy to move it without one.
//
// Its metrics (Options.Metrics of its Notifier) are the Notifier's, and:
// NotificationsRetried per redelivery sent; NotificationsFailed once per
// message dead-lettered as malformed (ReasonInvalidMessage) or too large
// (ReasonTooLarge), per user whose posts failed for good (ReasonTooLarge,
// ReasonPostError at once; ReasonRetriesExhausted after the last
// redelivery), and per message that failed on its last receive (by what
// failed: ReasonStoreError, ReasonInvalidMessage, ReasonTooLarge, or
// ReasonRetriesExhausted otherwise). A message's FanoutLatency runs from its
// SentTimestamp (when SQS accepted it; the start of its handling when it
// has none) to the end of its last post; a redelivery records none, since
// its delay is deliberate. Handle never returns an error.
func (h *QueueHandler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	ctx, log := lambdaenv.Invocation(ctx, h.log)
	ctx = withPrefsCache(ctx)
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, msg := range ev.Records {
		if late, left := h.late(ctx); late && i > 0 {
			log.WarnContext(ctx, "deadline near; leaving the rest of the batch to SQS",
				"left", left, "reserve", h.reserve, "handled", i, "untouched", len(ev.Records)-i)
			for _, rest := range ev.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rest.MessageId})
			}
			break
		}
		ctx, log := lambdaenv.With(ctx, log, "message_id", msg.MessageId)
		if err := h.handle(ctx, log, msg); err != nil && !h.giveUp(ctx, log, msg, err) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
		}
	}
	return resp, nil
}

// handle delivers one message; an error means "deliver it again".
func (h *QueueHandler) handle(ctx context.Context, log *slog.Logger, msg events.SQSMessage) (err error) {
	defer lambdaenv.Recover(log, &err)
	if isRedelivery(msg) {
		return h.redeliver(ctx, log, msg)
	}
	if u, ok, err := parseUpstream(msg.Body); ok {
		if err != nil {
			return h.deadLetter(ctx, log, msg, ReasonInvalidMessage, err.Error())
		}
		if err := h.n.apply(ctx, u); err != nil {
			log.ErrorContext(ctx, "preferences not stored; message will be retried", "error", err)
			return withReason(ReasonStoreError, err)
		}
		log.InfoContext(ctx, "preferences stored", "type", u.typ, "user_id", u.userID)
		return nil
	}
	users, note, err := parseMessage(msg)
	if err != nil {
		return h.deadLetter(ctx, log, msg, ReasonInvalidMessage, err.Error())
	}
	report, err := h.n.notify(ctx, sentAt(msg, h.n.now), users, note)
	switch {
	case errors.Is(err, ErrTooLarge):
		return h.deadLetter(ctx, log, msg, ReasonTooLarge,
			fmt.Sprintf("notification does not fit in %d bytes once stamped", MaxPayload-replayOverhead))
	case err != nil:
		log.ErrorContext(ctx, "notify failed; message will be retried", "error", err)
		return withReason(ReasonStoreError, err)
	}
	log.InfoContext(ctx, "notification delivered", "notification_id", report.ID, "type", note.Type,
		"users", len(users), "delivered", len(report.Delivered), "gone", len(report.Gone), "failed", len(report.Failed))
	return h.retryLater(ctx, log, msg, report.ID, 1, report.Failed)
}

// deadLetter sends msg to the dead-letter queue with reason, and counts it
// in NotificationsFailed by failure (a Reason constant). It returns an
// error, carrying failure, only when the message could not be kept there.
func (h *QueueHandler) deadLetter(ctx context.Context, log *slog.Logger, msg events.SQSMessage, failure, reason string) error {
	reason = deadletter.Truncate(reason, deadletter.MaxReason)
	if err := deadletter.Send(ctx, h.sqs, h.dlqURL, msg, reason); err != nil {
		log.ErrorContext(ctx, "malformed message not dead-lettered; leaving it to the retries and the redrive policy", "reason", reason, "error", err)
		return withReason(failure, fmt.Errorf("notifier: dead-letter %s: %w", msg.MessageId, err))
	}
	log.WarnContext(ctx, "malformed message moved to dead-letter queue", "reason", reason)
	h.n.failed(failure, 1)
	return nil
}

// giveUp ends a message whose handling failed with err, if this is its last
// receive (QueueOptions.MaxReceives): it counts the message in
// NotificationsFailed (by err's Reason; ReasonRetriesExhausted when it has
// none) and sends it to the dead-letter queue with err as its reason. It
// reports whether the message is done with; if not (not its last receive,
// or the send failed), SQS is to deliver it again, or its redrive policy
// to move it.
func (h *QueueHandler) giveUp(ctx context.Context, log *slog.Logger, msg events.SQSMessage, err error) bool {
	count, _ := strconv.Atoi(msg.Attributes["ApproximateReceiveCount"])
	if h.maxReceives <= 0 || count < h.maxReceives {
		return false
	}
	failure := ReasonRetriesExhausted
	var r *reasonError
	if errors.As(err, &r) {
		failure = r.reason
	}
	h.n.failed(failure, 1) // moved now, or by the redrive policy
	reason := deadletter.Truncate(fmt.Sprintf("receive %d of %d failed: %v", count, h.maxReceives, err), deadletter.MaxReason)
	if derr := deadletter.Send(ctx, h.sqs, h.dlqURL, msg, reason); derr != nil {
		log.ErrorContext(ctx, "last receive failed and not dead-lettered; the redrive policy moves the message",
			"receive_count", count, "reason", reason, "error", derr)
		return false
	}
	log.ErrorContext(ctx, "last receive failed; message moved to dead-letter queue", "receive_count", count, "reason", reason)
	return true
}

// reasonError is the failure of a message, with the Reason it counts as in
// NotificationsFailed if it is its last receive.
type reasonError struct {
	reason string // a Reason constant
	err    error
}

func (e *reasonError) Error() string { return e.err.Error() }
func (e *reasonError) Unwrap() error { return e.err }

// withReason returns err with the given Reason, or nil if err is nil.
func withReason(reason string, err error) error {
	if err == nil {
		return nil
	}
	return &reasonError{reason: reason, err: err}
}

// sentAt returns the time SQS accepted msg (its SentTimestamp attribute),
// or now() when it has none.
func sentAt(msg events.SQSMessage, now func() time.Time) time.Time {
	ms, err := strconv.ParseInt(msg.Attributes["SentTimestamp"], 10, 64)
	if err != nil {
		return now()
	}
	return time.UnixMilli(ms)
}

// malformed returns the error for a message that cannot be delivered (and
// never will be): its text is the reason an operator reads.
func malformed(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// queueMessage is the body of a notification queue message.
type queueMessage struct {
	ID      string      `json:"id"`       // optional ULID
	UserID  *userid.ID  `json:"user_id"`  // exactly one of UserID and UserIDs
	UserIDs []userid.ID `json:"user_ids"` //
	Type    string      `json:"type"`     // default notification
	Message string      `json:"message"`

	Data     map[string]any `json:"data"`     // notification
	Category string         `json:"category"` // notification: notification.ParseCategory; default general
	Critical *bool          `json:"critical"` // notification: true makes it impossible to mute

	TransactionID string `json:"transaction_id"` // oracle_upload_*
	Step          string `json:"step"`           // oracle_upload_progress
	StepNumber    int    `json:"step_number"`    //
	TotalSteps    int    `json:"total_steps"`    //
	Status        string `json:"status"`         //
	Success       *bool  `json:"success"`        // oracle_upload_completed: true if present
	ResultPath    string `json:"result_path"`    //
	Error         string `json:"error"`          // oracle_upload_failed
}

// fieldsByType lists the fields each message type may carry besides
// id, user_id, user_ids, type and message.
var fieldsByType = map[string][]string{
	notification.TypeNotification:    {"data", "category", "critical"},
	notification.TypeUploadStarted:   {"transaction_id"},
	notification.TypeUploadProgress:  {"transaction_id", "step", "step_number", "total_steps", "status"},
	notification.TypeUploadCompleted: {"transaction_id", "success", "result_path"},
	notification.TypeUploadFailed:    {"transaction_id", "error"},
}

// parseMessage validates a notification queue message and returns the users
// it is for (at least one, no repeats) and the notification, which carries
// its ID and timestamp when the message names an ID or SQS gave it a
// SentTimestamp. For a message that is not valid it returns an error whose
// text is the reason.
func parseMessage(msg events.SQSMessage) (users []string, note notification.Notification, err error) {
	m, err := decode(msg.Body)
	if err != nil {
		return nil, note, err
	}
	users, err = m.users()
	if err != nil {
		return nil, note, err
	}
	if note, err = m.notification(); err != nil {
		return nil, note, err
	}
	if m.ID != "" {
		id, err := ulid.ParseStrict(m.ID)
		if err != nil {
			return nil, note, malformed("field id: %q is not a ULID", truncate(m.ID, 64))
		}
		note.ID, note.Timestamp = id.String(), id.Timestamp().UTC()
	} else if id, ok := derivedID(msg); ok {
		note.ID, note.Timestamp = id.String(), id.Timestamp().UTC()
	}
	return users, note, nil
}

// derivedID returns the ID of the notification carried by msg: a ULID with
// the message's SentTimestamp as its time and a hash of its SQS message ID as
// its entropy, so that every delivery of the message gets the same ID.
func derivedID(msg events.SQSMessage) (ulid.ULID, bool) {
	ms, err := strconv.ParseUint(msg.Attributes["SentTimestamp"], 10, 64)
	if err != nil || msg.MessageId == "" {
		return ulid.ULID{}, false
	}
	sum := sha256.Sum256([]byte(msg.MessageId))
	id, err := ulid.New(ms, bytes.NewReader(sum[:]))
	return id, err == nil
}

func decode(body string) (*queueMessage, error) {
	if len(body) > MaxPayload {
		return nil, malformed("body is %d bytes; a notification must fit in %d", len(body), MaxPayload)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, malformed("body is a JSON %s, not an object", typeErr.Value)
		}
		return nil, malformed("body is not valid JSON: %v", err)
	}
	if fields == nil {
		return nil, malformed("body is JSON null, not an object")
	}
	typ := notification.TypeNotification
	if raw, ok := fields["type"]; ok {
		if err := json.Unmarshal(raw, &typ); err != nil {
			return nil, malformed("field type: want a string")
		}
	}
	extra, ok := fieldsByType[typ]
	if !ok {
		return nil, malformed("unknown type %q", truncate(typ, 64))
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		switch name {
		case "id", "user_id", "user_ids", "type", "message":
			continue
		}
		if !slices.Contains(extra, name) {
			return nil, malformed("unknown field %q for type %s", truncate(name, 64), typ)
		}
	}

	m := &queueMessage{Type: typ}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber() // keeps numbers in data exactly as sent
	if err := dec.Decode(m); err != nil {
		if errors.Is(err, userid.ErrInvalid) {
			return nil, malformed("field user_id or user_ids: %v", err)
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, malformed("field %s: got a JSON %s, want %s", typeErr.Field, typeErr.Value, describe(typeErr.Type))
		}
		return nil, malformed("body is not valid JSON: %v", err)
	}
	m.Type = typ // "type": null leaves the default
	return m, nil
}

// describe names a Go type as the JSON it expects.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return describe(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		return "an array of strings"
	case reflect.Map:
		return "an object"
	}
	return t.String()
}

func (m *queueMessage) users() ([]string, error) {
	var users []string
	switch {
	case m.UserID != nil && m.UserIDs != nil:
		return nil, malformed("both user_id and user_ids are set; use one")
	case m.UserID != nil:
		users = []string{string(*m.UserID)}
	case m.UserIDs != nil:
		if len(m.UserIDs) == 0 {
			return nil, malformed("field user_ids is empty")
		}
		for _, u := range m.UserIDs {
			users = append(users, string(u))
		}
	default:
		return nil, malformed("missing user_id or user_ids")
	}
	slices.Sort(users)
	return slices.Compact(users), nil
}

// notification returns the message's notification. The oracle_upload_*
// types are FBDI notifications (CategoryFBDI) whoever sends them: a user who
// mutes fbdi mutes an upstream's upload messages too.
func (m *queueMessage) notification() (notification.Notification, error) {
	n, err := m.build()
	if err == nil && n.Type != notification.TypeNotification {
		n.Category = notification.CategoryFBDI
	}
	return n, err
}

func (m *queueMessage) build() (notification.Notification, error) {
	if m.Type != notification.TypeNotification && m.TransactionID == "" {
		return notification.Notification{}, malformed("missing transaction_id for type %s", m.Type)
	}
	switch m.Type {
	case notification.TypeNotification:
		if m.Message == "" {
			return notification.Notification{}, malformed("missing message")
		}
		category, err := notification.ParseCategory(m.Category)
		if err != nil {
			return notification.Notification{}, malformed("field category: %v", err)
		}
		n := notification.General(m.Message, m.Data)
		n.Category = category
		n.Critical = m.Critical != nil && *m.Critical
		return n, nil
	case notification.TypeUploadStarted:
		return notification.UploadStarted(m.TransactionID, m.Message), nil
	case notification.TypeUploadProgress:
		switch {
		case m.Step == "":
			return notification.Notification{}, malformed("missing step")
		case m.StepNumber < 1 || m.TotalSteps < m.StepNumber:
			return notification.Notification{}, malformed("step_number %d of total_steps %d: want 1 <= step_number <= total_steps",
				m.StepNumber, m.TotalSteps)
		}
		switch m.Status {
		case notification.StatusProcessing, notification.StatusCompleted, notification.StatusFailed:
		default:
			return notification.Notification{}, malformed("status %q: want processing, completed or failed", truncate(m.Status, 64))
		}
		return notification.UploadProgress(m.TransactionID, m.Step, m.StepNumber, m.TotalSteps, m.Status, m.Message), nil
	case notification.TypeUploadCompleted:
		if m.Success != nil && !*m.Success {
			return notification.Notification{}, malformed("success is false for type %s; send oracle_upload_failed", m.Type)
		}
		return notification.UploadCompleted(m.TransactionID, m.Message, m.ResultPath), nil
	default: // notification.TypeUploadFailed; decode accepts no other type
		if m.Error == "" {
			return notification.Notification{}, malformed("missing error for type %s", m.Type)
		}
		return notification.UploadFailed(m.TransactionID, m.Message, m.Error), nil
	}
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
