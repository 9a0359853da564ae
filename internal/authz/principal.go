package authz

import (
	"fmt"
	"slices"
	"strings"
)

// Principal patterns of a statement.
const (
	// PrincipalAnonymous matches only requests without credentials.
	PrincipalAnonymous = "anonymous"
	// PrincipalAuthenticated matches every authenticated principal, and
	// never the anonymous one.
	PrincipalAuthenticated = "*"

	userPrefix  = "user:"
	rolePrefix  = "role:"
	groupPrefix = "group:"
)

// matchPrincipal reports whether one principal pattern matches p.
func matchPrincipal(pattern string, p Principal) bool {
	switch {
	case pattern == PrincipalAnonymous:
		return p.Anonymous()
	case pattern == PrincipalAuthenticated:
		return !p.Anonymous()
	case p.Anonymous():
		// Users, roles and groups all need an authenticated principal, even
		// when the anonymous principal was given roles by mistake.
		return false
	case strings.HasPrefix(pattern, userPrefix):
		return pattern[len(userPrefix):] == p.ID
	case strings.HasPrefix(pattern, rolePrefix):
		return slices.Contains(p.Roles, pattern[len(rolePrefix):])
	case strings.HasPrefix(pattern, groupPrefix):
		glob := pattern[len(groupPrefix):]
		return slices.ContainsFunc(p.Groups, func(g string) bool { return matchSegments(glob, g) })
	}
	return false
}

// validatePrincipal checks the syntax of one principal pattern.
func validatePrincipal(pattern string) error {
	switch {
	case pattern == PrincipalAnonymous || pattern == PrincipalAuthenticated:
		return nil
	case strings.HasPrefix(pattern, userPrefix):
		id := pattern[len(userPrefix):]
		issuer, subject, found := strings.Cut(id, "#")
		if !found || issuer == "" || subject == "" {
			return fmt.Errorf("invalid user principal %q: want user:<issuer>#<subject>", pattern)
		}
		return nil
	case strings.HasPrefix(pattern, rolePrefix):
		if pattern == rolePrefix {
			return fmt.Errorf("invalid role principal %q: the role name is empty", pattern)
		}
		return nil
	case strings.HasPrefix(pattern, groupPrefix):
		if err := validateSegmentGlob(pattern[len(groupPrefix):], true); err != nil {
			return fmt.Errorf("invalid group principal %q: %w", pattern, err)
		}
		return nil
	}
	return fmt.Errorf("unknown principal %q: want anonymous, *, user:<issuer>#<subject>, role:<role> or group:<path>", pattern)
}

// validateSegmentGlob checks a pattern for matchSegments: no empty segments
// and "**" only as a whole segment. Group paths start with "/".
func validateSegmentGlob(glob string, groupPath bool) error {
	if glob == "" {
		return fmt.Errorf("the pattern is empty")
	}
	if groupPath {
		if !strings.HasPrefix(glob, "/") {
			return fmt.Errorf("a group path starts with /")
		}
		glob = glob[1:]
	}
	for _, seg := range strings.Split(glob, "/") {
		if seg == "" {
			return fmt.Errorf("the pattern has an empty segment")
		}
		if seg != "**" && strings.Contains(seg, "**") {
			return fmt.Errorf("** must be a whole segment")
		}
	}
	return nil
}
