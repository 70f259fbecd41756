// Package queue is an embedded, SQS-compatible queue broker for the local
// stack: upstream systems send with the AWS CLI or an AWS SDK (the AWS JSON
// protocol that current SDKs speak), and an event-source loop hands batches to
// the same handlers that Lambda invokes, with Lambda's SQS semantics: batch
// size, partial batch failure, retry after the visibility timeout, message
// delay, and dead-lettering after the maximum receives.
//
// A Broker is safe for concurrent use. Messages live in memory only.
package queue

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Defaults for a queue, as SQS has them.
const (
	DefaultVisibilityTimeout = 30 * time.Second
	DefaultMaxMessageBytes   = 1 << 20 // SQS's current limit, 1 MiB
	MaxDelay                 = 15 * time.Minute
	MaxBatchEntries          = 10
)

// Errors callers branch on.
var (
	ErrNoQueue          = errors.New("localqueue: queue does not exist")
	ErrTooLarge         = errors.New("localqueue: message too large")
	ErrInvalidParameter = errors.New("localqueue: invalid parameter")
	ErrReceiptHandle    = errors.New("localqueue: receipt handle is invalid")
)

// QueueConfig describes one queue.
type QueueConfig struct {
	Name              string        // queue name, e.g. "workflow"
	VisibilityTimeout time.Duration // default DefaultVisibilityTimeout
	Delay             time.Duration // default delivery delay; per-message delay overrides
	MaxReceiveCount   int           // with DeadLetterQueue: receives before a message moves there
	DeadLetterQueue   string        // name of the dead-letter queue, or empty
	MaxMessageBytes   int           // default DefaultMaxMessageBytes
}

// Attribute is a message attribute, as SQS carries it.
type Attribute struct {
	DataType    string // "String", "Number", "Binary" (or with a custom suffix)
	StringValue string
	BinaryValue []byte
}

// Message is one message as a receiver sees it.
type Message struct {
	ID                   string
	Body                 string
	ReceiptHandle        string
	Attributes           map[string]Attribute
	SentAt               time.Time
	FirstReceivedAt      time.Time
	ReceiveCount         int
	MD5OfBody            string
	MD5OfAttributes      string
	SourceQueue          string // queue name
	DeadLetterSourceName string // set when the message was moved to a dead-letter queue
}

type message struct {
	Message
	visibleAt time.Time
}

type queue struct {
	cfg  QueueConfig
	msgs []*message // in send order
	// wake is closed and replaced whenever a message may have become receivable.
	wake chan struct{}
	// tasks are its message move tasks as a source, oldest first.
	tasks []*moveTask
}

// Options configure a Broker.
type Options struct {
	Region    string           // default "us-east-1"
	AccountID string           // default "000000000000"
	BaseURL   string           // queue URLs are BaseURL + "/" + AccountID + "/" + name
	Now       func() time.Time // default time.Now
	// After paces message move tasks that have a rate; default time.After.
	After func(time.Duration) <-chan time.Time
}

// Broker holds queues.
type Broker struct {
	opts   Options
	mu     sync.Mutex
	queues map[string]*queue
}

// NewBroker returns an empty broker.
func NewBroker(opts Options) *Broker {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	return &Broker{opts: opts, queues: map[string]*queue{}}
}

