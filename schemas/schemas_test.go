package schemas_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/finance/fbdi-notify/schemas"
)

const draft202012 = "https://json-schema.org/draft/2020-12/schema"

// names lists every schema of the package.
var names = []string{schemas.WorkflowMessage, schemas.NotificationMessage, schemas.ClientMessage, schemas.ServerMessage}

// compiled holds the schemas compiled from schemas.FS, with format
// assertions on (the schemas rely on "date" and "date-time" being checked).
var compiled = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, name := range names {
		doc, err := readSchema(name)
		if err != nil {
			return nil, err
		}
		if err := c.AddResource(schemas.BaseURL+name, doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, name := range names {
		s, err := c.Compile(schemas.BaseURL + name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
})

func readSchema(name string) (any, error) {
	data, err := schemas.FS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}

// validate returns the error of the schema name for the JSON data, nil if
// data is valid. It fails the test if data is not JSON.
func validate(t *testing.T, name string, data []byte) error {
	t.Helper()
	all, err := compiled()
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not JSON: %v: %.200s", err, data)
	}
	return all[name].Validate(v)
}

// assertValid reports an error if data is not valid against the schema
// name. It may be called from any goroutine.
func assertValid(t *testing.T, name string, data []byte) {
	t.Helper()
	all, err := compiled()
	if err != nil {
		t.Error(err)
		return
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Errorf("not JSON: %v: %.200s", err, data)
		return
	}
	if err := all[name].Validate(v); err != nil {
		t.Errorf("%s refuses %.300s:\n%v", name, data, err)
	}
}

// TestSchemasCompile checks that every schema is a valid draft 2020-12
// schema (the compiler validates it against its meta-schema, and so does the
// test explicitly), has its $id, title and description, and documents every
// property.
func TestSchemasCompile(t *testing.T) {
	entries, err := fs.ReadDir(schemas.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.Contains(names, e.Name()) {
			t.Errorf("schemas.FS holds %s, which no test knows", e.Name())
		}
	}
	mc := jsonschema.NewCompiler()
	meta, err := mc.Compile(draft202012)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := compiled(); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			doc, err := readSchema(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := meta.Validate(doc); err != nil {
				t.Errorf("not a valid draft 2020-12 schema: %v", err)
			}
			root := doc.(map[string]any)
			for key, want := range map[string]string{"$schema": draft202012, "$id": schemas.BaseURL + name} {
				if root[key] != want {
					t.Errorf("%s = %v, want %s", key, root[key], want)
				}
			}
			for _, key := range []string{"title", "description"} {
				if s, _ := root[key].(string); s == "" {
					t.Errorf("no %s", key)
				}
			}
			for _, where := range undocumented(doc, "#") {
				t.Errorf("property without a title or description: %s", where)
			}
		})
	}
}

// undocumented returns the pointers of the property schemas under v (in any
// "properties" map) that lack a title or a description. Boolean schemas
// (true, false) are not property definitions and are skipped.
func undocumented(v any, at string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if k == "properties" {
				if props, ok := sub.(map[string]any); ok {
					for name, p := range props {
						if p, ok := p.(map[string]any); ok && (p["title"] == nil || p["description"] == nil) {
							// Properties that only narrow a documented one in a
							// conditional branch hold no title: a type or a bound.
							if !narrowing(p) {
								out = append(out, at+"/properties/"+name)
							}
						}
					}
				}
			}
			out = append(out, undocumented(sub, at+"/"+k)...)
		}
	case []any:
		for i, sub := range v {
			out = append(out, undocumented(sub, at+"/"+strconv.Itoa(i))...)
		}
	}
	return out
}

// narrowing reports whether p only restates, in a conditional branch, a
// constraint on a property the root documents: it has no title and at most a
// few keywords that are all assertions.
func narrowing(p map[string]any) bool {
	for k := range p {
		switch k {
		case "type", "const", "enum", "not", "minLength", "items", "$comment":
		default:
			return false
		}
	}
	return true
}

// --- fixtures --------------------------------------------------------------

// use says what a fixture's tests use it for.
type use struct {
	valid    bool   // a message both the schema and the Go validator accept
	notJSON  bool   // deliberately not JSON: no schema applies
	rule     string // schema-valid, refused by the Go validator for a rule across lines, with this text
	badField string // deliberately invalid: both refuse it, naming this field
}

var (
	valid   = use{valid: true}
	notJSON = use{notJSON: true}
)

// checkQueueMessage checks one queue body against the schema name and the Go
// validator of its queue, as u says it should fare.
func checkQueueMessage(t *testing.T, name string, body []byte, u use) {
	t.Helper()
	if u.notJSON {
		if json.Valid(body) {
			t.Fatalf("%.80s is JSON, but its tests use it as a body that is not", body)
		}
		return
	}
	err := validate(t, name, body)
	switch {
	case u.badField != "":
		if err == nil {
			t.Fatalf("schema accepts it, want it refused at %s", u.badField)
		}
		if fields := schemaFields(err); !slices.Contains(fields, u.badField) {
			t.Errorf("schema refuses it at %v, want %s", fields, u.badField)
		}
	case err != nil:
		t.Fatalf("schema refuses it:\n%v", err)
	}
	var goErr string
	switch name {
	case schemas.WorkflowMessage:
		if err := goWorkflow(t, body); err != nil {
			goErr = invalidReason(t, err)
		}
	case schemas.NotificationMessage:
		goErr = goNotification(t, string(body))
	default:
		t.Fatalf("no Go validator for %s", name)
	}
	switch {
	case u.valid && goErr != "":
		t.Errorf("Go refuses it: %s", goErr)
	case u.rule != "" && !strings.Contains(goErr, u.rule):
		t.Errorf("Go error %q, want the rule %q", goErr, u.rule)
	case u.badField != "":
		assertNames(t, goErr, u.badField)
	}
}

