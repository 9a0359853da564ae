package keycloak

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Handler returns the HTTP handler of every realm endpoint.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	base := s.opts.RelativePath + "/realms/{realm}"
	oidc := base + "/protocol/openid-connect"
	mux.HandleFunc("GET "+base, s.withRealmHandler(s.serveRealmInfo))
	mux.HandleFunc("GET "+base+"/.well-known/openid-configuration", s.withRealmHandler(s.serveDiscovery))
	mux.HandleFunc("GET "+base+"/.well-known/oauth-authorization-server", s.withRealmHandler(s.serveDiscovery))
	mux.HandleFunc("GET "+oidc+"/certs", s.withRealmHandler(s.serveCerts))
	mux.HandleFunc("POST "+oidc+"/token", s.withRealmHandler(s.serveToken))
	mux.HandleFunc("POST "+oidc+"/token/introspect", s.withRealmHandler(s.serveIntrospect))
	mux.HandleFunc("GET "+oidc+"/userinfo", s.withRealmHandler(s.serveUserinfo))
	mux.HandleFunc("POST "+oidc+"/userinfo", s.withRealmHandler(s.serveUserinfo))
	mux.HandleFunc("POST "+oidc+"/revoke", s.withRealmHandler(s.serveRevoke))
	mux.HandleFunc("POST "+oidc+"/logout", s.withRealmHandler(s.serveLogout))
	mux.HandleFunc("POST "+oidc+"/auth/device", s.withRealmHandler(s.serveDeviceAuthorization))
	mux.HandleFunc("POST "+base+"/device", s.withRealmHandler(s.serveDeviceVerification))
	return mux
}

// realmRequest is one request to a realm endpoint.
type realmRequest struct {
	realm  *realm
	name   string
	issuer string
}

func (s *Server) withRealmHandler(fn func(http.ResponseWriter, *http.Request, realmRequest)) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		name := req.PathValue("realm")
		s.mu.Lock()
		r := s.realms[name]
		issuer := s.issuerLocked(name)
		s.mu.Unlock()
		if r == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{
				"error":             "Realm does not exist",
				"error_description": "For more on this error consult the server log.",
			})
			return
		}
		fn(w, req, realmRequest{realm: r, name: name, issuer: issuer})
	}
}

// oauthError is a Keycloak OAuth error response.
type oauthError struct {
	status      int
	code        string
	description string
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func newError(status int, code, description string) *oauthError {
	return &oauthError{status: status, code: code, description: description}
}

func writeError(w http.ResponseWriter, e *oauthError) {
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// backendURL returns the base URL of this request (scheme, host and
// relative path), which Keycloak uses for the backchannel endpoints.
func (s *Server) backendURL(req *http.Request, realmName string) string {
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + req.Host + s.opts.RelativePath + "/realms/" + realmName
}

func (s *Server) serveRealmInfo(w http.ResponseWriter, req *http.Request, rr realmRequest) {
	s.mu.Lock()
	var publicKey string
	if k := rr.realm.activeKey("RS256"); k != nil {
		der, _ := x509.MarshalPKIXPublicKey(k.key.Public())
		publicKey = base64.StdEncoding.EncodeToString(der)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"realm":             rr.name,
		"public_key":        publicKey,
		"token-service":     rr.issuer + "/protocol/openid-connect",
		"account-service":   rr.issuer + "/account",
		"tokens-not-before": 0,
	})
}

func (s *Server) serveDiscovery(w http.ResponseWriter, req *http.Request, rr realmRequest) {
	back := s.backendURL(req, rr.name)
	oidc := back + "/protocol/openid-connect"
	s.mu.Lock()
	issuer := rr.issuer
	if rr.realm.discoveryIssuer != "" {
		issuer = rr.realm.discoveryIssuer
	}
	s.mu.Unlock()
	signing := []string{"PS384", "RS384", "EdDSA", "ES384", "HS256", "HS512", "ES256", "RS256", "HS384", "ES512", "PS256", "PS512", "RS512"}
	authMethods := []string{"private_key_jwt", "client_secret_basic", "client_secret_post", "tls_client_auth", "client_secret_jwt"}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                rr.issuer + "/protocol/openid-connect/auth",
		"token_endpoint":                        oidc + "/token",
		"introspection_endpoint":                oidc + "/token/introspect",
		"userinfo_endpoint":                     oidc + "/userinfo",
		"end_session_endpoint":                  rr.issuer + "/protocol/openid-connect/logout",
		"jwks_uri":                              oidc + "/certs",
		"check_session_iframe":                  rr.issuer + "/protocol/openid-connect/login-status-iframe.html",
		"registration_endpoint":                 back + "/clients-registrations/openid-connect",
		"revocation_endpoint":                   oidc + "/revoke",
		"device_authorization_endpoint":         oidc + "/auth/device",
		"pushed_authorization_request_endpoint": oidc + "/ext/par/request",
		"backchannel_authentication_endpoint":   oidc + "/ext/ciba/auth",
		"frontchannel_logout_supported":         true,
		"frontchannel_logout_session_supported": true,
		"backchannel_logout_supported":          true,
		"backchannel_logout_session_supported":  true,
		"grant_types_supported": []string{"authorization_code", "implicit", "refresh_token", "password", "client_credentials",
			"urn:openid:params:grant-type:ciba", "urn:ietf:params:oauth:grant-type:device_code", grantTokenExchange},
		"response_types_supported":                                 []string{"code", "none", "id_token", "token", "id_token token", "code id_token", "code token", "code id_token token"},
		"response_modes_supported":                                 []string{"query", "fragment", "form_post", "query.jwt", "fragment.jwt", "form_post.jwt", "jwt"},
		"subject_types_supported":                                  []string{"public", "pairwise"},
		"id_token_signing_alg_values_supported":                    signing,
		"id_token_encryption_alg_values_supported":                 []string{"RSA-OAEP", "RSA-OAEP-256", "RSA1_5"},
		"id_token_encryption_enc_values_supported":                 []string{"A256GCM", "A192GCM", "A128GCM", "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512"},
		"userinfo_signing_alg_values_supported":                    append(append([]string(nil), signing...), "none"),
		"request_object_signing_alg_values_supported":              append(append([]string(nil), signing...), "none"),
		"token_endpoint_auth_methods_supported":                    authMethods,
		"token_endpoint_auth_signing_alg_values_supported":         signing,
		"introspection_endpoint_auth_methods_supported":            authMethods,
		"introspection_endpoint_auth_signing_alg_values_supported": signing,
		"revocation_endpoint_auth_methods_supported":               authMethods,
		"revocation_endpoint_auth_signing_alg_values_supported":    signing,
		"claims_supported":                                         []string{"aud", "sub", "iss", "auth_time", "name", "given_name", "family_name", "preferred_username", "email", "acr", "azp", "nonce"},
		"claim_types_supported":                                    []string{"normal"},
		"claims_parameter_supported":                               true,
		"scopes_supported":                                         []string{"openid", "basic", "profile", "email", "roles", "web-origins", "acr", "offline_access", "microprofile-jwt"},
		"request_parameter_supported":                              true,
		"request_uri_parameter_supported":                          true,
		"require_request_uri_registration":                         true,
		"code_challenge_methods_supported":                         []string{"plain", "S256"},
		"tls_client_certificate_bound_access_tokens":               true,
		"acr_values_supported":                                     []string{"0", "1"},
		"authorization_response_iss_parameter_supported":           true,
		"mtls_endpoint_aliases": map[string]string{
			"token_endpoint":                oidc + "/token",
			"revocation_endpoint":           oidc + "/revoke",
			"introspection_endpoint":        oidc + "/token/introspect",
			"device_authorization_endpoint": oidc + "/auth/device",
			"userinfo_endpoint":             oidc + "/userinfo",
		},
	})
}

