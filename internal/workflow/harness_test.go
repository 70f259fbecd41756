package workflow_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/finance/fbdi-notify/internal/deadletter"
	"github.com/finance/fbdi-notify/internal/local/oraclesim"
	"github.com/finance/fbdi-notify/internal/metrics"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/oraclegate"
	"github.com/finance/fbdi-notify/internal/testing/awstest"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
	"github.com/finance/fbdi-notify/internal/testing/metricstest"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// t0 is the simulated time every scenario starts at.
var t0 = time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)

// queue is a workflow queue and its dead-letter queue, as the Worker and the
// Lambda event source see them.
type queue interface {
	sender() workflow.Sender
	urls() (workflowURL, dlqURL string)
	send(tb testing.TB, body string)
	// receive returns what the event source would hand to one invocation.
	receive(tb testing.TB) []events.SQSMessage
	// settle deletes the records that succeeded and makes the failed ones
	// visible again (as their visibility timeout ending would).
	settle(tb testing.TB, msgs []events.SQSMessage, failed map[string]bool)
	deadLetters(tb testing.TB) []deadLetter
}

type deadLetter struct {
	Body, Reason, SourceID string
}

// backend builds the store and the queues of a harness.
type backend struct {
	name string
	new  func(tb testing.TB, now func() time.Time) (workflow.Store, queue)
}

// backends returns the in-memory backend and the moto_server one (which
// skips without MOTO_ENDPOINT, and fails under CI).
func backends() []backend {
	return []backend{
		{name: "memory", new: func(_ testing.TB, now func() time.Time) (workflow.Store, queue) {
			return workflow.NewMemoryStore(now), newMemQueue()
		}},
		{name: "moto", new: func(tb testing.TB, now func() time.Time) (workflow.Store, queue) {
			return workflow.NewDynamoStore(awstest.DynamoDB(tb), newTable(tb), now), newMotoQueue(tb)
		}},
	}
}

// harness runs a Worker like Lambda would: a loop receives batches from the
// queue, invokes Handle with its own deadline, and settles the batch; the
// simulated clock (shared by the Engine, the store and the Oracle
// simulator) advances between batches instead of anyone sleeping.
type harness struct {
	tb     testing.TB
	clock  *clocktest.Clock
	sim    *oraclesim.Sim
	oracle *oracle.Client
	store  workflow.Store
	q      queue
	sent   *recordingSender
	inbox  *inbox
	cfg    workflow.Config
	engine *workflow.Engine
	worker *workflow.Worker
	status *workflow.Service
	// sweeper is the SweeperFunction's handler on the same store, queue
	// and clock; finish runs it every sweepEvery of simulated time.
	sweeper    *workflow.Sweeper
	sweepEvery time.Duration
	step       time.Duration // clock advance after each batch
	sleeps     atomic.Int32  // calls of Options.Sleep
	// jitter is what Options.Jitter returns, in millionths: the fraction of
	// the backoff ceiling a retry waits. Default 1e6 (the ceiling) on the
	// memory queue, which records delays; 0 on moto, which would wait them.
	jitter atomic.Int64

	// short, when set, makes the next invocation's deadline that long
	// after the simulated clock's now (see shortDeadline); batch clears it.
	short atomic.Pointer[time.Duration]

	// rec records the Engine's and the sweeper's metrics into
	// metricsOut; metrics reads them back.
	rec        *metrics.Recorder
	metricsOut bytes.Buffer

	mu              sync.Mutex
	afterOracle     func(op string, step int) error
	afterCheckpoint func(op string, step int) error
}

func newHarness(tb testing.TB, b backend, configure ...func(*workflow.Config)) *harness {
	tb.Helper()
	return newGatedHarness(tb, b, nil, configure...)
}

