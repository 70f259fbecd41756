package lambdatest_test

// Benchmarks of every bootstrap under aws-lambda-rie (`make bench`): the
// cold start, the warm invocation with a realistic event of events/, and the
// AWS calls each invocation makes. bench_rig_test.go holds the instruments.

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/connection"
	"github.com/finance/fbdi-notify/internal/local/oraclesim"
	"github.com/finance/fbdi-notify/internal/testing/lambdatest"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// rig is the world of one benchmark run: the sandbox's tables and queues on
// moto_server behind a counting proxy, a fake management API, Oracle
// simulated, and the live connections of user 123.
type rig struct {
	sb     *sandbox
	proxy  *countingProxy
	mgmt   *fakeManagementAPI
	oracle *oraclesim.Sim
	conns  []string          // connection IDs of user 123, rows of the connections table
	env    map[string]string // every function gets all of it
	store  *connection.DynamoStore
}

func newRig(b *testing.B, conns int) *rig {
	b.Helper()
	sb := newSandbox(b, "ConnectionsTable", "NotificationsTable", "WorkflowsTable")
	for _, q := range []string{"WORKFLOW_QUEUE_URL", "WORKFLOW_DLQ_URL", "NOTIFICATION_DLQ_URL"} {
		sb.queue(b, q)
	}
	r := &rig{sb: sb, proxy: newCountingProxy(b), mgmt: newFakeManagementAPI(b),
		oracle: oraclesim.New(oraclesim.Options{Username: "fbdi.integration", Password: "sim-password"})}
	oracleSrv := httptest.NewServer(r.oracle)
	b.Cleanup(oracleSrv.Close)

	r.store = connection.NewDynamoStore(sb.db, sb.tables["ConnectionsTable"], time.Now)
	for i := range conns {
		r.conns = append(r.conns, r.connect(b, fmt.Sprintf("bench-connection-%d=", i)))
	}
	r.env = maps.Clone(sb.env)
	maps.Copy(r.env, map[string]string{
		"AWS_ENDPOINT_URL":    r.proxy.url,
		"MANAGEMENT_ENDPOINT": r.mgmt.endpoint,
		"LOG_LEVEL":           "info", // as deployed: debug lines would be timed too
		"JWT_SECRET":          testSecret,
		"ORACLE_BASE_URL":     oracleSrv.URL, "ORACLE_USERNAME": "fbdi.integration", "ORACLE_PASSWORD": "sim-password",
	})
	return r
}

// connect records the connection id of user 123, as the ConnectFunction
// does, and returns id.
func (r *rig) connect(b *testing.B, id string) string {
	b.Helper()
	if err := r.store.Put(r.sb.ctx, connection.New(id, "123", time.Now(), "203.0.113.24", "bench")); err != nil {
		b.Fatal(err)
	}
	return id
}

// benchCase is one function invoked with one kind of event.
type benchCase struct {
	name     string
	function string // functions/<function>
	conns    int    // live connections of user 123
	unit     string // what one invocation handles, for the calls metrics; "op" when ""
	// event returns the event of invocation i (0 is the cold one).
	event func(b *testing.B, r *rig, i int) []byte
	// check fails b unless payload is the function's success.
	check func(b *testing.B, payload []byte)
	// verify, if set, fails b unless the n warm invocations had their
	// effects; it runs after the calls were counted.
	verify func(b *testing.B, r *rig, n int)
}

// okResponse checks an API Gateway proxy response with status 200.
func okResponse(b *testing.B, payload []byte) {
	b.Helper()
	if r := response(b, payload); r.StatusCode != http.StatusOK {
		b.Fatalf("status %d, body %q; want 200", r.StatusCode, r.Body)
	}
}

// noFailures checks a batch response without item failures.
func noFailures(b *testing.B, payload []byte) {
	b.Helper()
	if failed := batchFailures(b, payload); len(failed) != 0 {
		b.Fatalf("batch item failures %v", failed)
	}
}

// postsPerInvocation checks that the fake management API got want posts
// per invocation: the notifications reached every live connection.
func postsPerInvocation(want int) func(b *testing.B, r *rig, n int) {
	return func(b *testing.B, r *rig, n int) {
		b.Helper()
		if got := r.mgmt.reset(); got != want*n {
			b.Fatalf("%d posts to connections for %d invocations, want %d each", got, n, want)
		}
	}
}

