package identity

import (
	"context"
	"errors"
	"testing"

	"github.com/cofferhq/coffer/internal/authz"
)

type failingSource struct{}

func (failingSource) Statements(context.Context, authz.Request) ([]authz.Statement, error) {
	return nil, errors.New("database closed")
}

func TestAuthorizerDecide(t *testing.T) {
	readers := StaticPolicy{{
		ID:         "readers",
		Effect:     authz.Allow,
		Principals: []string{"role:reader"},
		Actions:    []string{"oci:pull"},
		Resources:  []string{"repo:team/**"},
	}}
	reader := Identity{Principal: authz.Principal{ID: "https://id.example/realms/r#u1", Roles: []string{"reader"}}, CredentialID: "pat-1"}
	narrowed := reader
	narrowed.Restriction = &authz.Policy{Statements: []authz.Statement{{ID: "only-app", Effect: authz.Allow, Principals: []string{"*"}, Actions: []string{"*"}, Resources: []string{"repo:team/app"}}}}

	cases := []struct {
		name     string
		id       Identity
		action   string
		resource string
		want     authz.Decision
	}{
		{"root may push", Root("basic"), "oci:push", "repo:any/thing", authz.Decision{Effect: authz.Allow, Reason: authz.ReasonAllowed, StatementIDs: []string{"coffer-root"}}},
		{"anonymous is denied", Anonymous(), "oci:pull", "repo:team/app", authz.Decision{Effect: authz.Deny, Reason: authz.ReasonNoMatch}},
		{"role grants pull", reader, "oci:pull", "repo:team/lib", authz.Decision{Effect: authz.Allow, Reason: authz.ReasonAllowed, StatementIDs: []string{"readers"}}},
		{"role does not grant push", reader, "oci:push", "repo:team/lib", authz.Decision{Effect: authz.Deny, Reason: authz.ReasonNoMatch}},
		{"restriction narrows", narrowed, "oci:pull", "repo:team/lib", authz.Decision{Effect: authz.Deny, Reason: authz.ReasonRestricted}},
		{"restriction keeps the rest", narrowed, "oci:pull", "repo:team/app", authz.Decision{Effect: authz.Allow, Reason: authz.ReasonAllowed, StatementIDs: []string{"readers"}}},
	}
	a := NewAuthorizer(readers)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := a.Decide(context.Background(), c.id, authz.Request{Action: c.action, Resource: c.resource})
			if err != nil {
				t.Fatal(err)
			}
			if got.Effect != c.want.Effect || got.Reason != c.want.Reason || len(got.StatementIDs) != len(c.want.StatementIDs) {
				t.Fatalf("decision = %+v, want %+v", got, c.want)
			}
			for i := range got.StatementIDs {
				if got.StatementIDs[i] != c.want.StatementIDs[i] {
					t.Fatalf("decision = %+v, want %+v", got, c.want)
				}
			}
		})
	}
}

func TestAuthorizerSourceError(t *testing.T) {
	a := NewAuthorizer(failingSource{})
	_, err := a.Decide(context.Background(), Root("basic"), authz.Request{Action: "oci:pull", Resource: "repo:a"})
	if err == nil {
		t.Fatal("Decide with a failing source returned no error")
	}
}
