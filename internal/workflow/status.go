package workflow

import (
	"context"
	"errors"
	"time"

	"github.com/finance/fbdi-notify/internal/notification"
)

// Service answers the WebSocket status route from a Store.
type Service struct {
	store Store
}

// NewService returns a Service reading workflows from store.
func NewService(store Store) *Service { return &Service{store: store} }

// StatusReply is the workflow_status message (docs/protocol.md#status).
type StatusReply struct {
	Type          string       `json:"type"` // always "workflow_status"
	TransactionID string       `json:"transaction_id"`
	Kind          string       `json:"kind"`
	State         string       `json:"state"`        // running | waiting | succeeded | failed
	CurrentStep   string       `json:"current_step"` // step name
	StepNumber    int          `json:"step_number"`  // 1-based
	TotalSteps    int          `json:"total_steps"`  // always TotalSteps
	Steps         []StepStatus `json:"steps"`        // the audit trail, in order
	Error         string       `json:"error,omitempty"`
	UpdatedAt     time.Time    `json:"updated_at"`
}

// StepStatus is one step of the audit trail in a StatusReply.
type StepStatus struct {
	Step       string     `json:"step"`
	StepNumber int        `json:"step_number"`
	Status     string     `json:"status"` // processing | completed | failed
	Message    string     `json:"message,omitempty"`
	RequestID  string     `json:"request_id,omitempty"`  // ESS request ID
	DocumentID string     `json:"document_id,omitempty"` // UCM DocumentId
	StartedAt  *time.Time `json:"started_at,omitempty"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	// Attempts counts the calls of the step that Oracle did not accept
	// (each was retried), LastError the last reason ("HTTP 503"); NextTryAt
	// is when the step is tried again, while that try is still to come.
	Attempts  int        `json:"attempts,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	NextTryAt *time.Time `json:"next_try_at,omitempty"`
}

// Status returns the StatusReply of the transaction if userID owns it, and
// whether it was found. Another user's transaction is not found, exactly
// like a missing one. err is set only when the store failed.
func (s *Service) Status(ctx context.Context, userID, transactionID string) (reply any, found bool, err error) {
	if userID == "" || transactionID == "" {
		return nil, false, nil
	}
	st, err := s.store.Get(ctx, transactionID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case st.UserID != userID:
		return nil, false, nil
	}
	return NewStatusReply(st), true, nil
}

// NewStatusReply returns the workflow_status message of st.
func NewStatusReply(st *State) StatusReply {
	r := StatusReply{Type: "workflow_status", TransactionID: st.TransactionID, Kind: string(st.Kind),
		State: string(st.Status), CurrentStep: stepName(st.Kind, st.Step), StepNumber: st.Step,
		TotalSteps: TotalSteps, Steps: make([]StepStatus, 0, len(st.Steps)), Error: st.Error,
		UpdatedAt: st.UpdatedAt.UTC()}
	if l := st.step(st.Step); l != nil && r.CurrentStep == "" {
		r.CurrentStep = l.Name
	}
	for _, l := range st.Steps {
		s := StepStatus{Step: l.Name, StepNumber: l.Number, Status: l.Status,
			Message: l.Message, RequestID: l.RequestID, DocumentID: l.DocumentID,
			StartedAt: timePtr(l.StartedAt), EndedAt: timePtr(l.EndedAt), Attempts: l.Attempts, LastError: l.LastError}
		if l.Status == notification.StatusProcessing && !st.Status.Terminal() && l.NextTryAt.After(st.UpdatedAt) {
			s.NextTryAt = timePtr(l.NextTryAt)
		}
		r.Steps = append(r.Steps, s)
	}
	return r
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