// notificationEvent is an event of the notification queue with one message, the
// fixture's first (for user 123), under a message ID of its own.
func notificationEvent(b *testing.B, _ *rig, i int) []byte {
	b.Helper()
	var ev struct {
		Records []struct {
			Body string `json:"body"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(fixture(b, "notify-sqs.json"), &ev); err != nil || len(ev.Records) == 0 {
		b.Fatalf("events/notify-sqs.json: %v", err)
	}
	return event(b, "notify-sqs.json", onlyRecords(queued{id: fmt.Sprintf("bench-%d", i), body: ev.Records[0].Body}))
}

var benchCases = []benchCase{
	{name: "connect", function: "connect",
		event: func(b *testing.B, _ *rig, i int) []byte {
			return event(b, "connect.json", from(fmt.Sprintf("bench-%d=", i)),
				offer("bearer, "+mint(b, testSecret, "123", time.Now())))
		},
		check: okResponse},
	{name: "disconnect", function: "disconnect",
		event: func(b *testing.B, _ *rig, _ int) []byte { return fixture(b, "disconnect.json") },
		check: okResponse},
	{name: "message-history", function: "message", conns: 1,
		event: func(b *testing.B, r *rig, _ int) []byte { return event(b, "history.json", from(r.conns[0])) },
		check: func(b *testing.B, payload []byte) {
			b.Helper()
			if got := answer(b, payload); got["type"] != "history" {
				b.Fatalf("reply %v, want history", got)
			}
		}},
	// A new connection each time: a connection is welcomed once.
	{name: "welcome", function: "welcome",
		event: func(b *testing.B, r *rig, i int) []byte {
			id := r.connect(b, fmt.Sprintf("bench-welcome-%d=", i))
			return event(b, "welcome.json", set("Records.0.dynamodb.Keys.connectionId.S", id),
				set("Records.0.dynamodb.NewImage.connectionId.S", id))
		},
		check: noFailures, verify: postsPerInvocation(1)},
	{name: "notify-1-connection", function: "notify", conns: 1, unit: "notification",
		event: notificationEvent, check: noFailures, verify: postsPerInvocation(1)},
	{name: "notify-10-connections", function: "notify", conns: 10, unit: "notification",
		event: notificationEvent, check: noFailures, verify: postsPerInvocation(10)},
	// The first delivery of a budget transfer: zip, upload, Interface
	// Loader submitted, checkpoint, poll message; a new transaction each.
	{name: "worker-first-delivery", function: "worker", conns: 1,
		event: func(b *testing.B, _ *rig, i int) []byte {
			var msg map[string]any
			if err := json.Unmarshal(fixture(b, "messages/budget-transfer.json"), &msg); err != nil {
				b.Fatal(err)
			}
			msg["transaction_id"] = strconv.Itoa(700000 + i)
			body, err := json.Marshal(msg)
			if err != nil {
				b.Fatal(err)
			}
			return event(b, "worker-sqs.json", set("Records.0.body", string(body)),
				set("Records.0.messageId", fmt.Sprintf("bench-%d", i)))
		},
		check: noFailures,
		verify: func(b *testing.B, r *rig, n int) {
			b.Helper()
			if got := len(r.oracle.Uploads()); got != n+1 { // the cold invocation's too
				b.Fatalf("Oracle got %d uploads for %d deliveries, want one each", got, n+1)
			}
		}},
	// A sweep that finds nothing due, as almost every sweep does.
	{name: "sweeper-idle", function: "sweeper",
		event: func(*testing.B, *rig, int) []byte { return []byte(scheduledEvent) },
		check: func(b *testing.B, payload []byte) {
			b.Helper()
			var res workflow.SweepResult
			if err := json.Unmarshal(payload, &res); err != nil || res != (workflow.SweepResult{}) {
				b.Fatalf("sweep result %s (%v), want nothing due", payload, err)
			}
		}},
}

// BenchmarkFunctions runs each bootstrap under aws-lambda-rie, cold once and
// then warm b.N times, and reports:
//
//   - bootstrap-MB: the size of the host build (make sizes gives arm64's);
//   - init-ms: the emulator's INIT REPORT of the cold start (process start
//     to the runtime's first request for an event, Lambda's Init Duration);
//   - cold-ms: the first invocation as the caller sees it, init included;
//   - ns/op: a warm invocation as the caller sees it, the emulator's HTTP
//     hop included; lambda-ms/op: its Duration in the emulator's REPORT;
//   - dynamodb-calls/<unit> and sqs-calls/<unit>: the AWS API requests of
//     a warm invocation, retries included, counted at a proxy in front of
//     moto_server; the log names each call.
//
// Without RIE (or moto_server) each skips as the tests of the package do,
// and fails under CI.
func BenchmarkFunctions(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) { benchFunction(b, bc) })
	}
}

func benchFunction(b *testing.B, bc benchCase) {
	verboseEmulator(b)
	path := bootstrap(b, bc.function)
	r := newRig(b, bc.conns)
	f := lambdatest.Start(b, path, r.env)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}

	cold := time.Now()
	bc.check(b, f.Invoke(b, bc.event(b, r, 0)))
	coldMS := float64(time.Since(cold).Microseconds()) / 1000

	events := make([][]byte, b.N)
	for i := range events {
		events[i] = bc.event(b, r, i+1)
	}
	r.proxy.reset()
	r.mgmt.reset()
	b.ResetTimer()
	for _, ev := range events {
		bc.check(b, f.Invoke(b, ev))
	}
	b.StopTimer()

	calls := r.proxy.reset()
	if bc.verify != nil {
		bc.verify(b, r, b.N)
	}
	initMS, durations := reports(b, f, b.N+1)
	unit := bc.unit
	if unit == "" {
		unit = "op"
	}
	ddb, ddbCalls := perOp(calls, "DynamoDB_", b.N)
	sqsN, sqsCalls := perOp(calls, "AmazonSQS.", b.N)
	b.ReportMetric(float64(info.Size())/(1<<20), "bootstrap-MB")
	b.ReportMetric(initMS, "init-ms")
	b.ReportMetric(coldMS, "cold-ms")
	b.ReportMetric(mean(durations[1:]), "lambda-ms/op")
	b.ReportMetric(ddb, "dynamodb-calls/"+unit)
	b.ReportMetric(sqsN, "sqs-calls/"+unit)
	b.Logf("per %s: DynamoDB [%s]; SQS [%s]", unit, ddbCalls, sqsCalls)
}
