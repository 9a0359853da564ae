package authz

import (
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// The generators draw from small vocabularies so that statements and
// requests match each other often enough to exercise every branch.

var (
	genPrincipalPattern = rapid.SampledFrom([]string{
		"anonymous", "*", "role:a", "role:b", "group:/g/x", "group:/g/**", "user:iss#alice",
	})
	genActionPattern = rapid.SampledFrom([]string{
		"*", "oci:*", "oci:pull", "oci:push", "s3:*", "s3:Get*", "s3:GetObject", "s3:PutObject",
	})
	genResourcePattern = rapid.SampledFrom([]string{
		"*", "repo:a/*", "repo:a/**", "repo:b", "arn:aws:s3:::bk/*", "arn:aws:s3:::bk", "registry:catalog",
	})
	genCondition = rapid.SampledFrom([]Condition{
		{Operator: "IpAddress", Key: KeySourceIP, Values: []string{"10.0.0.0/8"}},
		{Operator: "NotIpAddress", Key: KeySourceIP, Values: []string{"10.0.0.0/8"}},
		{Operator: "Bool", Key: KeySecureTransport, Values: []string{"true"}},
		{Operator: "StringEquals", Key: "claim:email", Values: []string{"x@example.com"}},
		{Operator: "StringNotLike", Key: "claim:email", Values: []string{"*@example.com"}},
	})
	genAction = rapid.SampledFrom([]string{
		"oci:pull", "oci:push", "oci:delete", "oci:catalog", "s3:GetObject", "s3:PutObject", "s3:ListBucket",
	})
	genResource = rapid.SampledFrom([]string{
		"repo:a/b", "repo:a/b/c", "repo:b", "arn:aws:s3:::bk", "arn:aws:s3:::bk/k", ResourceCatalog,
	})
)

func genStatement(id string) *rapid.Generator[Statement] {
	return rapid.Custom(func(t *rapid.T) Statement {
		return Statement{
			ID:         id,
			Effect:     rapid.SampledFrom([]Effect{Allow, Deny}).Draw(t, "effect"),
			Principals: rapid.SliceOfNDistinct(genPrincipalPattern, 1, 2, rapid.ID).Draw(t, "principals"),
			Actions:    rapid.SliceOfNDistinct(genActionPattern, 1, 2, rapid.ID).Draw(t, "actions"),
			Resources:  rapid.SliceOfNDistinct(genResourcePattern, 1, 2, rapid.ID).Draw(t, "resources"),
			Conditions: rapid.SliceOfN(genCondition, 0, 1).Draw(t, "conditions"),
		}
	})
}

func drawStatements(t *rapid.T, label string) []Statement {
	n := rapid.IntRange(0, 6).Draw(t, label+" count")
	statements := make([]Statement, n)
	for i := range statements {
		statements[i] = genStatement(label+"-"+string(rune('a'+i))).Draw(t, label)
	}
	return statements
}

func drawRequest(t *rapid.T) Request {
	req := Request{
		Action:          genAction.Draw(t, "action"),
		Resource:        genResource.Draw(t, "resource"),
		SecureTransport: rapid.Bool().Draw(t, "tls"),
		SourceIP: rapid.SampledFrom([]netip.Addr{
			{}, netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("192.0.2.7"),
		}).Draw(t, "source"),
	}
	if rapid.Bool().Draw(t, "authenticated") {
		req.Principal = Principal{
			ID:     rapid.SampledFrom([]string{"iss#alice", "iss#bob"}).Draw(t, "id"),
			Roles:  rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"a", "b"}), 0, 2, rapid.ID).Draw(t, "roles"),
			Groups: rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"/g/x", "/g/y/z"}), 0, 2, rapid.ID).Draw(t, "groups"),
			Claims: map[string]any{"email": rapid.SampledFrom([]string{"x@example.com", "y@other.org"}).Draw(t, "email")},
		}
	}
	return req
}

func TestPropertyDenyAlwaysWins(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		statements := drawStatements(t, "s")
		req := drawRequest(t)

		// A Deny statement that matches on its own decides the whole set.
		for _, s := range statements {
			if s.Effect == Deny && s.matches(req) {
				got := Evaluate(statements, req)
				if got.Effect != Deny || got.Reason != ReasonExplicitDeny || !slices.Contains(got.StatementIDs, s.ID) {
					t.Fatalf("matching deny %q lost: %+v", s.ID, got)
				}
			}
		}

		// Adding a matching Deny statement turns any decision into a deny.
		deny := Statement{ID: "zz-deny", Effect: Deny, Principals: []string{"anonymous", "*"},
			Actions: []string{req.Action}, Resources: []string{"*"}}
		got := Evaluate(append(slices.Clone(statements), deny), req)
		if got.Effect != Deny || got.Reason != ReasonExplicitDeny || !slices.Contains(got.StatementIDs, deny.ID) {
			t.Fatalf("added deny lost: %+v", got)
		}
	})
}

