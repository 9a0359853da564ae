package identity

import (
	"context"
	"strings"

	"github.com/cofferhq/coffer/internal/authz"
)

// SelfServiceStatementID names the built-in statement that lets a user
// manage their own personal access tokens.
const SelfServiceStatementID = "coffer-own-tokens"

// CofferIssuer is the issuer part of the principal IDs of identities that
// Coffer manages itself: the root user ("coffer#root") and robots
// ("coffer#robot$<name>").
const CofferIssuer = "coffer"

// SelfService is a PolicySource that lets every user who authenticated with
// an OIDC access token create, list and revoke their own personal access
// tokens, whose resource is authz.ManagementResource("tokens", <the user's
// principal ID>). Requests authenticated otherwise (root, robots, personal
// access tokens) and anonymous requests get no such statement, so a token
// cannot mint tokens unless a policy allows it.
type SelfService struct{}

// Statements returns the self-service statement for the request's
// principal, or nothing when the principal did not authenticate with an
// OIDC access token. A principal ID with "*" or "?" gets nothing either,
// because the resource pattern would then match other users' tokens.
func (SelfService) Statements(_ context.Context, req authz.Request) ([]authz.Statement, error) {
	p := req.Principal
	if p.Anonymous() || p.Method != "oidc" || strings.ContainsAny(p.ID, "*?") {
		return nil, nil
	}
	return []authz.Statement{{
		ID:         SelfServiceStatementID,
		Effect:     authz.Allow,
		Principals: []string{"user:" + p.ID},
		Actions:    []string{authz.ActionTokensCreate, authz.ActionTokensList, authz.ActionTokensRevoke},
		Resources:  []string{authz.ManagementResource("tokens", p.ID)},
	}}, nil
}
