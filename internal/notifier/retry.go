package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/deadletter"
	"github.com/finance/fbdi-notify/internal/metrics"
)

// AttrRedelivery is the message attribute that marks a redelivery: a message
// a QueueHandler sent to its own queue to post a notification again to the
// connections it failed to reach. Its value is "1". A body of the redelivery
// shape without it is refused as malformed, and so is the attribute on any
// other body.
const AttrRedelivery = "fbdi_redelivery"

// MaxRetryDelay is the longest delay of a redelivery (SQS's DelaySeconds limit).
const MaxRetryDelay = 15 * time.Minute

// DefaultReserve is QueueOptions.Reserve's default.
const DefaultReserve = 5 * time.Second

// DefaultMaxReceives is QueueOptions.MaxReceives' default: template.yaml's
// NotificationQueue maxReceiveCount.
const DefaultMaxReceives = 5

// DefaultRetryDelays returns QueueOptions.RetryDelays' default: three
// redeliveries, 2 s, 10 s and 60 s after the failed post before each.
func DefaultRetryDelays() []time.Duration {
	return []time.Duration{2 * time.Second, 10 * time.Second, time.Minute}
}

// FormatRetryDelays writes delays as ParseRetryDelays reads them: "none"
// for no redelivery.
func FormatRetryDelays(delays []time.Duration) string {
	if len(delays) == 0 {
		return "none"
	}
	parts := make([]string, len(delays))
	for i, d := range delays {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

// ParseRetryDelays reads QueueOptions.RetryDelays from s: durations from 0s
// to MaxRetryDelay separated by commas ("2s,10s,1m"), or "none" for no
// redelivery. "" gives DefaultRetryDelays.
func ParseRetryDelays(s string) ([]time.Duration, error) {
	switch s {
	case "":
		return DefaultRetryDelays(), nil
	case "none":
		return []time.Duration{}, nil
	}
	var delays []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d < 0 || d > MaxRetryDelay {
			return nil, fmt.Errorf("notifier: retry delays %q: want delays from 0s to 15m such as 2s,10s,1m (or none)", s)
		}
		delays = append(delays, d)
	}
	return delays, nil
}

// QueueOptions tune a QueueHandler's redeliveries and deadline
// (docs/design.md#redelivery). The zero value of every field selects its
// default.
type QueueOptions struct {
	// QueueURL is the URL of the queue the handler reads. A post that failed
	// for a reason that may pass (ErrThrottled, a 5xx or network error, the
	// 410 of a connection younger than Options.ConnectGrace) is sent there
	// again, delayed, for those connections only. Empty: no redelivery; such
	// a failure is recorded at once (see RetryDelays).
	QueueURL string
	// RetryDelays are the waits before each redelivery, at most
	// MaxRetryDelay each: a connection gets 1+len(RetryDelays) posts before
	// its failure is recorded (sent to the dead-letter queue and logged as
	// "delivery failed"). nil selects DefaultRetryDelays; an empty, non-nil
	// slice turns redelivery off.
	RetryDelays []time.Duration
	// Reserve is the time Handle keeps for the message it is handling: it
	// takes no new message when less is left before its context's deadline,
	// and reports the untouched ones as batch item failures. It is always a
	// few seconds under the function's Timeout. Default DefaultReserve.
	Reserve time.Duration
	// MaxReceives is the notification queue's maxReceiveCount (its redrive
	// policy), and must equal it: on a message's receive number
	// MaxReceives, a failure that would have SQS deliver it again sends it
	// to the dead-letter queue with its reason instead (see Handle), where
	// the redrive policy would move it next without one. Lower, messages
	// get fewer receives; higher, the redrive policy moves them first.
	// Negative: never, the redrive policy alone. Default DefaultMaxReceives.
	MaxReceives int
	// Now is the clock the deadline is read against; default time.Now.
	Now func() time.Time
}

// WithOptions returns a copy of h tuned by o.
func (h *QueueHandler) WithOptions(o QueueOptions) *QueueHandler {
	c := *h
	c.queueURL, c.delays, c.reserve, c.maxReceives, c.now = o.QueueURL, o.RetryDelays, o.Reserve, o.MaxReceives, o.Now
	if c.delays == nil {
		c.delays = DefaultRetryDelays()
	}
	if c.queueURL == "" {
		c.delays = nil
	}
	if c.reserve <= 0 {
		c.reserve = DefaultReserve
	}
	switch {
	case c.maxReceives == 0:
		c.maxReceives = DefaultMaxReceives
	case c.maxReceives < 0:
		c.maxReceives = 0
	}
	if c.now == nil {
		c.now = time.Now
	}
	return &c
}

// redelivery is the body of a redelivery message:
// {"redelivery":{...}}, a shape no upstream message has.
type redelivery struct {
	UserID         string          `json:"user_id"`
	NotificationID string          `json:"notification_id"`
	Payload        json.RawMessage `json:"payload"`  // exactly the bytes posted the first time
	Attempts       int             `json:"attempts"` // posts already made to each connection
	Connections    []pending       `json:"connections"`
}

// pending is a connection a redelivery is still to serve.
type pending struct {
	ID     string `json:"id"`
	Reason string `json:"reason"` // why its last post failed
}

type redeliveryBody struct {
	Redelivery *redelivery `json:"redelivery"`
}

// isRedelivery reports whether msg carries AttrRedelivery.
func isRedelivery(msg events.SQSMessage) bool {
	_, found := msg.MessageAttributes[AttrRedelivery]
	return found
}

// parseRedelivery validates a redelivery message's body.
func parseRedelivery(msg events.SQSMessage) (*redelivery, error) {
	if v := msg.MessageAttributes[AttrRedelivery]; aws.ToString(v.StringValue) != "1" {
		return nil, malformed("attribute %s: want the value 1", AttrRedelivery)
	}
	dec := json.NewDecoder(strings.NewReader(msg.Body))
	dec.DisallowUnknownFields()
	var body redeliveryBody
	if err := dec.Decode(&body); err != nil || body.Redelivery == nil {
		return nil, malformed("attribute %s is set but the body is not a redelivery", AttrRedelivery)
	}
	r := body.Redelivery
	switch {
	case r.UserID == "":
		return nil, malformed("redelivery: missing user_id")
	case r.NotificationID == "":
		return nil, malformed("redelivery: missing notification_id")
	case len(r.Payload) == 0 || r.Payload[0] != '{':
		return nil, malformed("redelivery: payload is not a JSON object")
	case r.Attempts < 1:
		return nil, malformed("redelivery: attempts %d: want at least 1", r.Attempts)
	case len(r.Connections) == 0:
		return nil, malformed("redelivery: no connections")
	}
	return r, nil
}

// redeliver posts a redelivery's payload to the connections it names that
// still belong to its user, and passes on those that failed again.
func (h *QueueHandler) redeliver(ctx context.Context, log *slog.Logger, msg events.SQSMessage) error {
	r, err := parseRedelivery(msg)
	if err != nil {
		return h.deadLetter(ctx, log, msg, ReasonInvalidMessage, err.Error())
	}
	// Only the user's own connections: a forged redelivery naming another
	// user's connection must not reach it.
	conns, err := h.n.conns.ByUser(ctx, r.UserID)
	if err != nil {
		log.ErrorContext(ctx, "redelivery: look up connections failed; message will be retried",
			"user_id", r.UserID, "notification_id", r.NotificationID, "error", err)
		return withReason(ReasonStoreError, fmt.Errorf("notifier: redeliver %s: look up connections: %w", r.NotificationID, err))
	}
	var failed []Failure
	for _, p := range r.Connections {
		i := slices.IndexFunc(conns, func(c connection.Connection) bool { return c.ID == p.ID })
		if i < 0 {
			log.InfoContext(ctx, "redelivery skips a connection the user does not hold", "user_id", r.UserID,
				"notification_id", r.NotificationID, "connection_id", p.ID)
			continue
		}
		gone, err := h.n.deliver(ctx, conns[i], r.Payload)
		if err != nil && !gone {
			failed = append(failed, Failure{ConnectionID: p.ID, UserID: r.UserID, Err: err, Payload: r.Payload})
		}
	}
	return h.retryLater(ctx, log, msg, r.NotificationID, r.Attempts+1, failed)
}

// retryLater counts the failures that will not pass in NotificationsFailed
// and sends a redelivery for those that may, one per user, after the delay
// for the given number of attempts; once they are used up, it records the
// failures. It returns an error only if neither could be done, for SQS to
// deliver msg again.
func (h *QueueHandler) retryLater(ctx context.Context, log *slog.Logger, msg events.SQSMessage,
	notificationID string, attempts int, failures []Failure) error {
	h.n.failedPosts(failures, permanentReason)
	byUser := map[string]*redelivery{}
	for _, f := range failures {
		if !retryable(f.Err) {
			continue
		}
		r := byUser[f.UserID]
		if r == nil {
			r = &redelivery{UserID: f.UserID, NotificationID: notificationID, Payload: f.Payload, Attempts: attempts}
			byUser[f.UserID] = r
		}
		r.Connections = append(r.Connections, pending{ID: f.ConnectionID, Reason: reasonOf(f.Err)})
	}
	var errs []error
	for _, user := range slices.Sorted(maps.Keys(byUser)) {
		r := byUser[user]
		if attempts <= len(h.delays) {
			errs = append(errs, h.sendRedelivery(ctx, log, r, h.delays[attempts-1]))
		} else {
			errs = append(errs, h.recordFailure(ctx, log, msg, r))
		}
	}
	return withReason(ReasonRetriesExhausted, errors.Join(errs...))
}

// sendRedelivery sends r to the handler's queue, delayed by delay.
func (h *QueueHandler) sendRedelivery(ctx context.Context, log *slog.Logger, r *redelivery, delay time.Duration) error {
	body, err := encodeRedelivery(r)
	if err != nil {
		return fmt.Errorf("notifier: redelivery of %s: %w", r.NotificationID, err)
	}
	_, err = h.sqs.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:     aws.String(h.queueURL),
		MessageBody:  aws.String(body),
		DelaySeconds: int32(min(delay, MaxRetryDelay) / time.Second),
		MessageAttributes: map[string]types.MessageAttributeValue{
			AttrRedelivery: {DataType: aws.String("String"), StringValue: aws.String("1")},
		},
	})
	if err != nil {
		log.ErrorContext(ctx, "redelivery not sent; message will be retried", "user_id", r.UserID,
			"notification_id", r.NotificationID, "error", err)
		return fmt.Errorf("notifier: send redelivery of %s: %w", r.NotificationID, err)
	}
	log.InfoContext(ctx, "redelivery scheduled", "user_id", r.UserID, "notification_id", r.NotificationID,
		"connections", len(r.Connections), "attempts", r.Attempts, "delay", delay)
	h.n.metrics.Count(metrics.NotificationsRetried, 1)
	return nil
}

