package stack_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/history"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// The tables that the template deploys are the tables that the stores'
// code (and its tests against moto_server) create.
func TestTablesMatchTheStores(t *testing.T) {
	tmpl := load(t)
	tests := []struct {
		name  string
		table string                                       // logical ID in the template
		input func(name string) *dynamodb.CreateTableInput // the store's own definition
		ttl   string                                       // the store's TTL attribute
	}{
		{name: "connections", table: "ConnectionsTable", input: connection.TableInput, ttl: connection.TTLAttribute},
		{name: "history", table: "NotificationsTable", input: history.TableInput, ttl: history.TTLAttribute},
		{name: "workflows", table: "WorkflowsTable", input: workflow.TableInput, ttl: workflow.TTLAttribute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := tmpl.Table(tt.table)
			if err != nil {
				t.Fatal(err)
			}
			got, want := normalize(spec.CreateTableInput("t")), normalize(tt.input("t"))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("template.yaml %s =\n%s\nthe store's TableInput =\n%s", tt.table, describe(got), describe(want))
			}
			if spec.TTLAttribute != tt.ttl {
				t.Errorf("template TTL attribute %q, the store's %q", spec.TTLAttribute, tt.ttl)
			}
		})
	}
}

// normalize orders the parts of in whose order DynamoDB ignores.
func normalize(in *dynamodb.CreateTableInput) *dynamodb.CreateTableInput {
	out := *in
	out.AttributeDefinitions = slices.Clone(in.AttributeDefinitions)
	slices.SortFunc(out.AttributeDefinitions, func(a, b types.AttributeDefinition) int {
		return strings.Compare(aws.ToString(a.AttributeName), aws.ToString(b.AttributeName))
	})
	out.GlobalSecondaryIndexes = nil
	for _, g := range in.GlobalSecondaryIndexes {
		if g.Projection != nil {
			p := *g.Projection
			p.NonKeyAttributes = slices.Sorted(slices.Values(p.NonKeyAttributes))
			if len(p.NonKeyAttributes) == 0 {
				p.NonKeyAttributes = nil
			}
			g.Projection = &p
		}
		out.GlobalSecondaryIndexes = append(out.GlobalSecondaryIndexes, g)
	}
	slices.SortFunc(out.GlobalSecondaryIndexes, func(a, b types.GlobalSecondaryIndex) int {
		return strings.Compare(aws.ToString(a.IndexName), aws.ToString(b.IndexName))
	})
	if out.BillingMode == "" {
		out.BillingMode = types.BillingModeProvisioned
	}
	return &out
}

// describe writes a table definition for a failure message.
func describe(in *dynamodb.CreateTableInput) string {
	var b strings.Builder
	b.WriteString("  billing " + string(in.BillingMode) + "\n  attributes")
	for _, a := range in.AttributeDefinitions {
		b.WriteString(" " + aws.ToString(a.AttributeName) + ":" + string(a.AttributeType))
	}
	b.WriteString("\n  key" + keys(in.KeySchema))
	for _, g := range in.GlobalSecondaryIndexes {
		b.WriteString("\n  index " + aws.ToString(g.IndexName) + keys(g.KeySchema))
		if g.Projection != nil {
			b.WriteString(" projection " + string(g.Projection.ProjectionType) + " " + strings.Join(g.Projection.NonKeyAttributes, ","))
		}
	}
	if s := in.StreamSpecification; s != nil {
		b.WriteString("\n  stream " + string(s.StreamViewType))
	}
	return b.String()
}

func keys(ks []types.KeySchemaElement) string {
	var b strings.Builder
	for _, k := range ks {
		b.WriteString(" " + aws.ToString(k.AttributeName) + ":" + string(k.KeyType))
	}
	return b.String()
}
