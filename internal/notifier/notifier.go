// Package notifier delivers notifications to browsers: it stores each one in
// the user's history and then posts it to every WebSocket connection the user
// holds, through the API Gateway management API.
//
// Notifier is the delivery engine. QueueHandler feeds it from the notification
// SQS queue (docs/protocol.md#notification-queue) and WelcomeHandler sends connection_established to
// every new connection from the connections table's DynamoDB stream.
package notifier

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/aws/smithy-go"
	smithytime "github.com/aws/smithy-go/time"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/preference"
)

// MaxPayload is the largest message API Gateway posts to a WebSocket
// connection (128 KB).
const MaxPayload = 128 * 1024

// replayOverhead is what the store and resume add to a notification (its
// longest cursor and `,"replayed":true`); Notify keeps room for it so that
// every notification it stores can also be delivered and replayed.
const replayOverhead = len(`,"cursor":"c18446744073709551615","replayed":true`)

// Defaults for Options.
const (
	DefaultConcurrency  = 32                     // posts in flight
	DefaultMaxRetries   = 4                      // retries of a throttled post
	DefaultRetryBase    = 100 * time.Millisecond // longest wait before the first retry
	DefaultRetryCap     = 2 * time.Second        // longest wait before any retry
	DefaultConnectGrace = 10 * time.Second       // age under which a 410 connection is kept
)

// Errors callers branch on. Errors returned by this package wrap them.
var (
	// ErrGone is connection.ErrGone: API Gateway no longer knows the
	// connection (HTTP 410), or does not know it yet.
	ErrGone = connection.ErrGone
	// ErrTooLarge means the notification exceeds MaxPayload. Notify returns it
	// before writing anything; a post API Gateway refuses with 413 wraps it too.
	ErrTooLarge = errors.New("notifier: payload too large")
	// ErrThrottled means API Gateway still throttled a post (429) after every retry.
	ErrThrottled = errors.New("notifier: throttled")
)

// Poster is the part of the API Gateway management API client
// (*apigatewaymanagementapi.Client) that Notifier uses.
type Poster interface {
	PostToConnection(ctx context.Context, params *apigatewaymanagementapi.PostToConnectionInput,
		optFns ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error)
}

// Options tune a Notifier. The zero value of every field selects its default.
type Options struct {
	Logger      *slog.Logger     // default: discard
	Now         func() time.Time // clock; default time.Now
	Concurrency int              // posts in flight per call; default DefaultConcurrency
	Retention   time.Duration    // history item lifetime; default history.DefaultRetention

	// Throttled posts (HTTP 429) are retried up to MaxRetries times (negative:
	// never; default DefaultMaxRetries) after a full-jitter exponential
	// backoff: a random wait in [0, min(RetryCap, RetryBase*2^retry)).
	MaxRetries int
	RetryBase  time.Duration // default DefaultRetryBase
	RetryCap   time.Duration // default DefaultRetryCap

	// ConnectGrace protects new connections: API Gateway answers 410 until
	// $connect has returned, so a connection younger than this is not deleted
	// on 410 (it is reported as failed). Default DefaultConnectGrace.
	ConnectGrace time.Duration

	// Sleep waits d or until ctx ends, returning ctx's error then.
	// Default: smithy-go's time.SleepWithContext. Tests replace it to run
	// without waiting.
	Sleep func(ctx context.Context, d time.Duration) error

	// Metrics receives what the Notifier, and the QueueHandler and
	// WelcomeHandler built on it, do: NotificationsStored (per history
	// item added), NotificationsDelivered (per post a connection accepted,
	// welcomes and resumes included), NotificationsRetried (per redelivery
	// sent), NotificationsFailed by Reason (the Reason constants),
	// ConnectionsGone (per gone connection deleted) and FanoutLatency (see
	// NotifyMany and QueueHandler.Handle). Nil records nothing.
	Metrics *metrics.Recorder

	// Preferences are the users' (internal/preference): a notification
	// whose category a user muted (in_app off, and not Critical) is
	// stored in the user's history as read, for audit, and not posted.
	// Nil: every user takes Defaults. NotifyMany reads a user's once per
	// call; QueueHandler.Handle once per user per batch.
	Preferences preference.Store
	// Defaults are the operator's channels per category
	// (PREFERENCE_DEFAULTS). Zero: in_app on, email off, for all.
	Defaults preference.Defaults
	// Unread says which notification types are stored unread
	// (UNREAD_TYPES). Zero: notification.DefaultUnreadTypes.
	Unread notification.UnreadRule
	// Outbox is told of every notification stored for a user whose
	// channels include e-mail, or that is critical (internal/mail plans
	// the e-mail and texts), after the posts: its error fails the call
	// like a store error, so that the caller tries again, but never keeps
	// the notification from the user's tabs. Nil: no e-mail.
	Outbox Outbox
}

