package identity

import (
	"context"
	"encoding/json"
	"fmt"

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
// NOTE: every decision reads the policy table, which keeps replicas in
// step without a cache but costs one query per decision.
type StoredPolicies struct {
	Store PolicyLister
}

// Statements returns the statements of every stored policy.
func (s StoredPolicies) Statements(ctx context.Context, _ authz.Request) ([]authz.Statement, error) {
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
