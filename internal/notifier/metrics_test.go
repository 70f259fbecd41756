package notifier_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/notifier"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
	"github.com/finance/fbdi-notify/internal/testing/metricstest"
)

// postTime is how far the clock of a metered world moves on each post.
const postTime = 250 * time.Millisecond

// slowPoster is a notifier.Poster whose posts take postTime on clock.
type slowPoster struct {
	notifier.Poster
	clock *clocktest.Clock
}

func (p slowPoster) PostToConnection(ctx context.Context, in *apigatewaymanagementapi.PostToConnectionInput,
	opts ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error) {
	p.clock.Advance(postTime)
	return p.Poster.PostToConnection(ctx, in, opts...)
}

// meter is what a metered world recorded.
type meter struct {
	rec   *metrics.Recorder
	out   bytes.Buffer
	clock *clocktest.Clock
}

// points flushes the recorder and returns every data point written so far.
func (m *meter) points(tb testing.TB) []metricstest.Point {
	tb.Helper()
	must(tb, m.rec.Flush())
	return metricstest.Parse(tb, m.out.Bytes())
}

// counts returns the sum of every Count metric of points by name, and by
// name and Reason as "name/reason" for those that have one.
func counts(tb testing.TB, points []metricstest.Point) map[string]float64 {
	tb.Helper()
	out := map[string]float64{}
	var failedTotal, failedByReason float64
	defer func() {
		if failedTotal != failedByReason {
			tb.Errorf("NotificationsFailed total %v != %v, its sum by Reason", failedTotal, failedByReason)
		}
	}()
	for _, p := range points {
		if p.Unit != string(metrics.Count) {
			continue
		}
		if p.Name == metrics.NotificationsFailed {
			if _, byReason := p.Dims[metrics.DimReason]; !byReason {
				failedTotal += p.Sum()
				continue
			}
			failedByReason += p.Sum()
		}
		key, dims := p.Name, 1
		if r, found := p.Dims[metrics.DimReason]; found {
			key, dims = key+"/"+r, 2
		}
		if len(p.Dims) != dims || p.Dims[metrics.DimStack] != "test" {
			tb.Errorf("%s has dimensions %v, want Stack=test and at most a Reason", p.Name, p.Dims)
		}
		out[key] += p.Sum()
	}
	return out
}

// latencies returns the FanoutLatency values of points.
func latencies(tb testing.TB, points []metricstest.Point) []float64 {
	tb.Helper()
	var out []float64
	for _, p := range metricstest.Find(points, metrics.FanoutLatency) {
		if p.Unit != string(metrics.Milliseconds) {
			tb.Errorf("FanoutLatency unit %s, want Milliseconds", p.Unit)
		}
		out = append(out, p.Values...)
	}
	return out
}

// meteredWorld is newWorld with a Recorder for stack "test" and a clock
// that starts at t0 and moves postTime on each post.
func meteredWorld(tb testing.TB, opts notifier.Options, conns ...connection.Connection) (*world, *meter) {
	tb.Helper()
	w := newWorld(tb, opts, conns...)
	m := &meter{clock: clocktest.New(t0)}
	m.rec = metrics.New(&m.out, "test", m.clock.Now)
	opts.Now, opts.Sleep, opts.Metrics = m.clock.Now, w.sleep.sleep, m.rec
	w.n = notifier.New(w.conns, w.hist, slowPoster{Poster: w.gw.client("/prod"), clock: m.clock}, opts)
	return w, m
}

// wantCounts fails tb unless got holds exactly want.
func wantCounts(tb testing.TB, got, want map[string]float64) {
	tb.Helper()
	if !maps.Equal(got, want) {
		tb.Errorf("counts = %v, want %v", got, want)
	}
}

