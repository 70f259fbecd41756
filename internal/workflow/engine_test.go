package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/finance/fbdi-notify/internal/local/oraclesim"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/testing/logtest"
	"github.com/finance/fbdi-notify/internal/workflow"
)

var memory = backends()[0]

func TestDuplicatePollsCollapse(t *testing.T) {
	run := func(duplicate bool) (*harness, int) {
		h := newHarness(t, memory)
		h.sim.SetOutcome("InterfaceLoaderController", oraclesim.Outcome{RunFor: 5 * time.Minute})
		h.sendFile("budget_transfer.json")
		// First batch: steps 1-3 and the first poll message.
		h.batch()
		if duplicate { // SQS delivers the poll twice
			h.q.send(t, h.sent.polls[0])
		}
		h.drain()
		return h, h.sim.Calls(oraclesim.OpJobStatus)
	}
	_, want := run(false)
	h, got := run(true)
	assertSequence(t, h, "123", successSequence())
	assertDefinitions(t, h, "InterfaceLoaderController", "BudgetImport")
	if got != want {
		t.Errorf("status calls with a duplicate poll = %d, without = %d: the duplicate chain did not collapse", got, want)
	}
}

func TestStalePollIsDropped(t *testing.T) {
	h := newHarness(t, memory)
	h.sendFile("budget_transfer.json")
	h.drain()
	calls := h.sim.Calls(oraclesim.OpJobStatus)
	for _, body := range []string{
		`{"action":"poll","transaction_id":"602","seq":1}`,  // old
		`{"action":"poll","transaction_id":"602","seq":99}`, // never sent
		`{"action":"poll","transaction_id":"nope","seq":1}`, // unknown workflow
	} {
		h.q.send(t, body)
	}
	h.drain()
	if got := h.sim.Calls(oraclesim.OpJobStatus); got != calls {
		t.Errorf("stale polls made %d status calls", got-calls)
	}
	assertSequence(t, h, "123", successSequence())
	assertNoDeadLetters(t, h)
}

func TestConcurrentDeliveriesActOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		body, err := os.ReadFile("testdata/budget_transfer.json")
		if err != nil {
			t.Fatal(err)
		}
		const n = 4
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = h.engine.Process(context.Background(), body, workflow.Delivery{MessageID: "m", ReceiveCount: 1})
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && !errors.Is(err, workflow.ErrBusy) && !errors.Is(err, workflow.ErrVersion) {
				t.Errorf("Process = %v, want nil, ErrBusy or ErrVersion", err)
			}
		}
		h.q.send(t, string(body)) // a failed delivery comes back
		h.drain()
		assertSequence(t, h, "123", successSequence())
		assertUploads(t, h, 1)
		assertDefinitions(t, h, "InterfaceLoaderController", "BudgetImport")
	})
}

func TestRedeliveryWithinLeaseWaits(t *testing.T) {
	h := newHarness(t, memory)
	h.step = 10 * time.Second // redeliveries come before the lease (about a minute) ends
	h.afterOracle = crashOnce(workflow.OpSubmit, 3)
	h.sendFile("budget_transfer.json")
	h.finish(time.Hour) // the last delivery leaves the workflow to the sweeper while the lease runs
	assertDefinitions(t, h, "InterfaceLoaderController")
	assertSequence(t, h, "123", failedAt(3))
	contains(t, "error", lastFailure(t, h, "123").Error, "in doubt")
	// The crash was at t0; the redeliveries within the lease (at least its
	// 30 s margin) must have been told to wait, not declared in doubt.
	if ended := h.state("602").EndedAt.Sub(t0); ended < 30*time.Second {
		t.Errorf("declared in doubt %s after the crash, before the lease ended", ended)
	}
}

// flakyStore fails Update calls while fail says so; landed failures do
// write before failing, as a lost response would.
type flakyStore struct {
	workflow.Store
	mu      sync.Mutex
	fail    func(s *workflow.State) (fail, land bool)
	updates int
}

var errStore = errors.New("ProvisionedThroughputExceededException")

func (f *flakyStore) Update(ctx context.Context, s *workflow.State) error {
	f.mu.Lock()
	f.updates++
	fail, land := false, false
	if f.fail != nil {
		fail, land = f.fail(s)
	}
	f.mu.Unlock()
	if !fail {
		return f.Store.Update(ctx, s)
	}
	if land {
		c := s.Clone()
		if err := f.Store.Update(ctx, c); err != nil {
			return err
		}
	}
	return errStore
}

