package stream

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// eventSource is the EventSource of every record Lambda delivers from a
// DynamoDB stream.
const eventSource = "aws:dynamodb"

// record converts a stream record into the record Lambda delivers. The
// error lists the attributes of a type this package does not know, which
// are left out; the rest of the record is complete.
func (c *consumer) record(r types.Record) (events.DynamoDBEventRecord, error) {
	ev := events.DynamoDBEventRecord{
		AWSRegion:      c.opts.Region,
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    eventSource,
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: c.arn,
	}
	if ev.AWSRegion == "" {
		ev.AWSRegion = aws.ToString(r.AwsRegion)
	}
	if r.UserIdentity != nil {
		ev.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId)}
	}
	d := r.Dynamodb
	if d == nil {
		return ev, nil
	}
	ev.Change = events.DynamoDBStreamRecord{
		SequenceNumber: aws.ToString(d.SequenceNumber),
		SizeBytes:      aws.ToInt64(d.SizeBytes),
		StreamViewType: string(d.StreamViewType),
	}
	if d.ApproximateCreationDateTime != nil {
		ev.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
	}
	var errs []error
	var err error
	ev.Change.Keys, err = image("Keys", d.Keys)
	errs = append(errs, err)
	ev.Change.NewImage, err = image("NewImage", d.NewImage)
	errs = append(errs, err)
	ev.Change.OldImage, err = image("OldImage", d.OldImage)
	errs = append(errs, err)
	return ev, errors.Join(errs...)
}

// sequenceNumber returns the sequence number of r, "" if it has none.
func sequenceNumber(r types.Record) string {
	if r.Dynamodb == nil {
		return ""
	}
	return aws.ToString(r.Dynamodb.SequenceNumber)
}

// image converts an item (Keys, NewImage or OldImage); nil stays nil, so
// the member is left out of the event's JSON as Lambda leaves it out. The
// attributes that cannot be converted are left out and named in the error.
func image(name string, m map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	return attributeMap(name, m)
}

// attributeMap converts the members of an M value (or an image).
func attributeMap(path string, m map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	var errs []error
	for k, v := range m {
		av, err := attributeValue(path+"."+k, v)
		if err != nil {
			errs = append(errs, err)
			if av == nil {
				continue
			}
		}
		out[k] = *av
	}
	return out, errors.Join(errs...)
}

// attributeValue converts one attribute value of the DynamoDB Streams API
// into the type of Lambda's event, whatever its type (S, N, B, BOOL, NULL,
// L, M, SS, NS, BS). It returns nil and an error naming path for a value
// of an unknown type; inside an L or M such a value is left out and the
// error names it, the rest being converted.
func attributeValue(path string, v types.AttributeValue) (*events.DynamoDBAttributeValue, error) {
	var av events.DynamoDBAttributeValue
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		av = events.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		av = events.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberB:
		av = events.NewBinaryAttribute(nonNil(v.Value))
	case *types.AttributeValueMemberBOOL:
		av = events.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberNULL:
		av = events.NewNullAttribute()
	case *types.AttributeValueMemberSS:
		av = events.NewStringSetAttribute(nonNil(v.Value))
	case *types.AttributeValueMemberNS:
		av = events.NewNumberSetAttribute(nonNil(v.Value))
	case *types.AttributeValueMemberBS:
		av = events.NewBinarySetAttribute(nonNil(v.Value))
	case *types.AttributeValueMemberL:
		list := make([]events.DynamoDBAttributeValue, 0, len(v.Value))
		var errs []error
		for i, e := range v.Value {
			ev, err := attributeValue(fmt.Sprintf("%s[%d]", path, i), e)
			if err != nil {
				errs = append(errs, err)
				if ev == nil {
					continue
				}
			}
			list = append(list, *ev)
		}
		av = events.NewListAttribute(list)
		return &av, errors.Join(errs...)
	case *types.AttributeValueMemberM:
		m, err := attributeMap(path, v.Value)
		av = events.NewMapAttribute(m)
		return &av, err
	case *types.UnknownUnionMember:
		return nil, fmt.Errorf("attribute %s: unknown type %s", path, v.Tag)
	default:
		return nil, fmt.Errorf("attribute %s: unknown type %s", path, strings.TrimPrefix(fmt.Sprintf("%T", v), "*types."))
	}
	return &av, nil
}

// nonNil returns s, or an empty slice when s is nil, so that the event's
// JSON has [] (or "") where the API had an empty value, never null.
func nonNil[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}