// Outbox takes the notifications a user gets outside the app
// (*mail.Scheduler).
type Outbox interface {
	// Stored is told that note was stored for the user of p: email says
	// that its category takes e-mail (preference.Defaults.Decide), live
	// that a connection of the user was found.
	Stored(ctx context.Context, p preference.Preferences, note notification.Notification, email, live bool) error
}

// Notifier stores notifications in history and posts them to connections.
// It is safe for concurrent use.
type Notifier struct {
	conns        connection.Store
	hist         history.Store
	post         Poster
	log          *slog.Logger
	now          func() time.Time
	concurrency  int
	retention    time.Duration
	maxRetries   int
	retryBase    time.Duration
	retryCap     time.Duration
	connectGrace time.Duration
	sleep        func(context.Context, time.Duration) error
	metrics      *metrics.Recorder
	prefs        preference.Store
	defaults     preference.Defaults
	unread       notification.UnreadRule
	outbox       Outbox
}

// New returns a Notifier that keeps history in hist, finds connections in
// conns (deleting those API Gateway reports gone) and posts through post.
// conns and hist may be nil for a Notifier that only calls PostTo, such as
// the one behind a WelcomeHandler.
func New(conns connection.Store, hist history.Store, post Poster, opts Options) *Notifier {
	n := &Notifier{conns: conns, hist: hist, post: post, log: opts.Logger, now: opts.Now,
		concurrency: opts.Concurrency, retention: opts.Retention, maxRetries: opts.MaxRetries,
		retryBase: opts.RetryBase, retryCap: opts.RetryCap, connectGrace: opts.ConnectGrace, sleep: opts.Sleep,
		metrics: opts.Metrics, prefs: opts.Preferences, defaults: opts.Defaults, unread: opts.Unread, outbox: opts.Outbox}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.concurrency <= 0 {
		n.concurrency = DefaultConcurrency
	}
	if n.retention <= 0 {
		n.retention = history.DefaultRetention
	}
	switch {
	case n.maxRetries == 0:
		n.maxRetries = DefaultMaxRetries
	case n.maxRetries < 0:
		n.maxRetries = 0
	}
	if n.retryBase <= 0 {
		n.retryBase = DefaultRetryBase
	}
	if n.retryCap <= 0 {
		n.retryCap = DefaultRetryCap
	}
	if n.connectGrace <= 0 {
		n.connectGrace = DefaultConnectGrace
	}
	if n.sleep == nil {
		n.sleep = smithytime.SleepWithContext
	}
	return n
}

// Report tells what became of one notification on each connection. Every
// connection looked up appears in exactly one list; the lists are sorted.
type Report struct {
	ID        string    // the notification's ID
	Delivered []string  // connection IDs that accepted the post
	Gone      []string  // connection IDs API Gateway reported gone; deleted from the store
	Failed    []Failure // posts that failed for another reason
}

// Failure is one connection a notification could not be posted to.
type Failure struct {
	ConnectionID string
	UserID       string // the connection's user
	Err          error  // wraps ErrThrottled, ErrTooLarge, ErrGone (connection too new to delete) or the API error
	Payload      []byte // the bytes posted, for a later retry (QueueHandler)
}

