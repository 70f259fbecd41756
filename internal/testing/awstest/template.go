package awstest

import (
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	fbdinotify "github.com/finance/fbdi-notify"
	"github.com/finance/fbdi-notify/internal/local/samtemplate"
)

// template parses the embedded template.yaml once per test binary.
var template = sync.OnceValues(func() (*samtemplate.Template, error) { return samtemplate.Parse(fbdinotify.Template) })

// TemplateTable creates, with Table, the table that template.yaml declares
// under logicalID (ConnectionsTable, NotificationsTable, WorkflowsTable),
// TTL included, named by UniqueName after the logical ID ("connections",
// ...), and returns its name. A store's tests thus run on the very table that
// SAM deploys and the local stack creates.
func TemplateTable(tb testing.TB, client *dynamodb.Client, logicalID string) string {
	tb.Helper()
	tmpl, err := template()
	if err != nil {
		tb.Fatalf("awstest: %v", err)
	}
	spec, err := tmpl.Table(logicalID)
	if err != nil {
		tb.Fatalf("awstest: %v", err)
	}
	name := UniqueName(tb, strings.ToLower(strings.TrimSuffix(logicalID, "Table")))
	return Table(tb, client, spec.CreateTableInput(name), spec.TTLAttribute)
}
