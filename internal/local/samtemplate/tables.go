package samtemplate

import (
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/policies"
)

// Attribute is a key attribute of a table or index.
type Attribute struct {
	Name string // e.g. connectionId
	Type string // S, N or B
}

// Index is a global secondary index.
type Index struct {
	Name             string
	PartitionKey     Attribute
	SortKey          Attribute // zero when the index has none
	Projection       string    // ALL, KEYS_ONLY or INCLUDE
	NonKeyAttributes []string  // INCLUDE: the projected attributes, sorted
}

// TableSpec is an AWS::DynamoDB::Table of the template.
type TableSpec struct {
	LogicalID           string
	PartitionKey        Attribute
	SortKey             Attribute // zero when the table has none
	Indexes             []Index   // global secondary indexes, sorted by name
	TTLAttribute        string    // "" when TTL is off
	StreamView          string    // NEW_IMAGE, ...; "" when the table has no stream
	BillingMode         string    // PAY_PER_REQUEST or PROVISIONED
	PointInTimeRecovery bool
	Encrypted           bool // SSESpecification.SSEEnabled (a KMS key; unset means an AWS owned key)
	Retained            bool // DeletionPolicy and UpdateReplacePolicy are both Retain
}

// Table returns the table with that logical ID, or an error wrapping ErrNotFound.
func (t *Template) Table(logicalID string) (TableSpec, error) {
	s, ok := t.tables[logicalID]
	if !ok {
		return TableSpec{}, fmt.Errorf("stack: table %s: %w", logicalID, ErrNotFound)
	}
	return s, nil
}

// Tables returns every table, sorted by logical ID.
func (t *Template) Tables() []TableSpec {
	out := make([]TableSpec, 0, len(t.tables))
	for _, id := range sortedKeys(t.tables) {
		out = append(out, t.tables[id])
	}
	return out
}

// CreateTableInput returns the CreateTable request that makes this table
// (without TTL, which DynamoDB sets with UpdateTimeToLive) under name.
// Attribute definitions are sorted by name.
func (s TableSpec) CreateTableInput(name string) *dynamodb.CreateTableInput {
	attrs := map[string]string{}
	keys := func(pk, sk Attribute) []types.KeySchemaElement {
		ks := []types.KeySchemaElement{{AttributeName: aws.String(pk.Name), KeyType: types.KeyTypeHash}}
		attrs[pk.Name] = pk.Type
		if sk.Name != "" {
			ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(sk.Name), KeyType: types.KeyTypeRange})
			attrs[sk.Name] = sk.Type
		}
		return ks
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingMode(s.BillingMode),
		KeySchema:   keys(s.PartitionKey, s.SortKey),
	}
	for _, ix := range s.Indexes {
		p := &types.Projection{ProjectionType: types.ProjectionType(ix.Projection)}
		if len(ix.NonKeyAttributes) > 0 {
			p.NonKeyAttributes = append([]string(nil), ix.NonKeyAttributes...)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name), KeySchema: keys(ix.PartitionKey, ix.SortKey), Projection: p,
		})
	}
	for _, n := range sortedKeys(attrs) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(n), AttributeType: types.ScalarAttributeType(attrs[n]),
		})
	}
	if s.StreamView != "" {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true),
			StreamViewType: types.StreamViewType(s.StreamView)}
	}
	return in
}

func (t *Template) readTables() error {
	t.tables = map[string]TableSpec{}
	for id, tb := range t.cfn.GetAllDynamoDBTableResources() {
		s, err := tableSpec(id, tb)
		if err != nil {
			return fmt.Errorf("table %s: %w", id, err)
		}
		t.tables[id] = s
	}
	for id, f := range t.functions {
		for _, e := range f.Events {
			if e.Type != "DynamoDB" {
				continue
			}
			if tb, ok := t.tables[e.Source]; !ok || tb.StreamView == "" {
				return fmt.Errorf("function %s: event %s reads the stream of %s, which is no table with a stream", id, e.Name, e.Source)
			}
		}
	}
	return nil
}

func tableSpec(id string, tb *cfndynamodb.Table) (TableSpec, error) {
	attrTypes := map[string]string{}
	for _, a := range tb.AttributeDefinitions {
		attrTypes[a.AttributeName] = a.AttributeType
	}
	used := map[string]bool{}
	keys := func(what string, ks []cfndynamodb.Table_KeySchema) (pk, sk Attribute, err error) {
		for _, k := range ks {
			typ, ok := attrTypes[k.AttributeName]
			if !ok {
				return pk, sk, fmt.Errorf("%s key %s has no attribute definition", what, k.AttributeName)
			}
			used[k.AttributeName] = true
			switch k.KeyType {
			case "HASH":
				pk = Attribute{Name: k.AttributeName, Type: typ}
			case "RANGE":
				sk = Attribute{Name: k.AttributeName, Type: typ}
			default:
				return pk, sk, fmt.Errorf("%s key %s: KeyType %q", what, k.AttributeName, k.KeyType)
			}
		}
		if pk.Name == "" {
			return pk, sk, fmt.Errorf("%s has no HASH key", what)
		}
		return pk, sk, nil
	}

	s := TableSpec{LogicalID: id, BillingMode: str(tb.BillingMode)}
	if s.BillingMode == "" {
		s.BillingMode = "PROVISIONED" // CloudFormation's default
	}
	var err error
	if s.PartitionKey, s.SortKey, err = keys("table", tb.KeySchema); err != nil {
		return s, err
	}
	for _, g := range tb.GlobalSecondaryIndexes {
		ix := Index{Name: g.IndexName}
		if ix.PartitionKey, ix.SortKey, err = keys("index "+g.IndexName, g.KeySchema); err != nil {
			return s, err
		}
		if g.Projection != nil {
			ix.Projection = str(g.Projection.ProjectionType)
			ix.NonKeyAttributes = append([]string(nil), g.Projection.NonKeyAttributes...)
			sort.Strings(ix.NonKeyAttributes)
		}
		if ix.Projection == "" {
			ix.Projection = "KEYS_ONLY" // DynamoDB's default
		}
		s.Indexes = append(s.Indexes, ix)
	}
	sort.Slice(s.Indexes, func(i, j int) bool { return s.Indexes[i].Name < s.Indexes[j].Name })
	for name := range attrTypes {
		if !used[name] {
			return s, fmt.Errorf("attribute definition %s is no key of the table or an index", name)
		}
	}
	if ttl := tb.TimeToLiveSpecification; ttl != nil && ttl.Enabled {
		s.TTLAttribute = str(ttl.AttributeName)
	}
	if st := tb.StreamSpecification; st != nil {
		s.StreamView = st.StreamViewType
	}
	if p := tb.PointInTimeRecoverySpecification; p != nil {
		s.PointInTimeRecovery = p.PointInTimeRecoveryEnabled != nil && *p.PointInTimeRecoveryEnabled
	}
	if e := tb.SSESpecification; e != nil {
		s.Encrypted = e.SSEEnabled
	}
	s.Retained = tb.AWSCloudFormationDeletionPolicy == policies.DeletionPolicy("Retain") &&
		tb.AWSCloudFormationUpdateReplacePolicy == policies.UpdateReplacePolicy("Retain")
	return s, nil
}
