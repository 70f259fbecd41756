package stream

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

const testARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/fbdi-notify-Connections/stream/2026-03-01T00:00:00.000"

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// allTypesRecord is the stream record of testdata/all-types-record.golden.json,
// as the DynamoDB Streams API client returns it.
func allTypesRecord() types.Record {
	key := map[string]types.AttributeValue{"connectionId": s("Xyz1AbCdIAMCJ0g=")}
	return types.Record{
		AwsRegion: aws.String("us-east-1"), EventID: aws.String("7de3041dd709b024af6f29e4fa13d34c"),
		EventName: types.OperationTypeModify, EventSource: aws.String("aws:dynamodb"), EventVersion: aws.String("1.1"),
		UserIdentity: &types.Identity{Type: aws.String("Service"), PrincipalId: aws.String("dynamodb.amazonaws.com")},
		Dynamodb: &types.StreamRecord{
			ApproximateCreationDateTime: aws.Time(time.Unix(1772366400, 0)),
			Keys:                        key,
			NewImage: map[string]types.AttributeValue{
				"connectionId": s("Xyz1AbCdIAMCJ0g="),
				"expiresAt":    n("1772374500"),
				"avatar":       &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
				"live":         &types.AttributeValueMemberBOOL{Value: true},
				"note":         &types.AttributeValueMemberNULL{Value: true},
				"steps":        &types.AttributeValueMemberL{Value: []types.AttributeValue{s("upload"), n("2"), &types.AttributeValueMemberL{}}},
				"meta": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
					"source": s("oracle"),
					"nested": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"ok": &types.AttributeValueMemberBOOL{}}},
					"empty":  &types.AttributeValueMemberM{},
				}},
				"tags":   &types.AttributeValueMemberSS{Value: []string{"budget", "journal"}},
				"scores": &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
				"blobs":  &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
			},
			OldImage:       map[string]types.AttributeValue{"connectionId": s("Xyz1AbCdIAMCJ0g="), "expiresAt": n("1772370000")},
			SequenceNumber: aws.String("100000000000000000001"),
			SizeBytes:      aws.Int64(412),
			StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	}
}

// TestRecordGolden pins the JSON of a converted record, every attribute
// type included, to the record Lambda delivers.
func TestRecordGolden(t *testing.T) {
	c := &consumer{arn: testARN, opts: Options{Region: "eu-west-1"}}
	ev, err := c.record(allTypesRecord())
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	got, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/all-types-record.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, got, want) {
		t.Errorf("record JSON\n%s\nwant\n%s", got, want)
	}
	// The handler reads it back as Lambda's runtime would.
	var back events.DynamoDBEventRecord
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("the record does not decode as a DynamoDBEventRecord: %v", err)
	}
	if v := back.Change.NewImage["meta"].Map()["nested"].Map()["ok"]; v.DataType() != events.DataTypeBoolean || v.Boolean() {
		t.Errorf("meta.nested.ok = %v, want BOOL false", v)
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

func TestRecordFields(t *testing.T) {
	tests := []struct {
		name       string
		region     string // Options.Region
		record     func(*types.Record)
		wantRegion string
		check      func(t *testing.T, ev events.DynamoDBEventRecord)
	}{
		{name: "region of the options", region: "eu-west-1", record: func(*types.Record) {}, wantRegion: "eu-west-1"},
		{name: "region of the record without one in the options", record: func(*types.Record) {}, wantRegion: "us-east-1"},
		{name: "no old image stays absent", region: "eu-west-1", record: func(r *types.Record) { r.Dynamodb.OldImage = nil }, wantRegion: "eu-west-1",
			check: func(t *testing.T, ev events.DynamoDBEventRecord) {
				b, _ := json.Marshal(ev)
				if strings.Contains(string(b), "OldImage") {
					t.Errorf("OldImage in %s", b)
				}
			}},
		{name: "record without stream data", region: "eu-west-1", record: func(r *types.Record) { r.Dynamodb = nil }, wantRegion: "eu-west-1",
			check: func(t *testing.T, ev events.DynamoDBEventRecord) {
				if ev.EventID == "" || ev.Change.SequenceNumber != "" {
					t.Errorf("record %+v", ev)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := allTypesRecord()
			tt.record(&r)
			c := &consumer{arn: testARN, opts: Options{Region: tt.region}}
			ev, err := c.record(r)
			if err != nil {
				t.Fatalf("record: %v", err)
			}
			if ev.AWSRegion != tt.wantRegion || ev.EventSource != "aws:dynamodb" || ev.EventSourceArn != testARN {
				t.Errorf("region %q source %q arn %q, want %q aws:dynamodb %q", ev.AWSRegion, ev.EventSource, ev.EventSourceArn, tt.wantRegion, testARN)
			}
			if tt.check != nil {
				tt.check(t, ev)
			}
		})
	}
}

// TestRecordUnknownAttributeType: a value of a type the SDK does not know
// is left out and named; everything else is converted.
func TestRecordUnknownAttributeType(t *testing.T) {
	r := allTypesRecord()
	unknown := &types.UnknownUnionMember{Tag: "VECTOR", Value: []byte(`[1,2]`)}
	r.Dynamodb.NewImage["embedding"] = unknown
	r.Dynamodb.NewImage["steps"].(*types.AttributeValueMemberL).Value = append(r.Dynamodb.NewImage["steps"].(*types.AttributeValueMemberL).Value, unknown)
	c := &consumer{arn: testARN}
	ev, err := c.record(r)
	if err == nil {
		t.Fatal("no error for values of an unknown type")
	}
	for _, want := range []string{"NewImage.embedding", "NewImage.steps[3]", "VECTOR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, ok := ev.Change.NewImage["embedding"]; ok {
		t.Error("the unknown value is in the image")
	}
	if got := len(ev.Change.NewImage["steps"].List()); got != 3 {
		t.Errorf("steps has %d values, want the 3 known ones", got)
	}
	if got := ev.Change.NewImage["connectionId"].String(); got != "Xyz1AbCdIAMCJ0g=" {
		t.Errorf("connectionId %q", got)
	}
}
