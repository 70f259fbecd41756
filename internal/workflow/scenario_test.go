package workflow_test

import (
	"cmp"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/local/oraclesim"
	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// forEachBackend runs test against the memory backend and against moto_server.
func forEachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
}

func assertSequence(tb testing.TB, h *harness, user string, want []string) {
	tb.Helper()
	if got := h.inbox.sequence(user); !reflect.DeepEqual(got, want) {
		tb.Fatalf("notifications of user %s:\n got %v\nwant %v", user, got, want)
	}
}

func assertDefinitions(tb testing.TB, h *harness, want ...string) {
	tb.Helper()
	if got := h.definitions(); !slices.Equal(got, want) {
		tb.Fatalf("jobs submitted to Oracle = %v, want each exactly once: %v", got, want)
	}
}

func assertUploads(tb testing.TB, h *harness, want int) {
	tb.Helper()
	if got := len(h.sim.Uploads()); got != want {
		tb.Fatalf("documents uploaded to Oracle = %d, want %d", got, want)
	}
}

func assertNoDeadLetters(tb testing.TB, h *harness) {
	tb.Helper()
	if dl := h.q.deadLetters(tb); len(dl) != 0 {
		tb.Fatalf("dead letters = %+v, want none", dl)
	}
}

// lastFailure returns the oracle_upload_failed notification of the user.
func lastFailure(tb testing.TB, h *harness, user string) notification.Notification {
	tb.Helper()
	notes := h.inbox.of(user)
	for i := len(notes) - 1; i >= 0; i-- {
		if notes[i].Type == notification.TypeUploadFailed {
			return notes[i]
		}
	}
	tb.Fatalf("user %s got no oracle_upload_failed; got %v", user, h.inbox.sequence(user))
	return notification.Notification{}
}

func TestBudgetTransferSucceeds(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		h.sendFile("budget_transfer.json")
		h.drain()

		assertSequence(t, h, "123", successSequence())
		assertUploads(t, h, 1)
		assertDefinitions(t, h, "InterfaceLoaderController", "BudgetImport")
		assertNoDeadLetters(t, h)

		up := h.sim.Uploads()[0]
		if up.Account != "fin$/budgetaryControl$/import$" || up.FileName != "XccBudgetInterface_602.zip" {
			t.Errorf("upload = %s to %s", up.FileName, up.Account)
		}
		csv := string(up.Files["XccBudgetInterface.csv"])
		if !strings.HasPrefix(csv, "HYPERION,MIC_HQ_MONTHLY,MIC_HQ_MONTHLY_555,1,-650,AED,Sep-25,,10001,,5010016,") ||
			strings.Count(csv, "\n") != 2 {
			t.Errorf("uploaded CSV = %q", csv)
		}
		subs := h.sim.Submissions()
		if subs[0].Params != "51,"+up.DocumentID+",N,N" {
			t.Errorf("InterfaceLoaderController parameters = %q", subs[0].Params)
		}
		if subs[1].Params != "HYPERION,MIC_HQ_MONTHLY,MIC_HQ_MONTHLY_555,INCREMENT,#NULL,ESS,XCC,ADJUST_BUDGET,NA" ||
			subs[1].Package != workflow.BudgetImportPackage {
			t.Errorf("BudgetImport = %s %q", subs[1].Package, subs[1].Params)
		}

		// Every notification: right transaction, steps named as in
		// docs/protocol.md#workflow-steps, IDs
		// sorting in the order sent (so history and resume replay in order).
		notes := h.inbox.of("123")
		wantSteps := []string{"Preparing Data", "Upload to UCM", "Interface Loader", "Budget Import", "Verify Results"}
		for i, n := range notes {
			if n.TransactionID != "602" {
				t.Errorf("note %d has transaction %q", i, n.TransactionID)
			}
			if n.Type == notification.TypeUploadProgress && (n.Step != wantSteps[n.StepNumber-1] || n.TotalSteps != 5) {
				t.Errorf("note %d: step %d %q of %d", i, n.StepNumber, n.Step, n.TotalSteps)
			}
			if i > 0 && notes[i-1].ID >= n.ID {
				t.Errorf("note %d ID %s does not sort after %s", i, n.ID, notes[i-1].ID)
			}
		}
		if last := notes[len(notes)-1]; !last.Success {
			t.Errorf("oracle_upload_completed without success: %+v", last)
		}

		st := h.state("602")
		if st.Status != workflow.StatusSucceeded || !st.Notified || st.Pending != nil || st.DocumentID != up.DocumentID {
			t.Errorf("stored workflow = %+v", st)
		}
		reply, found, err := h.status.Status(context.Background(), "123", "602")
		if err != nil || !found {
			t.Fatalf("Status = %v, %v", found, err)
		}
		sr := reply.(workflow.StatusReply)
		if sr.State != "succeeded" || sr.CurrentStep != "Verify Results" || len(sr.Steps) != 5 ||
			sr.Steps[2].RequestID != subs[0].RequestID || sr.Steps[3].RequestID != subs[1].RequestID ||
			sr.Steps[1].DocumentID != up.DocumentID {
			t.Errorf("status reply = %+v", sr)
		}
	})
}

