package mail

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/finance/fbdi-notify/internal/history"
)

// Row is what the ledger keeps of one user's e-mail.
type Row struct {
	// Cursor is the history position up to which the user's notifications
	// have been considered for e-mail (sent, or skipped as read or muted).
	Cursor history.Position
	// DueAt is when the pending mail message is due; zero when none is.
	DueAt time.Time
	// Stored counts the notifications Arm was called for; Done compares it
	// to learn whether one came while the message was being handled.
	Stored int64
}

// Ledger keeps each user's Row. Implementations are safe for concurrent use.
type Ledger interface {
	// Arm counts a stored notification and sets DueAt to due unless a
	// message is pending (DueAt set and not before stale, the oldest a
	// pending message can be). It says whether it set DueAt: the caller
	// then sends the message.
	Arm(ctx context.Context, userID string, due, stale time.Time) (bool, error)
	// Disarm clears DueAt if it is still due (Arm set it and the message
	// could not be sent), so that the next notification arms again.
	Disarm(ctx context.Context, userID string, due time.Time) error
	// Get returns the user's row (zero when the user has none).
	Get(ctx context.Context, userID string) (Row, error)
	// Done sets Cursor and, if Stored is still stored (no notification came
	// since the caller's Get), clears DueAt. It says whether it cleared it:
	// if not, the caller sends another message.
	Done(ctx context.Context, userID string, cursor history.Position, stored int64) (bool, error)
}

// The ledger's row is one item of the notifications table (the history's,
// template.yaml NotificationsTable) under the user's partition key, with
// sort key rowKey: it sorts between the history's "i#..." markers and its
// "p..." items, and no history or preference read (a key range of "p"
// keys, or "seq", "prefs" and "i#..." by key) meets it. It has neither
// expiresAt nor unreadPos.
const (
	rowKey     = "mail"
	attrUserID = "userId"
	attrKey    = "id"
	attrCursor = "mailCursor"
	attrDueAt  = "dueAt"
	attrStored = "stored"
)

// dynamoAPI is the part of *dynamodb.Client that DynamoLedger uses.
type dynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var (
	_ Ledger    = (*DynamoLedger)(nil)
	_ Ledger    = (*MemoryLedger)(nil)
	_ dynamoAPI = (*dynamodb.Client)(nil)
)

// DynamoLedger is a Ledger in a row of the notifications table. DynamoDB
// calls: Arm one UpdateItem (two when it replaces a stale DueAt), Get one
// strongly consistent GetItem, Done one UpdateItem (two when a
// notification came meanwhile).
type DynamoLedger struct {
	client dynamoAPI
	table  string
}

// NewDynamoLedger returns a ledger in table (the notifications table)
// through client (usually a *dynamodb.Client).
func NewDynamoLedger(client dynamoAPI, table string) *DynamoLedger {
	return &DynamoLedger{client: client, table: table}
}

func (l *DynamoLedger) key(userID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrUserID: &types.AttributeValueMemberS{Value: userID},
		attrKey:    &types.AttributeValueMemberS{Value: rowKey},
	}
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// Arm sets dueAt only where it is missing, in the same UpdateItem that
// counts the notification, and reads the old row to tell whether it did.
func (l *DynamoLedger) Arm(ctx context.Context, userID string, due, stale time.Time) (bool, error) {
	out, err := l.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: l.key(userID),
		UpdateExpression:          aws.String("SET #d = if_not_exists(#d, :due) ADD #s :one"),
		ExpressionAttributeNames:  map[string]string{"#d": attrDueAt, "#s": attrStored},
		ExpressionAttributeValues: map[string]types.AttributeValue{":due": number(due.Unix()), ":one": number(1)},
		ReturnValues:              types.ReturnValueAllOld,
	})
	if err != nil {
		return false, fmt.Errorf("mail: arm for %.64q: %w", userID, err)
	}
	old, ok := int64Attr(out.Attributes, attrDueAt)
	if !ok {
		return true, nil
	}
	if old >= stale.Unix() {
		return false, nil
	}
	// The pending message was lost (its DueAt is older than any message
	// can be): take its place, unless another notification did first.
	_, err = l.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: l.key(userID),
		UpdateExpression:          aws.String("SET #d = :due"),
		ConditionExpression:       aws.String("#d = :old"),
		ExpressionAttributeNames:  map[string]string{"#d": attrDueAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":due": number(due.Unix()), ":old": number(old)},
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mail: re-arm for %.64q: %w", userID, err)
	}
	return true, nil
}