// TestMetricsOfADelivery: a notification to a user with two connections,
// one of them gone, is stored once, delivered once and finds one connection
// gone, whether Notify is called directly or it comes from the queue. Its
// fan-out latency runs from the call's start, or from the message's
// SentTimestamp, to the end of its last post (two posts of postTime).
func TestMetricsOfADelivery(t *testing.T) {
	tests := []struct {
		name    string
		notify  func(t *testing.T, w *world)
		latency float64 // ms
	}{
		{name: "direct call", latency: float64(2 * postTime / time.Millisecond), notify: func(t *testing.T, w *world) {
			_, err := w.n.Notify(ctxOf(t), "123", notification.General("Budget transfer 602 was approved", nil))
			must(t, err)
		}},
		{name: "queue message sent 3s earlier", latency: float64((3*time.Second + 2*postTime) / time.Millisecond),
			notify: func(t *testing.T, w *world) {
				msg := message("m-1", `{"user_id":"123","message":"Budget transfer 602 was approved"}`)
				msg.Attributes["SentTimestamp"] = fmt.Sprint(t0.Add(-3 * time.Second).UnixMilli())
				handleOne(t, notifier.NewQueueHandler(w.n, &fakeSQS{}, dlqURL, nil), msg)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, m := meteredWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour), conn("tab-b", "123", time.Hour))
			w.gw.script("tab-b", gone)

			tt.notify(t, w)

			points := m.points(t)
			wantCounts(t, counts(t, points), map[string]float64{
				metrics.NotificationsStored: 1, metrics.NotificationsDelivered: 1, metrics.ConnectionsGone: 1})
			if got := latencies(t, points); len(got) != 1 || got[0] != tt.latency {
				t.Errorf("FanoutLatency = %v, want [%v]", got, tt.latency)
			}
		})
	}
}

// TestMetricsOfARetriedPost: a post that fails for a reason that may pass
// is retried through a redelivery (NotificationsRetried), which delivers
// it; a post that fails again after the last redelivery counts as failed
// (retries_exhausted), and so, at once, does a post refused for good. A
// redelivery records no fan-out latency.
func TestMetricsOfARetriedPost(t *testing.T) {
	tests := []struct {
		name    string
		script  []string // tab-b's responses
		redeliv int      // redeliveries handled
		want    map[string]float64
	}{
		{name: "delivered by the redelivery", script: []string{broken, ok}, redeliv: 1, want: map[string]float64{
			metrics.NotificationsStored: 1, metrics.NotificationsDelivered: 2, metrics.NotificationsRetried: 1}},
		{name: "failed after the last redelivery", script: []string{broken}, redeliv: 1, want: map[string]float64{
			metrics.NotificationsStored: 1, metrics.NotificationsDelivered: 1, metrics.NotificationsRetried: 1,
			metrics.NotificationsFailed + "/" + notifier.ReasonRetriesExhausted: 1}},
		{name: "refused for good", script: []string{forbidden}, want: map[string]float64{
			metrics.NotificationsStored: 1, metrics.NotificationsDelivered: 1,
			metrics.NotificationsFailed + "/" + notifier.ReasonPostError: 1}},
		{name: "too large for API Gateway", script: []string{tooLarge}, want: map[string]float64{
			metrics.NotificationsStored: 1, metrics.NotificationsDelivered: 1,
			metrics.NotificationsFailed + "/" + notifier.ReasonTooLarge: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, m := meteredWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour), conn("tab-b", "123", time.Hour))
			w.gw.script("tab-b", tt.script...)
			q := &fakeSQS{}
			h := notifier.NewQueueHandler(w.n, q, dlqURL, nil).WithOptions(notifier.QueueOptions{QueueURL: queueURL,
				RetryDelays: []time.Duration{2 * time.Second}})

			handleOne(t, h, message("m-1", `{"user_id":"123","message":"Budget transfer 602 was approved"}`))
			for i := range tt.redeliv {
				handleOne(t, h, received(fmt.Sprint("r-", i), q.sentTo(queueURL)[i]))
			}

			points := m.points(t)
			wantCounts(t, counts(t, points), tt.want)
			if got := latencies(t, points); len(got) != 1 {
				t.Errorf("FanoutLatency = %v, want one value, of the first delivery only", got)
			}
		})
	}
}

