package authz

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// RoleMapping turns Keycloak roles and groups into Coffer roles. Keycloak
// puts realm roles in the claim realm_access.roles, the roles of each client
// in resource_access.<client>.roles and group full paths in groups (with the
// "Group Membership" mapper and "Full group path" on).
type RoleMapping struct {
	// RealmRoles maps a realm role to the Coffer roles it grants.
	RealmRoles map[string][]string `json:"realm_roles,omitempty" yaml:"realm_roles,omitempty"`
	// Client is the client ID whose client roles ClientRoles maps, usually
	// Coffer's own client.
	Client string `json:"client,omitempty" yaml:"client,omitempty"`
	// ClientRoles maps a role of Client to the Coffer roles it grants.
	ClientRoles map[string][]string `json:"client_roles,omitempty" yaml:"client_roles,omitempty"`
	// Groups maps a group full path, or a path pattern such as
	// "/engineering/**", to the Coffer roles it grants.
	Groups map[string][]string `json:"groups,omitempty" yaml:"groups,omitempty"`
}

// Validate checks the mapping: group keys must be valid path patterns, no
// Coffer role may be empty, and client roles need a client.
func (m RoleMapping) Validate() error {
	if len(m.ClientRoles) > 0 && m.Client == "" {
		return fieldError("client", errors.New("client_roles is set but client is empty"))
	}
	for _, path := range slices.Sorted(maps.Keys(m.Groups)) {
		if err := validateSegmentGlob(path, true); err != nil {
			return fieldError(fmt.Sprintf("groups[%q]", path), err)
		}
	}
	sections := []struct {
		name    string
		mapping map[string][]string
	}{{"realm_roles", m.RealmRoles}, {"client_roles", m.ClientRoles}, {"groups", m.Groups}}
	for _, section := range sections {
		for _, from := range slices.Sorted(maps.Keys(section.mapping)) {
			if slices.Contains(section.mapping[from], "") {
				return fieldError(fmt.Sprintf("%s[%q]", section.name, from), errors.New("a Coffer role is empty"))
			}
		}
	}
	return nil
}

// MapRoles returns, sorted and without duplicates, the Coffer roles that the
// token claims grant through the mapping. Claims are the decoded JSON of an
// access token; missing or malformed claims grant nothing.
func MapRoles(claims map[string]any, m RoleMapping) []string {
	var roles []string
	for _, role := range stringList(claims, "realm_access", "roles") {
		roles = append(roles, m.RealmRoles[role]...)
	}
	if m.Client != "" {
		for _, role := range stringList(claims, "resource_access", m.Client, "roles") {
			roles = append(roles, m.ClientRoles[role]...)
		}
	}
	for _, group := range ClaimGroups(claims) {
		for pattern, granted := range m.Groups {
			if matchSegments(pattern, group) {
				roles = append(roles, granted...)
			}
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// ClaimGroups returns the group paths of the groups claim.
func ClaimGroups(claims map[string]any) []string {
	return stringList(claims, "groups")
}

// stringList returns the string elements of the array at path.
func stringList(claims map[string]any, path ...string) []string {
	raw, found := claimPath(claims, path)
	if !found {
		return nil
	}
	if list, ok := raw.([]string); ok {
		return list
	}
	list, ok := raw.([]any)
	if !ok {
		return nil
	}
	var values []string
	for _, item := range list {
		if s, ok := item.(string); ok {
			values = append(values, s)
		}
	}
	return values
}