// Disarm removes dueAt on the condition that it is due.
func (l *DynamoLedger) Disarm(ctx context.Context, userID string, due time.Time) error {
	_, err := l.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: l.key(userID),
		UpdateExpression:          aws.String("REMOVE #d"),
		ConditionExpression:       aws.String("#d = :due"),
		ExpressionAttributeNames:  map[string]string{"#d": attrDueAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":due": number(due.Unix())},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("mail: disarm for %.64q: %w", userID, err)
	}
	return nil
}

// Get reads the row.
func (l *DynamoLedger) Get(ctx context.Context, userID string) (Row, error) {
	out, err := l.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.table), Key: l.key(userID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Row{}, fmt.Errorf("mail: get for %.64q: %w", userID, err)
	}
	var r Row
	if c, ok := int64Attr(out.Item, attrCursor); ok {
		r.Cursor = history.Position(c)
	}
	if d, ok := int64Attr(out.Item, attrDueAt); ok {
		r.DueAt = time.Unix(d, 0).UTC()
	}
	r.Stored, _ = int64Attr(out.Item, attrStored)
	return r, nil
}

// Done clears dueAt on the condition that stored is unchanged; else it
// sets only the cursor.
func (l *DynamoLedger) Done(ctx context.Context, userID string, cursor history.Position, stored int64) (bool, error) {
	cond := "#s = :s"
	values := map[string]types.AttributeValue{":c": number(int64(cursor)), ":s": number(stored)}
	if stored == 0 {
		cond = "attribute_not_exists(#s)"
		delete(values, ":s")
	}
	_, err := l.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: l.key(userID),
		UpdateExpression:          aws.String("SET #c = :c REMOVE #d"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#c": attrCursor, "#d": attrDueAt, "#s": attrStored},
		ExpressionAttributeValues: values,
	})
	if err == nil {
		return true, nil
	}
	if !conditionFailed(err) {
		return false, fmt.Errorf("mail: done for %.64q: %w", userID, err)
	}
	_, err = l.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: l.key(userID),
		UpdateExpression:          aws.String("SET #c = :c"),
		ExpressionAttributeNames:  map[string]string{"#c": attrCursor},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": number(int64(cursor))},
	})
	if err != nil {
		return false, fmt.Errorf("mail: done for %.64q: %w", userID, err)
	}
	return false, nil
}

func int64Attr(item map[string]types.AttributeValue, name string) (int64, bool) {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	return v, err == nil
}

func conditionFailed(err error) bool {
	var failed *types.ConditionalCheckFailedException
	return errors.As(err, &failed)
}

// MemoryLedger is a Ledger in memory, for the local stack and tests. The
// zero value is not usable; call NewMemoryLedger.
type MemoryLedger struct {
	mu   sync.Mutex
	rows map[string]Row
}

// NewMemoryLedger returns an empty MemoryLedger.
func NewMemoryLedger() *MemoryLedger { return &MemoryLedger{rows: map[string]Row{}} }

// Arm counts the notification and sets DueAt unless one is pending.
func (l *MemoryLedger) Arm(_ context.Context, userID string, due, stale time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rows[userID]
	r.Stored++
	armed := r.DueAt.IsZero() || r.DueAt.Before(stale)
	if armed {
		r.DueAt = due.Truncate(time.Second).UTC()
	}
	l.rows[userID] = r
	return armed, nil
}

// Disarm clears DueAt if it is due.
func (l *MemoryLedger) Disarm(_ context.Context, userID string, due time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.rows[userID]; ok && r.DueAt.Equal(due.Truncate(time.Second).UTC()) {
		r.DueAt = time.Time{}
		l.rows[userID] = r
	}
	return nil
}

// Get returns the user's row.
func (l *MemoryLedger) Get(_ context.Context, userID string) (Row, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rows[userID], nil
}

// Done sets the cursor and clears DueAt if stored is unchanged.
func (l *MemoryLedger) Done(_ context.Context, userID string, cursor history.Position, stored int64) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rows[userID]
	r.Cursor = cursor
	cleared := r.Stored == stored
	if cleared {
		r.DueAt = time.Time{}
	}
	l.rows[userID] = r
	return cleared, nil
}
