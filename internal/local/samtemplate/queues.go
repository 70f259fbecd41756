package samtemplate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SQS defaults for properties a queue leaves unset.
const (
	defaultVisibilityTimeout = 30 * time.Second
	defaultMessageRetention  = 4 * 24 * time.Hour
)

// QueueSpec is an AWS::SQS::Queue of the template.
type QueueSpec struct {
	LogicalID         string
	VisibilityTimeout time.Duration // SQS's default (30s) when unset
	MessageRetention  time.Duration // SQS's default (4 days) when unset
	DeadLetterQueue   string        // logical ID of the redrive target; "" when none
	MaxReceiveCount   int           // receives before SQS moves a message to DeadLetterQueue; 0 when none
	ManagedSSE        bool          // SqsManagedSseEnabled
}

// QueueMapping is an SQS event source: a queue whose messages a function consumes.
type QueueMapping struct {
	Queue                   string // logical ID of the queue
	Function                string // logical ID of the consuming function
	BatchSize               int    // SAM's default (10) when unset
	ReportBatchItemFailures bool   // the function reports partial batch failures
	MaximumConcurrency      int    // ScalingConfig.MaximumConcurrency; 0 when unset
}

// Queue returns the queue with that logical ID, or an error wrapping ErrNotFound.
func (t *Template) Queue(logicalID string) (QueueSpec, error) {
	q, ok := t.queues[logicalID]
	if !ok {
		return QueueSpec{}, fmt.Errorf("stack: queue %s: %w", logicalID, ErrNotFound)
	}
	return q, nil
}

// Queues returns every queue, sorted by logical ID.
func (t *Template) Queues() []QueueSpec {
	out := make([]QueueSpec, 0, len(t.queues))
	for _, id := range sortedKeys(t.queues) {
		out = append(out, t.queues[id])
	}
	return out
}

// QueueMappings returns every function's SQS event sources, sorted by queue.
func (t *Template) QueueMappings() []QueueMapping {
	var out []QueueMapping
	for _, id := range sortedKeys(t.functions) {
		for _, e := range t.functions[id].Events {
			if e.Type == "SQS" {
				out = append(out, QueueMapping{Queue: e.Source, Function: id, BatchSize: e.BatchSize,
					ReportBatchItemFailures: e.ReportBatchItemFailures, MaximumConcurrency: e.MaximumConcurrency})
			}
		}
	}
	slices.SortFunc(out, func(a, b QueueMapping) int {
		return cmp.Or(strings.Compare(a.Queue, b.Queue), strings.Compare(a.Function, b.Function))
	})
	return out
}

func (t *Template) readQueues() error {
	t.queues = map[string]QueueSpec{}
	for id, q := range t.cfn.GetAllSQSQueueResources() {
		s := QueueSpec{LogicalID: id, VisibilityTimeout: defaultVisibilityTimeout, MessageRetention: defaultMessageRetention,
			ManagedSSE: q.SqsManagedSseEnabled != nil && *q.SqsManagedSseEnabled}
		if q.VisibilityTimeout != nil {
			s.VisibilityTimeout = time.Duration(*q.VisibilityTimeout) * time.Second
		}
		if q.MessageRetentionPeriod != nil {
			s.MessageRetention = time.Duration(*q.MessageRetentionPeriod) * time.Second
		}
		if q.RedrivePolicy != nil {
			if err := redrive(&s, q.RedrivePolicy); err != nil {
				return fmt.Errorf("queue %s: RedrivePolicy: %w", id, err)
			}
		}
		t.queues[id] = s
	}
	for id, s := range t.queues {
		if _, ok := t.queues[s.DeadLetterQueue]; s.DeadLetterQueue != "" && !ok {
			return fmt.Errorf("queue %s: dead-letter queue %s: %w", id, s.DeadLetterQueue, ErrNotFound)
		}
	}
	for id, f := range t.functions {
		for _, e := range f.Events {
			if _, ok := t.queues[e.Source]; e.Type == "SQS" && !ok {
				return fmt.Errorf("function %s: event %s reads queue %s: %w", id, e.Name, e.Source, ErrNotFound)
			}
		}
	}
	return nil
}

// redrive reads a RedrivePolicy, given as an object or as a JSON string.
func redrive(s *QueueSpec, policy any) error {
	p, ok := decode(policy).(map[string]any)
	if !ok {
		text, err := render(policy)
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(text), &p); err != nil {
			return err
		}
	}
	target, err := render(p["deadLetterTargetArn"])
	if err != nil {
		return err
	}
	id, ok := refTarget(target)
	if !ok {
		return fmt.Errorf("deadLetterTargetArn %q is not a !GetAtt of a queue", target)
	}
	s.DeadLetterQueue = id
	switch n := p["maxReceiveCount"].(type) {
	case float64:
		s.MaxReceiveCount = int(n)
	case string:
		if _, err := fmt.Sscanf(n, "%d", &s.MaxReceiveCount); err != nil {
			return fmt.Errorf("maxReceiveCount %q: %w", n, err)
		}
	default:
		return fmt.Errorf("maxReceiveCount missing")
	}
	return nil
}
