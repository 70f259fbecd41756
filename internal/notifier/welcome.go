package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notification"
)

// DefaultWelcomeWindow is how long WelcomeHandler keeps retrying a connection
// that API Gateway still reports gone.
const DefaultWelcomeWindow = 5 * time.Second

// Waits between welcome attempts while the connection is not live yet: the
// first, doubled after each attempt up to the last.
const (
	welcomeFirstWait = 50 * time.Millisecond
	welcomeMaxWait   = 500 * time.Millisecond
)

// WelcomeOptions tune a WelcomeHandler. The zero value of every field selects its default.
type WelcomeOptions struct {
	Logger *slog.Logger  // default: discard
	Window time.Duration // total wait for a connection to go live; default DefaultWelcomeWindow

	// Claims records which connections have been welcomed, so that a record
	// delivered again (a batch retried from an earlier record) does not
	// welcome its connection twice: the connection store. Nil: every
	// delivery of a record posts.
	Claims WelcomeClaims
}

// WelcomeClaims is the part of connection.Store that makes a welcome happen once.
type WelcomeClaims interface {
	ClaimWelcome(ctx context.Context, id string, at time.Time) error
	ReleaseWelcome(ctx context.Context, id string, at time.Time) error
}

// WelcomeHandler sends connection_established to every new connection. It
// reads the stream of the connections table (an INSERT per $connect) because
// API Gateway cannot send anything during $connect. The message is not stored
// in history. It is safe for concurrent use.
type WelcomeHandler struct {
	n      *Notifier
	log    *slog.Logger
	window time.Duration
	claims WelcomeClaims // nil: none
}

// NewWelcomeHandler returns a handler that posts through n, using n's clock,
// sleep, retry and concurrency settings.
func NewWelcomeHandler(n *Notifier, opts WelcomeOptions) *WelcomeHandler {
	h := &WelcomeHandler{n: n, log: opts.Logger, window: opts.Window, claims: opts.Claims}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.window <= 0 {
		h.window = DefaultWelcomeWindow
	}
	return h
}

// Handle welcomes the connection of each INSERT record, several at a time.
//
// With Claims, each connection is welcomed once: before posting, the handler
// claims the welcome on the connection's row (one conditional write), and a
// record whose connection is claimed already, or whose row is gone, is
// skipped. A post that fails in a way that is retried releases the claim
// first, so the retry posts. The claim is taken before the post rather than
// recorded after it because a client waits for connection_established: the
// only way to lose a welcome is an invocation that dies between the claim and
// the post, while recording after the post would send a duplicate on every
// retried batch that had posted before failing.
//
// API Gateway answers 410 Gone until $connect has returned, so a 410 is
// retried with a growing wait for up to the window; after that the
// connection really is gone and the record counts as handled. MODIFY and
// REMOVE records are ignored, and so are (with a log line) records without a
// string connectionId and userId. A record whose post failed otherwise is
// reported in BatchItemFailures by its sequence number, for Lambda to retry
// from there; so is a record whose handling panicked (lambdaenv.Recover).
// Handle never returns an error.
func (h *WelcomeHandler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	ctx, log := lambdaenv.Invocation(ctx, h.log)
	failed := make([]bool, len(ev.Records))
	_ = h.n.each(len(ev.Records), func(i int) error {
		failed[i] = h.welcome(ctx, log, ev.Records[i]) != nil
		return nil
	})
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	for i, rec := range ev.Records {
		if failed[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
		}
	}
	return resp, nil
}

// welcome welcomes the connection of one record; an error means "retry
// from this record".
func (h *WelcomeHandler) welcome(ctx context.Context, log *slog.Logger, rec events.DynamoDBEventRecord) (err error) {
	defer lambdaenv.Recover(log, &err)
	if rec.EventName != string(events.DynamoDBOperationTypeInsert) {
		return nil
	}
	connID, okConn := stringAttr(rec.Change.NewImage, "connectionId")
	userID, okUser := stringAttr(rec.Change.NewImage, "userId")
	if !okConn || !okUser {
		log.WarnContext(ctx, "stream record without connectionId or userId ignored",
			"event_id", rec.EventID, "sequence_number", rec.Change.SequenceNumber)
		return nil
	}
	log = log.With("connection_id", connID, "user_id", userID)

	at := h.n.now()
	note := notification.ConnectionEstablished(userID, connID)
	note.Stamp(at)
	data, err := json.Marshal(note)
	if err != nil {
		return fmt.Errorf("notifier: encode welcome for %s: %w", connID, err)
	}
	if h.claims != nil {
		switch err := h.claims.ClaimWelcome(ctx, connID, at); {
		case errors.Is(err, connection.ErrWelcomed):
			log.InfoContext(ctx, "connection already welcomed")
			return nil
		case errors.Is(err, connection.ErrNotFound):
			log.InfoContext(ctx, "connection gone before welcome", "attempts", 0)
			return nil
		case err != nil:
			log.ErrorContext(ctx, "welcome failed; record will be retried", "error", err)
			return fmt.Errorf("notifier: welcome %s: %w", connID, err)
		}
	}
	wait, waited := welcomeFirstWait, time.Duration(0)
	for attempt := 1; ; attempt++ {
		err := h.n.PostTo(ctx, connID, data)
		switch {
		case err == nil:
			log.InfoContext(ctx, "connection welcomed", "attempts", attempt)
			return nil
		case !errors.Is(err, ErrGone):
			log.ErrorContext(ctx, "welcome failed; record will be retried", "error", err)
			h.release(ctx, log, connID, at)
			return err
		case waited >= h.window:
			log.InfoContext(ctx, "connection gone before welcome", "attempts", attempt)
			return nil
		}
		if err := h.n.sleep(ctx, wait); err != nil {
			log.ErrorContext(ctx, "welcome interrupted; record will be retried", "error", err)
			h.release(ctx, log, connID, at)
			return fmt.Errorf("notifier: welcome %s: %w", connID, err)
		}
		waited += wait
		wait = min(2*wait, welcomeMaxWait)
	}
}

// release undoes the claim of a welcome that will be retried. It runs even
// when ctx is done (an interrupted welcome). A claim that cannot be released
// means the retry finds the connection welcomed: that welcome is lost, and
// the line says so.
func (h *WelcomeHandler) release(ctx context.Context, log *slog.Logger, connID string, at time.Time) {
	if h.claims == nil {
		return
	}
	if err := h.claims.ReleaseWelcome(context.WithoutCancel(ctx), connID, at); err != nil {
		log.ErrorContext(ctx, "welcome claim not released; the connection will not be welcomed", "error", err)
	}
}

// stringAttr returns the non-empty string attribute name of a stream image.
func stringAttr(image map[string]events.DynamoDBAttributeValue, name string) (string, bool) {
	v, ok := image[name]
	if !ok || v.DataType() != events.DataTypeString || v.String() == "" {
		return "", false
	}
	return v.String(), true
}
