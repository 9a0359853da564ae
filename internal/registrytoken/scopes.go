package registrytoken

import (
	"github.com/cofferhq/coffer/internal/authz"
)

// ScopeRequest is the action and resource of one policy request that a
// token scope requires.
type ScopeRequest struct {
	Action   string
	Resource string
}

// ScopeRequests returns the policy actions and resources of one scope
// action, following the mapping of authz.GrantScopes: pull, push and delete
// on a repository, every one of them for "*", and oci:catalog for
// "registry:catalog:*". Unknown types and actions return nothing.
func ScopeRequests(scopeType, name, action string) []ScopeRequest {
	switch scopeType {
	case authz.ScopeTypeRegistry:
		if name == "catalog" && action == authz.ScopeActionAll {
			return []ScopeRequest{{Action: authz.ActionOCICatalog, Resource: authz.ResourceCatalog}}
		}
	case authz.ScopeTypeRepository:
		resource := authz.RepositoryResource(name)
		var actions []string
		switch action {
		case authz.ScopeActionPull:
			actions = []string{authz.ActionOCIPull}
		case authz.ScopeActionPush:
			actions = []string{authz.ActionOCIPush}
		case authz.ScopeActionDelete:
			actions = []string{authz.ActionOCIDelete}
		case authz.ScopeActionAll:
			actions = []string{authz.ActionOCIPull, authz.ActionOCIPush, authz.ActionOCIDelete}
		}
		requests := make([]ScopeRequest, 0, len(actions))
		for _, a := range actions {
			requests = append(requests, ScopeRequest{Action: a, Resource: resource})
		}
		return requests
	}
	return nil
}

// accessStatements turns a token's access claim into the statements of its
// restriction: an Allow of exactly the granted actions on the granted
// resources, for any holder of the token, anonymous included.
func accessStatements(access []Access) []authz.Statement {
	statements := []authz.Statement{}
	for _, entry := range access {
		for _, action := range entry.Actions {
			for _, req := range ScopeRequests(entry.Type, entry.Name, action) {
				statements = append(statements, authz.Statement{
					ID:         "registry-token",
					Effect:     authz.Allow,
					Principals: []string{authz.PrincipalAuthenticated, authz.PrincipalAnonymous},
					Actions:    []string{req.Action},
					Resources:  []string{req.Resource},
				})
			}
		}
	}
	return statements
}