// sqsBodies returns the bodies of the records of an SQS event file.
func sqsBodies(t *testing.T, file string) []string {
	t.Helper()
	var ev events.SQSEvent
	readJSON(t, file, &ev)
	var out []string
	for _, r := range ev.Records {
		out = append(out, r.Body)
	}
	return out
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func readEvent(t *testing.T, file string) events.APIGatewayWebsocketProxyRequest {
	t.Helper()
	var req events.APIGatewayWebsocketProxyRequest
	readJSON(t, file, &req)
	return req
}

// TestQueueFixtures validates the committed queue messages: the samples of
// events/messages, the SQS events of events/, and the testdata of the
// workflow and notifier packages, each as its tests use it.
func TestQueueFixtures(t *testing.T) {
	// Every sample and testdata file must be listed here, so that a new one is
	// checked too.
	samples := map[string]string{
		"budget-transfer.json": schemas.WorkflowMessage,
		"journal-import.json":  schemas.WorkflowMessage,
		"notification.json":    schemas.NotificationMessage,
	}
	workflowTestdata := map[string]use{
		"budget_transfer.json": valid,
		"journal_import.json":  valid,
		// Valid for the schema: its lines are each well formed, but the entry
		// does not net to zero, a rule across lines no schema can state.
		"budget_unbalanced.json": {rule: "net to zero"},
		"unknown_kind.json":      {badField: "kind"},
		"truncated.json":         notJSON,
	}
	sqsEvents := []struct {
		file   string
		schema string
		uses   []use // by record
	}{
		{"../events/notify-sqs.json", schemas.NotificationMessage, []use{valid, valid}},
		{"../events/worker-sqs.json", schemas.WorkflowMessage, []use{valid}},
		// A valid message, a valid multi-user progress message, a truncated body
		// (dead-lettered) and a valid message for a user whose history fails.
		{"../internal/notifier/testdata/sqs-event.json", schemas.NotificationMessage, []use{valid, valid, notJSON, valid}},
		// A poll continuation and a body that is not JSON.
		{"../internal/workflow/testdata/sqs-event.json", schemas.WorkflowMessage, []use{valid, notJSON}},
	}

	files, err := filepath.Glob("../events/messages/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in events/messages: %v", err)
	}
	for _, f := range files {
		t.Run("events/messages/"+filepath.Base(f), func(t *testing.T) {
			name, ok := samples[filepath.Base(f)]
			if !ok {
				t.Fatalf("%s is not listed in this test: say which queue it is for", f)
			}
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			checkQueueMessage(t, name, body, valid)
		})
	}

	files, err = filepath.Glob("../internal/workflow/testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflow testdata: %v", err)
	}
	for _, f := range files {
		base := filepath.Base(f)
		if base == "sqs-event.json" {
			continue // below
		}
		t.Run("internal/workflow/testdata/"+base, func(t *testing.T) {
			u, ok := workflowTestdata[base]
			if !ok {
				t.Fatalf("%s is not listed in this test: say what its tests use it for", f)
			}
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			checkQueueMessage(t, schemas.WorkflowMessage, body, u)
		})
	}

	for _, ev := range sqsEvents {
		bodies := sqsBodies(t, ev.file)
		if len(bodies) != len(ev.uses) {
			t.Errorf("%s has %d records, want %d: say what the new ones are for", ev.file, len(bodies), len(ev.uses))
			continue
		}
		for i, body := range bodies {
			t.Run(fmt.Sprintf("%s/record %d", strings.TrimPrefix(ev.file, "../"), i), func(t *testing.T) {
				checkQueueMessage(t, ev.schema, []byte(body), ev.uses[i])
			})
		}
	}
}

// TestWebSocketFixtures validates the WebSocket messages that are committed:
// the bodies of the API Gateway events in events/, the golden server
// messages of internal/notification, and the replies the route gives to the
// events (checked inside goClient).
func TestWebSocketFixtures(t *testing.T) {
	// Every event file must be listed here: those without a client message
	// are the $connect and $disconnect events and the DynamoDB stream event.
	withBody := map[string]bool{"ping.json": true, "resume.json": true, "history.json": true,
		"history_filtered.json": true, "mark_read.json": true, "archive.json": true, "status.json": true}
	withoutBody := map[string]bool{"connect.json": true, "disconnect.json": true, "welcome.json": true,
		"notify-sqs.json": true, "worker-sqs.json": true, "mail-sqs.json": true}
	files, err := filepath.Glob("../events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no events: %v", err)
	}
	for _, f := range files {
		base := filepath.Base(f)
		if withoutBody[base] {
			continue
		}
		t.Run("events/"+base, func(t *testing.T) {
			if !withBody[base] {
				t.Fatalf("%s is not listed in this test: say whether it carries a client message", f)
			}
			req := readEvent(t, f)
			if req.Body == "" {
				t.Fatal("no body")
			}
			if err := validate(t, schemas.ClientMessage, []byte(req.Body)); err != nil {
				t.Fatalf("schema refuses %s:\n%v", req.Body, err)
			}
			reply, code, message := goClient(t, req)
			if code != "" {
				t.Errorf("Go refuses %s: %s: %s", req.Body, code, message)
			}
			if reply["type"] == "error" {
				t.Errorf("reply %v, want an answer: the event's user is registered", reply)
			}
		})
	}

	golden, err := filepath.Glob("../internal/notification/testdata/*.golden.json")
	if err != nil || len(golden) == 0 {
		t.Fatalf("no golden notifications: %v", err)
	}
	for _, f := range golden {
		t.Run("internal/notification/testdata/"+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, schemas.ServerMessage, data); err != nil {
				t.Fatalf("schema refuses it:\n%v", err)
			}
		})
	}
}

// TestWebPageSamples validates what the browser library
// (web/lib/notifications.js, which the test page and the examples use)
// sends: every message of a session that uses each of its requests, as node
// prints them (testdata/library-requests.mjs plays the server with the
// library's unit-test fakes); and the transfer samples the test page queues
// (the events/messages samples with the ids typed in the page, as strings).
func TestWebPageSamples(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to run the browser library: %v", err)
	}
	out, err := exec.Command(node, "testdata/library-requests.mjs").Output()
	if err != nil {
		t.Fatalf("node testdata/library-requests.mjs: %v", err)
	}
	sent := strings.Split(strings.TrimSpace(string(out)), "\n")
	types := map[string]bool{}
	for _, body := range sent {
		var m struct{ Type string }
		_ = json.Unmarshal([]byte(body), &m)
		types[m.Type] = true
		t.Run(body, func(t *testing.T) {
			if err := validate(t, schemas.ClientMessage, []byte(body)); err != nil {
				t.Fatalf("schema refuses it:\n%v", err)
			}
			if _, code, message := goClient(t, clientEvent(t, body)); code != "" {
				t.Errorf("Go refuses it: %s: %s", code, message)
			}
		})
	}
	for _, want := range []string{"resume", "ping", "history", "mark_read", "status"} {
		if !types[want] {
			t.Errorf("the library sent no %s request: %v", want, sent)
		}
	}

	js, err := os.ReadFile("../web/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"body.transaction_id = ", "body.user_id = "} {
		if !strings.Contains(string(js), want) {
			t.Errorf("web/app.js no longer sets %q on the sample it queues: update this test", want)
		}
	}
	for _, f := range []string{"budget-transfer.json", "journal-import.json"} {
		t.Run("queued "+f, func(t *testing.T) {
			data, err := os.ReadFile("../events/messages/" + f)
			if err != nil {
				t.Fatal(err)
			}
			body := edit(t, string(data), set("transaction_id", "web-602"), set("user_id", "alice"))
			checkQueueMessage(t, schemas.WorkflowMessage, []byte(body), valid)
		})
	}
}

