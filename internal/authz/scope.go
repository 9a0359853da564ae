package authz

import (
	"fmt"
	"slices"
	"strings"
)

// Scope is one access request of the Docker registry token protocol, written
// "<type>:<name>:<action>[,<action>...]", for example
// "repository:team-a/app:pull,push" or "registry:catalog:*".
type Scope struct {
	Type    string
	Name    string
	Actions []string
}

// Scope types and repository actions of the token protocol.
const (
	ScopeTypeRepository = "repository"
	ScopeTypeRegistry   = "registry"

	ScopeActionPull   = "pull"
	ScopeActionPush   = "push"
	ScopeActionDelete = "delete"
	// ScopeActionAll requests every action on the resource. It is granted
	// only when every one of them is allowed.
	ScopeActionAll = "*"
)

// repositoryActions maps repository scope actions to policy actions.
var repositoryActions = map[string][]string{
	ScopeActionPull:   {ActionOCIPull},
	ScopeActionPush:   {ActionOCIPush},
	ScopeActionDelete: {ActionOCIDelete},
	ScopeActionAll:    {ActionOCIPull, ActionOCIPush, ActionOCIDelete},
}

// ParseScope parses one scope. The type ends at the first colon and the
// actions start after the last one, so the name may not be empty but may
// contain colons.
func ParseScope(s string) (Scope, error) {
	scopeType, rest, found := strings.Cut(s, ":")
	colon := strings.LastIndexByte(rest, ':')
	if !found || colon <= 0 || scopeType == "" {
		return Scope{}, fmt.Errorf("invalid scope %q: want <type>:<name>:<actions>", s)
	}
	actions := strings.Split(rest[colon+1:], ",")
	if slices.Contains(actions, "") {
		return Scope{}, fmt.Errorf("invalid scope %q: an action is empty", s)
	}
	return Scope{Type: scopeType, Name: rest[:colon], Actions: actions}, nil
}

// ParseScopes parses a space-separated list of scopes, the form of one
// scope parameter of a token request.
func ParseScopes(list string) ([]Scope, error) {
	var scopes []Scope
	for _, field := range strings.Fields(list) {
		scope, err := ParseScope(field)
		if err != nil {
			return nil, err
		}
		scopes = append(scopes, scope)
	}
	return scopes, nil
}

// String formats the scope in the token protocol's syntax.
func (s Scope) String() string {
	return s.Type + ":" + s.Name + ":" + strings.Join(s.Actions, ",")
}

// GrantScopes returns the access to put in a registry token: for each
// requested scope, the requested actions that the policy allows. The
// principal and request environment come from base; its Action and
// Resource are ignored. Scopes of one resource are merged, actions keep
// their requested order, and scopes left without actions, of unknown types
// or with unknown actions are dropped, as the token protocol expects.
func GrantScopes(policy Policy, base Request, requested []Scope) []Scope {
	var granted []Scope
	for _, scope := range requested {
		actions := grantedActions(policy, base, scope)
		if len(actions) == 0 {
			continue
		}
		i := slices.IndexFunc(granted, func(g Scope) bool { return g.Type == scope.Type && g.Name == scope.Name })
		if i < 0 {
			granted = append(granted, Scope{Type: scope.Type, Name: scope.Name})
			i = len(granted) - 1
		}
		for _, action := range actions {
			if !slices.Contains(granted[i].Actions, action) {
				granted[i].Actions = append(granted[i].Actions, action)
			}
		}
	}
	return granted
}

// grantedActions returns the actions of one scope that the policy allows.
func grantedActions(policy Policy, base Request, scope Scope) []string {
	var allowed []string
	for _, action := range scope.Actions {
		if scopeActionAllowed(policy, base, scope, action) {
			allowed = append(allowed, action)
		}
	}
	return allowed
}

func scopeActionAllowed(policy Policy, base Request, scope Scope, action string) bool {
	req := base
	var needed []string
	switch scope.Type {
	case ScopeTypeRepository:
		req.Resource = RepositoryResource(scope.Name)
		needed = repositoryActions[action]
	case ScopeTypeRegistry:
		if scope.Name != "catalog" || action != ScopeActionAll {
			return false
		}
		req.Resource = ResourceCatalog
		needed = []string{ActionOCICatalog}
	}
	if len(needed) == 0 {
		return false
	}
	for _, policyAction := range needed {
		req.Action = policyAction
		if !policy.Decide(req).Allowed() {
			return false
		}
	}
	return true
}
