package identity

import (
	"context"
	"testing"

	"github.com/cofferhq/coffer/internal/authz"
)

func TestSelfService(t *testing.T) {
	alice := Identity{Principal: authz.Principal{ID: "https://id.example/realms/r#alice", Method: "oidc"}}
	alicePAT := Identity{Principal: authz.Principal{ID: "https://id.example/realms/r#alice", Method: "pat"}, CredentialID: "p1"}
	robot := Identity{Principal: authz.Principal{ID: "coffer#robot$ci", Method: "robot"}}
	wild := Identity{Principal: authz.Principal{ID: "https://id.example/realms/r#*", Method: "oidc"}}
	own := authz.ManagementResource("tokens", alice.Principal.ID)
	cases := []struct {
		name     string
		id       Identity
		action   string
		resource string
		want     authz.Effect
	}{
		{"user creates own token", alice, authz.ActionTokensCreate, own, authz.Allow},
		{"user lists own tokens", alice, authz.ActionTokensList, own, authz.Allow},
		{"user revokes own token", alice, authz.ActionTokensRevoke, own, authz.Allow},
		{"user and other tokens", alice, authz.ActionTokensList, authz.ManagementResource("tokens", "https://id.example/realms/r#bob"), authz.Deny},
		{"user and robots", alice, authz.ActionRobotsCreate, authz.ManagementResource("robots", "ci"), authz.Deny},
		{"token of the user", alicePAT, authz.ActionTokensCreate, own, authz.Deny},
		{"robot", robot, authz.ActionTokensCreate, authz.ManagementResource("tokens", robot.Principal.ID), authz.Deny},
		{"anonymous", Anonymous(), authz.ActionTokensList, authz.ManagementResource("tokens", ""), authz.Deny},
		{"wildcard subject", wild, authz.ActionTokensList, authz.ManagementResource("tokens", "https://id.example/realms/r#bob"), authz.Deny},
	}
	a := NewAuthorizer(SelfService{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := a.Decide(context.Background(), c.id, authz.Request{Action: c.action, Resource: c.resource})
			if err != nil {
				t.Fatal(err)
			}
			if got.Effect != c.want {
				t.Fatalf("decision = %+v, want %s", got, c.want)
			}
		})
	}
}
