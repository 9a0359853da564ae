package keycloak

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Grant types of the token endpoint.
const (
	grantClientCredentials = "client_credentials"
	grantPassword          = "password"
	grantRefreshToken      = "refresh_token"
	grantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	grantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"

	tokenTypeAccess  = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeRefresh = "urn:ietf:params:oauth:token-type:refresh_token"
)

// TokenResponse is the JSON body of a successful token request.
type TokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	TokenType        string `json:"token_type"`
	IDToken          string `json:"id_token,omitempty"`
	NotBeforePolicy  int    `json:"not-before-policy"`
	SessionState     string `json:"session_state,omitempty"`
	Scope            string `json:"scope"`
	IssuedTokenType  string `json:"issued_token_type,omitempty"`
}

func (s *Server) serveToken(w http.ResponseWriter, req *http.Request, rr realmRequest) {
	form, oerr := readForm(req)
	if oerr == nil {
		var resp *TokenResponse
		resp, oerr = s.grantToken(req, rr, form)
		if oerr == nil {
			writeJSON(w, http.StatusOK, resp)
			return
		}
	}
	writeError(w, oerr)
}

func (s *Server) grantToken(req *http.Request, rr realmRequest, form url.Values) (*TokenResponse, *oauthError) {
	grantType := form.Get("grant_type")
	if grantType == "" {
		return nil, newError(http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
	}
	known := []string{grantClientCredentials, grantPassword, grantRefreshToken, grantDeviceCode, grantTokenExchange}
	if !slices.Contains(known, grantType) {
		return nil, newError(http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type")
	}
	client, oerr := s.authenticateClient(rr, req, form)
	if oerr != nil {
		return nil, oerr
	}
	switch grantType {
	case grantClientCredentials:
		return s.clientCredentials(req, rr, client, form)
	case grantPassword:
		return s.password(rr, client, form)
	case grantRefreshToken:
		return s.refresh(rr, client, form)
	case grantDeviceCode:
		return s.pollDevice(rr, client, form)
	default:
		return s.exchange(rr, client, form)
	}
}

func (s *Server) clientCredentials(req *http.Request, rr realmRequest, c *ClientConfig, form url.Values) (*TokenResponse, *oauthError) {
	if c.Secret == "" {
		return nil, newError(http.StatusUnauthorized, "unauthorized_client", "Public client not allowed to retrieve service account")
	}
	if !c.ServiceAccount {
		return nil, newError(http.StatusUnauthorized, "unauthorized_client", "Client not enabled to retrieve service account")
	}
	host, _, _ := net.SplitHostPort(req.RemoteAddr)
	s.mu.Lock()
	u := rr.realm.users["service-account-"+c.ClientID]
	s.mu.Unlock()
	g := &grant{realm: rr.realm, issuer: rr.issuer, client: c, user: u, scopes: grantScopes(c, form.Get("scope")), clientAddress: host}
	return s.respond(g, false)
}

func (s *Server) password(rr realmRequest, c *ClientConfig, form url.Values) (*TokenResponse, *oauthError) {
	if !c.DirectAccessGrants {
		return nil, newError(http.StatusBadRequest, "unauthorized_client", "Client not allowed for direct access grants")
	}
	username, password := form.Get("username"), form.Get("password")
	s.mu.Lock()
	u := rr.realm.users[username]
	s.mu.Unlock()
	if u == nil || u.serviceAccountOf != "" || u.Password == "" || password != u.Password {
		return nil, newError(http.StatusUnauthorized, "invalid_grant", "Invalid user credentials")
	}
	if u.Disabled {
		return nil, newError(http.StatusBadRequest, "invalid_grant", "Account disabled")
	}
	return s.login(rr, c, u, form.Get("scope"))
}

// login starts a user session and issues its tokens.
func (s *Server) login(rr realmRequest, c *ClientConfig, u *user, scope string) (*TokenResponse, *oauthError) {
	s.mu.Lock()
	sess := rr.realm.newSession(u, c)
	s.mu.Unlock()
	g := &grant{realm: rr.realm, issuer: rr.issuer, client: c, user: u, session: sess, scopes: grantScopes(c, scope)}
	return s.respond(g, true)
}

func (s *Server) refresh(rr realmRequest, c *ClientConfig, form url.Values) (*TokenResponse, *oauthError) {
	token := form.Get("refresh_token")
	if token == "" {
		return nil, newError(http.StatusBadRequest, "invalid_request", "Missing parameter: refresh_token")
	}
	claims, err := s.parseOwnToken(rr.realm, rr.issuer, token)
	if err != nil || (claims["typ"] != RefreshToken && claims["typ"] != OfflineToken) {
		return nil, newError(http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
	}
	if claims["azp"] != c.ClientID {
		return nil, newError(http.StatusBadRequest, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
	}
	s.mu.Lock()
	sid, _ := claims["sid"].(string)
	sess := rr.realm.sessions[sid]
	var u *user
	if sess != nil {
		u = rr.realm.userByID(sess.userID)
	}
	s.mu.Unlock()
	if sess == nil || !sess.active || u == nil {
		return nil, newError(http.StatusBadRequest, "invalid_grant", "Session not active")
	}
	if u.Disabled {
		return nil, newError(http.StatusBadRequest, "invalid_grant", "User disabled")
	}
	scope, _ := claims["scope"].(string)
	g := &grant{realm: rr.realm, issuer: rr.issuer, client: c, user: u, session: sess, scopes: strings.Fields(scope)}
	return s.respond(g, true)
}

func (s *Server) exchange(rr realmRequest, c *ClientConfig, form url.Values) (*TokenResponse, *oauthError) {
	if c.Secret == "" {
		return nil, newError(http.StatusBadRequest, "invalid_client", "Public client is not allowed to exchange token")
	}
	if !c.TokenExchange {
		return nil, newError(http.StatusBadRequest, "unauthorized_client", "Standard token exchange is not enabled for the requested client")
	}
	subject := form.Get("subject_token")
	if subject == "" {
		return nil, newError(http.StatusBadRequest, "invalid_request", "Missing parameter: subject_token")
	}
	if t := form.Get("subject_token_type"); t != "" && t != tokenTypeAccess {
		return nil, newError(http.StatusBadRequest, "invalid_request", "Parameter 'subject_token' supports access tokens only")
	}
	requested := form.Get("requested_token_type")
	if requested == "" {
		requested = tokenTypeAccess
	}
	if requested != tokenTypeAccess && requested != tokenTypeRefresh {
		return nil, newError(http.StatusBadRequest, "invalid_request", "requested_token_type unsupported")
	}
	claims, err := s.parseOwnToken(rr.realm, rr.issuer, subject)
	if err != nil || claims["typ"] != AccessToken {
		return nil, newError(http.StatusBadRequest, "invalid_token", "Invalid token")
	}
	if !audienceContains(claims["aud"], c.ClientID) {
		return nil, newError(http.StatusForbidden, "access_denied", "Client is not within the token audience")
	}

	s.mu.Lock()
	sub, _ := claims["sub"].(string)
	u := rr.realm.userByID(sub)
	sid, _ := claims["sid"].(string)
	sess := rr.realm.sessions[sid]
	var audience []string
	for _, a := range strings.Fields(strings.Join(form["audience"], " ")) {
		if rr.realm.clients[a] == nil {
			s.mu.Unlock()
			return nil, newError(http.StatusBadRequest, "invalid_client", "Audience not found")
		}
		audience = append(audience, a)
	}
	s.mu.Unlock()
	if u == nil || (sess != nil && !sess.active) {
		return nil, newError(http.StatusBadRequest, "invalid_token", "Invalid token")
	}
	g := &grant{realm: rr.realm, issuer: rr.issuer, client: c, user: u, session: sess, scopes: grantScopes(c, form.Get("scope")), audience: audience}
	resp, oerr := s.respond(g, requested == tokenTypeRefresh && sess != nil)
	if oerr == nil {
		resp.IssuedTokenType = requested
	}
	return resp, oerr
}

// respond issues the access token of a grant, an ID token when openid was
// requested, and a refresh token when withRefresh is set.
func (s *Server) respond(g *grant, withRefresh bool) (*TokenResponse, *oauthError) {
	now := s.now()
	access, err := s.issue(g, g.accessClaims(now), AccessToken)
	if err != nil {
		return nil, newError(http.StatusInternalServerError, "unknown_error", err.Error())
	}
	resp := &TokenResponse{
		AccessToken: access,
		ExpiresIn:   g.realm.cfg.AccessTokenLifespan,
		TokenType:   "Bearer",
		Scope:       g.scopeClaim(),
	}
	if g.has("openid") {
		if resp.IDToken, err = s.issue(g, g.idClaims(now, access), IDToken); err != nil {
			return nil, newError(http.StatusInternalServerError, "unknown_error", err.Error())
		}
	}
	if withRefresh {
		if resp.RefreshToken, err = s.issue(g, g.refreshClaims(now), RefreshToken); err != nil {
			return nil, newError(http.StatusInternalServerError, "unknown_error", err.Error())
		}
		resp.RefreshExpiresIn = g.realm.cfg.SSOSessionIdle
		if g.has("offline_access") {
			resp.RefreshExpiresIn = 0
		}
	}
	if g.session != nil {
		resp.SessionState = g.session.id
	}
	return resp, nil
}

// audienceContains reports whether an aud claim (string or array)
// contains id.
func audienceContains(aud any, id string) bool {
	switch a := aud.(type) {
	case string:
		return a == id
	case []any:
		for _, v := range a {
			if v == id {
				return true
			}
		}
	}
	return false
}

// sessionActive reports whether the token's session (if any) is active
// and its jti not revoked.
func (s *Server) sessionActive(r *realm, claims map[string]any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if jti, _ := claims["jti"].(string); r.revoked[jti] {
		return false
	}
	sid, ok := claims["sid"].(string)
	if !ok {
		return true
	}
	sess := r.sessions[sid]
	return sess != nil && sess.active
}
