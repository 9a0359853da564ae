// Package identity turns credentials into identities and decides, with the
// policy engine in internal/authz, what an identity may do. It is shared by
// the OCI, S3 and management APIs so that one set of rules applies to all
// three. The package has no HTTP code: the adapters extract the credentials
// and map the errors to their protocol's codes.
package identity

import (
	"context"
	"fmt"
	"slices"

	"github.com/cofferhq/coffer/internal/authz"
)

// Identity is who a request acts as and with which credential.
type Identity struct {
	// Principal is the authenticated principal; its zero value is the
	// anonymous principal.
	Principal authz.Principal
	// CredentialID names the credential that authenticated the request,
	// for audit events: "root", the id of a personal access token, robot,
	// access key or temporary credential, or the jti of a token. It never
	// holds a secret. Empty for anonymous requests.
	CredentialID string
	// Restriction narrows what the principal may do, for example the
	// scopes of a personal access token or the session policy of
	// temporary credentials. Nil means no narrowing.
	Restriction *authz.Policy
}

// Anonymous returns the identity of a request without credentials.
func Anonymous() Identity {
	return Identity{}
}

// RootPrincipalID is the principal ID of the root user.
const RootPrincipalID = "coffer#root"

// Root returns the identity of the root user authenticated by method.
func Root(method string) Identity {
	return Identity{Principal: authz.Principal{ID: RootPrincipalID, Method: method}, CredentialID: "root"}
}

// PolicySource supplies the statements that may apply to a request, for
// example the statements of the configuration, the policies stored through
// the management API or the policy of the bucket a request addresses. A
// source may return statements that do not match the request: the engine
// sorts them out.
type PolicySource interface {
	Statements(ctx context.Context, req authz.Request) ([]authz.Statement, error)
}

// StaticPolicy is a PolicySource with a fixed list of statements.
type StaticPolicy []authz.Statement

// Statements returns the fixed statements.
func (p StaticPolicy) Statements(context.Context, authz.Request) ([]authz.Statement, error) {
	return p, nil
}

// RootStatement allows the root user everything. It is always part of the
// statements an Authorizer evaluates, so that decisions for root are
// explained like any other.
var RootStatement = authz.Statement{
	ID:         "coffer-root",
	Effect:     authz.Allow,
	Principals: []string{"user:" + RootPrincipalID},
	Actions:    []string{"*"},
	Resources:  []string{"*"},
}

// Authorizer decides requests against the statements of its sources.
type Authorizer struct {
	sources []PolicySource
}

// NewAuthorizer returns an Authorizer over the root statement and the given
// sources.
func NewAuthorizer(sources ...PolicySource) *Authorizer {
	return &Authorizer{sources: append([]PolicySource{StaticPolicy{RootStatement}}, sources...)}
}

// Decide evaluates req for id: the statements of every source form the
// base policy, which the identity's restriction narrows. req.Principal is
// set from id. An error means a source could not be read, so the caller
// must reject the request as unavailable and never allow it.
func (a *Authorizer) Decide(ctx context.Context, id Identity, req authz.Request) (authz.Decision, error) {
	req.Principal = id.Principal
	policy, err := a.Policy(ctx, id, req)
	if err != nil {
		return authz.Decision{}, err
	}
	return policy.Decide(req), nil
}

// Explain decides like Decide and also returns the statements whose IDs
// the decision lists, from the base policy and the restriction, so that a
// caller can show why a request was allowed or denied.
func (a *Authorizer) Explain(ctx context.Context, id Identity, req authz.Request) (authz.Decision, []authz.Statement, error) {
	req.Principal = id.Principal
	policy, err := a.Policy(ctx, id, req)
	if err != nil {
		return authz.Decision{}, nil, err
	}
	d := policy.Decide(req)
	all := slices.Clone(policy.Statements)
	for _, restriction := range policy.Restrictions {
		all = append(all, restriction...)
	}
	var decisive []authz.Statement
	for _, s := range all {
		if slices.Contains(d.StatementIDs, s.ID) && !slices.ContainsFunc(decisive, func(t authz.Statement) bool { return t.ID == s.ID }) {
			decisive = append(decisive, s)
		}
	}
	return d, decisive, nil
}

// Policy returns the policy of id for the given requests: the statements
// that every source supplies for any of them, narrowed by the identity's
// restriction. The registry token service decides the scopes of one token
// request against it with authz.GrantScopes.
func (a *Authorizer) Policy(ctx context.Context, id Identity, reqs ...authz.Request) (authz.Policy, error) {
	var statements []authz.Statement
	for _, req := range reqs {
		req.Principal = id.Principal
		for _, source := range a.sources {
			s, err := source.Statements(ctx, req)
			if err != nil {
				return authz.Policy{}, fmt.Errorf("read policy statements for %s on %s: %w", req.Action, req.Resource, err)
			}
			statements = append(statements, s...)
		}
	}
	policy := authz.Policy{Statements: statements}
	if id.Restriction != nil {
		policy = authz.Narrow(policy, *id.Restriction)
	}
	return policy, nil
}