func (s *Server) serveCerts(w http.ResponseWriter, req *http.Request, rr realmRequest) {
	s.mu.Lock()
	rr.realm.jwksFetches++
	failure := rr.realm.jwksFailure
	set := rr.realm.jwks()
	s.mu.Unlock()
	if failure != 0 {
		writeJSON(w, failure, map[string]string{"error": "unknown_error"})
		return
	}
	writeJSON(w, http.StatusOK, set)
}

// readForm parses a form body and rejects repeated parameters, as
// Keycloak does, except audience, which token exchange may repeat.
func readForm(req *http.Request) (url.Values, *oauthError) {
	mediaType, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if mediaType != "application/x-www-form-urlencoded" {
		return nil, newError(http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
	}
	req.Body = http.MaxBytesReader(nil, req.Body, 1<<20)
	if err := req.ParseForm(); err != nil {
		return nil, newError(http.StatusBadRequest, "invalid_request", "Invalid form body")
	}
	for key, values := range req.PostForm {
		if len(values) > 1 && key != "audience" {
			return nil, newError(http.StatusBadRequest, "invalid_request", "duplicated parameter "+key)
		}
	}
	return req.PostForm, nil
}

// authenticateClient checks client_secret_basic or client_secret_post
// credentials, or the client_id of a public client.
func (s *Server) authenticateClient(rr realmRequest, req *http.Request, form url.Values) (*ClientConfig, *oauthError) {
	clientID, secret, basic := req.BasicAuth()
	if basic {
		var err1, err2 error
		clientID, err1 = url.QueryUnescape(clientID)
		secret, err2 = url.QueryUnescape(secret)
		if err := errors.Join(err1, err2); err != nil {
			return nil, newError(http.StatusBadRequest, "invalid_request", "Invalid Authorization header")
		}
	} else {
		clientID, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if clientID == "" {
		return nil, newError(http.StatusBadRequest, "invalid_client", "Missing parameter: client_id")
	}
	s.mu.Lock()
	c := rr.realm.clients[clientID]
	s.mu.Unlock()
	if c == nil || clientID == "account" {
		// Keycloak returns 400 here where RFC 6749 requires 401.
		return nil, newError(http.StatusBadRequest, "invalid_client", "Invalid client or Invalid client credentials")
	}
	if c.Secret != "" && (secret == "" || secret != c.Secret) {
		return nil, newError(http.StatusUnauthorized, "unauthorized_client", "Invalid client or Invalid client credentials")
	}
	return c, nil
}

// bearerToken returns the token of an Authorization: Bearer header.
func bearerToken(req *http.Request) string {
	scheme, token, ok := strings.Cut(req.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