// --- bad and edge messages -------------------------------------------------

// badRow is a message both the schema and the Go validator must refuse,
// naming the same field.
type badRow struct {
	name  string
	body  string
	field string // as a path: user_id, lines[0].amount, options.foo, ids[0]
}

// goodRow is a message at an edge of the rules that both must accept.
type goodRow struct {
	name string
	body string
}

func TestBadWorkflowMessages(t *testing.T) {
	budget, journal := sample(t, "budget-transfer.json"), sample(t, "journal-import.json")
	poll := `{"action":"poll","transaction_id":"602","seq":1}`
	var parsed struct {
		Lines []json.RawMessage `json:"lines"`
	}
	if err := json.Unmarshal([]byte(budget), &parsed); err != nil {
		t.Fatal(err)
	}
	tooMany := make([]any, 10001) // copies of a valid line
	for i := range tooMany {
		tooMany[i] = parsed.Lines[0]
	}
	segments31 := make([]any, 31)
	for i := range segments31 {
		segments31[i] = "1"
	}
	attributes21 := make([]any, 21)
	for i := range attributes21 {
		attributes21[i] = "a"
	}

	rows := []badRow{
		{"missing user_id", edit(t, budget, remove("user_id")), "user_id"},
		{"fractional user_id", edit(t, budget, set("user_id", raw("1.5"))), "user_id"},
		{"user_id neither a string nor a number", edit(t, budget, set("user_id", true)), "user_id"},
		{"blank user_id", edit(t, budget, set("user_id", "  ")), "user_id"},
		{"user_id too long", edit(t, budget, set("user_id", strings.Repeat("u", 257))), "user_id"},
		{"missing transaction_id", edit(t, budget, remove("transaction_id")), "transaction_id"},
		{"transaction_id too long", edit(t, budget, set("transaction_id", strings.Repeat("t", 129))), "transaction_id"},
		{"transaction_id with a line break", edit(t, budget, set("transaction_id", "60\n2")), "transaction_id"},
		{"unknown kind", edit(t, budget, set("kind", "payroll_run")), "kind"},
		{"missing kind", edit(t, budget, remove("kind")), "kind"},
		{"unknown field", edit(t, budget, set("priority", "high")), "priority"},
		{"lines not an array", edit(t, budget, set("lines", map[string]any{})), "lines"},
		{"empty lines", edit(t, budget, set("lines", []any{})), "lines"},
		{"more than 10000 lines", edit(t, budget, set("lines", tooMany)), "lines"},
		{"unknown option", edit(t, budget, set("options.foo", "1")), "options.foo"},
		{"options not an object", edit(t, budget, set("options", []any{})), "options"},
		{"amount with a thousands separator", edit(t, budget, set("lines.0.amount", "1,000")), "lines[0].amount"},
		{"missing amount", edit(t, budget, remove("lines.0.amount")), "lines[0].amount"},
		{"amount neither a number nor a string", edit(t, budget, set("lines.1.amount", true)), "lines[1].amount"},
		{"amount of 19 digits", edit(t, budget, set("lines.0.amount", "1000000000000000000")), "lines[0].amount"},
		{"currency in lower case", edit(t, budget, set("lines.0.currency_code", "aed")), "lines[0].currency_code"},
		{"period_name too long", edit(t, budget, set("lines.0.period_name", "September-2025-X")), "lines[0].period_name"},
		{"line break in a comment", edit(t, budget, set("lines.0.comment", "from\ntravel")), "lines[0].comment"},
		{"unknown line field", edit(t, budget, set("lines.0.cost_center", "100")), "lines[0].cost_center"},
		{"missing source_budget_type", edit(t, budget, remove("lines.1.source_budget_type")), "lines[1].source_budget_type"},
		{"no segments", edit(t, budget, set("lines.0.segments", []any{})), "lines[0].segments"},
		{"31 segments", edit(t, budget, set("lines.0.segments", segments31)), "lines[0].segments"},
		{"blank segment1", edit(t, budget, set("lines.0.segments.0", " ")), "lines[0].segments[0]"},
		{"segment too long", edit(t, budget, set("lines.1.segments.2", strings.Repeat("5", 26))), "lines[1].segments[2]"},
		{"line_number zero", edit(t, budget, set("lines.0.line_number", 0)), "lines[0].line_number"},
		{"fractional line_number", edit(t, budget, set("lines.0.line_number", raw("1.5"))), "lines[0].line_number"},
		{"attribute date not a date", edit(t, budget, set("lines.0.attribute_date", []any{"2025-13-01"})), "lines[0].attribute_date[0]"},
		{"journal line without entered_dr or entered_cr", edit(t, journal, remove("lines.0.entered_dr")), "lines[0].entered_dr"},
		{"negative entered_cr", edit(t, journal, set("lines.1.entered_cr", "-1234.50")), "lines[1].entered_cr"},
		{"unknown actual_flag", edit(t, journal, set("lines.0.actual_flag", "X")), "lines[0].actual_flag"},
		{"accounting_date not a real date", edit(t, journal, set("lines.0.accounting_date", "2025-02-30")), "lines[0].accounting_date"},
		{"reference3, Journal Import's own", edit(t, journal, set("lines.0.reference3", "x")), "lines[0].reference3"},
		{"conversion rate zero", edit(t, journal, set("lines.0.currency_conversion_rate", 0)), "lines[0].currency_conversion_rate"},
		{"21 attributes", edit(t, journal, set("lines.1.attributes", attributes21)), "lines[1].attributes"},
		{"ledger_id not a number", edit(t, journal, set("lines.0.ledger_id", "L1")), "lines[0].ledger_id"},
		{"poll with seq zero", edit(t, poll, set("seq", 0)), "seq"},
		{"poll with an unknown action", edit(t, poll, set("action", "stop")), "action"},
		{"poll with an unknown field", edit(t, poll, set("user_id", "123")), "user_id"},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			checkQueueMessage(t, schemas.WorkflowMessage, []byte(tt.body), use{badField: tt.field})
		})
	}
}

