package workflow

import (
	"context"
	"time"
)

// Store keeps workflows, one per transaction ID. Implementations are safe
// for concurrent use. A workflow whose ExpiresAt has passed is treated as
// absent (DynamoDB's TTL deletes it some time later).
type Store interface {
	// Create stores s as a new workflow with Version 1 (it sets s.Version).
	// It returns ErrExists if a workflow with that transaction ID exists.
	Create(ctx context.Context, s *State) error
	// Get returns the workflow of transactionID, or ErrNotFound.
	Get(ctx context.Context, transactionID string) (*State, error)
	// Update replaces the stored workflow with s if the stored Version equals
	// s.Version, and then increments s.Version. It returns ErrVersion, and
	// changes nothing, if the stored version differs or the workflow is gone.
	Update(ctx context.Context, s *State) error
	// Due returns the transaction IDs of at most limit workflows whose
	// DueAt is set and not after now, earliest first. It reads an index
	// that holds only those workflows, so its cost grows with the result,
	// not with the table. The index may lag a write a little; callers read
	// each workflow again with Get before acting.
	Due(ctx context.Context, now time.Time, limit int) ([]string, error)
}
