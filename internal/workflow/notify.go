package workflow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/finance/fbdi-notify/internal/notification"
)

// Ordinals order the notifications of one workflow that share a
// millisecond; they are the first two bytes of the ULID's entropy.
const (
	ordStarted  = 0
	ordFinal    = 900 // oracle_upload_completed or oracle_upload_failed
	ordRejected = 950 // a refused message
)

// ordStep is the ordinal of step n's progress with status.
func ordStep(n int, status string) int {
	switch status {
	case notification.StatusProcessing:
		return 10*n + 1
	case notification.StatusCompleted:
		return 10*n + 2
	}
	return 10*n + 3
}

// noteID returns a ULID for a workflow event: its time is the event's, as
// recorded in the workflow; its entropy is the ordinal followed by a hash of
// parts (transaction, type, step, status). A notification sent again after a
// crash therefore has the same ID, and the history keeps one copy.
func noteID(at time.Time, ordinal int, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var ent [10]byte
	binary.BigEndian.PutUint16(ent[:2], uint16(ordinal))
	copy(ent[2:], h.Sum(nil))
	id, err := ulid.New(ulid.Timestamp(at), bytes.NewReader(ent[:]))
	if err != nil { // a time beyond the ULID range: not deterministic, but unique
		return notification.NewID(at)
	}
	return id.String()
}

// deliver sends n to userID with the deterministic ID of the event at time
// at: ordinal ord, and a hash of the transaction, type, step, status and salt.
// Every workflow notification is in category fbdi; n.Kind names the workflow
// when it is known (run.send sets it).
func (e *Engine) deliver(ctx context.Context, userID string, n notification.Notification, at time.Time, ord int,
	salt string) error {
	if userID == "" {
		return nil
	}
	n.Category = notification.CategoryFBDI
	at = at.UTC().Truncate(time.Millisecond)
	n.ID = noteID(at, ord, n.TransactionID, n.Type, strconv.Itoa(n.StepNumber), n.Status, salt)
	n.Timestamp = at
	if err := e.notify(ctx, userID, n); err != nil {
		return fmt.Errorf("workflow: %s: notify %s: %w", n.TransactionID, n.Type, err)
	}
	return nil
}

// send delivers a note of the current workflow to its owner, with the
// workflow's kind.
func (r *run) send(n notification.Notification, at time.Time, ord int) error {
	n.Kind = noteKind(r.st.Kind)
	return r.e.deliver(r.ctx, r.st.UserID, n, at, ord, "")
}

// bestEffort logs a failed progress notification: the workflow goes on, and
// the audit trail (status route) and the final notification remain.
func (r *run) bestEffort(err error) {
	if err != nil {
		r.log.Warn("progress notification failed", "error", err)
	}
}

// sendStarted sends oracle_upload_started.
func (r *run) sendStarted() {
	r.bestEffort(r.send(notification.UploadStarted(r.st.TransactionID,
		fmt.Sprintf("%s %s started", label(r.st.Kind), r.st.TransactionID)), r.st.CreatedAt, ordStarted))
}

// sendStep sends the progress of the current step with status.
func (r *run) sendStep(status string) {
	if l := r.st.step(r.st.Step); l != nil {
		r.sendProgress(*l, status)
	}
}

// sendProgress sends oracle_upload_progress for step record l with status.
func (r *run) sendProgress(l StepLog, status string) {
	r.bestEffort(r.send(progressNote(r.st.TransactionID, l, status)))
}

// progressNote returns the progress notification of l with status, its time and ordinal.
func progressNote(txID string, l StepLog, status string) (notification.Notification, time.Time, int) {
	at, msg := l.EndedAt, l.Message
	if status == notification.StatusProcessing {
		at, msg = l.StartedAt, l.Name+" started"
	}
	return notification.UploadProgress(txID, l.Name, l.Number, TotalSteps, status, msg), at, ordStep(l.Number, status)
}

// ensureFinal delivers the final notifications of an ended workflow unless
// that was recorded as done, then records it. Errors are returned, so that
// the message is retried until the user has been told.
func (r *run) ensureFinal() error {
	st := r.st
	if st.Notified || !st.Status.Terminal() {
		return nil
	}
	l := st.step(st.Step)
	started := l != nil && !l.StartedAt.IsZero()
	if started {
		status := notification.StatusCompleted
		if st.Status == StatusFailed {
			status = notification.StatusFailed
		}
		if err := r.send(progressNote(st.TransactionID, *l, status)); err != nil {
			return err
		}
	}
	var final notification.Notification
	switch {
	case st.Status == StatusSucceeded:
		final = notification.UploadCompleted(st.TransactionID,
			fmt.Sprintf("%s %s completed", label(st.Kind), st.TransactionID), "")
	case started:
		final = notification.UploadFailed(st.TransactionID, fmt.Sprintf("%s %s failed at step %d (%s)",
			label(st.Kind), st.TransactionID, st.Step, l.Name), st.Error)
	default:
		final = notification.UploadFailed(st.TransactionID,
			fmt.Sprintf("%s %s was rejected", label(st.Kind), st.TransactionID), st.Error)
	}
	if err := r.send(final, st.EndedAt, ordFinal); err != nil {
		return err
	}
	st.Notified = true
	return r.save()
}

// label names a kind of workflow for a user.
func label(k Kind) string {
	switch k {
	case KindBudgetTransfer:
		return "Budget transfer"
	case KindJournalImport:
		return "Journal import"
	}
	return "Transfer"
}

// noteKind is the Kind that notifications of a workflow of kind k carry: ""
// for a kind that is not known (a rejected message's).
func noteKind(k Kind) string {
	switch k {
	case KindBudgetTransfer:
		return notification.KindBudgetTransfer
	case KindJournalImport:
		return notification.KindJournalImport
	}
	return ""
}
