package workflow

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the workflows table.
const (
	attrID        = "transactionId"
	attrVersion   = "version"
	attrExpiresAt = "expiresAt"
	timeFormat    = time.RFC3339Nano

	// The sparse index of workflows not yet done with (Store.Due): both
	// attributes are written only while DueAt is set, so an ended workflow
	// leaves the index. One fixed partition: the index holds only the
	// workflows in flight, and the Sweeper reads it once a minute.
	dueIndex     = "due"
	attrDueShard = "dueShard"
	attrDueAt    = "dueAt"
	dueShard     = "due"
	dueFormat    = "2006-01-02T15:04:05.000Z" // fixed width in UTC, so that strings sort as times
)

// dynamoAPI is the part of *dynamodb.Client that DynamoStore uses.
type dynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// item is one workflow in the table. Times are RFC 3339 strings in UTC,
// omitted when zero, except expiresAt (epoch seconds, the TTL attribute).
type item struct {
	TransactionID string            `dynamodbav:"transactionId"` // partition key
	UserID        string            `dynamodbav:"userId"`
	Kind          string            `dynamodbav:"kind"`
	Fingerprint   string            `dynamodbav:"fingerprint"` // SHA-256 of the canonical message
	Version       int64             `dynamodbav:"version"`     // every write is conditional on it
	Status        string            `dynamodbav:"status"`      // running | waiting | succeeded | failed
	Step          int               `dynamodbav:"step"`        // current step number
	StepName      string            `dynamodbav:"stepName,omitempty"`
	PollSeq       int64             `dynamodbav:"pollSeq"`
	Deadline      string            `dynamodbav:"deadline,omitempty"`
	Pending       *pendingItem      `dynamodbav:"pending,omitempty"`
	ParkedAt      string            `dynamodbav:"parkedAt,omitempty"`
	ParkTicket    int64             `dynamodbav:"parkTicket,omitempty"`
	DocumentID    string            `dynamodbav:"documentId,omitempty"`
	RequestIDs    map[string]string `dynamodbav:"requestIds,omitempty"` // step number -> ESS request ID (also in steps)
	Plan          *planItem         `dynamodbav:"plan,omitempty"`
	Steps         []stepItem        `dynamodbav:"steps,omitempty"`
	Error         string            `dynamodbav:"error,omitempty"`
	Invalid       bool              `dynamodbav:"invalid,omitempty"`
	Notified      bool              `dynamodbav:"notified,omitempty"`
	Rejections    []rejectionItem   `dynamodbav:"rejections,omitempty"`
	CreatedAt     string            `dynamodbav:"createdAt,omitempty"`
	UpdatedAt     string            `dynamodbav:"updatedAt,omitempty"`
	EndedAt       string            `dynamodbav:"endedAt,omitempty"`
	ExpiresAt     int64             `dynamodbav:"expiresAt,omitempty"`
	DueShard      string            `dynamodbav:"dueShard,omitempty"` // index "due": set only while DueAt is
	DueAt         string            `dynamodbav:"dueAt,omitempty"`    // index "due" sort key, in dueFormat
}

type pendingItem struct {
	Op         string `dynamodbav:"op"`
	Step       int    `dynamodbav:"step"`
	Since      string `dynamodbav:"since"`
	LeaseUntil string `dynamodbav:"leaseUntil"`
}

type planItem struct {
	Account  string            `dynamodbav:"account,omitempty"`
	FileName string            `dynamodbav:"fileName,omitempty"`
	Jobs     []jobItem         `dynamodbav:"jobs,omitempty"`
	Vars     map[string]string `dynamodbav:"vars,omitempty"`
}

type jobItem struct {
	Step       int    `dynamodbav:"step"`
	Package    string `dynamodbav:"package"`
	Definition string `dynamodbav:"definition"`
	Params     string `dynamodbav:"params"`
}

type stepItem struct {
	Number     int    `dynamodbav:"number"`
	Name       string `dynamodbav:"name"`
	Status     string `dynamodbav:"status"`
	Message    string `dynamodbav:"message,omitempty"`
	RequestID  string `dynamodbav:"requestId,omitempty"`
	DocumentID string `dynamodbav:"documentId,omitempty"`
	StartedAt  string `dynamodbav:"startedAt,omitempty"`
	EndedAt    string `dynamodbav:"endedAt,omitempty"`
	Attempts   int    `dynamodbav:"attempts,omitempty"`
	LastError  string `dynamodbav:"lastError,omitempty"`
	RefusedAt  string `dynamodbav:"refusedAt,omitempty"`
	NextTryAt  string `dynamodbav:"nextTryAt,omitempty"`
}

type rejectionItem struct {
	At          string `dynamodbav:"at"`
	MessageID   string `dynamodbav:"messageId,omitempty"`
	Fingerprint string `dynamodbav:"fingerprint,omitempty"`
	Reason      string `dynamodbav:"reason"`
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeFormat, s)
	return t.UTC(), err
}