func TestEdgeWorkflowMessages(t *testing.T) {
	budget, journal := sample(t, "budget-transfer.json"), sample(t, "journal-import.json")
	var parsed struct {
		Lines []map[string]any `json:"lines"`
	}
	if err := json.Unmarshal([]byte(budget), &parsed); err != nil {
		t.Fatal(err)
	}
	maxLines := make([]any, 10000) // the two lines alternately, numbered 1 to 10000: they net to zero
	for i := range maxLines {
		l := maps.Clone(parsed.Lines[i%2])
		l["line_number"] = i + 1
		maxLines[i] = l
	}
	list := func(n int, v any) []any { return slices.Repeat([]any{v}, n) }
	rows := []goodRow{
		{"10000 lines", edit(t, budget, set("lines", maxLines))},
		{"every field at its length limit", edit(t, budget,
			set("transaction_id", strings.Repeat("t", 128)), set("lines.0.period_name", strings.Repeat("p", 15)),
			set("lines.1.period_name", strings.Repeat("p", 15)), set("lines.0.uom_code", "UOM"),
			set("lines.0.comment", strings.Repeat("c", 240)), set("lines.0.segments", list(30, strings.Repeat("9", 25))),
			set("lines.0.attribute_char", list(10, strings.Repeat("a", 150))), set("lines.0.attribute_number", list(5, "1")),
			set("lines.0.attribute_date", list(5, "2025-09-30")))},
		{"amounts of 18 digits and 10 decimals", edit(t, budget,
			set("lines.0.amount", "-999999999999999999.9999999999"), set("lines.1.amount", raw("999999999999999999.9999999999")))},
		{"journal fields at their limits", edit(t, journal, set("lines.0.attributes", list(20, strings.Repeat("a", 150))),
			set("lines.0.reference10", strings.Repeat("r", 240)), set("lines.0.user_je_category_name", strings.Repeat("c", 25)),
			set("lines.1.group_id", "000000000000000603"), set("lines.0.group_id", raw("603")))},
		{"ids as numbers", edit(t, budget, set("transaction_id", 602), set("user_id", 123))},
		{"largest user id number", edit(t, budget, set("user_id", raw("9007199254740991")))},
		{"negative ids", edit(t, budget, set("transaction_id", -602), set("user_id", -1))},
		{"user id of 256 characters", edit(t, budget, set("user_id", strings.Repeat("u", 256)))},
		{"null options", edit(t, budget, set("options", nil))},
		{"numeric option", edit(t, budget, set("options.interface_options_id", 51))},
		{"amounts as a number and a signed string", edit(t, budget,
			set("lines.0.amount", -650), set("lines.1.amount", "+650.0000000000"))},
		{"segments as numbers and nulls", edit(t, budget, set("lines.0.segments", []any{10001, nil, "5010016"}))},
		{"optional fields null or empty", edit(t, budget,
			set("lines.0.comment", nil), set("lines.0.uom_code", ""), set("lines.0.attribute_char", []any{nil, "x"}),
			set("lines.0.attribute_number", []any{"", nil, 5}), set("lines.0.attribute_date", []any{nil, "", "2025-09-30"}))},
		{"line numbers with leading zeros", edit(t, budget, set("lines.0.line_number", "007"), set("lines.1.line_number", "8"))},
		{"credit of minus zero on a debit line", edit(t, journal, set("lines.0.entered_cr", "-0"))},
		{"optional journal fields", edit(t, journal, set("lines.0.currency_conversion_rate", "0.5"),
			set("lines.0.date_created", ""), set("lines.0.encumbrance_type_id", nil), set("lines.0.attributes", []any{nil, "a"}))},
		{"poll", `{"action":"poll","transaction_id":602,"seq":3}`},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			checkQueueMessage(t, schemas.WorkflowMessage, []byte(tt.body), valid)
		})
	}
}

func TestBadNotificationMessages(t *testing.T) {
	long := strings.Repeat("u", 257)
	rows := []badRow{
		{"no user", `{"type":"notification","message":"hi"}`, "user_ids"},
		{"null user_id alone", `{"user_id":null,"message":"hi"}`, "user_ids"},
		{"both user_id and user_ids", `{"user_id":"1","user_ids":["2"],"message":"hi"}`, "user_ids"},
		{"empty user_ids", `{"user_ids":[],"message":"hi"}`, "user_ids"},
		{"fractional user_id", `{"user_id":1.5,"message":"hi"}`, "user_id"},
		{"fractional id in user_ids", `{"user_ids":["1",1.5],"message":"hi"}`, "user_ids[1]"},
		{"empty user_id", `{"user_id":"","message":"hi"}`, "user_id"},
		{"blank id in user_ids", `{"user_ids":["1"," "],"message":"hi"}`, "user_ids[1]"},
		{"user_id neither a string nor a number", `{"user_id":true,"message":"hi"}`, "user_id"},
		{"user_id too long", `{"user_id":"` + long + `","message":"hi"}`, "user_id"},
		{"unknown type", `{"user_id":"123","type":"sms","message":"hi"}`, "type"},
		{"server-only type", `{"user_id":"123","type":"connection_established","message":"hi"}`, "type"},
		{"type not a string", `{"user_id":"123","type":7,"message":"hi"}`, "type"},
		{"misspelt field", `{"user_id":"123","mesage":"hi"}`, "mesage"},
		{"field of another type", `{"user_id":"123","message":"hi","step":"Upload"}`, "step"},
		{"missing message", `{"user_id":"123","data":{"a":1}}`, "message"},
		{"empty message", `{"user_id":"123","message":""}`, "message"},
		{"data not an object", `{"user_id":"123","message":"hi","data":[1]}`, "data"},
		{"missing transaction_id", `{"user_id":"123","type":"oracle_upload_started","message":"go"}`, "transaction_id"},
		{"transaction_id a number", `{"user_id":"123","type":"oracle_upload_started","transaction_id":602}`, "transaction_id"},
		{"step_number zero", `{"user_id":"1","type":"oracle_upload_progress","transaction_id":"602","step":"Upload to UCM","step_number":0,"total_steps":5,"status":"processing"}`, "step_number"},
		{"step_number a string", `{"user_id":"1","type":"oracle_upload_progress","transaction_id":"602","step":"Upload to UCM","step_number":"2","total_steps":5,"status":"processing"}`, "step_number"},
		{"missing total_steps", `{"user_id":"1","type":"oracle_upload_progress","transaction_id":"602","step":"Upload to UCM","step_number":2,"status":"processing"}`, "total_steps"},
		{"unknown status", `{"user_id":"1","type":"oracle_upload_progress","transaction_id":"602","step":"Upload to UCM","step_number":2,"total_steps":5,"status":"done"}`, "status"},
		{"success false", `{"user_id":"1","type":"oracle_upload_completed","transaction_id":"602","success":false}`, "success"},
		{"failed without error", `{"user_id":"1","type":"oracle_upload_failed","transaction_id":"602","message":"Import failed"}`, "error"},
		{"id not a ULID", `{"id":"42","user_id":"123","message":"hi"}`, "id"},
		{"category in upper case", `{"user_id":"123","message":"hi","category":"Payroll"}`, "category"},
		{"category a number", `{"user_id":"123","message":"hi","category":7}`, "category"},
		{"category on a workflow type", `{"user_id":"123","type":"oracle_upload_started","transaction_id":"602","category":"fbdi"}`, "category"},
		{"critical not a boolean", `{"user_id":"123","message":"hi","critical":"yes"}`, "critical"},
		{"critical on a workflow type", `{"user_id":"123","type":"oracle_upload_failed","transaction_id":"602","error":"x","critical":true}`, "critical"},
		{"user_profile without user_id", `{"type":"user_profile","email":"a@example.com"}`, "user_id"},
		{"user_profile for several users", `{"type":"user_profile","user_ids":["123"],"user_id":"123"}`, "user_ids"},
		{"user_profile with a message", `{"type":"user_profile","user_id":"123","message":"hi"}`, "message"},
		{"user_profile email not a string", `{"type":"user_profile","user_id":"123","email":["a@example.com"]}`, "email"},
		{"user_profile locale not a tag", `{"type":"user_profile","user_id":"123","locale":"English"}`, "locale"},
		{"user_profile phone without +", `{"type":"user_profile","user_id":"123","phone":"5555550100"}`, "phone"},
		{"user_profile phone too long", `{"type":"user_profile","user_id":"123","phone":"+1234567890123456"}`, "phone"},
		{"set_preferences without categories", `{"type":"set_preferences","user_id":"123"}`, "categories"},
		{"set_preferences null user_id", `{"type":"set_preferences","user_id":null,"categories":{}}`, "user_id"},
		{"set_preferences category in upper case", `{"type":"set_preferences","user_id":"123","categories":{"Payroll":{"email":true}}}`, "categories.Payroll"},
		{"set_preferences unknown channel", `{"type":"set_preferences","user_id":"123","categories":{"general":{"sms":true}}}`, "categories.general.sms"},
		{"set_preferences channel not a boolean", `{"type":"set_preferences","user_id":"123","categories":{"general":{"in_app":1}}}`, "categories.general.in_app"},
		{"set_preferences with an e-mail", `{"type":"set_preferences","user_id":"123","email":"a@example.com","categories":{}}`, "email"},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			checkQueueMessage(t, schemas.NotificationMessage, []byte(tt.body), use{badField: tt.field})
		})
	}
}