// TestMetricsOfADirectCallsFailures: a direct Notify call's failures are
// final: a history that fails (store_error), a notification too large to
// store, a post throttled on every retry, a post refused.
func TestMetricsOfADirectCallsFailures(t *testing.T) {
	tests := []struct {
		name    string
		message string
		script  []string // tab-a's responses
		failAdd bool     // history fails
		want    map[string]float64
	}{
		{name: "failed store", message: "hi", failAdd: true, want: map[string]float64{
			metrics.NotificationsFailed + "/" + notifier.ReasonStoreError: 1}},
		{name: "too large", message: strings.Repeat("x", notifier.MaxPayload), want: map[string]float64{
			metrics.NotificationsFailed + "/" + notifier.ReasonTooLarge: 1}},
		{name: "throttled on every retry", message: "hi", script: []string{limited}, want: map[string]float64{
			metrics.NotificationsStored: 1, metrics.NotificationsFailed + "/" + notifier.ReasonRetriesExhausted: 1}},
		{name: "server error", message: "hi", script: []string{broken}, want: map[string]float64{
			metrics.NotificationsStored: 1, metrics.NotificationsFailed + "/" + notifier.ReasonPostError: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, m := meteredWorld(t, notifier.Options{MaxRetries: 1}, conn("tab-a", "123", time.Hour))
			w.gw.script("tab-a", tt.script...)
			if tt.failAdd {
				w.hist.failOn["123"] = errors.New("ProvisionedThroughputExceededException")
			}

			_, _ = w.n.Notify(ctxOf(t), "123", notification.General(tt.message, nil))

			wantCounts(t, counts(t, m.points(t)), tt.want)
		})
	}
}

// TestQueueLastReceiveDeadLetters: a message whose notification cannot be
// stored is left to SQS on each receive but the last
// (QueueOptions.MaxReceives), on which it goes to the dead-letter queue
// with a reason that says what failed, is reported handled and counts as
// failed (store_error). If it cannot be dead-lettered, SQS keeps it for its
// redrive policy.
func TestQueueLastReceiveDeadLetters(t *testing.T) {
	tests := []struct {
		name        string
		maxReceives int    // QueueOptions.MaxReceives; 0: the default, 5
		receive     string // ApproximateReceiveCount
		dlqErr      error  // the dead-letter send's error
		dead        bool   // dead-lettered
		failed      bool   // reported in BatchItemFailures
	}{
		{name: "first receive", receive: "1", failed: true},
		{name: "fourth receive", receive: "4", failed: true},
		{name: "fifth receive", receive: "5", dead: true},
		{name: "past the last", receive: "7", dead: true},
		{name: "last of three", maxReceives: 3, receive: "3", dead: true},
		{name: "off", maxReceives: -1, receive: "5", failed: true},
		{name: "dead-letter queue down", receive: "5", dlqErr: errors.New("AWS.SimpleQueueService.NonExistentQueue"), failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, m := meteredWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour))
			w.hist.failOn["123"] = errors.New("ProvisionedThroughputExceededException")
			q := &fakeSQS{err: tt.dlqErr}
			h := notifier.NewQueueHandler(w.n, q, dlqURL, nil).WithOptions(notifier.QueueOptions{MaxReceives: tt.maxReceives})
			msg := message("m-1", `{"user_id":"123","message":"Budget transfer 602 was approved"}`)
			msg.Attributes["ApproximateReceiveCount"] = tt.receive

			resp, err := h.Handle(ctxOf(t), events.SQSEvent{Records: []events.SQSMessage{msg}})
			must(t, err)

			if got := len(resp.BatchItemFailures) == 1; got != tt.failed {
				t.Errorf("BatchItemFailures = %v, want the message there: %v", resp.BatchItemFailures, tt.failed)
			}
			dead := q.sentTo(dlqURL)
			if tt.dlqErr == nil && (len(dead) == 1) != tt.dead {
				t.Fatalf("dead-lettered %d messages, want it dead-lettered: %v", len(dead), tt.dead)
			}
			want := map[string]float64{}
			if tt.dead || tt.dlqErr != nil {
				want[metrics.NotificationsFailed+"/"+notifier.ReasonStoreError] = 1
			}
			wantCounts(t, counts(t, m.points(t)), want)
			if !tt.dead {
				return
			}
			if body := aws.ToString(dead[0].MessageBody); body != msg.Body {
				t.Errorf("dead-lettered body %s, want the original %s", body, msg.Body)
			}
			if src := attr(dead[0].MessageAttributes, "source_message_id"); src != "m-1" {
				t.Errorf("source_message_id %q, want m-1", src)
			}
			reason := attr(dead[0].MessageAttributes, "failure_reason")
			for _, part := range []string{"receive " + tt.receive + " of", "store", "ProvisionedThroughputExceededException"} {
				if !strings.Contains(reason, part) {
					t.Errorf("failure_reason %q does not say %q", reason, part)
				}
			}
		})
	}
}

