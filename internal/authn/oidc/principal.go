package oidc

import (
	"strings"
	"time"
)

// Principal is the identity of a validated access token.
type Principal struct {
	// Issuer and Subject identify the principal together; the subject is
	// a UUID in Keycloak, unique only within its issuer.
	Issuer  string
	Subject string
	// Username is the UsernameClaim (preferred_username by default). It
	// may change in the provider and is for display and audit only.
	Username string
	// AuthorizedParty is the azp: the client the token was issued to.
	AuthorizedParty string
	// RealmRoles are realm_access.roles.
	RealmRoles []string
	// ClientRoles are resource_access.<RolesClient>.roles.
	ClientRoles []string
	// Groups is the GroupsClaim as the provider sends it: full paths such
	// as /eng/platform with Keycloak's "Full group path" mapper option.
	Groups []string
	// Scopes are the space-separated values of the scope claim.
	Scopes []string
	// TokenID is the jti, for audit.
	TokenID string
	// ExpiresAt is the token's exp.
	ExpiresAt time.Time
	// Claims holds every claim of the token; numbers are json.Number.
	Claims map[string]any
}

// ID returns the stable identifier of the principal: issuer and subject
// joined by "#".
func (p *Principal) ID() string { return p.Issuer + "#" + p.Subject }

func (v *Verifier) principal(c *claims) *Principal {
	p := &Principal{
		Issuer:          c.Iss,
		Subject:         c.Sub,
		AuthorizedParty: c.Azp,
		Scopes:          strings.Fields(c.Scope),
		TokenID:         c.Jti,
		ExpiresAt:       c.Exp.Time,
		Claims:          c.all,
		Groups:          stringList(c.all[v.cfg.GroupsClaim]),
	}
	p.Username, _ = c.all[v.cfg.UsernameClaim].(string)
	if realm, ok := c.all["realm_access"].(map[string]any); ok {
		p.RealmRoles = stringList(realm["roles"])
	}
	if resource, ok := c.all["resource_access"].(map[string]any); ok {
		if client, ok := resource[v.cfg.RolesClient].(map[string]any); ok {
			p.ClientRoles = stringList(client["roles"])
		}
	}
	return p
}

// stringList returns the strings of a JSON array claim, skipping other
// values; a single string counts as a list of one.
func stringList(v any) []string {
	switch list := v.(type) {
	case string:
		return []string{list}
	case []any:
		out := make([]string, 0, len(list))
		for _, item := range list {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
