package preference

import (
	"context"
	"fmt"
	"maps"
	"sync"
)

var _ Store = (*MemoryStore)(nil)

// MemoryStore is a Store in memory, for the local stack and tests. The zero
// value is not usable; call NewMemoryStore. It is safe for concurrent use.
type MemoryStore struct {
	mu    sync.Mutex
	users map[string]Preferences
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{users: map[string]Preferences{}}
}

// Get returns the user's preferences.
func (s *MemoryStore) Get(_ context.Context, userID string) (Preferences, error) {
	if userID == "" {
		return Preferences{}, fmt.Errorf("preference: get: %w: empty user id", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copy(userID), nil
}

// Set applies changes to the user's categories.
func (s *MemoryStore) Set(_ context.Context, userID string, changes map[string]Change) (Preferences, error) {
	if userID == "" {
		return Preferences{}, fmt.Errorf("preference: set: %w: empty user id", ErrInvalid)
	}
	if err := validChanges(changes); err != nil {
		return Preferences{}, fmt.Errorf("preference: set for %.64q: %w", userID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.copy(userID)
	if p.Categories == nil {
		p.Categories = map[string]Change{}
	}
	for c, ch := range changes {
		p.Categories[c] = p.Categories[c].merge(ch)
	}
	s.users[userID] = p
	return s.copy(userID), nil
}

// SetProfile replaces the user's profile.
func (s *MemoryStore) SetProfile(_ context.Context, userID string, profile Profile) (Preferences, error) {
	if userID == "" {
		return Preferences{}, fmt.Errorf("preference: set profile: %w: empty user id", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.copy(userID)
	p.Profile = profile
	s.users[userID] = p
	return s.copy(userID), nil
}

// MarkBounced sets Bounced if the profile's address is address.
func (s *MemoryStore) MarkBounced(_ context.Context, userID, address string) (bool, error) {
	if userID == "" || address == "" {
		return false, fmt.Errorf("preference: mark bounced: %w: empty user id or address", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.users[userID]
	if !ok || p.Profile.Email != address {
		return false, nil
	}
	p.Profile.Bounced = true
	s.users[userID] = p
	return true, nil
}

// copy returns the user's preferences, sharing nothing with the store.
func (s *MemoryStore) copy(userID string) Preferences {
	p := s.users[userID]
	p.UserID = userID
	p.Categories = maps.Clone(p.Categories)
	return p
}
