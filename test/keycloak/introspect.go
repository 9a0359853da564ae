package keycloak

import (
	"net/http"
	"strings"
)

// serveIntrospect implements token introspection: confidential clients
// only; inactive, invalid, expired or logged-out tokens are
// {"active":false} with status 200.
func (s *Server) serveIntrospect(w http.ResponseWriter, req *http.Request, rr realmRequest) {
	form, oerr := readForm(req)
	var c *ClientConfig
	if oerr == nil {
		c, oerr = s.authenticateClient(rr, req, form)
	}
	if oerr == nil && c.Secret == "" {
		oerr = newError(http.StatusForbidden, "invalid_request", "Client not allowed.")
	}
	if oerr == nil && form.Get("token") == "" {
		oerr = newError(http.StatusBadRequest, "invalid_request", "Token not provided.")
	}
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	claims, err := s.parseOwnToken(rr.realm, rr.issuer, form.Get("token"))
	if err != nil || !s.sessionActive(rr.realm, claims) || !s.userEnabled(rr.realm, claims) {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	claims["active"] = true
	claims["client_id"] = claims["azp"]
	if name, ok := claims["preferred_username"]; ok {
		claims["username"] = name
	}
	claims["token_type"] = claims["typ"]
	writeJSON(w, http.StatusOK, claims)
}

// userEnabled reports whether the token's subject exists and is enabled.
func (s *Server) userEnabled(r *realm, claims map[string]any) bool {
	sub, _ := claims["sub"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := r.userByID(sub)
	return u != nil && !u.Disabled
}

// serveUserinfo returns the user's profile claims for an access token
// that carries the openid scope.
func (s *Server) serveUserinfo(w http.ResponseWriter, req *http.Request, rr realmRequest) {
	invalid := func(description string) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+rr.name+`", error="invalid_token", error_description="`+description+`"`)
		writeError(w, newError(http.StatusUnauthorized, "invalid_token", description))
	}
	token := bearerToken(req)
	if token == "" {
		invalid("Token not provided")
		return
	}
	claims, err := s.parseOwnToken(rr.realm, rr.issuer, token)
	if err != nil || claims["typ"] != AccessToken || !s.sessionActive(rr.realm, claims) {
		invalid("Token verification failed")
		return
	}
	scope, _ := claims["scope"].(string)
	if !containsField(scope, "openid") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+rr.name+`", error="insufficient_scope", error_description="Missing openid scope"`)
		writeError(w, newError(http.StatusForbidden, "insufficient_scope", "Missing openid scope"))
		return
	}
	sub, _ := claims["sub"].(string)
	azp, _ := claims["azp"].(string)
	s.mu.Lock()
	u := rr.realm.userByID(sub)
	c := rr.realm.clients[azp]
	s.mu.Unlock()
	if u == nil || c == nil || u.Disabled {
		invalid("User not found or disabled")
		return
	}
	g := &grant{realm: rr.realm, issuer: rr.issuer, client: c, user: u, scopes: grantScopes(c, scope)}
	body := map[string]any{"sub": u.ID}
	g.addUserClaims(body)
	writeJSON(w, http.StatusOK, body)
}

// serveRevoke revokes a token: a refresh token ends its session, an
// access token is marked revoked for introspection. Unknown tokens are
// accepted silently, as RFC 7009 requires.
func (s *Server) serveRevoke(w http.ResponseWriter, req *http.Request, rr realmRequest) {
	form, oerr := readForm(req)
	var c *ClientConfig
	if oerr == nil {
		c, oerr = s.authenticateClient(rr, req, form)
	}
	if oerr == nil && form.Get("token") == "" {
		oerr = newError(http.StatusBadRequest, "invalid_request", "Token not provided")
	}
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	claims, err := s.parseOwnToken(rr.realm, rr.issuer, form.Get("token"))
	if err == nil && claims["azp"] != c.ClientID {
		writeError(w, newError(http.StatusBadRequest, "unauthorized_client", "Unmatching clients"))
		return
	}
	if err == nil {
		s.mu.Lock()
		switch claims["typ"] {
		case RefreshToken, OfflineToken:
			sid, _ := claims["sid"].(string)
			if sess := rr.realm.sessions[sid]; sess != nil {
				sess.active = false
			}
		default:
			jti, _ := claims["jti"].(string)
			rr.realm.revoked[jti] = true
		}
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// serveLogout ends the session of a refresh token (the backchannel
// logout a client sends with refresh_token) and returns 204.
func (s *Server) serveLogout(w http.ResponseWriter, req *http.Request, rr realmRequest) {
	form, oerr := readForm(req)
	var c *ClientConfig
	if oerr == nil {
		c, oerr = s.authenticateClient(rr, req, form)
	}
	if oerr == nil && form.Get("refresh_token") == "" {
		oerr = newError(http.StatusBadRequest, "invalid_request", "Missing parameter: refresh_token")
	}
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	claims, err := s.parseOwnToken(rr.realm, rr.issuer, form.Get("refresh_token"))
	if err != nil || claims["azp"] != c.ClientID {
		writeError(w, newError(http.StatusBadRequest, "invalid_grant", "Invalid refresh token"))
		return
	}
	sid, _ := claims["sid"].(string)
	s.mu.Lock()
	if sess := rr.realm.sessions[sid]; sess != nil {
		sess.active = false
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func containsField(s, field string) bool {
	for _, f := range strings.Fields(s) {
		if f == field {
			return true
		}
	}
	return false
}
