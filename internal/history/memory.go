package history

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

var _ Store = (*MemoryStore)(nil)

// MemoryStore is a Store held in memory, for the local stack and tests. It is
// safe for concurrent use: one lock orders Adds, so positions are taken and
// become visible in the same order. Each user's items are kept in position
// order with an index by ID and a set of the unread ones, so After and Before
// cost O(log n + limit) and UnreadCount O(the user's unread items). Items are
// stored encoded as JSON, exactly as DynamoStore stores them, so both return
// equal items (numbers in Data come back as float64). Add drops the user's
// oldest items once expired, as DynamoDB's TTL would.
type MemoryStore struct {
	now func() time.Time

	mu    sync.RWMutex
	users map[string]*userItems // user ID -> that user's items
}

// userItems is one user's history.
type userItems struct {
	seq       Position              // the last position taken
	watermark Position              // items at or below it are read (MarkAllRead)
	records   []record              // ascending by position
	byID      map[string]Position   // notification ID -> position
	unread    map[Position]struct{} // positions not marked read by MarkRead
}

// NewMemoryStore returns an empty store whose expiry is decided by now; nil
// means time.Now.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, users: map[string]*userItems{}}
}

// Add stores item at the user's next position unless the user already has
// its ID, whose position it then returns.
func (s *MemoryStore) Add(_ context.Context, item Item) (Position, error) {
	now := s.now()
	if _, err := newRecord(item, 1, now); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[item.UserID]
	if u == nil {
		u = &userItems{byID: map[string]Position{}, unread: map[Position]struct{}{}}
		s.users[item.UserID] = u
	}
	if p, dup := u.byID[item.Notification.ID]; dup {
		return p, nil
	}
	r, _ := newRecord(item, u.seq+1, now) // validated above
	u.seq = r.Position
	u.records = append(u.records, r)
	u.byID[r.ID] = r.Position
	if r.Unread != 0 {
		u.unread[r.Position] = struct{}{}
	}
	for len(u.records) > 0 && !u.records[0].live(now) {
		delete(u.byID, u.records[0].ID)
		delete(u.unread, u.records[0].Position)
		u.records = u.records[1:]
	}
	return r.Position, nil
}

// search returns the index of the first record at a position >= p.
func (u *userItems) search(p Position) int {
	return sort.Search(len(u.records), func(i int) bool { return u.records[i].Position >= p })
}

// record returns the record at p.
func (u *userItems) record(p Position) (record, bool) {
	i := u.search(p)
	if i < len(u.records) && u.records[i].Position == p {
		return u.records[i], true
	}
	return record{}, false
}

// After returns up to limit live items matching f at positions greater
// than after, in position order. Limits are clamped to [1, MaxLimit], with
// DefaultLimit for <= 0.
func (s *MemoryStore) After(_ context.Context, userID string, after Position, f Filter, limit int) (Page, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.users[userID]
	if u == nil {
		return Page{Items: []Item{}}, nil
	}
	i := u.search(after + 1)
	return u.scan("after", f, limit, s.now(), func() (record, bool) {
		if i >= len(u.records) {
			return record{}, false
		}
		i++
		return u.records[i-1], true
	})
}

// Before returns up to limit live items matching f at positions less than
// before (the newest when before is 0), newest first. Limits are clamped
// like After's.
func (s *MemoryStore) Before(_ context.Context, userID string, before Position, f Filter, limit int) (Page, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.users[userID]
	if u == nil {
		return Page{Items: []Item{}}, nil
	}
	i := len(u.records)
	if before != 0 {
		i = u.search(before)
	}
	return u.scan("before", f, limit, s.now(), func() (record, bool) {
		if i <= 0 {
			return record{}, false
		}
		i--
		return u.records[i], true
	})
}

// scan reads records from next, as DynamoStore's Query pages would: at most
// ScanPages x (limit+1) of them, keeping the live ones that match f, until
// it has limit+1.
func (u *userItems) scan(op string, f Filter, limit int, now time.Time, next func() (record, bool)) (Page, error) {
	limit = clampLimit(limit)
	var (
		page []record
		last Position // the last record read
	)
	for read := 0; len(page) <= limit; read++ {
		if read == ScanPages*(limit+1) {
			return decodePage(op, page, limit, u.watermark, last)
		}
		r, ok := next()
		if !ok {
			break
		}
		last = r.Position
		if r.live(now) && r.matches(f, u.watermark) {
			page = append(page, r)
		}
	}
	return decodePage(op, page, limit, u.watermark, 0)
}

// Position returns the position of the user's live item with that ID.
func (s *MemoryStore) Position(_ context.Context, userID, id string) (Position, error) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u := s.users[userID]; u != nil {
		if p, ok := u.byID[id]; ok {
			if r, ok := u.record(p); ok && r.live(now) {
				return p, nil
			}
		}
	}
	return 0, fmt.Errorf("history: position of %.64q for user %.64q: %w", id, userID, ErrNotFound)
}

// decodePage decodes up to limit of records, which holds at most limit+1.
// The page has more if records has more than limit, or if the read stopped at
// stoppedAt, a position (0: it did not stop early).
func decodePage(op string, records []record, limit int, watermark, stoppedAt Position) (Page, error) {
	page := Page{Items: make([]Item, 0, min(len(records), limit))}
	switch {
	case len(records) > limit:
		records = records[:limit]
		page.HasMore, page.Next = true, records[limit-1].Position
	case stoppedAt != 0:
		page.HasMore, page.Next = true, stoppedAt
	}
	for _, r := range records {
		it, err := r.item(watermark)
		if err != nil {
			return Page{}, fmt.Errorf("history: %s: %w", op, err)
		}
		page.Items = append(page.Items, it)
	}
	return page, nil
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
		p, ok := u.byID[id]
		if _, unread := u.unread[p]; !ok || !unread {
			continue
		}
		u.clearUnread(p)
	}
	return nil
}

// MarkCategoryRead marks read up to MaxCategoryMarks of the user's unread
// items of category, the oldest first.
func (s *MemoryStore) MarkCategoryRead(_ context.Context, userID, category string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if u == nil {
		return nil
	}
	var todo []Position
	for p := range u.unread {
		if r, ok := u.record(p); ok && p > u.watermark && r.Category == category {
			todo = append(todo, p)
		}
	}
	slices.Sort(todo)
	for _, p := range todo[:min(len(todo), MaxCategoryMarks)] {
		u.clearUnread(p)
	}
	return nil
}

// clearUnread marks the record at p read.
func (u *userItems) clearUnread(p Position) {
	i := u.search(p)
	u.records[i].Unread, u.records[i].UnreadCat = 0, ""
	delete(u.unread, p)
}

// Archive marks the user's items with those IDs archived, and no longer
// unread.
func (s *MemoryStore) Archive(_ context.Context, userID string, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if u == nil {
		return nil
	}
	for _, id := range ids {
		if p, ok := u.byID[id]; ok {
			u.clearUnread(p)
			u.records[u.search(p)].Archived = true
		}
	}
	return nil
}

// MarkAllRead moves the user's read watermark to the last position taken.
func (s *MemoryStore) MarkAllRead(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[userID]; u != nil {
		u.watermark = u.seq
		clear(u.unread) // all at or below the watermark
	}
	return nil
}

// UnreadCount returns how many of the user's live items above the watermark
// are unread.
func (s *MemoryStore) UnreadCount(_ context.Context, userID string) (int, error) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.users[userID]
	if u == nil {
		return 0, nil
	}
	n := 0
	for p := range u.unread {
		if r, ok := u.record(p); ok && p > u.watermark && r.live(now) {
			n++
		}
	}
	return n, nil
}