func TestEdgeNotificationMessages(t *testing.T) {
	rows := []goodRow{
		{"integer user id", `{"user_id":123,"message":"hi"}`},
		{"user id of 256 bytes", `{"user_id":"` + strings.Repeat("u", 256) + `","message":"hi"}`},
		{"user id in exponent notation", `{"user_ids":[1.23e2, -9007199254740991],"message":"hi"}`},
		{"last step", `{"user_id":"123","type":"oracle_upload_progress","transaction_id":"602","step":"Verify Results","step_number":5,"total_steps":5,"status":"completed"}`},
		{"repeated and integer ids in user_ids", `{"user_ids":["123",123,"456"],"message":"hi"}`},
		{"null user_id beside user_ids", `{"user_id":null,"user_ids":["123"],"message":"hi"}`},
		{"null user_ids beside user_id", `{"user_id":"123","user_ids":null,"message":"hi"}`},
		{"null type, id and data", `{"user_id":"123","type":null,"id":null,"data":null,"message":"hi"}`},
		{"empty id", `{"id":"","user_id":"123","message":"hi"}`},
		{"lower-case ULID", `{"id":"01kjkq5g8z3v7x2n4p6r8t0w2y","user_id":"123","message":"hi"}`},
		{"started without a message", `{"user_id":"123","type":"oracle_upload_started","transaction_id":"602"}`},
		{"completed with success true", `{"user_id":"123","type":"oracle_upload_completed","transaction_id":"602","success":true,"result_path":"/r/1"}`},
		{"completed with success null", `{"user_id":"123","type":"oracle_upload_completed","transaction_id":"602","success":null}`},
		{"failed without a transaction message", `{"user_id":"123","type":"oracle_upload_failed","transaction_id":"602","error":"ESS job 14558 ended in ERROR"}`},
		{"category of 40 bytes", `{"user_id":"123","message":"hi","category":"` + strings.Repeat("c", 40) + `"}`},
		{"category empty", `{"user_ids":["123","456"],"message":"hi","category":""}`},
		{"category null", `{"user_id":"123","message":"hi","category":null}`},
		{"critical", `{"user_id":"123","message":"payroll failed","critical":true}`},
		{"critical null", `{"user_id":"123","message":"hi","critical":null}`},
		{"user_profile", `{"type":"user_profile","user_id":123,"email":"ana@example.com","locale":"fr-CA"}`},
		{"user_profile clearing both", `{"type":"user_profile","user_id":"123","email":null,"locale":""}`},
		{"user_profile with a phone", `{"type":"user_profile","user_id":"123","phone":"+447700900123"}`},
		{"set_preferences of one channel", `{"type":"set_preferences","user_id":"123","categories":{"payroll.q3":{"email":false}}}`},
		{"set_preferences of no category", `{"type":"set_preferences","user_id":"123","categories":{}}`},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			checkQueueMessage(t, schemas.NotificationMessage, []byte(tt.body), valid)
		})
	}
}

