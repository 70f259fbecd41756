package lambdatest_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/workflow"
)

// scheduledEvent is what EventBridge sends SweeperFunction on its schedule.
const scheduledEvent = `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
"source":"aws.events","account":"123456789012","time":"2026-12-04T13:00:00Z","region":"us-east-1",
"resources":["arn:aws:events:us-east-1:123456789012:rule/fbdi-SweeperFunctionSweep"],"detail":{}}`

// The SweeperFunction, on a scheduled event, reads the workflows table's
// "due" index: a waiting workflow whose poll message was lost gets the next
// poll on the workflow queue; one whose Oracle call outlived its lease fails
// in doubt, and its owner's live client and history get
// oracle_upload_failed; one not yet due is left alone.
func TestSweeperFunction(t *testing.T) {
	sb := newSandbox(t, "ConnectionsTable", "NotificationsTable", "WorkflowsTable")
	queue := sb.queue(t, "WORKFLOW_QUEUE_URL")
	alice := sb.startAPI(t).connect(t, "123")
	// The Oracle instance whose job slots the sweeper gives back; it never calls it.
	sweeper := sb.start(t, "sweeper", map[string]string{"ORACLE_BASE_URL": "https://fa-example.fa.ocs.oraclecloud.com"})
	workflows := workflow.NewDynamoStore(sb.db, sb.tables["WorkflowsTable"], time.Now)

	now := time.Now().UTC()
	seed := func(id string, edit func(*workflow.State)) {
		st := &workflow.State{TransactionID: id, UserID: "123", Kind: workflow.KindBudgetTransfer, Fingerprint: "f-" + id,
			Status: workflow.StatusWaiting, Step: 3, PollSeq: 1, Deadline: now.Add(time.Hour), DocumentID: "900001",
			Plan: workflow.Plan{Account: "fin$/budgetaryControl$/import$", FileName: "XccBudgetInterface_" + id + ".zip",
				Jobs: []workflow.PlannedJob{{Step: 3, Job: workflow.JobSpec{Package: workflow.LoaderPackage,
					Definition: "InterfaceLoaderController", Params: "{interface_options_id},{document_id},N,N"}}}},
			Steps: []workflow.StepLog{
				{Number: 1, Name: workflow.StepPreparingData, Status: notification.StatusCompleted, StartedAt: now.Add(-time.Hour), EndedAt: now.Add(-time.Hour)},
				{Number: 2, Name: workflow.StepUploadToUCM, Status: notification.StatusCompleted, StartedAt: now.Add(-time.Hour), EndedAt: now.Add(-time.Hour)},
				{Number: 3, Name: workflow.StepInterfaceLoader, Status: notification.StatusProcessing, RequestID: "14557", StartedAt: now.Add(-time.Hour)},
			},
			CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-10 * time.Minute), ExpiresAt: now.Add(24 * time.Hour),
			DueAt: now.Add(-time.Minute)}
		edit(st)
		if err := workflows.Create(sb.ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	seed("701", func(*workflow.State) {})  // its poll 1 was lost
	seed("702", func(st *workflow.State) { // the worker died after submitting
		st.Status, st.Steps[2].RequestID = workflow.StatusRunning, ""
		st.Pending = &workflow.Pending{Op: workflow.OpSubmit, Step: 3, Since: now.Add(-20 * time.Minute),
			LeaseUntil: now.Add(-time.Minute)}
	})
	seed("703", func(st *workflow.State) { st.DueAt = now.Add(time.Hour) }) // not due

	var res workflow.SweepResult
	if err := json.Unmarshal(sweeper.Invoke(t, []byte(scheduledEvent)), &res); err != nil {
		t.Fatal(err)
	}
	if res != (workflow.SweepResult{Due: 2, Resumed: 1, Failed: 1}) {
		t.Errorf("sweep result %+v, want 2 due: 1 resumed, 1 failed", res)
	}

	t.Run("a lost poll is replaced by the next", func(t *testing.T) {
		msgs := sb.receive(t, queue, 1)
		if len(msgs) != 1 {
			t.Fatalf("workflow queue holds %d messages, want one poll", len(msgs))
		}
		parsed, err := workflow.ParseMessage([]byte(aws.ToString(msgs[0].Body)))
		if want := (workflow.Poll{Action: workflow.ActionPoll, TransactionID: "701", Seq: 2}); err != nil ||
			parsed.Poll == nil || *parsed.Poll != want {
			t.Fatalf("queued %s (%v), want %+v", aws.ToString(msgs[0].Body), err, want)
		}
		st, err := workflows.Get(sb.ctx, "701")
		if err != nil || st.PollSeq != 2 || st.Status != workflow.StatusWaiting || !st.DueAt.After(now) {
			t.Errorf("workflow 701 %+v (%v); want waiting for poll 2, due later", st, err)
		}
	})
	t.Run("an Oracle call in doubt fails the workflow and its owner is told", func(t *testing.T) {
		st, err := workflows.Get(sb.ctx, "702")
		if err != nil || st.Status != workflow.StatusFailed || !st.Notified || st.Pending != nil || !st.DueAt.IsZero() ||
			!strings.Contains(st.Error, "in doubt") {
			t.Fatalf("workflow 702 %+v (%v); want failed in doubt, notified, out of the index", st, err)
		}
		var live notification.Notification
		for range 2 {
			if live = alice.next(t); live.Type == notification.TypeUploadFailed {
				break
			}
		}
		if live.Type != notification.TypeUploadFailed || live.TransactionID != "702" || !strings.Contains(live.Error, "in doubt") {
			t.Errorf("live client got %+v, want oracle_upload_failed for 702 saying the call is in doubt", live)
		}
		var types []string
		for _, s := range sb.notifications(t, "123") {
			types = append(types, s.note.Type+" "+s.note.TransactionID)
		}
		if !strings.Contains(strings.Join(types, ","), notification.TypeUploadFailed+" 702") {
			t.Errorf("history %v has no oracle_upload_failed for 702", types)
		}
	})
	t.Run("a workflow not due is left alone", func(t *testing.T) {
		if st, err := workflows.Get(sb.ctx, "703"); err != nil || st.Version != 1 {
			t.Errorf("workflow 703 %+v (%v); want untouched", st, err)
		}
	})
}