// recordFailure logs "delivery failed" for each of r's connections, sends
// r to the dead-letter queue and counts it in NotificationsFailed
// (ReasonRetriesExhausted). Without a dead-letter queue the log lines and
// the count are the record.
func (h *QueueHandler) recordFailure(ctx context.Context, log *slog.Logger, msg events.SQSMessage, r *redelivery) error {
	ids := make([]string, len(r.Connections))
	for i, p := range r.Connections {
		ids[i] = fmt.Sprintf("%s (%s)", p.ID, p.Reason)
		// The keys are stable: metric filters count these lines (docs/operations.md#reading-logs).
		log.ErrorContext(ctx, "delivery failed", "user_id", r.UserID, "notification_id", r.NotificationID,
			"connection_id", p.ID, "reason", p.Reason, "attempts", r.Attempts)
	}
	reason := fmt.Sprintf("delivery of notification %s to user %s failed after %d attempts: %s",
		r.NotificationID, r.UserID, r.Attempts, strings.Join(ids, ", "))
	body, err := encodeRedelivery(r)
	if err != nil {
		return fmt.Errorf("notifier: record failure of %s: %w", r.NotificationID, err)
	}
	kept := events.SQSMessage{MessageId: msg.MessageId, Body: body}
	err = deadletter.Send(ctx, h.sqs, h.dlqURL, kept, deadletter.Truncate(reason, deadletter.MaxReason))
	if err != nil && !errors.Is(err, deadletter.ErrNoQueue) {
		log.ErrorContext(ctx, "failed delivery not dead-lettered; message will be retried",
			"notification_id", r.NotificationID, "error", err)
		return fmt.Errorf("notifier: record failure of %s: %w", r.NotificationID, err)
	}
	h.n.failed(ReasonRetriesExhausted, 1)
	return nil
}

