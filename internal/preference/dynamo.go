package preference

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The user's preferences are one row of the notifications table (the
// history's, template.yaml NotificationsTable), under the user's partition
// key with sort key rowKey. It sorts after every history item key
// ("p" and 20 digits) and apart from "seq" and "i#...", so no history read
// meets it; it has no expiresAt (never expires) and no unreadPos (not in the
// unread index). Each channel a user set is an attribute of its own,
// attrChannelPrefix+category+"."+channel, so a partial change is one
// UpdateItem that sets only what it names, with no read first.
const (
	rowKey            = "prefs"
	attrUserID        = "userId"
	attrKey           = "id"
	attrChannelPrefix = "c."
	attrEmail         = "email"
	attrLocale        = "locale"
	attrPhone         = "phone"
	attrBounced       = "bounced"
)

// dynamoAPI is the part of *dynamodb.Client that DynamoStore uses.
type dynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var (
	_ Store     = (*DynamoStore)(nil)
	_ dynamoAPI = (*dynamodb.Client)(nil)
)

// DynamoStore is a Store in a row of the notifications table. It is safe
// for concurrent use. DynamoDB calls: Get one strongly consistent GetItem
// (a change is seen by the next notification); Set and SetProfile one
// UpdateItem returning the row (ALL_NEW).
type DynamoStore struct {
	client dynamoAPI
	table  string
}

// NewDynamoStore returns a store that keeps preferences in table (the
// notifications table) through client (usually a *dynamodb.Client).
func NewDynamoStore(client dynamoAPI, table string) *DynamoStore {
	return &DynamoStore{client: client, table: table}
}

func (s *DynamoStore) key(userID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrUserID: &types.AttributeValueMemberS{Value: userID},
		attrKey:    &types.AttributeValueMemberS{Value: rowKey},
	}
}

// Get reads the user's row; none means no preferences.
func (s *DynamoStore) Get(ctx context.Context, userID string) (Preferences, error) {
	if userID == "" {
		return Preferences{}, fmt.Errorf("preference: get: %w: empty user id", ErrInvalid)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: s.key(userID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Preferences{}, fmt.Errorf("preference: get for %.64q: %w", userID, err)
	}
	return decodeRow(userID, out.Item), nil
}

// Set writes the channels changes name, in one UpdateItem.
func (s *DynamoStore) Set(ctx context.Context, userID string, changes map[string]Change) (Preferences, error) {
	if userID == "" {
		return Preferences{}, fmt.Errorf("preference: set: %w: empty user id", ErrInvalid)
	}
	if err := validChanges(changes); err != nil {
		return Preferences{}, fmt.Errorf("preference: set for %.64q: %w", userID, err)
	}
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	var sets []string
	for _, c := range slices.Sorted(maps.Keys(changes)) {
		ch := changes[c]
		for _, kv := range []struct {
			channel string
			on      *bool
		}{{ChannelInApp, ch.InApp}, {ChannelEmail, ch.Email}} {
			if kv.on == nil {
				continue
			}
			i := strconv.Itoa(len(sets))
			names["#a"+i] = attrChannelPrefix + c + "." + kv.channel
			values[":v"+i] = &types.AttributeValueMemberBOOL{Value: *kv.on}
			sets = append(sets, "#a"+i+" = :v"+i)
		}
	}
	if len(sets) == 0 {
		return s.Get(ctx, userID)
	}
	return s.update(ctx, userID, "set", "SET "+strings.Join(sets, ", "), names, values)
}

// SetProfile replaces the profile's attributes, in one UpdateItem.
func (s *DynamoStore) SetProfile(ctx context.Context, userID string, p Profile) (Preferences, error) {
	if userID == "" {
		return Preferences{}, fmt.Errorf("preference: set profile: %w: empty user id", ErrInvalid)
	}
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	var sets, removes []string
	for _, a := range []struct {
		attr  string
		value types.AttributeValue // nil: remove
	}{
		{attrEmail, stringOrNil(p.Email)},
		{attrLocale, stringOrNil(p.Locale)},
		{attrPhone, stringOrNil(p.Phone)},
		{attrBounced, trueOrNil(p.Bounced)},
	} {
		name := "#a" + strconv.Itoa(len(names))
		names[name] = a.attr
		if a.value == nil {
			removes = append(removes, name)
			continue
		}
		values[":v"+name[2:]] = a.value
		sets = append(sets, name+" = :v"+name[2:])
	}
	var expr []string
	if len(sets) > 0 {
		expr = append(expr, "SET "+strings.Join(sets, ", "))
	}
	if len(removes) > 0 {
		expr = append(expr, "REMOVE "+strings.Join(removes, ", "))
	}
	return s.update(ctx, userID, "set profile", strings.Join(expr, " "), names, values)
}

// MarkBounced sets bounced in one UpdateItem on the condition that the
// row's address is address; a failed condition is not an error.
func (s *DynamoStore) MarkBounced(ctx context.Context, userID, address string) (bool, error) {
	if userID == "" || address == "" {
		return false, fmt.Errorf("preference: mark bounced: %w: empty user id or address", ErrInvalid)
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: s.key(userID),
		UpdateExpression:          aws.String("SET #b = :t"),
		ConditionExpression:       aws.String("#e = :e"),
		ExpressionAttributeNames:  map[string]string{"#b": attrBounced, "#e": attrEmail},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":e": &types.AttributeValueMemberS{Value: address}},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("preference: mark bounced for %.64q: %w", userID, err)
	}
	return true, nil
}

