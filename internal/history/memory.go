package history

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

var _ Store = (*MemoryStore)(nil)

// MemoryStore is a Store held in memory, for the local stack and tests. It is
// safe for concurrent use. Each user's items are kept sorted by ID with a set
// of the unread ones, so After and Before cost O(log n + limit) and
// UnreadCount and MarkAllRead O(the user's unread items). Items are stored
// encoded as JSON, exactly as DynamoStore stores them, so both return equal
// items (numbers in Data come back as float64). Add drops the user's oldest
// items once expired, as DynamoDB's TTL would.
type MemoryStore struct {
	now func() time.Time

	mu    sync.RWMutex
	users map[string]*userItems // user ID -> that user's items
}

// userItems is one user's history.
type userItems struct {
	ids     []string          // sorted ascending
	records map[string]record // by ID
	unread  map[string]struct{}
}

// NewMemoryStore returns an empty store whose expiry is decided by now; nil
// means time.Now.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, users: map[string]*userItems{}}
}

// Add stores item unless the user already has its ID.
func (s *MemoryStore) Add(_ context.Context, item Item) error {
	now := s.now()
	r, err := newRecord(item, now)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[r.UserID]
	if u == nil {
		u = &userItems{records: map[string]record{}, unread: map[string]struct{}{}}
		s.users[r.UserID] = u
	}
	if _, dup := u.records[r.ID]; dup {
		return nil
	}
	i, _ := slices.BinarySearch(u.ids, r.ID)
	u.ids = slices.Insert(u.ids, i, r.ID)
	u.records[r.ID] = r
	if r.Unread != "" {
		u.unread[r.ID] = struct{}{}
	}
	for len(u.ids) > 0 && !u.records[u.ids[0]].live(now) {
		delete(u.records, u.ids[0])
		delete(u.unread, u.ids[0])
		u.ids = u.ids[1:]
	}
	return nil
}

// After returns up to limit live items with IDs greater than afterID, oldest
// first. Limits are clamped to [1, MaxLimit], with DefaultLimit for <= 0.
func (s *MemoryStore) After(_ context.Context, userID, afterID string, limit int) ([]Item, bool, error) {
	if len(afterID) > MaxIDLength {
		return nil, false, fmt.Errorf("history: after %.64q: %w", afterID, ErrInvalid)
	}
	limit = clampLimit(limit)
	now := s.now()
	var page []record
	s.mu.RLock()
	if u := s.users[userID]; u != nil {
		i, found := slices.BinarySearch(u.ids, afterID)
		if found {
			i++
		}
		for ; i < len(u.ids) && len(page) <= limit; i++ {
			if r := u.records[u.ids[i]]; r.live(now) {
				page = append(page, r)
			}
		}
	}
	s.mu.RUnlock()
	return decodePage("after", page, limit)
}

// Before returns up to limit live items with IDs less than beforeID (the
// newest when beforeID is empty), newest first. Limits are clamped like After's.
func (s *MemoryStore) Before(_ context.Context, userID, beforeID string, limit int) ([]Item, bool, error) {
	if len(beforeID) > MaxIDLength {
		return nil, false, fmt.Errorf("history: before %.64q: %w", beforeID, ErrInvalid)
	}
	limit = clampLimit(limit)
	now := s.now()
	var page []record
	s.mu.RLock()
	if u := s.users[userID]; u != nil {
		i := len(u.ids)
		if beforeID != "" {
			i, _ = slices.BinarySearch(u.ids, beforeID)
		}
		for i--; i >= 0 && len(page) <= limit; i-- {
			if r := u.records[u.ids[i]]; r.live(now) {
				page = append(page, r)
			}
		}
	}
	s.mu.RUnlock()
	return decodePage("before", page, limit)
}

// decodePage decodes up to limit of records, which holds at most limit+1, and
// reports whether there were more.
func decodePage(op string, records []record, limit int) ([]Item, bool, error) {
	hasMore := len(records) > limit
	if hasMore {
		records = records[:limit]
	}
	items := make([]Item, 0, len(records))
	for _, r := range records {
		it, err := r.item()
		if err != nil {
			return nil, false, fmt.Errorf("history: %s: %w", op, err)
		}
		items = append(items, it)
	}
	return items, hasMore, nil
}

// MarkRead marks the user's items with those IDs as read; unknown IDs and
// other users' IDs are ignored.
func (s *MemoryStore) MarkRead(_ context.Context, userID string, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if u == nil {
		return nil
	}
	for _, id := range ids {
		if _, ok := u.unread[id]; ok {
			u.markRead(id)
		}
	}
	return nil
}

// MarkAllRead marks every item of the user as read.
func (s *MemoryStore) MarkAllRead(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if u == nil {
		return nil
	}
	for id := range u.unread {
		u.markRead(id)
	}
	return nil
}

// UnreadCount returns how many of the user's live items are unread.
func (s *MemoryStore) UnreadCount(_ context.Context, userID string) (int, error) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.users[userID]
	if u == nil {
		return 0, nil
	}
	n := 0
	for id := range u.unread {
		if u.records[id].live(now) {
			n++
		}
	}
	return n, nil
}

// markRead clears id's unread mark. The store's lock must be held for writing.
func (u *userItems) markRead(id string) {
	r := u.records[id]
	r.Unread = ""
	u.records[id] = r
	delete(u.unread, id)
}