func TestBadClientMessages(t *testing.T) {
	ids := make([]string, 101)
	for i := range ids {
		ids[i] = `"01KJKQ5G8Z3V7X2N4P6R8T0W2Y"`
	}
	cats := make([]string, 51)
	for i := range cats {
		cats[i] = fmt.Sprintf(`"c%d":{"in_app":true}`, i)
	}
	categories51 := strings.Join(cats, ",")
	rows := []badRow{
		{"missing type", `{"limit":1}`, "type"},
		{"type not a string", `{"type":5}`, "type"},
		{"unknown type", `{"type":"subscribe"}`, "type"},
		{"resume limit zero", `{"type":"resume","limit":0}`, "limit"},
		{"resume limit a string", `{"type":"resume","limit":"ten"}`, "limit"},
		{"resume limit fractional", `{"type":"resume","limit":1.5}`, "limit"},
		{"resume after not an id", `{"type":"resume","after":"yesterday"}`, "after"},
		{"history before a number", `{"type":"history","before":42}`, "before"},
		{"history limit negative", `{"type":"history","limit":-1}`, "limit"},
		{"mark_read without ids or all", `{"type":"mark_read"}`, "ids"},
		{"mark_read with all false", `{"type":"mark_read","all":false}`, "ids"},
		{"mark_read with 101 ids", `{"type":"mark_read","ids":[` + strings.Join(ids, ",") + `]}`, "ids"},
		{"mark_read id not an id", `{"type":"mark_read","ids":["01KJKQ5G8Z3V7X2N4P6R8T0W2Y","nope"]}`, "ids[1]"},
		{"mark_read ids not an array", `{"type":"mark_read","ids":"01KJKQ5G8Z3V7X2N4P6R8T0W2Y"}`, "ids"},
		{"mark_read all not a boolean", `{"type":"mark_read","all":"yes"}`, "all"},
		{"status without transaction_id", `{"type":"status"}`, "transaction_id"},
		{"status transaction_id a number", `{"type":"status","transaction_id":602}`, "transaction_id"},
		{"status transaction_id too long", `{"type":"status","transaction_id":"` + strings.Repeat("t", 129) + `"}`, "transaction_id"},
		{"history category empty", `{"type":"history","category":""}`, "category"},
		{"history category in upper case", `{"type":"history","category":"FBDI"}`, "category"},
		{"history category a number", `{"type":"history","category":7}`, "category"},
		{"history unread_only a string", `{"type":"history","unread_only":"yes"}`, "unread_only"},
		{"resume category too long", `{"type":"resume","category":"` + strings.Repeat("c", 41) + `"}`, "category"},
		{"resume category starting with a dot", `{"type":"resume","category":".fbdi"}`, "category"},
		{"resume unread_only a number", `{"type":"resume","unread_only":1}`, "unread_only"},
		{"mark_read category empty", `{"type":"mark_read","category":""}`, "category"},
		{"mark_read category with a space", `{"type":"mark_read","category":"pay roll"}`, "category"},
		{"archive without ids", `{"type":"archive"}`, "ids"},
		{"archive with no ids", `{"type":"archive","ids":[]}`, "ids"},
		{"archive with null ids", `{"type":"archive","ids":null}`, "ids"},
		{"archive with 101 ids", `{"type":"archive","ids":[` + strings.Join(ids, ",") + `]}`, "ids"},
		{"archive id not an id", `{"type":"archive","ids":["01KJKQ5G8Z3V7X2N4P6R8T0W2Y","nope"]}`, "ids[1]"},
		{"archive ids not an array", `{"type":"archive","ids":"01KJKQ5G8Z3V7X2N4P6R8T0W2Y"}`, "ids"},
		{"set_preferences without categories", `{"type":"set_preferences"}`, "categories"},
		{"set_preferences categories an array", `{"type":"set_preferences","categories":[]}`, "categories"},
		{"set_preferences categories null", `{"type":"set_preferences","categories":null}`, "categories"},
		{"set_preferences category in upper case", `{"type":"set_preferences","categories":{"Payroll":{"in_app":false}}}`, "categories.Payroll"},
		{"set_preferences channels not an object", `{"type":"set_preferences","categories":{"general":false}}`, "categories.general"},
		{"set_preferences unknown channel", `{"type":"set_preferences","categories":{"general":{"sms":true}}}`, "categories.general.sms"},
		{"set_preferences channel not a boolean", `{"type":"set_preferences","categories":{"general":{"email":"no"}}}`, "categories.general.email"},
		{"set_preferences 51 categories", `{"type":"set_preferences","categories":{` + categories51 + `}}`, "categories"},
		{"set_preferences with an address", `{"type":"set_preferences","email":"a@example.com","categories":{}}`, "email"},
		{"set_preferences with another field", `{"type":"set_preferences","user_id":"456","categories":{}}`, "user_id"},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			err := validate(t, schemas.ClientMessage, []byte(tt.body))
			if err == nil {
				t.Fatalf("schema accepts it, want it refused at %s", tt.field)
			}
			if fields := schemaFields(err); !slices.Contains(fields, tt.field) {
				t.Errorf("schema refuses it at %v, want %s", fields, tt.field)
			}
			_, code, message := goClient(t, clientEvent(t, tt.body))
			if code == "" {
				t.Fatalf("Go accepts it")
			}
			assertNames(t, message, tt.field)
		})
	}
}

func TestEdgeClientMessages(t *testing.T) {
	rows := []goodRow{
		{"ping without a timestamp", `{"type":"ping"}`},
		{"fields a request does not use", `{"type":"ping","limit":0,"client":"web"}`},
		{"resume limit above the maximum", `{"type":"resume","limit":100000}`},
		{"resume after empty", `{"type":"resume","after":""}`},
		{"resume after a lower-case id", `{"type":"resume","after":"01kjkq5g8z3v7x2n4p6r8t0w2y"}`},
		{"history with nulls", `{"type":"history","before":null,"limit":null}`},
		{"mark_read no ids", `{"type":"mark_read","ids":[]}`},
		{"mark_read all with null ids", `{"type":"mark_read","all":true,"ids":null}`},
		{"mark_read ids with all false", `{"type":"mark_read","all":false,"ids":["01KJKQ5G8Z3V7X2N4P6R8T0W2Y"]}`},
		{"mark_read with 100 ids", `{"type":"mark_read","ids":[` + strings.Repeat(`"01KJKQ5G8Z3V7X2N4P6R8T0W2Y",`, 99) + `"7ZZZZZZZZZZZZZZZZZZZZZZZZZ"]}`},
		{"status transaction_id of 128 bytes", `{"type":"status","transaction_id":"` + strings.Repeat("t", 128) + `"}`},
		{"status of an unknown transaction", `{"type":"status","transaction_id":" "}`},
		{"history of a category, unread only", `{"type":"history","category":"fbdi","unread_only":true}`},
		{"history with a null filter", `{"type":"history","category":null,"unread_only":null}`},
		{"resume of a category of 40 bytes", `{"type":"resume","category":"` + strings.Repeat("c", 40) + `","unread_only":false}`},
		{"resume of a category never sent", `{"type":"resume","category":"payroll.q3-close_2"}`},
		{"mark_read a category", `{"type":"mark_read","category":"general"}`},
		{"mark_read a category and ids", `{"type":"mark_read","category":"fbdi","ids":["01KJKQ5G8Z3V7X2N4P6R8T0W2Y"]}`},
		{"archive one id in lower case", `{"type":"archive","ids":["01kjkq5g8z3v7x2n4p6r8t0w2y"]}`},
		{"archive 100 ids", `{"type":"archive","ids":[` + strings.Repeat(`"01KJKQ5G8Z3V7X2N4P6R8T0W2Y",`, 99) + `"7ZZZZZZZZZZZZZZZZZZZZZZZZZ"]}`},
		{"preferences", `{"type":"preferences"}`},
		{"set_preferences of one channel", `{"type":"set_preferences","categories":{"general":{"email":true}}}`},
		{"set_preferences of a new category, both channels", `{"type":"set_preferences","categories":{"payroll":{"in_app":false,"email":false}}}`},
		{"set_preferences of nothing", `{"type":"set_preferences","categories":{"fbdi":{}}}`},
		{"set_preferences of no category", `{"type":"set_preferences","categories":{}}`},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate(t, schemas.ClientMessage, []byte(tt.body)); err != nil {
				t.Errorf("schema refuses it:\n%v", err)
			}
			if _, code, message := goClient(t, clientEvent(t, tt.body)); code != "" {
				t.Errorf("Go refuses it: %s: %s", code, message)
			}
		})
	}
}

// --- naming the field ---------------------------------------------------------