func toItem(s *State) item {
	it := item{TransactionID: s.TransactionID, UserID: s.UserID, Kind: string(s.Kind), Fingerprint: s.Fingerprint,
		Version: s.Version, Status: string(s.Status), Step: s.Step, StepName: stepName(s.Kind, s.Step),
		PollSeq: s.PollSeq, Deadline: formatTime(s.Deadline), ParkedAt: formatTime(s.ParkedAt), ParkTicket: s.ParkTicket, DocumentID: s.DocumentID, Error: s.Error,
		Invalid: s.Invalid, Notified: s.Notified, CreatedAt: formatTime(s.CreatedAt),
		UpdatedAt: formatTime(s.UpdatedAt), EndedAt: formatTime(s.EndedAt)}
	if !s.ExpiresAt.IsZero() {
		it.ExpiresAt = s.ExpiresAt.Unix()
	}
	if !s.DueAt.IsZero() {
		it.DueShard, it.DueAt = dueShard, s.DueAt.UTC().Format(dueFormat)
	}
	if p := s.Pending; p != nil {
		it.Pending = &pendingItem{Op: p.Op, Step: p.Step, Since: formatTime(p.Since), LeaseUntil: formatTime(p.LeaseUntil)}
	}
	if s.Plan.Account != "" || len(s.Plan.Jobs) > 0 {
		pl := &planItem{Account: s.Plan.Account, FileName: s.Plan.FileName, Vars: s.Plan.Vars}
		for _, j := range s.Plan.Jobs {
			pl.Jobs = append(pl.Jobs, jobItem{Step: j.Step, Package: j.Job.Package, Definition: j.Job.Definition,
				Params: j.Job.Params})
		}
		it.Plan = pl
	}
	for _, st := range s.Steps {
		it.Steps = append(it.Steps, stepItem{Number: st.Number, Name: st.Name, Status: st.Status,
			Message: st.Message, RequestID: st.RequestID, DocumentID: st.DocumentID,
			StartedAt: formatTime(st.StartedAt), EndedAt: formatTime(st.EndedAt), Attempts: st.Attempts,
			LastError: st.LastError, RefusedAt: formatTime(st.RefusedAt), NextTryAt: formatTime(st.NextTryAt)})
		if st.RequestID != "" {
			if it.RequestIDs == nil {
				it.RequestIDs = make(map[string]string)
			}
			it.RequestIDs[strconv.Itoa(st.Number)] = st.RequestID
		}
	}
	for _, r := range s.Rejections {
		it.Rejections = append(it.Rejections, rejectionItem{At: formatTime(r.At), MessageID: r.MessageID,
			Fingerprint: r.Fingerprint, Reason: r.Reason})
	}
	return it
}