// newGatedHarness is newHarness whose Engine asks a Gate (the shared
// breaker and job slots) configured by gcfg, in memory on the harness's
// clock; nil gcfg means no Gate.
func newGatedHarness(tb testing.TB, b backend, gcfg *oraclegate.Config, configure ...func(*workflow.Config)) *harness {
	tb.Helper()
	h := &harness{tb: tb, clock: clocktest.New(t0), inbox: newInbox(), step: 2 * time.Minute, sweepEvery: time.Minute}
	h.rec = metrics.New(&h.metricsOut, "test", h.clock.Now)
	h.jitter.Store(1e6)
	h.sim = oraclesim.New(oraclesim.Options{Username: "integration", Password: "s3cret", Now: h.clock.Now,
		MaxHang: 20 * time.Millisecond})
	srv := httptest.NewServer(h.sim)
	tb.Cleanup(srv.Close)
	oc := oracle.New(oracle.Config{BaseURL: srv.URL, Username: "integration", Password: "s3cret"}, srv.Client())
	h.oracle = oc

	h.store, h.q = b.new(tb, h.clock.Now)
	if _, mem := h.q.(*memQueue); !mem {
		h.jitter.Store(0) // SQS would really delay a retry: retry at once
	}
	queueURL, dlqURL := h.q.urls()
	h.sent = &recordingSender{next: h.q.sender(), queueURL: queueURL}
	h.cfg = workflow.DefaultConfig()
	h.cfg.QueueURL = queueURL
	h.cfg.PollInterval = 0 // moto would really delay; the memory queue records the delay
	h.cfg.AutoPostCriteriaID = "300000001234567"
	for _, c := range configure {
		c(&h.cfg)
	}
	var gate workflow.Gate
	if gcfg != nil {
		gate = oraclegate.New(oraclegate.NewMemoryStore(), "oracle.test", *gcfg, h.clock.Now, nil)
	}
	var err error
	h.engine, err = workflow.NewEngine(h.store, oc, h.sent, h.inbox.notify, h.cfg, workflow.Options{
		Gate:    gate,
		Metrics: h.rec,
		Now:     h.clock.Now,
		Sleep: func(context.Context, time.Duration) error {
			h.sleeps.Add(1)
			return nil
		},
		Jitter: func() float64 { return float64(h.jitter.Load()) / 1e6 },
		Hooks: workflow.Hooks{
			AfterOracle: func(op string, step int) error {
				h.mu.Lock()
				f := h.afterOracle
				h.mu.Unlock()
				if f == nil {
					return nil
				}
				return f(op, step)
			},
			AfterCheckpoint: func(op string, step int) error {
				h.mu.Lock()
				f := h.afterCheckpoint
				h.mu.Unlock()
				if f == nil {
					return nil
				}
				return f(op, step)
			},
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	h.worker = workflow.NewWorker(h.engine, h.sent, dlqURL, nil)
	h.status = workflow.NewService(h.store)
	h.sweeper, err = workflow.NewSweeper(h.store, h.sent, h.inbox.notify, h.cfg, workflow.SweepOptions{Now: h.clock.Now, Gate: gate,
		Metrics: h.rec})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// finish runs the system until every workflow has ended and its owner was
// told: batches while the queue has messages; when it is empty, the clock
// moves on by sweepEvery and the sweeper runs, as its schedule would. It
// fails the test if that takes more than limit of simulated time, and
// returns the simulated time it took.
func (h *harness) finish(limit time.Duration) time.Duration {
	h.tb.Helper()
	start := h.clock.Now()
	for h.clock.Now().Sub(start) <= limit {
		if _, ok := h.batch(); ok {
			continue
		}
		inFlight, err := h.store.Due(context.Background(), h.clock.Now().Add(1000*time.Hour), 1)
		if err != nil {
			h.tb.Fatalf("due: %v", err)
		}
		if len(inFlight) == 0 {
			return h.clock.Now().Sub(start)
		}
		if mq, ok := h.q.(*memQueue); ok && mq.now != nil {
			if next, ok := mq.nextVisible(); ok && next.Before(h.clock.Now().Add(h.sweepEvery)) {
				h.clock.Advance(next.Sub(h.clock.Now()))
				continue
			}
		}
		h.clock.Advance(h.sweepEvery)
		h.sweep()
	}
	h.tb.Fatalf("workflows still in flight after %s of simulated time", limit)
	return 0
}

// runFor runs the system as finish does for d of simulated time, whether
// or not the workflows end.
func (h *harness) runFor(d time.Duration) {
	h.tb.Helper()
	end := h.clock.Now().Add(d)
	for h.clock.Now().Before(end) {
		if _, ok := h.batch(); ok {
			continue
		}
		step := min(h.sweepEvery, end.Sub(h.clock.Now()))
		if mq, ok := h.q.(*memQueue); ok && mq.now != nil {
			if next, ok := mq.nextVisible(); ok && next.Before(h.clock.Now().Add(step)) {
				h.clock.Advance(max(next.Sub(h.clock.Now()), 0))
				continue
			}
		}
		h.clock.Advance(step)
		h.sweep()
	}
}

// timed makes the harness keep time like SQS, on the memory backend: a
// message is received DelaySeconds after it was sent, a failed record
// visibilityTimeout after its receipt, and finish moves the clock to the
// next message due; each batch advances the clock by step. It returns false
// on another backend.
func (h *harness) timed(step time.Duration) bool {
	mq, ok := h.q.(*memQueue)
	if !ok {
		return false
	}
	mq.mu.Lock()
	mq.now = h.clock.Now
	mq.mu.Unlock()
	h.step = step
	return true
}

// metrics returns the data points the Engine and the sweeper recorded so
// far (it flushes the Recorder, as the end of an invocation would).
func (h *harness) metrics() []metricstest.Point {
	h.tb.Helper()
	if err := h.rec.Flush(); err != nil {
		h.tb.Fatal(err)
	}
	return metricstest.Parse(h.tb, h.metricsOut.Bytes())
}

// sweep runs the sweeper once, as a scheduled invocation would.
func (h *harness) sweep() workflow.SweepResult {
	h.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := h.sweeper.Handle(ctx, events.EventBridgeEvent{DetailType: "Scheduled Event", Source: "aws.scheduler"})
	if err != nil {
		h.tb.Fatalf("sweep: %v", err)
	}
	return res
}

// crashOnce makes the hook fail the first time it runs for op at step.
func crashOnce(op string, step int) func(string, int) error {
	var done atomic.Bool
	return func(gotOp string, gotStep int) error {
		if gotOp == op && gotStep == step && done.CompareAndSwap(false, true) {
			return fmt.Errorf("simulated crash after %s at step %d", op, step)
		}
		return nil
	}
}

// sendFile sends the body of a testdata file to the workflow queue.
func (h *harness) sendFile(name string) string {
	h.tb.Helper()
	body, err := os.ReadFile("testdata/" + name)
	if err != nil {
		h.tb.Fatal(err)
	}
	h.q.send(h.tb, string(body))
	return string(body)
}

// drain runs batches until the queue is empty.
func (h *harness) drain() {
	h.tb.Helper()
	const maxBatches = 200
	for range maxBatches {
		if _, ok := h.batch(); !ok {
			return
		}
	}
	h.tb.Fatalf("the queue still had messages after %d batches", maxBatches)
}

// batch runs one invocation on what the queue hands out, settles it and
// advances the clock. It returns the records reported as failed, and false
// when the queue was empty.
func (h *harness) batch() (failed map[string]bool, ok bool) {
	h.tb.Helper()
	msgs := h.q.receive(h.tb)
	if len(msgs) == 0 {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a Lambda invocation's deadline
	var ictx context.Context = ctx
	if d := h.short.Swap(nil); d != nil {
		ictx = shortDeadline{Context: ctx, dl: h.clock.Now().Add(*d)}
	}
	resp, err := h.worker.Handle(ictx, events.SQSEvent{Records: msgs})
	cancel()
	if err != nil {
		h.tb.Fatalf("Handle returned an error: %v", err)
	}
	failed = map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	h.q.settle(h.tb, msgs, failed)
	h.clock.Advance(h.step)
	return failed, true
}

// shortDeadline is an invocation's context whose Deadline is dl, in
// simulated time: the time left as the Engine reckons it. Its Done is the
// real context's. A deadline in simulated time is in the real past, which
// the HTTP client's dialer would honour, so only tests whose short
// invocations make no Oracle call, on the memory backend, use it.
type shortDeadline struct {
	context.Context
	dl time.Time
}

func (c shortDeadline) Deadline() (time.Time, bool) { return c.dl, true }

// definitions returns the job definitions the simulator received, in order.
func (h *harness) definitions() []string {
	var defs []string
	for _, s := range h.sim.Submissions() {
		defs = append(defs, s.Definition)
	}
	return defs
}

// state returns the stored workflow.
func (h *harness) state(txID string) *workflow.State {
	h.tb.Helper()
	st, err := h.store.Get(context.Background(), txID)
	if err != nil {
		h.tb.Fatalf("get workflow %s: %v", txID, err)
	}
	return st
}

// recordingSender passes messages on and records the poll messages. A
// message to the workflow queue for which drop says true is lost: recorded,
// but not passed on.
type recordingSender struct {
	next     workflow.Sender
	queueURL string
	drop     func(body string) bool

	mu     sync.Mutex
	polls  []string // bodies
	delays []int32
}

func (s *recordingSender) SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if aws.ToString(in.QueueUrl) == s.queueURL {
		s.mu.Lock()
		s.polls = append(s.polls, aws.ToString(in.MessageBody))
		s.delays = append(s.delays, in.DelaySeconds)
		drop := s.drop != nil && s.drop(aws.ToString(in.MessageBody))
		s.mu.Unlock()
		if drop {
			return &sqs.SendMessageOutput{MessageId: aws.String("lost")}, nil
		}
	}
	return s.next.SendMessage(ctx, in, optFns...)
}

func (s *recordingSender) pollCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.polls)
}

// inbox is the notifier as the Engine sees it, with the history's rule that
// an ID already stored is ignored.
type inbox struct {
	mu    sync.Mutex
	seen  map[string]bool
	notes map[string][]notification.Notification
	calls int
	fail  error // returned by notify when set
	// onNote runs, when set, on every notification delivered, outside the
	// lock: a test uses it to act at a point of the workflow.
	onNote func(notification.Notification)
}

func newInbox() *inbox {
	return &inbox{seen: map[string]bool{}, notes: map[string][]notification.Notification{}}
}

func (i *inbox) notify(_ context.Context, userID string, n notification.Notification) error {
	i.mu.Lock()
	if f := i.onNote; f != nil {
		i.mu.Unlock()
		f(n)
		i.mu.Lock()
	}
	defer i.mu.Unlock()
	if i.fail != nil {
		return i.fail
	}
	i.calls++
	if n.ID == "" || n.Timestamp.IsZero() {
		return fmt.Errorf("notification without ID or timestamp: %+v", n)
	}
	if i.seen[userID+"/"+n.ID] {
		return nil
	}
	i.seen[userID+"/"+n.ID] = true
	i.notes[userID] = append(i.notes[userID], n)
	return nil
}

// of returns the user's stored notifications in the order they were stored.
func (i *inbox) of(userID string) []notification.Notification {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.Clone(i.notes[userID])
}

// sequence summarises the user's notifications: "started", "1:processing",
// "1:completed", ..., "completed" or "failed"; "2:retry" is a progress
// of step 2 saying that Oracle is unavailable and when the next try is.
func (i *inbox) sequence(userID string) []string {
	var out []string
	for _, n := range i.of(userID) {
		retry := n.Type == notification.TypeUploadProgress && strings.HasPrefix(n.Message, "Oracle is unavailable")
		switch {
		case n.Type == notification.TypeUploadStarted:
			out = append(out, "started")
		case retry:
			out = append(out, strconv.Itoa(n.StepNumber)+":retry")
		case n.Type == notification.TypeUploadProgress:
			out = append(out, strconv.Itoa(n.StepNumber)+":"+n.Status)
		case n.Type == notification.TypeUploadCompleted:
			out = append(out, "completed")
		case n.Type == notification.TypeUploadFailed:
			out = append(out, "failed")
		default:
			out = append(out, n.Type)
		}
	}
	return out
}

// successSequence is every notification of a workflow that succeeds.
func successSequence() []string {
	s := []string{"started"}
	for n := 1; n <= workflow.TotalSteps; n++ {
		s = append(s, fmt.Sprintf("%d:processing", n), fmt.Sprintf("%d:completed", n))
	}
	return append(s, "completed")
}

// failedAt is the notifications of a workflow that fails at step n.
func failedAt(n int) []string {
	s := []string{"started"}
	for i := 1; i < n; i++ {
		s = append(s, fmt.Sprintf("%d:processing", i), fmt.Sprintf("%d:completed", i))
	}
	return append(s, fmt.Sprintf("%d:processing", n), fmt.Sprintf("%d:failed", n), "failed")
}

// memQueue is an in-memory SQS pair. It delivers delayed messages at once
// (it records the delay) and counts receives like ApproximateReceiveCount.
type memQueue struct {
	mu     sync.Mutex
	nextID int
	msgs   []*memMsg
	dlq    []deadLetter
	// now, when set (see harness.timed), makes the queue keep time like
	// SQS: a message is delivered DelaySeconds after it was sent, and a
	// failed record visibilityTimeout after it was received.
	now func() time.Time
}

// visibilityTimeout is the workflow queue's, as template.yaml declares it.
const visibilityTimeout = 720 * time.Second

type memMsg struct {
	id        string
	body      string
	receives  int
	inFlight  bool
	visibleAt time.Time // with a clock: when it may be received
}

const (
	memQueueURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/WorkflowQueue"
	memDLQURL   = "https://sqs.eu-west-1.amazonaws.com/123456789012/WorkflowDeadLetterQueue"
)

func newMemQueue() *memQueue { return &memQueue{} }

func (q *memQueue) sender() workflow.Sender { return q }

func (q *memQueue) urls() (string, string) { return memQueueURL, memDLQURL }

func (q *memQueue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	body := aws.ToString(in.MessageBody)
	switch aws.ToString(in.QueueUrl) {
	case memQueueURL:
		q.nextID++
		id := fmt.Sprintf("m-%d", q.nextID)
		m := &memMsg{id: id, body: body}
		if q.now != nil {
			m.visibleAt = q.now().Add(time.Duration(in.DelaySeconds) * time.Second)
		}
		q.msgs = append(q.msgs, m)
		return &sqs.SendMessageOutput{MessageId: aws.String(id)}, nil
	case memDLQURL:
		attr := func(k string) string { return aws.ToString(in.MessageAttributes[k].StringValue) }
		q.dlq = append(q.dlq, deadLetter{Body: body, Reason: attr(deadletter.AttrFailureReason),
			SourceID: attr(deadletter.AttrSourceMessageID)})
		return &sqs.SendMessageOutput{MessageId: aws.String("dlq")}, nil
	}
	return nil, fmt.Errorf("no queue %s", aws.ToString(in.QueueUrl))
}

func (q *memQueue) send(_ testing.TB, body string) {
	_, _ = q.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(memQueueURL),
		MessageBody: aws.String(body)})
}