func TestCheckpointSurvivesStoreErrors(t *testing.T) {
	tests := []struct {
		name string
		land bool // the failed write did happen
	}{
		{name: "write refused", land: false},
		{name: "write landed but its answer was lost", land: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, memory)
			fs := &flakyStore{Store: h.store}
			failed := false
			fs.fail = func(s *workflow.State) (bool, bool) {
				if !failed && s.DocumentID != "" && s.Pending == nil { // the upload's checkpoint
					failed = true
					return true, tt.land
				}
				return false, false
			}
			var logs bytes.Buffer // written by this test's goroutine only
			var err error
			h.engine, err = workflow.NewEngine(fs, h.oracle, h.sent, h.inbox.notify, h.cfg, workflow.Options{
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				Now:    h.clock.Now, Sleep: func(context.Context, time.Duration) error { h.sleeps.Add(1); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			_, dlq := h.q.urls()
			h.worker = workflow.NewWorker(h.engine, h.sent, dlq, nil)
			h.sendFile("budget_transfer.json")
			h.drain()
			if !failed {
				t.Fatal("the checkpoint was never failed")
			}
			// A landed write is recognised by its result, not reported as a
			// lost Oracle result (an operator alarm).
			if strings.Contains(logs.String(), "oracle result lost") {
				t.Errorf("the checkpoint was not recognised:\n%s", logs.String())
			}
			assertSequence(t, h, "123", successSequence())
			assertUploads(t, h, 1)
			if h.sleeps.Load() != 1 {
				t.Errorf("backoffs = %d, want 1 (between the two checkpoint attempts)", h.sleeps.Load())
			}
		})
	}
}

func TestFinalNotificationIsRetried(t *testing.T) {
	h := newHarness(t, memory)
	var once sync.Once
	notify := h.inbox.notify
	failures := 0
	var err error
	h.engine, err = workflow.NewEngine(h.store, h.oracle, h.sent,
		func(ctx context.Context, user string, n notification.Notification) error {
			if n.Type == notification.TypeUploadCompleted {
				var err error
				once.Do(func() { failures++; err = errors.New("history unavailable") })
				if err != nil {
					return err
				}
			}
			return notify(ctx, user, n)
		}, h.cfg, workflow.Options{Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, dlq := h.q.urls()
	h.worker = workflow.NewWorker(h.engine, h.sent, dlq, nil)
	h.sendFile("budget_transfer.json")
	h.drain()
	if failures != 1 {
		t.Fatalf("the final notification failed %d times, want 1", failures)
	}
	assertSequence(t, h, "123", successSequence())
	if st := h.state("602"); !st.Notified {
		t.Error("Notified not recorded")
	}
}

func TestWorkerHandlesTestdataEvent(t *testing.T) {
	h := newHarness(t, memory)
	data, err := os.ReadFile("testdata/sqs-event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	resp, err := h.worker.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; want no failures (a stale poll and a dead-lettered record)", resp, err)
	}
	dl := h.q.deadLetters(t)
	if len(dl) != 1 || dl[0].Body != "not json at all" || dl[0].SourceID != "2e1424d4-f796-459a-8184-9c92662be6da" {
		t.Fatalf("dead letters = %+v", dl)
	}
	contains(t, "failure_reason", dl[0].Reason, "not a JSON object")
}

// failingSender fails dead-letter sends.
type failingSender struct{ workflow.Sender }

func (failingSender) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return nil, errors.New("sqs unavailable")
}

func TestWorkerKeepsMessageWhenDeadLetterFails(t *testing.T) {
	h := newHarness(t, memory)
	w := workflow.NewWorker(h.engine, failingSender{}, "https://sqs/dlq", nil)
	resp, err := w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "bad", Body: "{"},
		{MessageId: "stale", Body: `{"action":"poll","transaction_id":"1","seq":1}`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "bad" {
		t.Fatalf("failures = %+v, want only the record that could not be dead-lettered", resp.BatchItemFailures)
	}
}

// TestWorkerPanic: a panic while processing one record is logged once, with
// its stack, and the record reported as a batch item failure, for SQS to
// deliver again (and its redrive policy to dead-letter eventually); the
// rest of the batch is processed.
func TestWorkerPanic(t *testing.T) {
	h := newHarness(t, memory)
	engine, err := workflow.NewEngine(h.store, h.oracle, h.sent,
		func(ctx context.Context, userID string, n notification.Notification) error {
			if userID == "666" {
				panic("notifier bug")
			}
			return h.inbox.notify(ctx, userID, n)
		},
		h.cfg, workflow.Options{Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, dlq := h.q.urls()
	log, logs := logtest.New()
	w := workflow.NewWorker(engine, h.sent, dlq, log)
	body, _ := os.ReadFile("testdata/budget_transfer.json")
	var panicking map[string]any
	if err := json.Unmarshal(body, &panicking); err != nil {
		t.Fatal(err)
	}
	panicking["user_id"], panicking["transaction_id"] = "666", "603"
	bad, _ := json.Marshal(panicking)
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-panic"})
	resp, err := w.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "ok", Body: string(body)},
		{MessageId: "p", Body: string(bad)},
		{MessageId: "malformed", Body: "{"},
	}})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "p" {
		t.Fatalf("Handle = %+v, %v; want only the record that panicked reported failed", resp, err)
	}
	if st := h.state("602"); st.Status != workflow.StatusWaiting {
		t.Errorf("workflow 602 is %s; want it waiting for Oracle, as without the panic", st.Status)
	}
	if dl := h.q.deadLetters(t); len(dl) != 1 || dl[0].Body != "{" {
		t.Errorf("dead letters = %+v; want only the malformed record: the redrive policy dead-letters one that keeps panicking", dl)
	}
	var panics []map[string]any
	for _, line := range logs.Lines(t) {
		if line["panic"] != nil {
			panics = append(panics, line)
		}
	}
	if len(panics) != 1 {
		t.Fatalf("%d lines with a panic; want it logged once:\n%s", len(panics), logs)
	}
	p := panics[0]
	stack, _ := p["stack"].(string)
	if p["level"] != "ERROR" || p["panic"] != "notifier bug" || p["message_id"] != "p" || p["aws_request_id"] != "lambda-panic" ||
		!strings.Contains(stack, "workflow_test.TestWorkerPanic") {
		t.Errorf("panic logged as %v; want an error of record p with the value and the stack where it happened", p)
	}
}

