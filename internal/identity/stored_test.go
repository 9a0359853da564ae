package identity

import (
	"testing"

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
	a := NewAuthorizer(StoredPolicies{Store: store})
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
