package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/finance/fbdi-notify/internal/local/queue"
	"github.com/finance/fbdi-notify/internal/local/samtemplate"
)

// Local queue names of the template's queues (docs/operations.md#local-stack).
// On an SQS API they are prefixed by RESOURCE_PREFIX.
var queueNames = map[string]string{
	"WorkflowQueue":               "workflow",
	"WorkflowDeadLetterQueue":     "workflow-dlq",
	"NotificationQueue":           "notifications",
	"NotificationDeadLetterQueue": "notifications-dlq",
	"MailQueue":                   "mail",
	"MailDeadLetterQueue":         "mail-dlq",
	"MailEventsQueue":             "mail-events",
	"MailEventsDeadLetterQueue":   "mail-events-dlq",
}

// queues are the template's queues: in the embedded broker, which serves
// the SQS API on the stack's port, or, when AWS_ENDPOINT_URL is set, on
// that SQS API, where upstream systems send to them directly.
type queues struct {
	broker   *queue.Broker     // nil on an SQS API
	client   *sqs.Client       // what the functions send with
	endpoint string            // the SQS endpoint upstream systems use
	urls     map[string]string // by local name
}

// URL returns the URL of the queue with that local name.
func (q *queues) URL(name string) string { return q.urls[name] }

// Consume runs the event-source mapping from the named queue to h until
// ctx ends: Lambda's poller over the embedded broker, or over the SQS API.
func (q *queues) Consume(ctx context.Context, name string, h queue.Handler, opts queue.SourceOptions) error {
	if q.broker != nil {
		return q.broker.Consume(ctx, name, h, opts)
	}
	return queue.PollSQS(ctx, q.client, q.urls[name], h, opts)
}

// newQueues makes the template's queues, with their visibility timeouts and
// redrive policies: in an embedded broker at base, or on the SQS API at
// cfg.AWSEndpoint (queues that exist are reused) with awsCfg's credentials.
func newQueues(ctx context.Context, cfg config, tmpl *samtemplate.Template, base string, awsCfg aws.Config) (*queues, error) {
	if cfg.AWSEndpoint == "" {
		q := &queues{broker: queue.NewBroker(queue.Options{BaseURL: base}), endpoint: base, urls: map[string]string{}}
		for logicalID, name := range queueNames {
			spec, err := tmpl.Queue(logicalID)
			if err != nil {
				return nil, err
			}
			qc := queue.QueueConfig{Name: name, VisibilityTimeout: spec.VisibilityTimeout, MaxReceiveCount: spec.MaxReceiveCount}
			if spec.DeadLetterQueue != "" {
				qc.DeadLetterQueue = queueNames[spec.DeadLetterQueue]
			}
			if err := q.broker.CreateQueue(qc); err != nil {
				return nil, err
			}
			q.urls[name] = q.broker.QueueURL(name)
		}
		// The functions' SQS client, pointed at this process as at AWS.
		q.client = sqs.New(sqs.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
			BaseEndpoint: aws.String(base)})
		return q, nil
	}

	q := &queues{client: sqs.NewFromConfig(awsCfg), endpoint: cfg.AWSEndpoint, urls: map[string]string{}}
	// Dead-letter queues first: a redrive policy names its target's ARN.
	specs := tmpl.Queues()
	slices.SortStableFunc(specs, func(a, b samtemplate.QueueSpec) int {
		return boolInt(a.DeadLetterQueue != "") - boolInt(b.DeadLetterQueue != "")
	})
	arns := map[string]string{}
	for _, spec := range specs {
		name, ok := queueNames[spec.LogicalID]
		if !ok {
			return nil, fmt.Errorf("template queue %s has no local name", spec.LogicalID)
		}
		attrs := map[string]string{
			string(types.QueueAttributeNameVisibilityTimeout):      strconv.Itoa(int(spec.VisibilityTimeout.Seconds())),
			string(types.QueueAttributeNameMessageRetentionPeriod): strconv.Itoa(int(spec.MessageRetention.Seconds())),
		}
		if spec.DeadLetterQueue != "" {
			policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arns[spec.DeadLetterQueue], "maxReceiveCount": spec.MaxReceiveCount})
			attrs[string(types.QueueAttributeNameRedrivePolicy)] = string(policy)
		}
		full := cfg.ResourcePrefix + name
		out, err := q.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(full), Attributes: attrs})
		if err != nil {
			return nil, fmt.Errorf("create queue %s: %w", full, err)
		}
		q.urls[name] = aws.ToString(out.QueueUrl)
		got, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
		if err != nil {
			return nil, fmt.Errorf("read queue %s: %w", full, err)
		}
		arns[spec.LogicalID] = got.Attributes[string(types.QueueAttributeNameQueueArn)]
	}
	return q, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