// TestWorkerLogsTheInvocation: every line of one invocation, the Engine's
// included, names the invocation (aws_request_id) and the SQS message
// (message_id); an ESS request is ess_request_id; no line uses a retired
// key.
func TestWorkerLogsTheInvocation(t *testing.T) {
	h := newHarness(t, memory)
	_, dlq := h.q.urls()
	invoke := func(t *testing.T, id string, recs ...events.SQSMessage) *logtest.Recorder {
		t.Helper()
		log, logs := logtest.New()
		ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: id})
		if _, err := workflow.NewWorker(h.engine, h.sent, dlq, log).Handle(ctx, events.SQSEvent{Records: recs}); err != nil {
			t.Fatal(err)
		}
		logs.Check(t, map[string]string{"aws_request_id": id, "message_id": ""})
		return logs
	}

	body, _ := os.ReadFile("testdata/budget_transfer.json")
	logs := invoke(t, "lambda-start", events.SQSMessage{MessageId: "m-1", Body: string(body)},
		events.SQSMessage{MessageId: "m-bad", Body: "{"})
	for _, msg := range []string{"workflow started", "oracle accepted", "invalid message", "message sent to the dead-letter queue"} {
		if !strings.Contains(logs.String(), `"msg":"`+msg+`"`) {
			t.Errorf("no line %q: the test no longer covers it\n%s", msg, logs)
		}
	}

	h.sim.FailNext(oraclesim.OpJobStatus, oraclesim.HTTP500, 1)
	if h.sent.pollCount() != 1 {
		t.Fatalf("%d poll messages; want 1", h.sent.pollCount())
	}
	logs = invoke(t, "lambda-poll", events.SQSMessage{MessageId: "m-poll", Body: h.sent.polls[0]})
	var read map[string]any
	for _, line := range logs.Lines(t) {
		if line["msg"] == "oracle read failed" {
			read = line
		}
	}
	if id, _ := read["ess_request_id"].(string); id == "" || read["error"] == nil {
		t.Errorf("oracle read failed logged as %v; want the ESS request id and the error\n%s", read, logs)
	}
}

func TestWorkerNeverPanics(t *testing.T) {
	h := newHarness(t, memory)
	bodies := []string{"", "null", "[]", `{"action":null}`, `{"kind":1}`, `{"transaction_id":{}}`,
		`{"kind":"budget_transfer","transaction_id":"x","user_id":"1","lines":[null,1,"a",{"amount":{}}]}`,
		`{"kind":"journal_import","transaction_id":"y","user_id":"1","lines":[{}]}`,
		`{"kind":"budget_transfer","transaction_id":"z","user_id":"1","lines":[],"options":{"budget_import_params":"{"}}`,
		strings.Repeat("[", 100000)}
	var records []events.SQSMessage
	for i, b := range bodies {
		records = append(records, events.SQSMessage{MessageId: string(rune('a' + i)), Body: b})
	}
	resp, err := h.worker.Handle(context.Background(), events.SQSEvent{Records: records})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	if got := len(h.q.deadLetters(t)); got != len(bodies) {
		t.Fatalf("dead letters = %d, want %d", got, len(bodies))
	}
	for _, tx := range []string{"x", "y", "z"} {
		if st := h.state(tx); st.Status != workflow.StatusFailed || st.Error == "" {
			t.Errorf("%s: %+v", tx, st)
		}
	}
}

