package notifier

import (
	"errors"

	"github.com/finance/fbdi-notify/internal/metrics"
)

// Reasons of metrics.NotificationsFailed: why a notification was not stored,
// or why some connection will never get it. The set is fixed; each is
// counted once per notification and user (a notification to several users
// counts once for each user it failed for, as it is stored once for each).
const (
	// ReasonInvalidMessage: a queue message (or redelivery) that can never
	// be delivered, moved to the dead-letter queue with what is wrong.
	ReasonInvalidMessage = "invalid_message"
	// ReasonTooLarge: the notification does not fit in MaxPayload once
	// stamped (not stored), or API Gateway refused a post of it with 413.
	ReasonTooLarge = "payload_too_large"
	// ReasonStoreError: history or the connection store failed, so the
	// notification was not stored or not posted. A direct Notify call counts
	// it each time it returns the error (its caller may try again); a queue
	// message counts it on its last receive (QueueOptions.MaxReceives), when
	// it is dead-lettered.
	ReasonStoreError = "store_error"
	// ReasonPostError: a post failed for a reason that will not pass (a 4xx
	// other than 410, 413 and 429), or, for a direct Notify call, which is
	// not redelivered, for any reason but throttling.
	ReasonPostError = "post_error"
	// ReasonRetriesExhausted: a post failed on every attempt for a reason
	// that may pass (throttled on every retry of a direct Notify call, or
	// failed again after every redelivery of a queue message), or a queue
	// message failed otherwise on its last receive (a redelivery that could
	// not be sent, a panic) and was dead-lettered.
	ReasonRetriesExhausted = "retries_exhausted"
)

// failed counts n notifications as NotificationsFailed for reason, and in
// the total without Reason, which the failure-rate alarm divides by the
// deliveries with plain metric math.
func (n *Notifier) failed(reason string, count int) {
	if count > 0 {
		n.metrics.Count(metrics.NotificationsFailed, count, metrics.Reason(reason))
		n.metrics.Count(metrics.NotificationsFailed, count)
	}
}

// failedPosts counts the notifications that failures will never reach, once
// per user and reason, the reason given by reasonFor; failures for which it
// returns "" are not counted.
func (n *Notifier) failedPosts(failures []Failure, reasonFor func(error) string) {
	type key struct{ user, reason string }
	seen := map[key]bool{}
	for _, f := range failures {
		k := key{f.UserID, reasonFor(f.Err)}
		if k.reason == "" || seen[k] {
			continue
		}
		seen[k] = true
		n.failed(k.reason, 1)
	}
}

// directReason is the Reason of a post that failed in a direct Notify
// call: final, since the Notifier does not redeliver it.
func directReason(err error) string {
	switch {
	case errors.Is(err, ErrTooLarge):
		return ReasonTooLarge
	case errors.Is(err, ErrThrottled):
		return ReasonRetriesExhausted
	}
	return ReasonPostError
}

// permanentReason is the Reason of a post that failed for a reason that
// will not pass (not retryable), or "" for one a redelivery may fix.
func permanentReason(err error) string {
	switch {
	case retryable(err):
		return ""
	case errors.Is(err, ErrTooLarge):
		return ReasonTooLarge
	}
	return ReasonPostError
}