func TestJournalImportSucceeds(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		h.sendFile("journal_import.json")
		h.drain()

		assertSequence(t, h, "123", successSequence())
		assertUploads(t, h, 1)
		assertDefinitions(t, h, "InterfaceLoaderController", "JournalImportLauncher", "AutomaticPosting")
		assertNoDeadLetters(t, h)
		up := h.sim.Uploads()[0]
		if up.Account != "fin$/generalLedger$/import$" || up.Files["GlInterface.csv"] == nil {
			t.Errorf("upload = %s to %s with %d files", up.FileName, up.Account, len(up.Files))
		}
		subs := h.sim.Submissions()
		want := []string{"15," + up.DocumentID + ",N,N", "300000046975980,Spreadsheet,300000046975971,603,N,N",
			"300000001234567"}
		for i, s := range subs {
			if s.Params != want[i] {
				t.Errorf("%s parameters = %q, want %q", s.Definition, s.Params, want[i])
			}
		}
		steps := []string{"Preparing Data", "Upload to UCM", "Interface Loader", "Journal Import", "AutoPost"}
		for _, n := range h.inbox.of("123") {
			if n.Type == notification.TypeUploadProgress && n.Step != steps[n.StepNumber-1] {
				t.Errorf("step %d is named %q", n.StepNumber, n.Step)
			}
		}
	})
}

func TestOracleJobFails(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		def      string
		outcome  oraclesim.Outcome
		failStep int
		defs     []string
		want     []string // in the oracle_upload_failed error
	}{
		{name: "budget import ends in ERROR", file: "budget_transfer.json", def: "BudgetImport",
			outcome:  oraclesim.Outcome{State: oracle.StateError, Log: "XCC-00123 Budget entry MIC_HQ_MONTHLY_555 failed the funds check"},
			failStep: 4, defs: []string{"InterfaceLoaderController", "BudgetImport"},
			want: []string{"BudgetImport", "ended in ERROR", "XCC-00123 Budget entry MIC_HQ_MONTHLY_555 failed the funds check"}},
		{name: "budget import child ends in WARNING", file: "budget_transfer.json", def: "BudgetImport",
			outcome: oraclesim.Outcome{State: oracle.StateSucceeded, ChildState: oracle.StateWarning,
				ChildName: "ImportBudgetAmounts", ChildLog: "Row 2 rejected: XCC_BUDGET_ACCOUNT_INVALID 10001..5010021"},
			failStep: 4, defs: []string{"InterfaceLoaderController", "BudgetImport"},
			want: []string{"ended SUCCEEDED, but its child ImportBudgetAmounts", "WARNING", "rejected some rows",
				"Row 2 rejected: XCC_BUDGET_ACCOUNT_INVALID 10001..5010021"}},
		{name: "interface loader cancelled", file: "budget_transfer.json", def: "InterfaceLoaderController",
			outcome:  oraclesim.Outcome{State: oracle.StateCancelled, Log: "Request cancelled by FIN_ADMIN"},
			failStep: 3, defs: []string{"InterfaceLoaderController"},
			want: []string{"ended in CANCELLED", "Request cancelled by FIN_ADMIN"}},
		{name: "autopost child ends in ERROR", file: "journal_import.json", def: "AutomaticPosting",
			outcome: oraclesim.Outcome{State: oracle.StateSucceeded, ChildState: oracle.StateError,
				ChildLog: "GL-POST-0001 period Sep-25 is closed"},
			failStep: 5, defs: []string{"InterfaceLoaderController", "JournalImportLauncher", "AutomaticPosting"},
			want: []string{"AutomaticPosting", "ended in ERROR", "GL-POST-0001 period Sep-25 is closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b backend) {
				h := newHarness(t, b)
				h.sim.SetOutcome(tt.def, tt.outcome)
				h.sendFile(tt.file)
				h.drain()
				assertSequence(t, h, "123", failedAt(tt.failStep))
				assertUploads(t, h, 1)
				assertDefinitions(t, h, tt.defs...)
				assertNoDeadLetters(t, h)
				contains(t, "error", lastFailure(t, h, "123").Error, tt.want...)
			})
		})
	}
}