// schemaFields returns the fields a schema validation error names, as paths
// (lines[0].amount): the instance location of each innermost error, with the
// property a required, additionalProperties or propertyNames error is about.
func schemaFields(err error) []string {
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return nil
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		_, names := e.ErrorKind.(*kind.PropertyNames) // its causes are about the name, validated on its own
		if len(e.Causes) > 0 && !names {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		at := func(name string) string { return fieldPath(append(slices.Clone(e.InstanceLocation), name)) }
		switch k := e.ErrorKind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				out = append(out, at(m))
			}
		case *kind.AdditionalProperties:
			for _, p := range k.Properties {
				out = append(out, at(p))
			}
		case *kind.PropertyNames:
			out = append(out, at(k.Property))
		default:
			out = append(out, fieldPath(e.InstanceLocation))
		}
	}
	walk(verr)
	slices.Sort(out)
	return slices.Compact(out)
}

// fieldPath writes an instance location as a path: ["lines","0","amount"]
// is lines[0].amount.
func fieldPath(tokens []string) string {
	var b strings.Builder
	for _, tok := range tokens {
		if _, err := strconv.Atoi(tok); err == nil {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// assertNames checks that a Go error text names field as the Go validators
// write fields: every property name of the path, lines[i] as "line i+1"
// (1-based), an entry of segments or of a flexfield list with its number
// (segments[0] is "segment1", attribute_date[0] "attribute_date1",
// attributes[0] "attribute1"), and any other list by its name alone (ids[1]
// is "ids"). "lines" itself may be written "line" ("at least one line is
// required").
func assertNames(t *testing.T, text, field string) {
	t.Helper()
	if text == "" {
		t.Fatalf("Go accepts it, want it refused naming %s", field)
	}
	for _, term := range goTerms(field) {
		if !term.MatchString(text) {
			t.Errorf("Go error %q does not name %s (want %s)", text, field, term)
		}
	}
}

var pathToken = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

func goTerms(field string) []*regexp.Regexp {
	var words []string
	var last string
	for _, tok := range pathToken.FindAllString(field, -1) {
		if !strings.HasPrefix(tok, "[") {
			words = append(words, regexp.QuoteMeta(tok))
			last = tok
			continue
		}
		i, _ := strconv.Atoi(strings.Trim(tok, "[]"))
		switch last {
		case "lines":
			words[len(words)-1] = fmt.Sprintf("line %d", i+1)
		case "segments":
			words[len(words)-1] = fmt.Sprintf("segment%d", i+1)
		case "attributes":
			words[len(words)-1] = fmt.Sprintf("attribute%d", i+1)
		case "attribute_char", "attribute_number", "attribute_date":
			words[len(words)-1] = fmt.Sprintf("%s%d", last, i+1)
		}
		last = ""
	}
	var out []*regexp.Regexp
	for _, w := range words {
		if w == "lines" {
			w = "lines?"
		}
		out = append(out, regexp.MustCompile(`\b`+w+`\b`))
	}
	return out
}

func TestGoTerms(t *testing.T) {
	tests := map[string][]string{
		"user_id":                    {`\buser_id\b`},
		"lines":                      {`\blines?\b`},
		"lines[0].amount":            {`\bline 1\b`, `\bamount\b`},
		"lines[1].segments[2]":       {`\bline 2\b`, `\bsegment3\b`},
		"lines[0].attribute_date[0]": {`\bline 1\b`, `\battribute_date1\b`},
		"options.foo":                {`\boptions\b`, `\bfoo\b`},
		"ids[1]":                     {`\bids\b`},
	}
	for field, want := range tests {
		var got []string
		for _, re := range goTerms(field) {
			got = append(got, re.String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("goTerms(%s) = %q, want %q", field, got, want)
		}
	}
	if !goTerms("user_id")[0].MatchString("missing user_id or user_ids") || goTerms("user_id")[0].MatchString("field user_ids is empty") {
		t.Error("user_id must match as a word, not inside user_ids")
	}
}

// --- building messages --------------------------------------------------------

// sample returns events/messages/name.
func sample(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("../events/messages/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// change sets or removes the value at a path of dot-separated keys and
// indexes (lines.0.amount).
type change struct {
	path   string
	value  any
	remove bool
}

func set(path string, v any) change { return change{path: path, value: v} }
func remove(path string) change     { return change{path: path, remove: true} }

// raw is JSON written as it is, e.g. raw("1.5").
func raw(s string) json.RawMessage { return json.RawMessage(s) }

// edit returns the JSON object body with the changes made; numbers keep
// their text.
func edit(t *testing.T, body string, changes ...change) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		keys := strings.Split(c.path, ".")
		parent := root
		for _, k := range keys[:len(keys)-1] {
			parent = child(t, parent, k)
		}
		last := keys[len(keys)-1]
		switch p := parent.(type) {
		case map[string]any:
			if c.remove {
				delete(p, last)
			} else {
				p[last] = c.value
			}
		case []any:
			i, err := strconv.Atoi(last)
			if err != nil || i >= len(p) || c.remove {
				t.Fatalf("edit %s: cannot change %s of a list", c.path, last)
			}
			p[i] = c.value
		default:
			t.Fatalf("edit %s: %T has no %s", c.path, parent, last)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(b.String())
}

func child(t *testing.T, v any, key string) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		c, ok := v[key]
		if !ok {
			c = map[string]any{}
			v[key] = c
		}
		return c
	case []any:
		i, err := strconv.Atoi(key)
		if err != nil || i >= len(v) {
			t.Fatalf("no entry %s in a list of %d", key, len(v))
		}
		return v[i]
	}
	t.Fatalf("%T has no %s", v, key)
	return nil
}

// --- agreement over many values -------------------------------------------------

// values are set, one at a time, in every field of valid messages by
// TestSchemaAgreesWithGo.
var values = []any{nil, true, false, 0, 1, -1, raw("1.5"), raw("1e2"), raw("1.0"), raw("-0"),
	raw("9007199254740992"), raw("9223372036854775808"), raw("999999999999999999"), raw("1000000000000000000"),
	"", " ", "x", "602", "-650", "1,000", "0.5", "+1", "007", "a\nb", "A", "E", "aed", "AED", "2025-09-30", "2025-02-30",
	"01KJKQ5G8Z3V7X2N4P6R8T0W2Y", "01kjkq5g8z3v7x2n4p6r8t0w2y", "81KJKQ5G8Z3V7X2N4P6R8T0W2Y",
	"processing", "done", "notification", "oracle_upload_progress", "oracle_upload_failed", "resume", "mark_read",
	"budget_transfer", "journal_import", "poll",
	strings.Repeat("x", 26), strings.Repeat("x", 129), strings.Repeat("x", 257),
	[]any{}, []any{"1"}, []any{nil}, []any{raw("1.5")}, []any{""}, []any{"01KJKQ5G8Z3V7X2N4P6R8T0W2Y"},
	map[string]any{}, map[string]any{"a": 1}}

// absent stands for removing the field.
var absent = &struct{}{}

// knownGap reports whether a message the schema accepts and Go refuses (with
// reason) is one of the documented limits of a schema: it sees a number's
// value, not how it is written (1e2 and 1.0 are integers to it; the Go
// validators read line fields, ids and counts as written), and it cannot
// compare two fields or lines (step_number <= total_steps, the rules across
// lines); and it does not parse an e-mail address as net/mail does.
func knownGap(v any, reason string) bool {
	if r, ok := v.(json.RawMessage); ok && (string(r) == "1e2" || string(r) == "1.0") {
		return true
	}
	for _, rule := range []string{"step_number <= total_steps", "differs from", "out of balance", "nets to",
		"different", "is already used by line", "not a bare e-mail address"} {
		if strings.Contains(reason, rule) {
			return true
		}
	}
	return false
}

// TestSchemaAgreesWithGo sets each of many values in each field of valid
// messages (and an unknown field), and checks that the schema and the Go
// validator agree on every result, but for the known gaps.
func TestSchemaAgreesWithGo(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of messages")
	}
	type variant struct{ base, path string }
	variants := func(base string, paths ...string) []variant {
		var out []variant
		for _, p := range paths {
			out = append(out, variant{base, p})
		}
		return out
	}
	check := func(t *testing.T, vs []variant, decide func(body string) (schemaOK bool, goReason string)) {
		n := 0
		for _, vr := range vs {
			for _, v := range append(slices.Clone(values), absent) {
				var body string
				_, err := strconv.Atoi(vr.path[strings.LastIndex(vr.path, ".")+1:])
				switch {
				case v == absent && err == nil:
					continue // an entry of a list: there is nothing to remove
				case v == absent:
					body = edit(t, vr.base, remove(vr.path))
				default:
					body = edit(t, vr.base, set(vr.path, v))
				}
				schemaOK, reason := decide(body)
				n++
				switch {
				case schemaOK && reason != "" && knownGap(v, reason):
				case schemaOK && reason != "":
					t.Errorf("schema accepts, Go refuses (%s): %.300s", reason, body)
				case !schemaOK && reason == "":
					t.Errorf("schema refuses, Go accepts: %.300s", body)
				}
			}
		}
		t.Logf("%d messages", n)
	}

	t.Run("workflow", func(t *testing.T) {
		budget, journal := sample(t, "budget-transfer.json"), sample(t, "journal-import.json")
		vs := variants(budget, "kind", "transaction_id", "user_id", "lines", "options", "options.source", "options.foo", "other")
		for _, f := range []string{"source_budget_type", "source_budget_name", "budget_entry_name", "line_number", "amount",
			"currency_code", "period_name", "uom_code", "segments", "segments.1", "comment", "attribute_category",
			"attribute_char", "attribute_number", "attribute_date", "other"} {
			vs = append(vs, variant{budget, "lines.0." + f})
		}
		for _, f := range []string{"ledger_id", "ledger_name", "accounting_date", "date_created", "period_name",
			"user_je_source_name", "user_je_category_name", "currency_code", "actual_flag", "encumbrance_type_id", "segments",
			"segments.0", "entered_dr", "entered_cr", "accounted_dr", "accounted_cr", "reference1", "reference3",
			"reference10", "reference21", "user_currency_conversion_type", "currency_conversion_date",
			"currency_conversion_rate", "group_id", "attribute_category", "attributes"} {
			vs = append(vs, variant{journal, "lines.0." + f})
		}
		vs = append(vs, variants(`{"action":"poll","transaction_id":"602","seq":1}`, "action", "transaction_id", "seq", "other")...)
		check(t, vs, func(body string) (bool, string) {
			schemaOK := validate(t, schemas.WorkflowMessage, []byte(body)) == nil
			if err := goWorkflow(t, []byte(body)); err != nil {
				return schemaOK, invalidReason(t, err)
			}
			return schemaOK, ""
		})
	})
	t.Run("notification", func(t *testing.T) {
		fields := []string{"id", "user_id", "user_ids", "type", "message", "data", "category", "critical", "transaction_id", "step",
			"step_number", "total_steps", "status", "success", "result_path", "error", "email", "locale", "phone", "categories", "other"}
		var vs []variant
		for _, base := range []string{
			`{"user_id":"123","message":"hi"}`,
			`{"user_ids":["123"],"type":"oracle_upload_progress","transaction_id":"602","step":"Upload","step_number":2,"total_steps":5,"status":"processing"}`,
			`{"user_id":"123","type":"oracle_upload_completed","transaction_id":"602"}`,
			`{"user_id":"123","type":"oracle_upload_failed","transaction_id":"602","error":"x"}`,
			`{"user_id":"123","message":"hi","category":"general"}`,
			`{"type":"user_profile","user_id":"123","email":"ana@example.com","locale":"en","phone":"+15555550100"}`,
			`{"type":"set_preferences","user_id":"123","categories":{"general":{"in_app":true,"email":false}}}`,
		} {
			vs = append(vs, variants(base, fields...)...)
		}
		vs = append(vs, variants(`{"type":"set_preferences","user_id":"123","categories":{"general":{"in_app":true}}}`,
			"categories.general", "categories.general.in_app", "categories.general.email", "categories.general.other",
			"categories.other")...)
		check(t, vs, func(body string) (bool, string) {
			return validate(t, schemas.NotificationMessage, []byte(body)) == nil, goNotification(t, body)
		})
	})
	t.Run("client", func(t *testing.T) {
		fields := []string{"type", "after", "before", "limit", "ids", "all", "transaction_id", "timestamp",
			"category", "unread_only", "categories", "other"}
		var vs []variant
		for _, base := range []string{`{"type":"ping"}`, `{"type":"resume"}`, `{"type":"history"}`,
			`{"type":"mark_read","all":true}`, `{"type":"mark_read","ids":[]}`, `{"type":"mark_read","category":"fbdi"}`,
			`{"type":"status","transaction_id":"602"}`, `{"type":"archive","ids":["01KJKQ5G8Z3V7X2N4P6R8T0W2Y"]}`,
			`{"type":"preferences"}`, `{"type":"set_preferences","categories":{"general":{"in_app":true,"email":false}}}`} {
			vs = append(vs, variants(base, fields...)...)
		}
		vs = append(vs, variants(`{"type":"set_preferences","categories":{"general":{"in_app":true,"email":false}}}`,
			"categories.general", "categories.general.in_app", "categories.general.email", "categories.general.other",
			"categories.other")...)
		check(t, vs, func(body string) (bool, string) {
			_, code, message := goClient(t, clientEvent(t, body))
			if code != "" && message == "" {
				message = code
			}
			return validate(t, schemas.ClientMessage, []byte(body)) == nil, message
		})
	})
}