func TestPropertyNoStatementMeansDeny(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		req := drawRequest(t)
		want := Decision{Effect: Deny, Reason: ReasonNoMatch}
		if got := Evaluate(nil, req); !reflect.DeepEqual(got, want) {
			t.Fatalf("Evaluate(nil) = %+v, want %+v", got, want)
		}
		if got := (Policy{}).Decide(req); !reflect.DeepEqual(got, want) {
			t.Fatalf("empty policy = %+v, want %+v", got, want)
		}

		// An allow needs at least one Allow statement that matches alone.
		statements := drawStatements(t, "s")
		if Evaluate(statements, req).Allowed() {
			found := slices.ContainsFunc(statements, func(s Statement) bool { return s.Effect == Allow && s.matches(req) })
			if !found {
				t.Fatal("allowed without a matching Allow statement")
			}
		}
	})
}

func TestPropertyOrderNeverMatters(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		statements := drawStatements(t, "s")
		req := drawRequest(t)
		shuffled := rapid.Permutation(statements).Draw(t, "shuffled")

		want := Evaluate(statements, req)
		if got := Evaluate(shuffled, req); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled decision %+v, original %+v", got, want)
		}
	})
}

func TestPropertyRestrictionOnlyNarrows(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		base := Policy{Statements: drawStatements(t, "base")}
		if rapid.Bool().Draw(t, "base restricted") {
			base.Restrictions = [][]Statement{drawStatements(t, "earlier")}
		}
		restriction := Policy{Statements: drawStatements(t, "limit")}
		req := drawRequest(t)

		narrowed := Narrow(base, restriction).Decide(req)
		baseAllows := base.Decide(req).Allowed()
		restrictionAllows := restriction.Decide(req).Allowed()
		if narrowed.Allowed() != (baseAllows && restrictionAllows) {
			t.Fatalf("narrowed allowed=%v, base=%v, restriction=%v (%+v)",
				narrowed.Allowed(), baseAllows, restrictionAllows, narrowed)
		}
	})
}

func TestPropertyGrantWithinRequestedAndAllowed(t *testing.T) {
	genScope := rapid.Custom(func(t *rapid.T) Scope {
		return Scope{
			Type:    rapid.SampledFrom([]string{"repository", "registry", "plugin"}).Draw(t, "type"),
			Name:    rapid.SampledFrom([]string{"a/b", "a/b/c", "b", "catalog"}).Draw(t, "name"),
			Actions: rapid.SliceOfN(rapid.SampledFrom([]string{"pull", "push", "delete", "*", "bogus"}), 1, 3).Draw(t, "actions"),
		}
	})
	rapid.Check(t, func(t *rapid.T) {
		policy := Policy{Statements: drawStatements(t, "s")}
		req := drawRequest(t)
		requested := rapid.SliceOfN(genScope, 0, 4).Draw(t, "requested")

		for _, g := range GrantScopes(policy, req, requested) {
			if len(g.Actions) == 0 {
				t.Fatalf("granted scope %v has no actions", g)
			}
			for _, action := range g.Actions {
				wasRequested := slices.ContainsFunc(requested, func(r Scope) bool {
					return r.Type == g.Type && r.Name == g.Name && slices.Contains(r.Actions, action)
				})
				if !wasRequested {
					t.Fatalf("granted %s:%s:%s was not requested", g.Type, g.Name, action)
				}
				if !tokenActionAllowed(policy, req, g.Type, g.Name, action) {
					t.Fatalf("granted %s:%s:%s is not allowed", g.Type, g.Name, action)
				}
			}
		}
	})
}

// tokenActionAllowed is the test's own statement of what a scope action
// needs: pull, push and delete need the OCI action on the repository, "*"
// needs all three, and registry:catalog:* needs oci:catalog.
func tokenActionAllowed(policy Policy, req Request, scopeType, name, action string) bool {
	allows := func(policyAction, resource string) bool {
		req.Action, req.Resource = policyAction, resource
		return policy.Decide(req).Allowed()
	}
	repo := RepositoryResource(name)
	switch {
	case scopeType == "repository" && action == "pull":
		return allows("oci:pull", repo)
	case scopeType == "repository" && action == "push":
		return allows("oci:push", repo)
	case scopeType == "repository" && action == "delete":
		return allows("oci:delete", repo)
	case scopeType == "repository" && action == "*":
		return allows("oci:pull", repo) && allows("oci:push", repo) && allows("oci:delete", repo)
	case scopeType == "registry" && name == "catalog" && action == "*":
		return allows("oci:catalog", ResourceCatalog)
	}
	return false
}

func TestPropertyGrantIsComplete(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		policy := Policy{Statements: drawStatements(t, "s")}
		req := drawRequest(t)
		scope := Scope{
			Type:    rapid.SampledFrom([]string{"repository", "registry"}).Draw(t, "type"),
			Name:    rapid.SampledFrom([]string{"a/b", "b", "catalog"}).Draw(t, "name"),
			Actions: []string{rapid.SampledFrom([]string{"pull", "push", "delete", "*"}).Draw(t, "action")},
		}

		granted := GrantScopes(policy, req, []Scope{scope})
		want := tokenActionAllowed(policy, req, scope.Type, scope.Name, scope.Actions[0])
		if want != (len(granted) == 1) {
			t.Fatalf("requested %v, allowed=%v, granted %v", scope, want, granted)
		}
		if want && !reflect.DeepEqual(granted[0], scope) {
			t.Fatalf("granted %v, want %v", granted[0], scope)
		}
	})
}