func (it item) state() (*State, error) {
	s := &State{TransactionID: it.TransactionID, UserID: it.UserID, Kind: Kind(it.Kind), Fingerprint: it.Fingerprint,
		Version: it.Version, Status: Status(it.Status), Step: it.Step, PollSeq: it.PollSeq, ParkTicket: it.ParkTicket,
		DocumentID: it.DocumentID, Error: it.Error, Invalid: it.Invalid, Notified: it.Notified}
	if it.ExpiresAt != 0 {
		s.ExpiresAt = time.Unix(it.ExpiresAt, 0).UTC()
	}
	var errs []error
	pt := func(field, v string) time.Time {
		t, err := parseTime(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
		return t
	}
	s.Deadline = pt("deadline", it.Deadline)
	s.ParkedAt = pt("parkedAt", it.ParkedAt)
	s.CreatedAt = pt("createdAt", it.CreatedAt)
	s.UpdatedAt = pt("updatedAt", it.UpdatedAt)
	s.EndedAt = pt("endedAt", it.EndedAt)
	if it.DueAt != "" {
		due, err := time.Parse(dueFormat, it.DueAt)
		if err != nil {
			errs = append(errs, fmt.Errorf("dueAt: %w", err))
		}
		s.DueAt = due.UTC()
	}
	if p := it.Pending; p != nil {
		s.Pending = &Pending{Op: p.Op, Step: p.Step, Since: pt("pending.since", p.Since),
			LeaseUntil: pt("pending.leaseUntil", p.LeaseUntil)}
	}
	if pl := it.Plan; pl != nil {
		s.Plan = Plan{Account: pl.Account, FileName: pl.FileName, Vars: pl.Vars}
		for _, j := range pl.Jobs {
			s.Plan.Jobs = append(s.Plan.Jobs, PlannedJob{Step: j.Step,
				Job: JobSpec{Package: j.Package, Definition: j.Definition, Params: j.Params}})
		}
	}
	for _, st := range it.Steps {
		s.Steps = append(s.Steps, StepLog{Number: st.Number, Name: st.Name, Status: st.Status, Message: st.Message,
			RequestID: st.RequestID, DocumentID: st.DocumentID, StartedAt: pt("steps.startedAt", st.StartedAt),
			EndedAt: pt("steps.endedAt", st.EndedAt), Attempts: st.Attempts, LastError: st.LastError,
			RefusedAt: pt("steps.refusedAt", st.RefusedAt), NextTryAt: pt("steps.nextTryAt", st.NextTryAt)})
	}
	for _, r := range it.Rejections {
		s.Rejections = append(s.Rejections, Rejection{At: pt("rejections.at", r.At), MessageID: r.MessageID,
			Fingerprint: r.Fingerprint, Reason: r.Reason})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("decode %s: %w", it.TransactionID, err)
	}
	return s, nil
}

// DynamoStore is a Store backed by the DynamoDB table that template.yaml
// declares as WorkflowsTable (its tests run on that definition): one item per workflow. Create and Update are each one
// conditional PutItem (the whole item is rewritten: it is small, and a
// rewrite conditional on the version is the simplest correct update); Get is
// one strongly consistent GetItem. It never scans. Safe for concurrent use.
type DynamoStore struct {
	client dynamoAPI
	table  string
	now    func() time.Time
}

// NewDynamoStore returns a store that keeps workflows in table through
// client (usually a *dynamodb.Client). now is the clock that decides expiry;
// nil means time.Now.
func NewDynamoStore(client dynamoAPI, table string, now func() time.Time) *DynamoStore {
	if now == nil {
		now = time.Now
	}
	return &DynamoStore{client: client, table: table, now: now}
}

// Create implements Store with a PutItem conditional on the item being
// absent or expired.
func (d *DynamoStore) Create(ctx context.Context, s *State) error {
	cond := expression.AttributeNotExists(expression.Name(attrID)).
		Or(expression.Name(attrExpiresAt).LessThanEqual(expression.Value(d.now().Unix())))
	err := d.put(ctx, s, 1, cond)
	if isConditionFailed(err) {
		return fmt.Errorf("workflow: create %s: %w", s.TransactionID, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("workflow: create %s: %w", s.TransactionID, err)
	}
	s.Version = 1
	return nil
}

// Update implements Store with a PutItem conditional on the version.
func (d *DynamoStore) Update(ctx context.Context, s *State) error {
	cond := expression.Name(attrVersion).Equal(expression.Value(s.Version))
	err := d.put(ctx, s, s.Version+1, cond)
	if isConditionFailed(err) {
		return fmt.Errorf("workflow: update %s version %d: %w", s.TransactionID, s.Version, ErrVersion)
	}
	if err != nil {
		return fmt.Errorf("workflow: update %s: %w", s.TransactionID, err)
	}
	s.Version++
	return nil
}

// put writes s with the given version if cond holds.
func (d *DynamoStore) put(ctx context.Context, s *State, version int64, cond expression.ConditionBuilder) error {
	it := toItem(s)
	it.Version = version
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return err
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = d.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(d.table),
		Item:                      av,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	return err
}

// Get implements Store with one strongly consistent GetItem.
func (d *DynamoStore) Get(ctx context.Context, transactionID string) (*State, error) {
	if transactionID == "" {
		return nil, fmt.Errorf("workflow: get %q: %w", transactionID, ErrNotFound)
	}
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(d.table),
		Key:            map[string]types.AttributeValue{attrID: &types.AttributeValueMemberS{Value: transactionID}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: get %s: %w", transactionID, err)
	}
	if len(out.Item) == 0 {
		return nil, fmt.Errorf("workflow: get %s: %w", transactionID, ErrNotFound)
	}
	var it item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("workflow: get %s: %w", transactionID, err)
	}
	if it.ExpiresAt != 0 && d.now().Unix() >= it.ExpiresAt {
		return nil, fmt.Errorf("workflow: get %s: %w", transactionID, ErrNotFound)
	}
	s, err := it.state()
	if err != nil {
		return nil, fmt.Errorf("workflow: get %s: %w", transactionID, err)
	}
	return s, nil
}

// Due implements Store with Query on the sparse index "due" (keys only,
// eventually consistent): dueShard = "due" and dueAt <= now, in order.
func (d *DynamoStore) Due(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	key := expression.Key(attrDueShard).Equal(expression.Value(dueShard)).
		And(expression.Key(attrDueAt).LessThanEqual(expression.Value(now.UTC().Format(dueFormat))))
	expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return nil, fmt.Errorf("workflow: due: %w", err)
	}
	out, err := d.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(d.table),
		IndexName:                 aws.String(dueIndex),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		Limit:                     aws.Int32(int32(min(limit, 1000))),
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: due: %w", err)
	}
	ids := make([]string, 0, len(out.Items))
	for _, av := range out.Items {
		if v, ok := av[attrID].(*types.AttributeValueMemberS); ok {
			ids = append(ids, v.Value)
		}
	}
	return ids, nil
}

func isConditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}
