package queue

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Statuses of a message move task, as SQS reports them. A cancelled task
// goes straight to MoveCancelled: nothing is in flight between two moves.
const (
	MoveRunning   = "RUNNING"
	MoveCompleted = "COMPLETED"
	MoveCancelled = "CANCELLED"
	MoveFailed    = "FAILED"
)

// Failure reasons of a message move task, as SQS reports them.
const (
	// CouldNotDetermineMessageSource: the task has no destination and met a
	// message that no redrive policy moved to the dead-letter queue (one
	// sent there with SendMessage), so it has no original source queue.
	CouldNotDetermineMessageSource = "CouldNotDetermineMessageSource"
	// NonExistentQueue: the destination queue does not exist.
	NonExistentQueue = "AWS.SimpleQueueService.NonExistentQueue"
)

// MaxMoveRate is the largest MaxNumberOfMessagesPerSecond SQS accepts.
const MaxMoveRate = 500

// maxMoveTasks is how many tasks a queue remembers, the most
// ListMessageMoveTasks returns.
const maxMoveTasks = 10

// Errors of message move tasks that callers branch on.
var (
	ErrNotDeadLetterQueue = errors.New("localqueue: source queue must be configured as a dead-letter queue")
	ErrMoveTaskRunning    = errors.New("localqueue: a message move task is already running on the source queue")
	ErrNoMoveTask         = errors.New("localqueue: message move task does not exist")
	ErrMoveTaskNotRunning = errors.New("localqueue: only a running message move task can be cancelled")
)

// MoveTask is a message move task (StartMessageMoveTask): it moves the
// messages a dead-letter queue held when it started to a destination queue,
// or each back to the queue whose redrive policy moved it there.
type MoveTask struct {
	Handle        string    // TaskHandle
	Status        string    // MoveRunning, MoveCompleted, MoveCancelled or MoveFailed
	Source        string    // name of the dead-letter queue
	Destination   string    // queue name; empty: each message's original source queue
	MaxPerSecond  int       // messages moved per second; 0: as fast as the broker goes
	Moved         int       // ApproximateNumberOfMessagesMoved
	ToMove        int       // ApproximateNumberOfMessagesToMove: visible messages at the start
	StartedAt     time.Time // StartedTimestamp
	FailureReason string    // with MoveFailed
}

type moveTask struct {
	MoveTask
	pending []string // IDs of the messages still to move, oldest first
}