func TestOracleUnavailableThenRecovers(t *testing.T) {
	tests := []struct {
		name      string
		op        string
		fault     oraclesim.Fault
		retryStep int // the step that tells the user Oracle is unavailable; 0 when none does
	}{
		{name: "500 on upload", op: oraclesim.OpUpload, fault: oraclesim.HTTP500, retryStep: 2},
		{name: "503 on submit", op: oraclesim.OpSubmit, fault: oraclesim.HTTP503, retryStep: 3},
		{name: "429 on submit", op: oraclesim.OpSubmit, fault: oraclesim.HTTP429, retryStep: 3},
		{name: "500 on job status", op: oraclesim.OpJobStatus, fault: oraclesim.HTTP500, retryStep: 3},
		{name: "unreadable job status", op: oraclesim.OpJobStatus, fault: oraclesim.Malformed}, // polled again, no retry
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b backend) {
				h := newHarness(t, b)
				h.sim.FailNext(tt.op, tt.fault, 1)
				h.sendFile("budget_transfer.json")
				h.drain()
				assertSequence(t, h, "123", withRetries(successSequence(), tt.retryStep, 1))
				assertUploads(t, h, 1)
				assertDefinitions(t, h, "InterfaceLoaderController", "BudgetImport")
				assertNoDeadLetters(t, h)
				if tt.op == oraclesim.OpUpload && h.sim.Calls(oraclesim.OpUpload) != 2 {
					t.Errorf("upload calls = %d, want 2 (one refused, one retried)", h.sim.Calls(oraclesim.OpUpload))
				}
				if h.sleeps.Load() != 0 {
					t.Errorf("the engine slept %d times", h.sleeps.Load())
				}
			})
		})
	}
}

func TestOracleUnavailableTooLong(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, func(c *workflow.Config) { c.MaxAttempts = 3 })
		h.sim.FailNext(oraclesim.OpUpload, oraclesim.HTTP503, 10)
		h.sendFile("budget_transfer.json")
		h.drain()
		assertSequence(t, h, "123", withRetries(failedAt(2), 2, 2))
		assertUploads(t, h, 0)
		if got := h.sim.Calls(oraclesim.OpUpload); got != 3 {
			t.Errorf("upload calls = %d, want MaxAttempts = 3", got)
		}
		contains(t, "error", lastFailure(t, h, "123").Error, "Oracle was unavailable", "did not accept the upload to UCM after 3 attempts", "HTTP 503")
	})
}

func TestPermanentOracleErrors(t *testing.T) {
	tests := []struct {
		name     string
		op       string
		fault    oraclesim.Fault
		failStep int
		defs     []string
		want     []string
	}{
		{name: "401 on upload", op: oraclesim.OpUpload, fault: oraclesim.HTTP401, failStep: 2,
			want: []string{"credentials (HTTP 401)", "upload to UCM"}},
		{name: "403 on submit", op: oraclesim.OpSubmit, fault: oraclesim.HTTP403, failStep: 3,
			want: []string{"credentials (HTTP 403)", "submission of InterfaceLoaderController"}},
		{name: "ReqstId -1", op: oraclesim.OpSubmit, fault: oraclesim.Rejected, failStep: 3,
			want: []string{"rejected the submission of InterfaceLoaderController (ReqstId -1)"}},
		{name: "401 on job status", op: oraclesim.OpJobStatus, fault: oraclesim.HTTP401, failStep: 3,
			defs: []string{"InterfaceLoaderController"}, want: []string{"credentials (HTTP 401/403)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b backend) {
				h := newHarness(t, b)
				h.sim.FailNext(tt.op, tt.fault, 1)
				h.sendFile("budget_transfer.json")
				h.drain()
				assertSequence(t, h, "123", failedAt(tt.failStep))
				assertDefinitions(t, h, tt.defs...)
				if got := h.sim.Calls(tt.op); got != 1 {
					t.Errorf("%s calls = %d, want 1: a permanent error is not retried", tt.op, got)
				}
				assertNoDeadLetters(t, h)
				contains(t, "error", lastFailure(t, h, "123").Error, tt.want...)
			})
		})
	}
}