// TestQueueLastReceiveKeepsTheFailure: on the last receive the message is
// counted by what failed: a malformed message whose first dead-letter send
// failed stays invalid_message; a panic is retries_exhausted.
func TestQueueLastReceiveKeepsTheFailure(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		panics   bool // the connection store panics
		dlqFails int  // dead-letter sends that fail first
		reason   string
		stored   float64 // NotificationsStored
	}{
		{name: "malformed", body: `{"user_id":"123"}`, dlqFails: 1, reason: notifier.ReasonInvalidMessage},
		{name: "panic", body: `{"user_id":"123","message":"hi"}`, panics: true, reason: notifier.ReasonRetriesExhausted,
			stored: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, m := meteredWorld(t, notifier.Options{}, conn("tab-a", "123", time.Hour))
			if tt.panics {
				w.n = notifier.New(panicConns{w.conns}, w.hist, w.gw.client("/prod"), notifier.Options{Metrics: m.rec})
			}
			q := &flakySQS{fails: tt.dlqFails}
			h := notifier.NewQueueHandler(w.n, q, dlqURL, nil)
			msg := message("m-1", tt.body)
			msg.Attributes["ApproximateReceiveCount"] = "5"

			handleOne(t, h, msg)

			want := map[string]float64{metrics.NotificationsFailed + "/" + tt.reason: 1}
			if tt.stored > 0 {
				want[metrics.NotificationsStored] = tt.stored
			}
			wantCounts(t, counts(t, m.points(t)), want)
			if len(q.sent) != 1 || !strings.Contains(attr(q.sent[0].MessageAttributes, "failure_reason"), "receive 5 of 5") {
				t.Errorf("dead-lettered %v, want the message once, on its last receive", q.sent)
			}
		})
	}
}

// TestWelcomeMetrics: a welcome the connection accepts counts as delivered.
func TestWelcomeMetrics(t *testing.T) {
	w, m := meteredWorld(t, notifier.Options{})
	ev := streamEvent(t)
	ev.Records = ev.Records[:1]

	resp, err := notifier.NewWelcomeHandler(w.n, notifier.WelcomeOptions{}).Handle(ctxOf(t), ev)
	must(t, err)

	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("BatchItemFailures = %v", resp.BatchItemFailures)
	}
	wantCounts(t, counts(t, m.points(t)), map[string]float64{metrics.NotificationsDelivered: 1})
}

// panicConns is a connection.Store whose ByUser panics.
type panicConns struct{ connection.Store }

func (panicConns) ByUser(context.Context, string) ([]connection.Connection, error) {
	panic("connection store broke")
}

// flakySQS fails its first fails sends and keeps the others.
type flakySQS struct {
	fails int
	sent  []*sqs.SendMessageInput
}

func (f *flakySQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if f.fails > 0 {
		f.fails--
		return nil, errors.New("AWS.SimpleQueueService.ServiceUnavailable")
	}
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{MessageId: aws.String(fmt.Sprint("dlq-", len(f.sent)))}, nil
}