// Notify stamps note (a new ID and timestamp, unless it has an ID), stores it
// in userID's history, then posts it to each of the user's connections, at
// most Options.Concurrency at a time.
//
// It returns ErrTooLarge, before writing anything, when the note does not fit
// in MaxPayload. It returns another error only when storing the note or
// looking up the connections failed, before any post, so that the caller can
// retry the whole call: storing the same ID again is a no-op. A failed post
// does not stop the others; it is listed in the Report.
//
// Its metrics are NotifyMany's.
func (n *Notifier) Notify(ctx context.Context, userID string, note notification.Notification) (Report, error) {
	return n.NotifyMany(ctx, []string{userID}, note)
}

// NotifyMany is Notify for several users at once. The note is stamped once:
// every user gets the same ID (history is keyed by user and ID, so the ID is
// still unique within each user's history), and each user's copy carries the
// cursor of the position the user's history gave it (the same position again
// for an ID already stored, so a redelivery is posted with its first cursor).
// Repeated user IDs are delivered once. Every history write and connection
// lookup completes before the first post, so an error (which the caller
// retries) never follows a partial delivery. The Report covers the
// connections of all users.
//
// Besides the counts every delivery records (see Options.Metrics), the
// outcome of a call is final as far as the Notifier knows: each failed post
// counts in NotificationsFailed (per user and Reason: ReasonTooLarge,
// ReasonRetriesExhausted for a post throttled on every retry,
// ReasonPostError otherwise), and so does a returned error (ReasonTooLarge
// or ReasonStoreError). Its FanoutLatency is the time from the call's start
// to the end of its last post; a call that posts nothing records none.
func (n *Notifier) NotifyMany(ctx context.Context, userIDs []string, note notification.Notification) (Report, error) {
	report, err := n.notify(ctx, n.now(), userIDs, note)
	switch {
	case errors.Is(err, ErrTooLarge):
		n.failed(ReasonTooLarge, 1)
	case err != nil:
		n.failed(ReasonStoreError, 1)
	}
	n.failedPosts(report.Failed, directReason)
	return report, err
}