func stringOrNil(s string) types.AttributeValue {
	if s == "" {
		return nil
	}
	return &types.AttributeValueMemberS{Value: s}
}

func trueOrNil(b bool) types.AttributeValue {
	if !b {
		return nil
	}
	return &types.AttributeValueMemberBOOL{Value: true}
}

func (s *DynamoStore) update(ctx context.Context, userID, op, expr string, names map[string]string, values map[string]types.AttributeValue) (Preferences, error) {
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: s.key(userID), UpdateExpression: aws.String(expr),
		ExpressionAttributeNames: names, ReturnValues: types.ReturnValueAllNew,
	}
	if len(values) > 0 {
		in.ExpressionAttributeValues = values
	}
	out, err := s.client.UpdateItem(ctx, in)
	if err != nil {
		return Preferences{}, fmt.Errorf("preference: %s for %.64q: %w", op, userID, err)
	}
	return decodeRow(userID, out.Attributes), nil
}

// decodeRow reads a row's attributes; others (keys, future ones) are ignored.
func decodeRow(userID string, row map[string]types.AttributeValue) Preferences {
	p := Preferences{UserID: userID}
	for name, v := range row {
		switch name {
		case attrEmail:
			if s, ok := v.(*types.AttributeValueMemberS); ok {
				p.Profile.Email = s.Value
			}
		case attrLocale:
			if s, ok := v.(*types.AttributeValueMemberS); ok {
				p.Profile.Locale = s.Value
			}
		case attrPhone:
			if s, ok := v.(*types.AttributeValueMemberS); ok {
				p.Profile.Phone = s.Value
			}
		case attrBounced:
			if b, ok := v.(*types.AttributeValueMemberBOOL); ok {
				p.Profile.Bounced = b.Value
			}
		default:
			rest, ok := strings.CutPrefix(name, attrChannelPrefix)
			b, isBool := v.(*types.AttributeValueMemberBOOL)
			dot := strings.LastIndexByte(rest, '.')
			if !ok || !isBool || dot < 0 {
				continue
			}
			category, channel := rest[:dot], rest[dot+1:]
			if p.Categories == nil {
				p.Categories = map[string]Change{}
			}
			ch := p.Categories[category]
			switch channel {
			case ChannelInApp:
				ch.InApp = boolPtr(b.Value)
			case ChannelEmail:
				ch.Email = boolPtr(b.Value)
			default:
				continue
			}
			p.Categories[category] = ch
		}
	}
	return p
}