func TestAmbiguousAnswerIsInDoubt(t *testing.T) {
	tests := []struct {
		name     string
		op       string
		fault    oraclesim.Fault
		failStep int
		want     []string
	}{
		{name: "timeout on submit", op: oraclesim.OpSubmit, fault: oraclesim.Timeout, failStep: 3,
			want: []string{"InterfaceLoaderController", "is in doubt", "did not answer in time", "not submitted again"}},
		{name: "unreadable 200 on submit", op: oraclesim.OpSubmit, fault: oraclesim.Malformed, failStep: 3,
			want: []string{"InterfaceLoaderController", "is in doubt", "answered HTTP 200", "not submitted again"}},
		{name: "500 on submit", op: oraclesim.OpSubmit, fault: oraclesim.HTTP500, failStep: 3,
			want: []string{"InterfaceLoaderController", "is in doubt", "HTTP 500", "not submitted again"}},
		{name: "unreadable 200 on upload", op: oraclesim.OpUpload, fault: oraclesim.Malformed, failStep: 2,
			want: []string{"upload of XccBudgetInterface_602.zip", "is in doubt", "answered HTTP 200", "not uploaded again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b backend) {
				h := newHarness(t, b)
				h.sim.FailNext(tt.op, tt.fault, 1)
				h.sendFile("budget_transfer.json")
				h.drain()
				assertSequence(t, h, "123", failedAt(tt.failStep))
				if got := h.sim.Calls(tt.op); got != 1 {
					t.Errorf("%s calls = %d, want 1: an ambiguous call is never repeated", tt.op, got)
				}
				contains(t, "error", lastFailure(t, h, "123").Error, tt.want...)
			})
		})
	}
}

func TestDuplicateDelivery(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		h.sendFile("budget_transfer.json")
		h.sendFile("budget_transfer.json") // SQS delivers at least once
		h.drain()
		assertSequence(t, h, "123", successSequence())
		assertUploads(t, h, 1)
		assertDefinitions(t, h, "InterfaceLoaderController", "BudgetImport")

		// Once more after the end, with other spacing and integer IDs: still a duplicate.
		body := h.sendFile("budget_transfer.json")
		var v map[string]any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		v["transaction_id"] = 602
		again, _ := json.MarshalIndent(v, "", "    ")
		h.q.send(t, string(again))
		h.drain()
		assertSequence(t, h, "123", successSequence())
		assertUploads(t, h, 1)
		assertDefinitions(t, h, "InterfaceLoaderController", "BudgetImport")
		assertNoDeadLetters(t, h)
	})
}