// notify is NotifyMany without counting failures, which its callers judge:
// it records NotificationsStored, NotificationsDelivered, ConnectionsGone
// and, when it posted anything, FanoutLatency from since to the end of the
// last post.
func (n *Notifier) notify(ctx context.Context, since time.Time, userIDs []string, note notification.Notification) (Report, error) {
	note.Stamp(n.now())
	notification.Classify(&note)
	report := Report{ID: note.ID}
	data, err := json.Marshal(note)
	if err != nil {
		return report, fmt.Errorf("notifier: encode %s %s: %w", note.Type, note.ID, err)
	}
	if len(data)+replayOverhead > MaxPayload {
		return report, fmt.Errorf("notifier: notify %s (%d bytes, limit %d): %w",
			note.ID, len(data), MaxPayload-replayOverhead, ErrTooLarge)
	}
	users := slices.Clone(userIDs)
	slices.Sort(users)
	users = slices.Compact(users)

	expires := n.now().Add(n.retention)
	payloads := make([][]byte, len(users)) // the note as each user gets it, with its cursor
	muted := make([]bool, len(users))      // the user does not take it in the app
	prefs := make([]preference.Preferences, len(users))
	email := make([]bool, len(users)) // the user takes it by e-mail
	if err := n.each(len(users), func(i int) (err error) {
		prefs[i], err = n.preferences(ctx, users[i])
		if err != nil {
			return err
		}
		channels := n.defaults.Decide(prefs[i], note)
		muted[i], email[i] = !channels.InApp, channels.Email
		// A muted notification is kept for audit, as read: it does not
		// count as unread (docs/design.md#preferences).
		read := muted[i] || !n.unread.Unread(note)
		p, err := n.hist.Add(ctx, history.Item{UserID: users[i], Notification: note, Read: read, ExpiresAt: expires})
		if err != nil {
			return err
		}
		n.metrics.Count(metrics.NotificationsStored, 1)
		own := note
		own.Cursor = p.Cursor()
		payloads[i], err = json.Marshal(own)
		return err
	}); err != nil {
		return report, fmt.Errorf("notifier: store %s: %w", note.ID, err)
	}
	found := make([][]connection.Connection, len(users))
	if err := n.each(len(users), func(i int) (err error) {
		if muted[i] {
			return nil
		}
		found[i], err = n.conns.ByUser(ctx, users[i])
		return err
	}); err != nil {
		return report, fmt.Errorf("notifier: look up connections for %s: %w", note.ID, err)
	}
	conns := slices.Concat(found...)
	var posts [][]byte // posts[i] is for conns[i]
	for i, c := range found {
		for range c {
			posts = append(posts, payloads[i])
		}
	}

	outcomes := make([]error, len(conns))
	gone := make([]bool, len(conns))
	_ = n.each(len(conns), func(i int) error {
		gone[i], outcomes[i] = n.deliver(ctx, conns[i], posts[i])
		return nil
	})
	if len(conns) > 0 {
		n.metrics.Duration(metrics.FanoutLatency, n.now().Sub(since))
	}
	for i, c := range conns {
		switch {
		case gone[i]:
			report.Gone = append(report.Gone, c.ID)
		case outcomes[i] == nil:
			report.Delivered = append(report.Delivered, c.ID)
		default:
			report.Failed = append(report.Failed, Failure{ConnectionID: c.ID, UserID: c.UserID, Err: outcomes[i], Payload: posts[i]})
		}
	}
	slices.Sort(report.Delivered)
	slices.Sort(report.Gone)
	slices.SortFunc(report.Failed, func(a, b Failure) int { return cmp.Compare(a.ConnectionID, b.ConnectionID) })
	// The outbox (e-mail, SMS) comes after the posts: when it fails, the
	// user's tabs have the notification already, and the error makes the
	// caller try again (posts again carry the same id, which clients drop).
	if n.outbox != nil {
		if err := n.each(len(users), func(i int) error {
			if !email[i] && !note.Critical {
				return nil
			}
			return n.outbox.Stored(ctx, prefs[i], note, email[i], len(found[i]) > 0)
		}); err != nil {
			return report, fmt.Errorf("notifier: outbox for %s: %w", note.ID, err)
		}
	}
	return report, nil
}

// deliver posts data to c. A connection API Gateway reports gone is deleted
// from the store (gone is true, and ConnectionsGone counts it once deleted)
// unless it is too new to be live yet.
func (n *Notifier) deliver(ctx context.Context, c connection.Connection, data []byte) (gone bool, err error) {
	log := lambdaenv.LoggerFrom(ctx, n.log)
	err = n.PostTo(ctx, c.ID, data)
	if err == nil || !errors.Is(err, ErrGone) {
		if err != nil {
			log.WarnContext(ctx, "post failed", "connection_id", c.ID, "user_id", c.UserID, "error", err)
		}
		return false, err
	}
	if n.now().Sub(c.ConnectedAt) < n.connectGrace {
		log.InfoContext(ctx, "new connection not live yet", "connection_id", c.ID, "user_id", c.UserID)
		return false, err
	}
	log.InfoContext(ctx, "connection gone", "connection_id", c.ID, "user_id", c.UserID)
	if derr := n.conns.Delete(ctx, c.ID); derr != nil {
		// The next notification finds it again and retries the delete.
		log.WarnContext(ctx, "delete gone connection failed", "connection_id", c.ID, "error", derr)
		return true, nil
	}
	n.metrics.Count(metrics.ConnectionsGone, 1)
	return true, nil
}