func (q *memQueue) receive(testing.TB) []events.SQSMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []events.SQSMessage
	for _, m := range q.msgs {
		if m.inFlight || len(out) == 10 || q.now != nil && q.now().Before(m.visibleAt) {
			continue
		}
		m.inFlight = true
		m.receives++
		out = append(out, events.SQSMessage{MessageId: m.id, ReceiptHandle: m.id, Body: m.body,
			Attributes:     map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.receives)},
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:WorkflowQueue"})
	}
	return out
}

func (q *memQueue) settle(_ testing.TB, _ []events.SQSMessage, failed map[string]bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	kept := q.msgs[:0]
	for _, m := range q.msgs {
		switch {
		case !m.inFlight:
			kept = append(kept, m)
		case failed[m.id]:
			m.inFlight = false
			if q.now != nil {
				m.visibleAt = q.now().Add(visibilityTimeout)
			}
			kept = append(kept, m)
		}
	}
	q.msgs = kept
}

// nextVisible returns when the next message that is not in flight may be
// received, and false when there is none.
func (q *memQueue) nextVisible() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var next time.Time
	found := false
	for _, m := range q.msgs {
		if !m.inFlight && (!found || m.visibleAt.Before(next)) {
			next, found = m.visibleAt, true
		}
	}
	return next, found
}

