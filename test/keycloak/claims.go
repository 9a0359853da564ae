package keycloak

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// Token kinds, as in the payload claim typ.
const (
	AccessToken  = "Bearer"
	IDToken      = "ID"
	RefreshToken = "Refresh"
	OfflineToken = "Offline"
)

// grant is what a token is issued for: a client, a user (or the client's
// service account), the user session and the granted scopes.
type grant struct {
	realm   *realm
	issuer  string
	client  *ClientConfig
	user    *user
	session *session // nil for service accounts
	scopes  []string // granted client scopes, openid included when requested
	// audience replaces the computed aud (token exchange with audience).
	audience []string
	// clientAddress is the remote address, for service-account claims.
	clientAddress string
}

// grantScopes returns the client scopes a request grants: the client's
// default scopes plus the requested ones that are optional (or openid).
func grantScopes(c *ClientConfig, requested string) []string {
	var out []string
	fields := strings.Fields(requested)
	if slices.Contains(fields, "openid") {
		out = append(out, "openid")
	}
	out = append(out, c.DefaultScopes...)
	for _, f := range fields {
		if slices.Contains(c.OptionalScopes, f) && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// scopeClaim returns the scope claim: the granted scopes that Keycloak
// marks "include in token scope" (basic, roles, web-origins and acr are
// not).
func (g *grant) scopeClaim() string {
	var out []string
	for _, sc := range g.scopes {
		switch sc {
		case "basic", "roles", "web-origins", "acr":
			continue
		}
		out = append(out, sc)
	}
	return strings.Join(out, " ")
}

func (g *grant) has(scope string) bool { return slices.Contains(g.scopes, scope) }

// realmRoles returns the user's effective realm roles: the composite
// default-roles-<realm> with offline_access and uma_authorization, and
// the user's own roles.
func (g *grant) realmRoles() []string {
	roles := []string{"default-roles-" + g.realm.cfg.Name, "offline_access", "uma_authorization"}
	for _, role := range g.user.RealmRoles {
		if !slices.Contains(roles, role) {
			roles = append(roles, role)
		}
	}
	return roles
}

// clientRoles returns the user's effective client roles by client id,
// including the account roles of default-roles-<realm>.
func (g *grant) clientRoles() map[string][]string {
	out := map[string][]string{"account": slices.Clone(accountRoles)}
	for client, roles := range g.user.ClientRoles {
		out[client] = append(out[client], roles...)
	}
	return out
}

// audienceClaim returns aud: the clients of audience mappers, then every
// other client the user has roles on (Keycloak's audience resolve
// mapper). It is a string for one value, an array for several and nil
// (omitted) for none.
func (g *grant) audienceClaim() any {
	aud := g.audience
	if aud == nil {
		aud = slices.Clone(g.client.Audiences)
		if g.has("roles") {
			clients := g.clientRoles()
			names := make([]string, 0, len(clients))
			for name := range clients {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				if name != g.client.ClientID && !slices.Contains(aud, name) {
					aud = append(aud, name)
				}
			}
		}
	}
	switch len(aud) {
	case 0:
		return nil
	case 1:
		return aud[0]
	default:
		return aud
	}
}

// common returns the claims every token kind carries.
func (g *grant) common(typ string, now time.Time, lifetime time.Duration) map[string]any {
	c := map[string]any{
		"exp": now.Add(lifetime).Unix(),
		"iat": now.Unix(),
		"jti": tokenID(typ),
		"iss": g.issuer,
		"typ": typ,
		"azp": g.client.ClientID,
	}
	if g.has("basic") {
		c["sub"] = g.user.ID
	}
	if g.session != nil {
		c["sid"] = g.session.id
		if g.realm.cfg.SessionStateClaim {
			c["session_state"] = g.session.id
		}
	}
	return c
}

// tokenID returns a jti: a UUID behind a short prefix per token kind, so
// that consumers treat jti as an opaque string.
// NOTE: Keycloak 26 also prefixes jti by how a token was issued, but its
// exact prefixes were not checked against a running Keycloak; these are
// the mock's own.
func tokenID(typ string) string {
	prefix := map[string]string{AccessToken: "onrtac", IDToken: "onrtid", RefreshToken: "onrtrt", OfflineToken: "onrtof"}[typ]
	return prefix + ":" + newUUID()
}

// accessClaims returns the payload of an access token.
func (g *grant) accessClaims(now time.Time) map[string]any {
	c := g.common(AccessToken, now, time.Duration(g.realm.cfg.AccessTokenLifespan)*time.Second)
	c["scope"] = g.scopeClaim()
	if g.client.Lightweight {
		return c
	}
	if aud := g.audienceClaim(); aud != nil {
		c["aud"] = aud
	}
	if g.has("acr") && g.session != nil {
		c["acr"] = "1"
	}
	if g.has("roles") {
		c["realm_access"] = map[string]any{"roles": g.realmRoles()}
		resource := map[string]any{}
		for client, roles := range g.clientRoles() {
			resource[client] = map[string]any{"roles": roles}
		}
		c["resource_access"] = resource
	}
	g.addUserClaims(c)
	if g.user.serviceAccountOf != "" {
		c["client_id"] = g.user.serviceAccountOf
		c["clientHost"] = g.clientAddress
		c["clientAddress"] = g.clientAddress
	}
	return c
}

// addUserClaims adds the profile, email, groups and microprofile-jwt
// claims the granted scopes and the client's mappers produce.
func (g *grant) addUserClaims(c map[string]any) {
	u := g.user
	if g.has("profile") {
		c["preferred_username"] = u.Username
		if name := strings.TrimSpace(u.FirstName + " " + u.LastName); name != "" {
			c["name"] = name
		}
		if u.FirstName != "" {
			c["given_name"] = u.FirstName
		}
		if u.LastName != "" {
			c["family_name"] = u.LastName
		}
	}
	if g.has("email") {
		c["email_verified"] = u.Email != ""
		if u.Email != "" {
			c["email"] = u.Email
		}
	}
	if g.client.GroupsClaim != "" {
		c[g.client.GroupsClaim] = u.groupPaths(!g.client.GroupsShortNames)
	}
	if g.has("microprofile-jwt") {
		// microprofile-jwt puts realm roles, not groups, into groups.
		c["upn"] = u.Username
		c["groups"] = g.realmRoles()
	}
}

// idClaims returns the payload of an ID token for accessToken.
func (g *grant) idClaims(now time.Time, accessToken string) map[string]any {
	c := g.common(IDToken, now, time.Duration(g.realm.cfg.AccessTokenLifespan)*time.Second)
	c["aud"] = g.client.ClientID
	c["at_hash"] = leftHalfHash(accessToken)
	if g.has("acr") {
		c["acr"] = "1"
	}
	g.addUserClaims(c)
	return c
}

// refreshClaims returns the payload of a refresh token; its aud is the
// issuer, as in Keycloak.
func (g *grant) refreshClaims(now time.Time) map[string]any {
	typ := RefreshToken
	if g.has("offline_access") {
		typ = OfflineToken
	}
	c := g.common(typ, now, time.Duration(g.realm.cfg.SSOSessionIdle)*time.Second)
	c["aud"] = g.issuer
	c["scope"] = strings.Join(g.scopes, " ")
	c["sub"] = g.user.ID
	if typ == OfflineToken {
		delete(c, "exp")
	}
	return c
}

// leftHalfHash is the at_hash of an RS256/ES256 token: the left half of
// its SHA-256, base64url.
func leftHalfHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
