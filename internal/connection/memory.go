package connection

import (
	"context"
	"fmt"
	"sync"
	"time"
)

var _ Store = (*MemoryStore)(nil)

// MemoryStore is a Store held in memory, for the local stack and tests. It is
// safe for concurrent use. Connections are indexed by user, so ByUser costs
// O(the user's connections). Like DynamoStore it keeps ExpiresAt to the
// second and ignores expired rows; Put drops the user's expired rows, as
// DynamoDB's TTL would.
type MemoryStore struct {
	now func() time.Time

	mu     sync.RWMutex
	byID   map[string]Connection          // connection ID -> connection
	byUser map[string]map[string]struct{} // user ID -> IDs of that user's connections
	marks  map[string]*marks              // connection ID -> its welcome claim and rate window
}

// marks are what the store keeps of a connection beside the Connection
// itself, as DynamoStore keeps them on its row: Put replaces them.
type marks struct {
	welcomedAt time.Time // the welcome claim; zero when unclaimed
	window     int64     // start of the rate window in Unix ms
	units      int       // units spent in that window
}

// NewMemoryStore returns an empty store whose expiry is decided by now; nil
// means time.Now.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, byID: map[string]Connection{}, byUser: map[string]map[string]struct{}{},
		marks: map[string]*marks{}}
}

// Put records c, replacing any connection with the same ID. It returns an
// error if c.ID or c.UserID is empty or longer than DynamoDB allows for a key.
func (s *MemoryStore) Put(_ context.Context, c Connection) error {
	if err := validate(c); err != nil {
		return fmt.Errorf("connection: put %q: %w", c.ID, err)
	}
	c = normalize(c)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(c.ID)
	s.byID[c.ID] = c
	ids := s.byUser[c.UserID]
	if ids == nil {
		ids = map[string]struct{}{}
		s.byUser[c.UserID] = ids
	}
	ids[c.ID] = struct{}{}
	for id := range ids {
		if !live(s.byID[id].ExpiresAt, now) {
			s.remove(id)
		}
	}
	return nil
}

// Delete removes the connection with that ID. Deleting a missing ID is not an error.
func (s *MemoryStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(id)
	return nil
}

// Get returns the connection with that ID, or ErrNotFound if there is none or
// it has expired.
func (s *MemoryStore) Get(_ context.Context, id string) (Connection, error) {
	now := s.now()
	s.mu.RLock()
	c, ok := s.byID[id]
	s.mu.RUnlock()
	if !ok || !live(c.ExpiresAt, now) {
		return Connection{}, ErrNotFound
	}
	return c, nil
}

// ByUser returns the user's connections that have not expired.
func (s *MemoryStore) ByUser(_ context.Context, userID string) ([]Connection, error) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := s.byUser[userID]
	conns := make([]Connection, 0, len(ids))
	for id := range ids {
		if c := s.byID[id]; live(c.ExpiresAt, now) {
			conns = append(conns, c)
		}
	}
	return conns, nil
}

// Count returns the number of connections that have not expired. It
// looks at every connection held, as DynamoStore.Count scans its table.
func (s *MemoryStore) Count(_ context.Context) (int, error) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, c := range s.byID {
		if live(c.ExpiresAt, now) {
			n++
		}
	}
	return n, nil
}

// ClaimWelcome records the welcome claim at, unless there is one.
func (s *MemoryStore) ClaimWelcome(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.liveMarks(id)
	if err != nil {
		return err
	}
	if !m.welcomedAt.IsZero() {
		return ErrWelcomed
	}
	m.welcomedAt = at
	return nil
}

// ReleaseWelcome removes the welcome claim made at at.
func (s *MemoryStore) ReleaseWelcome(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.marks[id]; ok && m.welcomedAt.Equal(at) {
		m.welcomedAt = time.Time{}
	}
	return nil
}

// Spend takes cost units from the connection's current window.
func (s *MemoryStore) Spend(_ context.Context, id string, cost int, limit Limit) (time.Duration, error) {
	start, left := limit.window(s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.liveMarks(id)
	if err != nil {
		return 0, err
	}
	if m.window != start {
		m.window, m.units = start, 0
	}
	if m.units+cost > limit.Units {
		return left, ErrRateLimited
	}
	m.units += cost
	return 0, nil
}

// liveMarks returns the marks of the live connection id, or ErrNotFound.
// s.mu must be held for writing.
func (s *MemoryStore) liveMarks(id string) (*marks, error) {
	c, ok := s.byID[id]
	if !ok || !live(c.ExpiresAt, s.now()) {
		return nil, ErrNotFound
	}
	m := s.marks[id]
	if m == nil {
		m = &marks{}
		s.marks[id] = m
	}
	return m, nil
}

// remove deletes id from both indexes. s.mu must be held for writing.
func (s *MemoryStore) remove(id string) {
	c, ok := s.byID[id]
	if !ok {
		return
	}
	delete(s.byID, id)
	delete(s.marks, id)
	ids := s.byUser[c.UserID]
	delete(ids, id)
	if len(ids) == 0 {
		delete(s.byUser, c.UserID)
	}
}
