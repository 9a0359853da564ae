package identity

import (
	"context"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/metadata"
)

func TestStoredPoliciesDecide(t *testing.T) {
	store := openStore(t)
	policy := metadata.StoredPolicy{ID: "team-a", UpdatedBy: "coffer#root", Statements: []byte(`[
		{"id": "push", "effect": "Allow", "principals": ["role:team-a"], "actions": ["oci:push"], "resources": ["repo:team-a/**"]},
		{"id": "no-delete", "effect": "Deny", "principals": ["*"], "actions": ["oci:delete"], "resources": ["repo:team-a/**"]}
	]`)}
	if _, err := store.PutPolicy(t.Context(), policy); err != nil {
		t.Fatal(err)
	}
	a := NewAuthorizer(&StoredPolicies{Store: store})
	member := Identity{Principal: authz.Principal{ID: "iss#alice", Roles: []string{"team-a"}}}

	got, err := a.Decide(t.Context(), member, authz.Request{Action: authz.ActionOCIPush, Resource: "repo:team-a/app"})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Allowed() || len(got.StatementIDs) != 1 || got.StatementIDs[0] != "team-a/push" {
		t.Errorf("push = %+v, want allowed by team-a/push", got)
	}
	got, err = a.Decide(t.Context(), Root("basic"), authz.Request{Action: authz.ActionOCIDelete, Resource: "repo:team-a/app"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Allowed() || len(got.StatementIDs) != 1 || got.StatementIDs[0] != "team-a/no-delete" {
		t.Errorf("root delete = %+v, want denied by team-a/no-delete", got)
	}

	broken := metadata.StoredPolicy{ID: "broken", Statements: []byte(`{`)}
	if _, err := store.PutPolicy(t.Context(), broken); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Decide(t.Context(), member, authz.Request{Action: authz.ActionOCIPull, Resource: "repo:x"}); err == nil {
		t.Error("Decide with an undecodable stored policy returned no error")
	}
}

// countingLister counts the reads of the stored policies.
type countingLister struct {
	reads    int
	policies []metadata.StoredPolicy
}

func (c *countingLister) ListPolicies(context.Context) ([]metadata.StoredPolicy, error) {
	c.reads++
	return c.policies, nil
}

func TestStoredPoliciesCache(t *testing.T) {
	lister := &countingLister{policies: []metadata.StoredPolicy{{ID: "p", Statements: []byte(`[{"id": "s", "effect": "Allow", "principals": ["*"], "actions": ["oci:pull"], "resources": ["*"]}]`)}}}
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	source := &StoredPolicies{Store: lister, MaxAge: time.Second, Now: func() time.Time { return now }}
	read := func() {
		t.Helper()
		statements, err := source.Statements(t.Context(), authz.Request{})
		if err != nil {
			t.Fatal(err)
		}
		if len(statements) != 1 || statements[0].ID != "p/s" {
			t.Fatalf("statements = %+v, want p/s", statements)
		}
	}

	read()
	read()
	if lister.reads != 1 {
		t.Fatalf("two decisions within MaxAge read the store %d times, want 1", lister.reads)
	}
	now = now.Add(time.Second)
	read()
	if lister.reads != 2 {
		t.Fatalf("a decision after MaxAge read the store %d times in all, want 2", lister.reads)
	}
	source.Invalidate()
	read()
	if lister.reads != 3 {
		t.Fatalf("a decision after Invalidate read the store %d times in all, want 3", lister.reads)
	}
}
