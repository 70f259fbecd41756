package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemoryStore is a Store in memory, for the local stack and unit tests.
type MemoryStore struct {
	now func() time.Time

	mu    sync.Mutex
	items map[string]*State
}

// NewMemoryStore returns an empty MemoryStore that uses now to expire items.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, items: make(map[string]*State)}
}

// Create implements Store.
func (m *MemoryStore) Create(_ context.Context, s *State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.items[s.TransactionID]; ok && m.live(old) {
		return fmt.Errorf("workflow: create %s: %w", s.TransactionID, ErrExists)
	}
	s.Version = 1
	m.items[s.TransactionID] = s.Clone()
	return nil
}

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, transactionID string) (*State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.items[transactionID]
	if !ok || !m.live(s) {
		return nil, fmt.Errorf("workflow: get %s: %w", transactionID, ErrNotFound)
	}
	return s.Clone(), nil
}

// Update implements Store.
func (m *MemoryStore) Update(_ context.Context, s *State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.items[s.TransactionID]
	if !ok || old.Version != s.Version {
		return fmt.Errorf("workflow: update %s version %d: %w", s.TransactionID, s.Version, ErrVersion)
	}
	c := s.Clone()
	c.Version++
	m.items[s.TransactionID] = c
	s.Version++
	return nil
}

// Due implements Store. It looks at every item: the memory store is small.
func (m *MemoryStore) Due(_ context.Context, now time.Time, limit int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*State
	for _, s := range m.items {
		if !s.DueAt.IsZero() && !s.DueAt.After(now) && m.live(s) {
			due = append(due, s)
		}
	}
	slices.SortFunc(due, func(a, b *State) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return strings.Compare(a.TransactionID, b.TransactionID)
	})
	ids := make([]string, 0, min(len(due), max(limit, 0)))
	for _, s := range due[:min(len(due), max(limit, 0))] {
		ids = append(ids, s.TransactionID)
	}
	return ids, nil
}

// live reports whether s has not expired, to the second like DynamoStore.
func (m *MemoryStore) live(s *State) bool {
	return s.ExpiresAt.IsZero() || m.now().Unix() < s.ExpiresAt.Unix()
}
