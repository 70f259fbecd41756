package stream_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// fakeARN is the stream ARN of every fakeStream.
const fakeARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/fake/stream/2026-03-01T00:00:00.000"

// fakeStream is an in-memory DynamoDB stream with the shard life cycle
// moto_server lacks (shards that close, child shards), for the tests of
// what moto cannot show. It describes one shard per page, so that Consume
// has to follow the pages.
type fakeStream struct {
	mu     sync.Mutex
	shards []*fakeShard
	seq    int
	log    []string // the calls, as "GetShardIterator shard TYPE" and "GetRecords shard n [end]"
	// getRecordsErr, if set, may fail a GetRecords call on shard at
	// position pos (an index into its records). It is called with mu held.
	getRecordsErr func(shard string, pos int) error
}

type fakeShard struct {
	id, parent string
	records    []types.Record
	closed     bool
	hidden     bool // not described yet
	trimmed    int  // records before this index are past the retention period
}

// addShard adds an open shard; hidden ones are not described until shown.
func (f *fakeStream) addShard(id, parent string, hidden bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shards = append(f.shards, &fakeShard{id: id, parent: parent, hidden: hidden})
}

// show makes a hidden shard visible to DescribeStream.
func (f *fakeStream) show(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shard(id).hidden = false
}

// close closes a shard: once its records are read, it is finished.
func (f *fakeStream) close(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shard(id).closed = true
}

// put appends INSERT records with the given ids to a shard, created at.
func (f *fakeStream) put(shard string, created time.Time, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shard(shard)
	for _, id := range ids {
		f.seq++
		key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}
		s.records = append(s.records, types.Record{
			EventID: aws.String(fmt.Sprintf("event-%d", f.seq)), EventName: types.OperationTypeInsert,
			EventSource: aws.String("aws:dynamodb"), EventVersion: aws.String("1.1"), AwsRegion: aws.String("eu-west-1"),
			Dynamodb: &types.StreamRecord{
				ApproximateCreationDateTime: aws.Time(created), Keys: key, NewImage: key,
				SequenceNumber: aws.String(fmt.Sprintf("%021d", f.seq)), SizeBytes: aws.Int64(20),
				StreamViewType: types.StreamViewTypeNewImage,
			},
		})
	}
}

// calls returns the calls made so far.
func (f *fakeStream) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fakeStream) shard(id string) *fakeShard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (f *fakeStream) DescribeStream(_ context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if aws.ToString(in.StreamArn) != fakeARN {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
	}
	var visible []*fakeShard
	for _, s := range f.shards {
		if !s.hidden {
			visible = append(visible, s)
		}
	}
	start := 0
	if in.ExclusiveStartShardId != nil {
		for i, s := range visible {
			if s.id == *in.ExclusiveStartShardId {
				start = i + 1
			}
		}
	}
	desc := &types.StreamDescription{StreamArn: aws.String(fakeARN), StreamStatus: types.StreamStatusEnabled}
	if start < len(visible) {
		s := visible[start]
		sh := types.Shard{ShardId: aws.String(s.id), SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("0")}}
		if s.parent != "" {
			sh.ParentShardId = aws.String(s.parent)
		}
		if s.closed {
			sh.SequenceNumberRange.EndingSequenceNumber = aws.String(strconv.Itoa(f.seq))
		}
		desc.Shards = []types.Shard{sh}
		if start+1 < len(visible) {
			desc.LastEvaluatedShardId = aws.String(s.id)
		}
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: desc}, nil
}

func (f *fakeStream) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.ShardId)
	f.log = append(f.log, "GetShardIterator "+id+" "+string(in.ShardIteratorType))
	s := f.shard(id)
	if s == nil {
		return nil, &types.ResourceNotFoundException{Message: aws.String("no shard " + id)}
	}
	pos := 0
	switch in.ShardIteratorType {
	case types.ShardIteratorTypeTrimHorizon:
		pos = s.trimmed
	case types.ShardIteratorTypeLatest:
		pos = len(s.records)
	case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
		pos = -1
		for i, r := range s.records {
			if aws.ToString(r.Dynamodb.SequenceNumber) == aws.ToString(in.SequenceNumber) {
				pos = i
			}
		}
		if pos < 0 {
			return nil, fmt.Errorf("fake: no record %s in %s", aws.ToString(in.SequenceNumber), id)
		}
		if pos < s.trimmed {
			return nil, &types.TrimmedDataAccessException{Message: aws.String("record " + aws.ToString(in.SequenceNumber) + " is trimmed")}
		}
		if in.ShardIteratorType == types.ShardIteratorTypeAfterSequenceNumber {
			pos++
		}
	default:
		return nil, fmt.Errorf("fake: iterator type %q", in.ShardIteratorType)
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s|%d", id, pos))}, nil
}

func (f *fakeStream) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, p, _ := strings.Cut(aws.ToString(in.ShardIterator), "|")
	pos, err := strconv.Atoi(p)
	s := f.shard(id)
	if err != nil || s == nil {
		return nil, &types.ExpiredIteratorException{Message: aws.String("bad iterator")}
	}
	if f.getRecordsErr != nil {
		if err := f.getRecordsErr(id, pos); err != nil {
			f.log = append(f.log, "GetRecords "+id+" error")
			return nil, err
		}
	}
	end := min(pos+int(aws.ToInt32(in.Limit)), len(s.records))
	out := &dynamodbstreams.GetRecordsOutput{Records: append([]types.Record(nil), s.records[pos:end]...)}
	entry := fmt.Sprintf("GetRecords %s %d", id, end-pos)
	if s.closed && end == len(s.records) {
		entry += " end"
	} else {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s|%d", id, end))
	}
	f.log = append(f.log, entry)
	return out, nil
}
