package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/metadata"
)

// PolicyLister reads the policies stored through the management API.
type PolicyLister interface {
	ListPolicies(ctx context.Context) ([]metadata.StoredPolicy, error)
}

// StoredPolicies is a PolicySource over the stored policies. A statement
// appears in decisions as "<policy id>/<statement id>", so that ids of
// different policies and of the configuration never collide.
//
// With MaxAge set, the statements read from Store are reused for that long,
// so a change made through another replica takes effect there within
// MaxAge. Invalidate drops them at once, for changes made through this
// process.
type StoredPolicies struct {
	Store PolicyLister
	// MaxAge is how long read statements are reused. Zero reads the store
	// for every decision.
	MaxAge time.Duration
	// Now is the clock of MaxAge. Nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	cached  []authz.Statement
	fetched time.Time
	valid   bool
}

// Statements returns the statements of every stored policy.
func (s *StoredPolicies) Statements(ctx context.Context, _ authz.Request) ([]authz.Statement, error) {
	now := s.now()
	if s.MaxAge > 0 {
		s.mu.Lock()
		if s.valid && now.Sub(s.fetched) < s.MaxAge {
			cached := s.cached
			s.mu.Unlock()
			return cached, nil
		}
		s.mu.Unlock()
	}
	statements, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	if s.MaxAge > 0 {
		s.mu.Lock()
		s.cached, s.fetched, s.valid = statements, now, true
		s.mu.Unlock()
	}
	return statements, nil
}

// Invalidate makes the next decision read the store again.
func (s *StoredPolicies) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.valid = false
}

func (s *StoredPolicies) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// read returns the statements of every stored policy from the store.
func (s *StoredPolicies) read(ctx context.Context) ([]authz.Statement, error) {
	policies, err := s.Store.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	var all []authz.Statement
	for _, p := range policies {
		statements, err := DecodeStatements(p)
		if err != nil {
			return nil, err
		}
		all = append(all, statements...)
	}
	return all, nil
}

// DecodeStatements returns the statements of a stored policy with their
// ids qualified by the policy id.
func DecodeStatements(p metadata.StoredPolicy) ([]authz.Statement, error) {
	var statements []authz.Statement
	if err := json.Unmarshal(p.Statements, &statements); err != nil {
		return nil, fmt.Errorf("decode statements of policy %s: %w", p.ID, err)
	}
	for i := range statements {
		statements[i].ID = p.ID + "/" + statements[i].ID
	}
	return statements, nil
}