// CreateQueue adds a queue. Creating an existing name replaces its settings
// and keeps its messages.
func (b *Broker) CreateQueue(cfg QueueConfig) error {
	if cfg.Name == "" {
		return fmt.Errorf("localqueue: create queue: %w: empty name", ErrInvalidParameter)
	}
	if cfg.VisibilityTimeout <= 0 {
		cfg.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if q, ok := b.queues[cfg.Name]; ok {
		q.cfg = cfg
		return nil
	}
	b.queues[cfg.Name] = &queue{cfg: cfg, wake: make(chan struct{})}
	return nil
}

// QueueURL returns the URL of the named queue.
func (b *Broker) QueueURL(name string) string {
	return b.opts.BaseURL + "/" + b.opts.AccountID + "/" + name
}

// QueueARN returns the ARN of the named queue.
func (b *Broker) QueueARN(name string) string {
	return "arn:aws:sqs:" + b.opts.Region + ":" + b.opts.AccountID + ":" + name
}

// Names returns the queue names, sorted.
func (b *Broker) Names() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	names := make([]string, 0, len(b.queues))
	for n := range b.queues {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Send enqueues body on the named queue and returns the stored message. A
// negative delay means the queue's default delay.
func (b *Broker) Send(name, body string, delay time.Duration, attrs map[string]Attribute) (Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[name]
	if !ok {
		return Message{}, fmt.Errorf("localqueue: send to %s: %w", name, ErrNoQueue)
	}
	if err := validateBody(body); err != nil {
		return Message{}, fmt.Errorf("localqueue: send to %s: %w", name, err)
	}
	if size := messageSize(body, attrs); size > q.cfg.MaxMessageBytes {
		return Message{}, fmt.Errorf("localqueue: send to %s: %w: %d bytes, limit %d", name, ErrTooLarge, size, q.cfg.MaxMessageBytes)
	}
	if delay < 0 {
		delay = q.cfg.Delay
	}
	if delay > MaxDelay {
		return Message{}, fmt.Errorf("localqueue: send to %s: %w: delay %s over %s", name, ErrInvalidParameter, delay, MaxDelay)
	}
	now := b.opts.Now()
	m := &message{Message: Message{
		ID: newUUID(), Body: body, Attributes: attrs, SentAt: now,
		MD5OfBody: md5Hex([]byte(body)), MD5OfAttributes: AttributesMD5(attrs), SourceQueue: name,
	}, visibleAt: now.Add(delay)}
	q.msgs = append(q.msgs, m)
	q.signal()
	return m.Message, nil
}

// Receive returns up to max receivable messages of the named queue, making
// each invisible for the visibility timeout (the queue's when visibility is
// zero). It waits up to wait for at least one message, or until done closes.
// Messages received more than MaxReceiveCount times move to the dead-letter
// queue instead of being returned.
func (b *Broker) Receive(name string, max int, visibility, wait time.Duration, done <-chan struct{}) ([]Message, error) {
	if max <= 0 {
		max = 1
	}
	deadline := b.opts.Now().Add(wait)
	for {
		msgs, wake, next, err := b.tryReceive(name, max, visibility)
		if err != nil || len(msgs) > 0 {
			return msgs, err
		}
		now := b.opts.Now()
		if !now.Before(deadline) {
			return nil, nil
		}
		until := deadline.Sub(now)
		if !next.IsZero() && next.Sub(now) < until {
			until = next.Sub(now)
		}
		t := time.NewTimer(until)
		select {
		case <-wake:
		case <-t.C:
		case <-done:
			t.Stop()
			return nil, nil
		}
		t.Stop()
	}
}

// tryReceive takes what is receivable now. It returns the channel that wakes
// on the next send and the time the next delayed or invisible message becomes
// visible (zero if none).
func (b *Broker) tryReceive(name string, max int, visibility time.Duration) ([]Message, chan struct{}, time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[name]
	if !ok {
		return nil, nil, time.Time{}, fmt.Errorf("localqueue: receive from %s: %w", name, ErrNoQueue)
	}
	if visibility <= 0 {
		visibility = q.cfg.VisibilityTimeout
	}
	now := b.opts.Now()
	var out []Message
	var next time.Time
	kept := q.msgs[:0]
	for _, m := range q.msgs {
		if len(out) >= max || m.visibleAt.After(now) {
			if m.visibleAt.After(now) && (next.IsZero() || m.visibleAt.Before(next)) {
				next = m.visibleAt
			}
			kept = append(kept, m)
			continue
		}
		if q.cfg.DeadLetterQueue != "" && q.cfg.MaxReceiveCount > 0 && m.ReceiveCount >= q.cfg.MaxReceiveCount {
			if dlq, ok := b.queues[q.cfg.DeadLetterQueue]; ok {
				moved := *m
				moved.ReceiptHandle = ""
				moved.DeadLetterSourceName = name
				moved.visibleAt = now
				dlq.msgs = append(dlq.msgs, &moved)
				dlq.signal()
				continue // dropped from this queue
			}
		}
		m.ReceiveCount++
		if m.FirstReceivedAt.IsZero() {
			m.FirstReceivedAt = now
		}
		m.ReceiptHandle = newReceipt(m.ID)
		m.visibleAt = now.Add(visibility)
		out = append(out, m.Message)
		kept = append(kept, m)
	}
	for i := len(kept); i < len(q.msgs); i++ {
		q.msgs[i] = nil
	}
	q.msgs = kept
	return out, q.wake, next, nil
}

// Delete removes the message with that receipt handle. A handle of a message
// already deleted is not an error, as in SQS.
func (b *Broker) Delete(name, receiptHandle string) error {
	if receiptHandle == "" {
		return fmt.Errorf("localqueue: delete from %s: %w", name, ErrReceiptHandle)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[name]
	if !ok {
		return fmt.Errorf("localqueue: delete from %s: %w", name, ErrNoQueue)
	}
	for i, m := range q.msgs {
		if m.ReceiptHandle == receiptHandle {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			return nil
		}
	}
	return nil
}

// ChangeVisibility makes a received message visible again after d.
func (b *Broker) ChangeVisibility(name, receiptHandle string, d time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[name]
	if !ok {
		return fmt.Errorf("localqueue: change visibility in %s: %w", name, ErrNoQueue)
	}
	for _, m := range q.msgs {
		if m.ReceiptHandle == receiptHandle {
			m.visibleAt = b.opts.Now().Add(d)
			q.signal()
			return nil
		}
	}
	return fmt.Errorf("localqueue: change visibility in %s: %w", name, ErrReceiptHandle)
}

// Purge deletes every message of the named queue.
func (b *Broker) Purge(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[name]
	if !ok {
		return fmt.Errorf("localqueue: purge %s: %w", name, ErrNoQueue)
	}
	q.msgs = nil
	return nil
}

// Counts returns how many messages of the named queue are visible, in flight
// (received, not deleted) and delayed.
func (b *Broker) Counts(name string) (visible, inFlight, delayed int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[name]
	if !ok {
		return 0, 0, 0, fmt.Errorf("localqueue: counts of %s: %w", name, ErrNoQueue)
	}
	now := b.opts.Now()
	for _, m := range q.msgs {
		switch {
		case !m.visibleAt.After(now):
			visible++
		case m.ReceiveCount > 0:
			inFlight++
		default:
			delayed++
		}
	}
	return visible, inFlight, delayed, nil
}

func (q *queue) signal() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// validateBody applies SQS's rule for message characters: #x9 | #xA | #xD |
// #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF, and a non-empty body.
func validateBody(body string) error {
	if body == "" {
		return fmt.Errorf("%w: the message body must not be empty", ErrInvalidParameter)
	}
	for _, r := range body {
		ok := r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
			(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
		if !ok {
			return fmt.Errorf("%w: the message contains characters outside the allowed set", ErrInvalidParameter)
		}
	}
	return nil
}

func messageSize(body string, attrs map[string]Attribute) int {
	n := len(body)
	for k, a := range attrs {
		n += len(k) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return n
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// AttributesMD5 returns the MD5 digest SQS computes over message attributes
// (names sorted; each name, data type and value length-prefixed; a transport
// byte 1 for strings and numbers, 2 for binary). It is empty for no attributes.
// SDKs check it against what they sent.
func AttributesMD5(attrs map[string]Attribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	put := func(b []byte) {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(b)))
		h.Write(l[:])
		h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if isBinary(a.DataType) {
			h.Write([]byte{2})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			put([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func isBinary(dataType string) bool {
	return dataType == "Binary" || len(dataType) > 7 && dataType[:7] == "Binary."
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newReceipt(id string) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(append([]byte(id), b[:]...))
}