func TestCrashBeforeCheckpointIsInDoubt(t *testing.T) {
	tests := []struct {
		name   string
		file   string // default budget_transfer.json
		tx     string // default 602
		op     string
		step   int
		defs   []string
		upload int
		want   []string
	}{
		{name: "after upload", op: workflow.OpUpload, step: 2, upload: 1,
			want: []string{"upload of XccBudgetInterface_602.zip", "fin$/budgetaryControl$/import$", "in doubt", "not uploaded again"}},
		{name: "after interface loader submit", op: workflow.OpSubmit, step: 3, upload: 1,
			defs: []string{"InterfaceLoaderController"},
			want: []string{"submission of InterfaceLoaderController", "in doubt", "not submitted again"}},
		{name: "after budget import submit", op: workflow.OpSubmit, step: 4, upload: 1,
			defs: []string{"InterfaceLoaderController", "BudgetImport"},
			want: []string{"submission of BudgetImport", "step 4 (Budget Import)", "in doubt"}},
		{name: "after autopost submit", file: "journal_import.json", tx: "603", op: workflow.OpSubmit, step: 5, upload: 1,
			defs: []string{"InterfaceLoaderController", "JournalImportLauncher", "AutomaticPosting"},
			want: []string{"submission of AutomaticPosting", "step 5 (AutoPost)", "in doubt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b backend) {
				h := newHarness(t, b)
				h.afterOracle = crashOnce(tt.op, tt.step)
				h.sendFile(cmp.Or(tt.file, "budget_transfer.json"))
				h.drain()
				assertUploads(t, h, tt.upload)
				assertDefinitions(t, h, tt.defs...)
				assertSequence(t, h, "123", failedAt(tt.step))
				contains(t, "error", lastFailure(t, h, "123").Error, tt.want...)
				st := h.state(cmp.Or(tt.tx, "602"))
				if st.Status != workflow.StatusFailed || st.Pending != nil {
					t.Errorf("stored workflow: status %s pending %+v", st.Status, st.Pending)
				}
			})
		})
	}
}

func TestCrashAfterCheckpointResumes(t *testing.T) {
	budget := []string{"InterfaceLoaderController", "BudgetImport"}
	journal := []string{"InterfaceLoaderController", "JournalImportLauncher", "AutomaticPosting"}
	tests := []struct {
		name string
		file string
		op   string
		step int
		defs []string
	}{
		{name: "after upload", file: "budget_transfer.json", op: workflow.OpUpload, step: 2, defs: budget},
		{name: "after interface loader submit", file: "budget_transfer.json", op: workflow.OpSubmit, step: 3, defs: budget},
		{name: "after budget import submit", file: "budget_transfer.json", op: workflow.OpSubmit, step: 4, defs: budget},
		{name: "after journal import submit", file: "journal_import.json", op: workflow.OpSubmit, step: 4, defs: journal},
		{name: "after autopost submit", file: "journal_import.json", op: workflow.OpSubmit, step: 5, defs: journal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b backend) {
				h := newHarness(t, b)
				h.afterCheckpoint = crashOnce(tt.op, tt.step)
				h.sendFile(tt.file)
				h.drain()
				assertSequence(t, h, "123", successSequence())
				assertUploads(t, h, 1)
				assertDefinitions(t, h, tt.defs...)
				assertNoDeadLetters(t, h)
			})
		})
	}
}

func TestSlowJobIsPolledNotSleptOn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		interval := time.Duration(0)
		if b.name == "memory" { // the memory queue does not really delay, so test the real interval there
			interval = 10 * time.Second
		}
		h := newHarness(t, b, func(c *workflow.Config) { c.PollInterval = interval })
		h.sim.SetOutcome("InterfaceLoaderController", oraclesim.Outcome{RunFor: 9 * time.Minute})
		h.sendFile("budget_transfer.json")
		h.drain()
		assertSequence(t, h, "123", successSequence())
		assertDefinitions(t, h, "InterfaceLoaderController", "BudgetImport")
		// 9 minutes with a batch every 2 minutes: at least 5 polls of the
		// loader, plus at least one each for the import.
		if n := h.sent.pollCount(); n < 6 {
			t.Errorf("poll messages sent = %d, want at least 6", n)
		}
		if n := h.sim.Calls(oraclesim.OpJobStatus); n < 6 {
			t.Errorf("status calls = %d, want at least 6", n)
		}
		for i, d := range h.sent.delays {
			if d != int32(interval/time.Second) {
				t.Errorf("poll %d DelaySeconds = %d, want %d", i, d, interval/time.Second)
			}
		}
		if h.sleeps.Load() != 0 {
			t.Errorf("the engine slept %d times", h.sleeps.Load())
		}
		for i, body := range h.sent.polls {
			var p workflow.Poll
			if err := json.Unmarshal([]byte(body), &p); err != nil || p.Action != "poll" || p.Seq != int64(i+1) {
				t.Errorf("poll message %d = %s", i, body)
			}
		}
	})
}