// StartMoveTask starts moving the visible messages of the dead-letter queue
// source to destination, or, with an empty destination, each to the queue
// its redrive policy moved it from, at most perSecond a second (0: no
// limit). It returns at once; the task runs in the background. A moved
// message keeps its body and message attributes and is new on its
// destination: a new message ID, sent now, never received. Messages that
// arrive after the start, or are in flight when their turn comes, stay.
//
// It returns ErrNoQueue if a queue does not exist, ErrNotDeadLetterQueue if
// no queue's redrive policy names source, ErrMoveTaskRunning if a task on
// source is still running, and ErrInvalidParameter for a rate outside 0 to
// MaxMoveRate or a destination equal to the source.
func (b *Broker) StartMoveTask(source, destination string, perSecond int) (MoveTask, error) {
	if perSecond < 0 || perSecond > MaxMoveRate {
		return MoveTask{}, fmt.Errorf("localqueue: move from %s: %w: rate %d outside 1 to %d", source, ErrInvalidParameter, perSecond, MaxMoveRate)
	}
	if destination == source {
		return MoveTask{}, fmt.Errorf("localqueue: move from %s: %w: the destination is the source", source, ErrInvalidParameter)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	src, ok := b.queues[source]
	if !ok {
		return MoveTask{}, fmt.Errorf("localqueue: move from %s: %w", source, ErrNoQueue)
	}
	if _, ok := b.queues[destination]; destination != "" && !ok {
		return MoveTask{}, fmt.Errorf("localqueue: move from %s to %s: %w", source, destination, ErrNoQueue)
	}
	if !b.isDeadLetterQueue(source) {
		return MoveTask{}, fmt.Errorf("localqueue: move from %s: %w", source, ErrNotDeadLetterQueue)
	}
	for _, t := range src.tasks {
		if t.Status == MoveRunning {
			return MoveTask{}, fmt.Errorf("localqueue: move from %s: %w", source, ErrMoveTaskRunning)
		}
	}
	now := b.opts.Now()
	t := &moveTask{MoveTask: MoveTask{Handle: b.taskHandle(source), Status: MoveRunning, Source: source,
		Destination: destination, MaxPerSecond: perSecond, StartedAt: now}}
	for _, m := range src.msgs {
		if !m.visibleAt.After(now) {
			t.pending = append(t.pending, m.ID)
		}
	}
	t.ToMove = len(t.pending)
	src.tasks = append(src.tasks, t)
	if len(src.tasks) > maxMoveTasks {
		src.tasks = slices.Delete(src.tasks, 0, len(src.tasks)-maxMoveTasks)
	}
	go b.runMove(t)
	return t.MoveTask, nil
}

// MoveTasks returns up to max of the most recent move tasks of the named
// queue, the most recent first.
func (b *Broker) MoveTasks(name string, max int) ([]MoveTask, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[name]
	if !ok {
		return nil, fmt.Errorf("localqueue: move tasks of %s: %w", name, ErrNoQueue)
	}
	out := []MoveTask{}
	for i := len(q.tasks) - 1; i >= 0 && len(out) < max; i-- {
		out = append(out, q.tasks[i].MoveTask)
	}
	return out, nil
}

// CancelMoveTask stops the running task with that handle and returns it:
// the messages it moved stay moved, the others stay on the source queue.
// It returns ErrNoMoveTask for an unknown handle and ErrMoveTaskNotRunning
// for a task that has ended.
func (b *Broker) CancelMoveTask(handle string) (MoveTask, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, q := range b.queues {
		for _, t := range q.tasks {
			if t.Handle != handle {
				continue
			}
			if t.Status != MoveRunning {
				return t.MoveTask, fmt.Errorf("localqueue: cancel move task of %s: %w: it is %s", t.Source, ErrMoveTaskNotRunning, t.Status)
			}
			t.Status = MoveCancelled
			t.pending = nil
			return t.MoveTask, nil
		}
	}
	return MoveTask{}, fmt.Errorf("localqueue: cancel move task: %w", ErrNoMoveTask)
}

// isDeadLetterQueue reports whether a queue's redrive policy names name.
// b.mu must be held.
func (b *Broker) isDeadLetterQueue(name string) bool {
	for _, q := range b.queues {
		if q.cfg.DeadLetterQueue == name && q.cfg.MaxReceiveCount > 0 {
			return true
		}
	}
	return false
}

// taskHandle returns a new handle that, like SQS's, is base64 JSON naming
// the task and its source queue.
func (b *Broker) taskHandle(source string) string {
	h, _ := json.Marshal(map[string]string{"taskId": newUUID(), "sourceArn": b.QueueARN(source)})
	return base64.StdEncoding.EncodeToString(h)
}

// runMove moves t's messages one at a time, paced by t.MaxPerSecond, until
// none is left or t is cancelled or fails.
func (b *Broker) runMove(t *moveTask) {
	for b.moveNext(t) {
		if t.MaxPerSecond > 0 {
			<-b.opts.After(time.Second / time.Duration(t.MaxPerSecond))
		}
	}
}

// moveNext moves t's next message and reports whether more remain.
func (b *Broker) moveNext(t *moveTask) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.Status != MoveRunning {
		return false
	}
	src := b.queues[t.Source]
	now := b.opts.Now()
	for len(t.pending) > 0 {
		id := t.pending[0]
		i := slices.IndexFunc(src.msgs, func(m *message) bool { return m.ID == id })
		if i < 0 || src.msgs[i].visibleAt.After(now) {
			t.pending = t.pending[1:] // deleted, or in flight: it stays
			continue
		}
		m := src.msgs[i]
		dest := t.Destination
		if dest == "" {
			dest = m.DeadLetterSourceName
		}
		if dest == "" {
			t.Status, t.FailureReason, t.pending = MoveFailed, CouldNotDetermineMessageSource, nil
			return false
		}
		dq, ok := b.queues[dest]
		if !ok {
			t.Status, t.FailureReason, t.pending = MoveFailed, NonExistentQueue, nil
			return false
		}
		src.msgs = slices.Delete(src.msgs, i, i+1)
		dq.msgs = append(dq.msgs, &message{Message: Message{
			ID: newUUID(), Body: m.Body, Attributes: m.Attributes, SentAt: now,
			MD5OfBody: m.MD5OfBody, MD5OfAttributes: m.MD5OfAttributes, SourceQueue: dest,
		}, visibleAt: now})
		dq.signal()
		t.Moved++
		t.pending = t.pending[1:]
		if len(t.pending) > 0 {
			return true
		}
	}
	t.Status = MoveCompleted
	return false
}
