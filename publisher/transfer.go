package publisher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/finance/fbdi-notify/internal/fbdi"
	"github.com/finance/fbdi-notify/internal/workflow"
	"github.com/finance/fbdi-notify/schemas"
)

// Workflow kinds (docs/protocol.md#workflow-queue).
const (
	KindBudgetTransfer = string(workflow.KindBudgetTransfer) // XccBudgetInterface.csv, then Budget Import
	KindJournalImport  = string(workflow.KindJournalImport)  // GlInterface.csv, then Journal Import and AutoPost
)

// Transfer is a budget transfer or a journal import for the workflow queue;
// the Publisher method sets its kind.
type Transfer struct {
	// TransactionID is the upstream transaction, the workflow's key: the same
	// message sent again is a duplicate, another message with the same ID is
	// refused by the system.
	TransactionID string
	// UserID is the user told about every step.
	UserID string
	// Lines is anything encoding/json writes as an array of line objects with
	// the field names of docs/protocol.md (budget_transfer lines or
	// journal_import lines): []map[string]any, []json.RawMessage, or structs
	// of your own. Amounts are best given as strings ("-650"), as written.
	Lines any
	// Options override the deployment's Oracle parameters for this message
	// only (docs/protocol.md#options); nil for none.
	Options map[string]string
}

// wire is a Transfer as the workflow queue reads it.
type wire struct {
	Kind          string            `json:"kind"`
	TransactionID string            `json:"transaction_id"`
	UserID        string            `json:"user_id"`
	Lines         any               `json:"lines"`
	Options       map[string]string `json:"options,omitempty"`
}

// body returns t as a workflow queue body of the kind, or an *InvalidError
// when the system would refuse it. It runs the system's own checks: the
// message (workflow.ParseMessage), then its lines field by field and across
// lines (package fbdi), then the JSON Schema. What depends on the
// deployment's configuration (the Oracle job parameters) is checked only by
// the worker.
func (t Transfer) body(kind string) ([]byte, error) {
	body, err := marshal(wire{Kind: kind, TransactionID: t.TransactionID, UserID: t.UserID, Lines: t.Lines, Options: t.Options})
	if err != nil {
		return nil, err
	}
	m, err := workflow.ParseMessage(body)
	if err != nil {
		var inv *workflow.InvalidError
		if errors.As(err, &inv) {
			return nil, &InvalidError{Reason: inv.Reason}
		}
		return nil, fmt.Errorf("publisher: check transfer: %w", err)
	}
	switch kind {
	case KindBudgetTransfer:
		err = checkLines(m.Request.Lines, fbdi.ValidateBudget)
	case KindJournalImport:
		err = checkLines(m.Request.Lines, fbdi.ValidateJournal)
	}
	if err != nil {
		return nil, err
	}
	if err := checkSchema(schemas.WorkflowMessage, body); err != nil {
		return nil, err
	}
	return body, nil
}

// maxProblems is how many problems an *InvalidError lists, as the worker's
// dead-letter reason does.
const maxProblems = 10

// checkLines decodes the lines as the worker's Preparing Data step does
// (unknown fields refused) and validates them with validate.
func checkLines[L any](raw json.RawMessage, validate func([]L) error) error {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return &InvalidError{Field: "lines", Reason: "must be a JSON array of objects"}
	}
	var (
		problems []string
		omitted  int // problems found beyond those fbdi keeps
	)
	lines := make([]L, len(items))
	for i, it := range items {
		dec := json.NewDecoder(bytes.NewReader(it))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&lines[i]); err != nil {
			msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "json: "), "fbdi: ")
			problems = append(problems, fmt.Sprintf("line %d: %s", i+1, msg))
		}
	}
	if len(problems) == 0 {
		var ve *fbdi.ValidationError
		if err := validate(lines); errors.As(err, &ve) {
			problems, omitted = ve.Problems, ve.Omitted
		} else if err != nil {
			return fmt.Errorf("publisher: check lines: %w", err)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	shown := problems[:min(len(problems), maxProblems)]
	reason := strings.Join(shown, "; ")
	if more := len(problems) - len(shown) + omitted; more > 0 {
		reason += fmt.Sprintf("; and %d more", more)
	}
	return &InvalidError{Reason: reason}
}