func (q *memQueue) deadLetters(testing.TB) []deadLetter {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.dlq)
}

// motoQueue is a real SQS queue pair on moto_server.
type motoQueue struct {
	client        *sqs.Client
	queueURL, dlq string
	dead          []deadLetter
	retries       int // long polls of the current receive that found nothing
}

func newMotoQueue(tb testing.TB) *motoQueue {
	tb.Helper()
	client := awstest.SQS(tb)
	return &motoQueue{client: client, queueURL: awstest.Queue(tb, client, "workflow"),
		dlq: awstest.Queue(tb, client, "workflow-dlq")}
}

func (q *motoQueue) sender() workflow.Sender { return q.client }

func (q *motoQueue) urls() (string, string) { return q.queueURL, q.dlq }

func (q *motoQueue) send(tb testing.TB, body string) {
	tb.Helper()
	if _, err := q.client.SendMessage(awstest.Context(tb), &sqs.SendMessageInput{QueueUrl: aws.String(q.queueURL),
		MessageBody: aws.String(body)}); err != nil {
		tb.Fatalf("send: %v", err)
	}
}

func (q *motoQueue) receive(tb testing.TB) []events.SQSMessage {
	tb.Helper()
	// An empty answer ends a drain, so it must mean an empty queue. Under
	// load an SDK retry of a ReceiveMessage whose first attempt landed can
	// answer empty while that attempt's messages sit invisible: while the
	// queue still counts messages (visible, in flight or delayed), ask
	// again, with long polls, until the visibility timeout has passed.
	var out *sqs.ReceiveMessageOutput
	for wait := int32(0); ; wait = 1 {
		var err error
		out, err = q.client.ReceiveMessage(awstest.Context(tb), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(q.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: wait, VisibilityTimeout: motoVisibility,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			tb.Fatalf("receive: %v", err)
		}
		if len(out.Messages) > 0 || !q.holds(tb) {
			break
		}
		if wait == 0 {
			tb.Logf("receive: the queue counts messages but none came; asking again for up to %ds", 2*motoVisibility)
		}
		q.retries++
		if q.retries > 2*motoVisibility {
			tb.Fatalf("receive: the queue still counts messages after %d long polls, but none came", q.retries)
		}
	}
	q.retries = 0
	var msgs []events.SQSMessage
	for _, m := range out.Messages {
		msgs = append(msgs, events.SQSMessage{MessageId: aws.ToString(m.MessageId),
			ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body), Attributes: m.Attributes,
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:workflow"})
	}
	return msgs
}

// motoVisibility is the visibility timeout of a harness receive, in
// seconds: longer than any batch takes, short enough to wait out.
const motoVisibility = 10

// holds reports whether the queue counts any message: visible, in flight or delayed.
func (q *motoQueue) holds(tb testing.TB) bool {
	tb.Helper()
	out, err := q.client.GetQueueAttributes(awstest.Context(tb), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		tb.Fatalf("queue attributes: %v", err)
	}
	for _, v := range out.Attributes {
		if v != "0" {
			return true
		}
	}
	return false
}

func (q *motoQueue) settle(tb testing.TB, msgs []events.SQSMessage, failed map[string]bool) {
	tb.Helper()
	ctx := awstest.Context(tb)
	for _, m := range msgs {
		var err error
		if failed[m.MessageId] {
			_, err = q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q.queueURL),
				ReceiptHandle: aws.String(m.ReceiptHandle), VisibilityTimeout: 0})
		} else {
			_, err = q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.queueURL),
				ReceiptHandle: aws.String(m.ReceiptHandle)})
		}
		if err != nil {
			tb.Fatalf("settle %s: %v", m.MessageId, err)
		}
	}
}

func (q *motoQueue) deadLetters(tb testing.TB) []deadLetter {
	tb.Helper()
	for {
		out, err := q.client.ReceiveMessage(awstest.Context(tb), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(q.dlq), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
		if err != nil {
			tb.Fatalf("receive dead letters: %v", err)
		}
		if len(out.Messages) == 0 {
			return slices.Clone(q.dead)
		}
		for _, m := range out.Messages {
			attr := func(k string) string { return aws.ToString(m.MessageAttributes[k].StringValue) }
			q.dead = append(q.dead, deadLetter{Body: aws.ToString(m.Body), Reason: attr(deadletter.AttrFailureReason),
				SourceID: attr(deadletter.AttrSourceMessageID)})
		}
	}
}

// contains fails tb unless s contains every part.
func contains(tb testing.TB, what, s string, parts ...string) {
	tb.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			tb.Errorf("%s %q does not contain %q", what, s, p)
		}
	}
}