func TestDeadlineExceeded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, func(c *workflow.Config) { c.Deadline = 10 * time.Minute })
		h.sim.SetOutcome("InterfaceLoaderController", oraclesim.Outcome{RunFor: 3 * time.Hour})
		h.sendFile("budget_transfer.json")
		h.drain()
		assertSequence(t, h, "123", failedAt(3))
		assertDefinitions(t, h, "InterfaceLoaderController")
		contains(t, "error", lastFailure(t, h, "123").Error, "Oracle did not finish Interface Loader within 10m", "RUNNING")
		if polls := h.sent.pollCount(); polls < 4 || polls > 7 {
			t.Errorf("poll messages = %d, want about 10m / 2m", polls)
		}
	})
}

func TestInvalidMessages(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		reason   []string // in the dead letter's failure_reason
		txID     string   // failure record expected when set
		userNote []string // notifications of user 123
	}{
		{name: "not JSON", file: "truncated.json", reason: []string{"not a JSON object"}},
		{name: "unknown kind", file: "unknown_kind.json", reason: []string{`unknown kind "payroll_run"`}, txID: "605",
			userNote: []string{"failed"}},
		{name: "lines that do not net to zero", file: "budget_unbalanced.json",
			reason: []string{`budget entry "MIC_HQ_MONTHLY_556" nets to -50`}, txID: "604",
			userNote: failedAt(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b backend) {
				h := newHarness(t, b)
				body := h.sendFile(tt.file)
				h.drain()
				dl := h.q.deadLetters(t)
				if len(dl) != 1 || dl[0].Body != body || dl[0].SourceID == "" {
					t.Fatalf("dead letters = %+v, want the original message once", dl)
				}
				contains(t, "failure_reason", dl[0].Reason, tt.reason...)
				assertUploads(t, h, 0)
				assertDefinitions(t, h)
				assertSequence(t, h, "123", tt.userNote)
				if tt.txID == "" {
					return
				}
				st := h.state(tt.txID)
				if st.Status != workflow.StatusFailed || !st.Invalid || st.UserID != "123" {
					t.Errorf("failure record = %+v", st)
				}
				contains(t, "failure record", st.Error, tt.reason...)
				contains(t, "user's error", lastFailure(t, h, "123").Error, tt.reason...)

				// The same message again is dead-lettered again, and nothing else happens.
				h.q.send(t, body)
				h.drain()
				if n := len(h.q.deadLetters(t)); n != 2 {
					t.Errorf("dead letters after a redelivery = %d, want 2", n)
				}
				assertSequence(t, h, "123", tt.userNote)
			})
		})
	}
}

func TestConflictingPayload(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b)
		body := h.sendFile("budget_transfer.json")
		h.drain()
		changed := strings.Replace(body, `"To training"`, `"To conferences"`, 1)
		changed = strings.Replace(changed, `"user_id": 123`, `"user_id": "77"`, 1)
		h.q.send(t, changed)
		h.drain()

		assertSequence(t, h, "123", successSequence())
		assertUploads(t, h, 1)
		dl := h.q.deadLetters(t)
		if len(dl) != 1 || dl[0].Body != changed {
			t.Fatalf("dead letters = %+v, want the conflicting message", dl)
		}
		contains(t, "failure_reason", dl[0].Reason, "transaction 602 was already received with different content")
		contains(t, "user 77's error", lastFailure(t, h, "77").Error, "already received with different content")
		st := h.state("602")
		if st.Status != workflow.StatusSucceeded || len(st.Rejections) != 1 || st.UserID != "123" {
			t.Errorf("workflow after a conflict = %+v", st)
		}
		if _, found, _ := h.status.Status(context.Background(), "77", "602"); found {
			t.Error("user 77 can read user 123's transaction")
		}
	})
}

// withRetries inserts n retry notices ("2:retry") of step after its
// "step:processing" in seq; a step of 0 leaves seq as it is.
func withRetries(seq []string, step, n int) []string {
	if step == 0 {
		return seq
	}
	i := slices.Index(seq, strconv.Itoa(step)+":processing")
	out := slices.Clone(seq[:i+1])
	for range n {
		out = append(out, strconv.Itoa(step)+":retry")
	}
	return append(out, seq[i+1:]...)
}
