// Package authz is Coffer's policy engine. It decides, for both the OCI and
// the S3 face, whether a principal may perform an action on a resource.
//
// The package is pure: it performs no I/O, keeps no state and never reads the
// clock or the network. Callers (the HTTP adapters, the token service, the
// bucket policy handlers) build a Request from what they know and pass the
// statements that apply. docs/policies.md describes the syntax.
package authz

import (
	"slices"
)

// Effect is the outcome a matching statement gives a request: Allow or Deny.
type Effect string

// The two effects. The spelling follows AWS IAM policies.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Statement is one rule of a policy. A statement matches a request when one
// of its principals, one of its actions and one of its resources match and
// every condition holds.
type Statement struct {
	// ID names the statement in decisions and audit events (the Sid of an
	// AWS policy).
	ID string `json:"id"`
	// Effect is Allow or Deny.
	Effect Effect `json:"effect"`
	// Principals lists principal patterns: "anonymous", "*" (any
	// authenticated principal), "user:<issuer>#<subject>", "role:<role>" or
	// "group:<path glob>".
	Principals []string `json:"principals"`
	// Actions lists action patterns such as "oci:pull", "s3:Get*" or "*".
	Actions []string `json:"actions"`
	// Resources lists resource patterns: "*", "repo:<name glob>",
	// "registry:catalog" or "arn:aws:s3:::<bucket>[/<key pattern>]".
	Resources []string `json:"resources"`
	// Conditions must all hold for the statement to match.
	Conditions []Condition `json:"conditions,omitempty"`
}

// Reason is the cause of a decision, for audit events and explanations.
type Reason string

// The reasons a Decision can carry.
const (
	// ReasonAllowed: an Allow statement matched and no Deny statement did.
	ReasonAllowed Reason = "allowed"
	// ReasonExplicitDeny: a Deny statement matched.
	ReasonExplicitDeny Reason = "explicit deny"
	// ReasonNoMatch: no statement matched, so the default deny applies.
	ReasonNoMatch Reason = "no matching statement"
	// ReasonRestricted: the base statements allow the request but a
	// restriction of the credential does not.
	ReasonRestricted Reason = "outside restriction"
)

// Decision is the outcome of evaluating a request.
type Decision struct {
	Effect Effect
	Reason Reason
	// StatementIDs lists, sorted, the statements that decided: every
	// matching Deny statement for an explicit deny, every matching Allow
	// statement for an allow, and none for a default deny.
	StatementIDs []string
}

// Allowed reports whether the decision permits the request.
func (d Decision) Allowed() bool {
	return d.Effect == Allow
}

// Evaluate decides a request against a set of statements: an explicit deny
// wins, otherwise an explicit allow, otherwise deny. The order of the
// statements never changes the decision.
func Evaluate(statements []Statement, req Request) Decision {
	var allows, denies []string
	for _, s := range statements {
		if !s.matches(req) {
			continue
		}
		if s.Effect == Deny {
			denies = append(denies, s.ID)
		} else if s.Effect == Allow {
			allows = append(allows, s.ID)
		}
	}

	if len(denies) > 0 {
		return Decision{Effect: Deny, Reason: ReasonExplicitDeny, StatementIDs: sortedUnique(denies)}
	}
	if len(allows) > 0 {
		return Decision{Effect: Allow, Reason: ReasonAllowed, StatementIDs: sortedUnique(allows)}
	}
	return Decision{Effect: Deny, Reason: ReasonNoMatch}
}

// matches reports whether every part of the statement matches the request.
// A condition that cannot be evaluated (a malformed value that escaped
// validation) makes a Deny statement match and an Allow statement not match,
// so a broken statement never grants more than a valid one would.
func (s Statement) matches(req Request) bool {
	if !s.matchesPrincipal(req.Principal) || !s.matchesAction(req.Action) || !s.matchesResource(req.Resource) {
		return false
	}
	for _, c := range s.Conditions {
		holds, ok := c.holds(req)
		if !ok {
			return s.Effect == Deny
		}
		if !holds {
			return false
		}
	}
	return true
}

func (s Statement) matchesPrincipal(p Principal) bool {
	return slices.ContainsFunc(s.Principals, func(pattern string) bool { return matchPrincipal(pattern, p) })
}

func (s Statement) matchesAction(action string) bool {
	return slices.ContainsFunc(s.Actions, func(pattern string) bool { return matchAction(pattern, action) })
}

func (s Statement) matchesResource(resource string) bool {
	return slices.ContainsFunc(s.Resources, func(pattern string) bool { return matchResource(pattern, resource) })
}

// Policy is a credential's effective policy: its base statements, narrowed by
// zero or more restrictions. A request is allowed only when the base
// statements allow it and every restriction allows it too.
type Policy struct {
	// Statements are the grants of the principal, typically from its roles.
	Statements []Statement `json:"statements"`
	// Restrictions each narrow the policy further, for example the scope of
	// a personal access token or a registry token derived from it.
	Restrictions [][]Statement `json:"restrictions,omitempty"`
}

// Narrow returns a policy that allows exactly what both base and restriction
// allow. Narrowing never widens: whatever the result allows, base allows.
func Narrow(base, restriction Policy) Policy {
	layers := slices.Concat(base.Restrictions, [][]Statement{restriction.Statements}, restriction.Restrictions)
	return Policy{Statements: base.Statements, Restrictions: layers}
}

// Decide evaluates the request against the base statements and then against
// each restriction. The first layer that does not allow decides: its
// explicit deny, or ReasonRestricted when a restriction merely has no
// matching Allow.
func (p Policy) Decide(req Request) Decision {
	decision := Evaluate(p.Statements, req)
	if !decision.Allowed() {
		return decision
	}
	for _, layer := range p.Restrictions {
		limit := Evaluate(layer, req)
		if limit.Allowed() {
			continue
		}
		if limit.Reason == ReasonNoMatch {
			limit.Reason = ReasonRestricted
		}
		return limit
	}
	return decision
}

func sortedUnique(ids []string) []string {
	slices.Sort(ids)
	return slices.Compact(ids)
}