// noSDKRetry turns off the SDK's own retries for one call: PostTo retries
// throttled posts itself, and the SDK's shared retry token bucket would
// run dry under a large fan-out.
func noSDKRetry(o *apigatewaymanagementapi.Options) { o.Retryer = aws.NopRetryer{} }

// PostTo posts data to one connection, retrying throttled posts as configured.
// It returns an error wrapping ErrGone if API Gateway reports the connection
// gone (HTTP 410), ErrTooLarge if data exceeds MaxPayload (checked before
// posting) or API Gateway refuses it (413), ErrThrottled if every retry was
// throttled, or the API error. PostTo never changes the connection store.
// A post the connection accepted counts in NotificationsDelivered.
func (n *Notifier) PostTo(ctx context.Context, connectionID string, data []byte) error {
	if len(data) > MaxPayload {
		return fmt.Errorf("notifier: post to %s (%d bytes): %w", connectionID, len(data), ErrTooLarge)
	}
	in := &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(connectionID), Data: data}
	for retry := 0; ; retry++ {
		_, err := n.post.PostToConnection(ctx, in, noSDKRetry)
		switch {
		case err == nil:
			n.metrics.Count(metrics.NotificationsDelivered, 1)
			return nil
		case isGone(err):
			return fmt.Errorf("notifier: post to %s: %w", connectionID, ErrGone)
		case isTooLarge(err):
			return fmt.Errorf("notifier: post to %s: %w: %w", connectionID, ErrTooLarge, err)
		case !isThrottled(err):
			return fmt.Errorf("notifier: post to %s: %w", connectionID, err)
		case retry >= n.maxRetries:
			return fmt.Errorf("notifier: post to %s (%d attempts): %w: %w", connectionID, retry+1, ErrThrottled, err)
		}
		if err := n.sleep(ctx, n.backoff(retry)); err != nil {
			return fmt.Errorf("notifier: post to %s: %w", connectionID, err)
		}
	}
}

// backoff returns the full-jitter wait before retry number retry (0-based).
func (n *Notifier) backoff(retry int) time.Duration {
	ceiling := n.retryCap
	if retry < 32 && n.retryBase<<retry < ceiling && n.retryBase<<retry > 0 {
		ceiling = n.retryBase << retry
	}
	return rand.N(ceiling)
}

// each runs fn(0) ... fn(count-1) with at most n.concurrency running at once
// and returns the first error any returned (after all have finished). If fn
// panicked, each panics on the caller's goroutine once the others have
// finished, with a *lambdaenv.GoroutinePanic, so that the caller's
// lambdaenv.Recover handles it instead of the process ending.
func (n *Notifier) each(count int, fn func(i int) error) error {
	if count == 1 {
		return fn(0)
	}
	var (
		next      atomic.Int64
		wg        sync.WaitGroup
		errOnce   sync.Once
		firstErr  error
		panicOnce sync.Once
		panicked  *lambdaenv.GoroutinePanic
	)
	for range min(n.concurrency, count) {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					panicOnce.Do(func() { panicked = &lambdaenv.GoroutinePanic{Value: p, Stack: debug.Stack()} })
				}
			}()
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				if err := fn(i); err != nil {
					errOnce.Do(func() { firstErr = err })
				}
			}
		})
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
	return firstErr
}

func isGone(err error) bool {
	var gone *types.GoneException
	return errors.As(err, &gone)
}

func isTooLarge(err error) bool {
	var large *types.PayloadTooLargeException
	return errors.As(err, &large)
}

// isThrottled reports a 429: the modelled LimitExceededException, the
// unmodelled TooManyRequestsException/ThrottlingException API Gateway also
// sends, or any other response with that status.
func isThrottled(err error) bool {
	var limit *types.LimitExceededException
	if errors.As(err, &limit) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "TooManyRequestsException", "ThrottlingException", "Throttling":
			return true
		}
	}
	var status interface{ HTTPStatusCode() int }
	return errors.As(err, &status) && status.HTTPStatusCode() == http.StatusTooManyRequests
}
