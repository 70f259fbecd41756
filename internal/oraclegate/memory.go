package oraclegate

import (
	"context"
	"sync"
)

// MemoryStore is a Store in memory, for tests and the local stack. Safe
// for concurrent use; Put is atomic, as DynamoDB's conditional write is.
type MemoryStore struct {
	mu    sync.Mutex
	items map[string]*State
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{items: map[string]*State{}} }

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, instance string) (*State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.items[instance]
	if !ok {
		return nil, ErrNotFound
	}
	return s.Clone(), nil
}

// Put implements Store.
func (m *MemoryStore) Put(_ context.Context, s *State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.items[s.Instance]
	if ok && cur.Version != s.Version || !ok && s.Version != 0 {
		return ErrConflict
	}
	s.Version++
	m.items[s.Instance] = s.Clone()
	return nil
}