func encodeRedelivery(r *redelivery) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the payload stays byte for byte as posted
	if err := enc.Encode(redeliveryBody{Redelivery: r}); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// retryable reports whether a failed post may succeed later: a throttled
// post, the 410 of a connection not live yet, a 5xx, a network error or a
// timeout. A payload too large or another 4xx never will.
func retryable(err error) bool {
	switch {
	case errors.Is(err, ErrTooLarge):
		return false
	case errors.Is(err, ErrThrottled), errors.Is(err, ErrGone):
		return true
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() != 0 {
		return status.HTTPStatusCode() >= 500
	}
	return true
}

// reasonOf names why a post failed, in a few stable words fit for a metric
// dimension: "throttled", "not live yet", "HTTP 503", "timeout", "network error".
func reasonOf(err error) string {
	var status interface{ HTTPStatusCode() int }
	switch {
	case errors.Is(err, ErrThrottled):
		return "throttled"
	case errors.Is(err, ErrGone):
		return "not live yet"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	case errors.As(err, &status) && status.HTTPStatusCode() != 0:
		return fmt.Sprintf("HTTP %d", status.HTTPStatusCode())
	}
	return "network error"
}

// late reports whether less than the reserve is left before ctx's deadline.
func (h *QueueHandler) late(ctx context.Context) (bool, time.Duration) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return false, 0
	}
	left := deadline.Sub(h.now())
	return left < h.reserve, left
}
