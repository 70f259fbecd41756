package workflow

import "context"

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
}
