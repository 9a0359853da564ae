package oci

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/registrytoken"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// tokenPath is the token endpoint of the Docker registry token protocol.
const tokenPath = "/v2/token"

// Limits of a token request.
const (
	maxTokenScopes   = 64
	maxTokenFormSize = 64 << 10
)

// tokenResponse is the body of a successful token request. GET requests
// get both token and access_token, as the registry token specification
// describes. The OAuth 2 form (POST) gets access_token and scope.
type tokenResponse struct {
	Token       string `json:"token,omitempty"`
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type,omitempty"`
	ExpiresIn   int64  `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
	Scope       string `json:"scope,omitempty"`
}

// oauthError is the error body of the OAuth 2 form of the token endpoint.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// serveToken handles /v2/token: GET with HTTP Basic credentials or none
// (anonymous), and POST with the OAuth 2 password grant.
func (h *Handler) serveToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	switch r.Method {
	case http.MethodGet:
		h.tokenGet(w, r)
	case http.MethodPost:
		h.tokenPost(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeError(w, r, errUnsupported)
	}
}

func (h *Handler) tokenGet(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if service := query.Get("service"); service != "" && service != h.access.Tokens.Audience() {
		writeTokenError(w, r, http.StatusBadRequest, "invalid_request", "unknown service "+service+"; this registry is "+h.access.Tokens.Audience())
		return
	}
	scopes, err := parseTokenScopes(query["scope"])
	if err != nil {
		writeTokenError(w, r, http.StatusBadRequest, "invalid_scope", err.Error())
		return
	}

	id := identity.Anonymous()
	if r.Header.Get("Authorization") != "" {
		user, password, ok := r.BasicAuth()
		if !ok {
			writeTokenError(w, r, http.StatusUnauthorized, "invalid_client", "the token endpoint accepts HTTP Basic credentials or none")
			return
		}
		if id, ok = h.tokenLogin(w, r, user, password); !ok {
			return
		}
	}
	h.issueToken(w, r, id, scopes, false)
}

func (h *Handler) tokenPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenFormSize)
	if err := r.ParseForm(); err != nil {
		writeTokenError(w, r, http.StatusBadRequest, "invalid_request", "invalid form body: "+err.Error())
		return
	}
	if service := r.PostForm.Get("service"); service != "" && service != h.access.Tokens.Audience() {
		writeTokenError(w, r, http.StatusBadRequest, "invalid_request", "unknown service "+service+"; this registry is "+h.access.Tokens.Audience())
		return
	}
	if grant := r.PostForm.Get("grant_type"); grant != "password" {
		writeTokenError(w, r, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+grant+" is not supported; use password, or GET with HTTP Basic credentials")
		return
	}
	scopes, err := parseTokenScopes(r.PostForm["scope"])
	if err != nil {
		writeTokenError(w, r, http.StatusBadRequest, "invalid_scope", err.Error())
		return
	}
	id, ok := h.tokenLogin(w, r, r.PostForm.Get("username"), r.PostForm.Get("password"))
	if !ok {
		return
	}
	h.issueToken(w, r, id, scopes, true)
}

// tokenLogin resolves the credentials of a token request, writing 401 or 503
// when they fail.
func (h *Handler) tokenLogin(w http.ResponseWriter, r *http.Request, user, password string) (identity.Identity, bool) {
	ctx := r.Context()
	id, err := h.access.Credentials.Basic(ctx, user, password)
	middleware.RecordAuth(ctx, methodBasic, err == nil)
	if errors.Is(err, authn.ErrUnavailable) {
		telemetry.Logger(ctx).ErrorContext(ctx, "credential check failed", "method", methodBasic, "error", err)
		w.Header().Set("Retry-After", authRetryAfter)
		writeTokenError(w, r, http.StatusServiceUnavailable, "temporarily_unavailable", errAuthUnavailable.Error())
		return identity.Identity{}, false
	}
	if err != nil {
		telemetry.Logger(ctx).InfoContext(ctx, "authentication failed", "method", methodBasic, "user", user)
		w.Header().Set("WWW-Authenticate", `Basic realm="coffer"`)
		writeTokenError(w, r, http.StatusUnauthorized, "invalid_grant", "invalid user name or password")
		return identity.Identity{}, false
	}
	audit.SetIdentity(ctx, id.Principal.ID, id.Principal.Method, id.CredentialID)
	middleware.SetPrincipal(ctx, id.Principal.ID)
	return id, true
}

// issueToken grants the requested scopes that the identity's policy allows
// and writes the token. Scopes that are not allowed are left out of the
// token, never rejected: the client then fails on the request that needs
// them.
func (h *Handler) issueToken(w http.ResponseWriter, r *http.Request, id identity.Identity, scopes []authz.Scope, oauth bool) {
	ctx := r.Context()
	base := requestEnvironment(r)
	base.Principal = id.Principal
	var requests []authz.Request
	for _, scope := range scopes {
		for _, action := range scope.Actions {
			for _, sr := range registrytoken.ScopeRequests(scope.Type, scope.Name, action) {
				req := base
				req.Action, req.Resource = sr.Action, sr.Resource
				requests = append(requests, req)
			}
		}
	}
	policy, err := h.access.Policies.Policy(ctx, id, requests...)
	if err != nil {
		telemetry.Logger(ctx).ErrorContext(ctx, "authorization failed", "error", err)
		w.Header().Set("Retry-After", authRetryAfter)
		writeTokenError(w, r, http.StatusServiceUnavailable, "temporarily_unavailable", errAuthUnavailable.Error())
		return
	}
	for _, req := range requests {
		audit.AddDecision(ctx, req.Action, req.Resource, policy.Decide(req))
	}
	granted := authz.GrantScopes(policy, base, scopes)

	token, err := h.access.Tokens.Issue(id, granted)
	if err != nil {
		writeError(w, r, err)
		return
	}
	body := tokenResponse{
		AccessToken: token.Value,
		ExpiresIn:   int64(token.ExpiresIn / time.Second),
		IssuedAt:    token.IssuedAt.Format(time.RFC3339),
	}
	if oauth {
		body.TokenType = "Bearer"
		body.Scope = formatScopes(granted)
	} else {
		body.Token = token.Value
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(body)
}

// parseTokenScopes parses the scope parameters of a token request; each may
// hold several scopes separated by spaces.
func parseTokenScopes(params []string) ([]authz.Scope, error) {
	var scopes []authz.Scope
	for _, param := range params {
		parsed, err := authz.ParseScopes(param)
		if err != nil {
			return nil, err
		}
		scopes = append(scopes, parsed...)
	}
	if len(scopes) > maxTokenScopes {
		return nil, errors.New("too many scopes: the maximum is 64 per token request")
	}
	return scopes, nil
}

func formatScopes(scopes []authz.Scope) string {
	parts := make([]string, len(scopes))
	for i, scope := range scopes {
		parts[i] = scope.String()
	}
	return strings.Join(parts, " ")
}

// writeTokenError writes a token endpoint error in the OAuth 2 format, which
// Docker clients also print for GET requests.
func writeTokenError(w http.ResponseWriter, r *http.Request, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(oauthError{Error: code, Description: description})
}