func TestInvalidJobParameters(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*workflow.Config)
		body string
		want string
	}{
		{name: "journal without data access set", cfg: func(c *workflow.Config) {},
			body: `{"kind":"journal_import","transaction_id":"j1","user_id":"123","lines":` + journalLines + `}`,
			want: "{data_access_set} has no value (configure it or send options.data_access_set)"},
		{name: "budget with two entries", cfg: func(c *workflow.Config) {},
			body: `{"kind":"budget_transfer","transaction_id":"b1","user_id":"123","lines":` + twoEntries + `}`,
			want: "2 different budget_entry_name values"},
		{name: "line with an unknown field", cfg: func(c *workflow.Config) {},
			body: `{"kind":"budget_transfer","transaction_id":"b2","user_id":"123","lines":[{"ammount":1}]}`,
			want: `line 1: unknown field "ammount"`},
		{name: "line with a wrong type", cfg: func(c *workflow.Config) {},
			body: `{"kind":"budget_transfer","transaction_id":"b3","user_id":"123","lines":[{"period_name":7}]}`,
			want: "line 1: period_name must be a string, not a JSON number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, memory, tt.cfg)
			h.q.send(t, tt.body)
			h.drain()
			dl := h.q.deadLetters(t)
			if len(dl) != 1 {
				t.Fatalf("dead letters = %+v", dl)
			}
			contains(t, "failure_reason", dl[0].Reason, tt.want)
			assertUploads(t, h, 0)
			assertSequence(t, h, "123", failedAt(1))
		})
	}
}

const journalLines = `[{"ledger_id":1,"accounting_date":"2025-09-30","user_je_source_name":"Manual","user_je_category_name":"Adjustment",
"currency_code":"USD","actual_flag":"A","segments":["101"],"entered_dr":5,"group_id":9},
{"ledger_id":1,"accounting_date":"2025-09-30","user_je_source_name":"Manual","user_je_category_name":"Adjustment",
"currency_code":"USD","actual_flag":"A","segments":["102"],"entered_cr":5,"group_id":9}]`

const twoEntries = `[{"source_budget_type":"HYPERION","source_budget_name":"B","budget_entry_name":"E1","line_number":1,
"amount":-1,"currency_code":"AED","period_name":"Sep-25","segments":["1"]},
{"source_budget_type":"HYPERION","source_budget_name":"B","budget_entry_name":"E1","line_number":2,
"amount":1,"currency_code":"AED","period_name":"Sep-25","segments":["2"]},
{"source_budget_type":"HYPERION","source_budget_name":"B","budget_entry_name":"E2","line_number":1,
"amount":-1,"currency_code":"AED","period_name":"Sep-25","segments":["1"]},
{"source_budget_type":"HYPERION","source_budget_name":"B","budget_entry_name":"E2","line_number":2,
"amount":1,"currency_code":"AED","period_name":"Sep-25","segments":["2"]}]`

func TestStatusReply(t *testing.T) {
	h := newHarness(t, memory)
	h.sim.SetOutcome("BudgetImport", oraclesim.Outcome{RunFor: time.Hour})
	h.sendFile("budget_transfer.json")
	h.batch()

	tests := []struct {
		name, user, tx string
		found          bool
	}{
		{name: "owner", user: "123", tx: "602", found: true},
		{name: "another user", user: "124", tx: "602"},
		{name: "unknown transaction", user: "123", tx: "999"},
		{name: "no user", user: "", tx: "602"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, found, err := h.status.Status(context.Background(), tt.user, tt.tx)
			if err != nil || found != tt.found || (reply != nil) != tt.found {
				t.Fatalf("Status = %v, %v, %v; want found %v", reply, found, err, tt.found)
			}
			if !found {
				return
			}
			data, err := json.Marshal(reply)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			_ = json.Unmarshal(data, &got)
			want := map[string]any{"type": "workflow_status", "transaction_id": "602", "kind": "budget_transfer",
				"state": "waiting", "current_step": "Interface Loader", "step_number": 3.0, "total_steps": 5.0}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v (reply %s)", k, got[k], v, data)
				}
			}
			steps, _ := got["steps"].([]any)
			if len(steps) != 3 {
				t.Fatalf("steps = %v", got["steps"])
			}
			last := steps[2].(map[string]any)
			if last["step"] != "Interface Loader" || last["status"] != "processing" || last["request_id"] == nil ||
				last["started_at"] == nil {
				t.Errorf("step 3 = %v", last)
			}
			if _, ok := got["updated_at"]; !ok {
				t.Error("no updated_at")
			}
		})
	}
}
