package oci

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authn/oidc"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/registrytoken"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// CredentialResolver turns the credentials of a request into an identity.
// Errors wrap authn.ErrInvalidCredentials or authn.ErrUnavailable.
type CredentialResolver interface {
	Basic(ctx context.Context, user, password string) (identity.Identity, error)
	Bearer(ctx context.Context, token string) (identity.Identity, error)
}

// PolicyDecider decides requests of an identity.
type PolicyDecider interface {
	Decide(ctx context.Context, id identity.Identity, req authz.Request) (authz.Decision, error)
	Policy(ctx context.Context, id identity.Identity, reqs ...authz.Request) (authz.Policy, error)
}

// TokenService issues and resolves registry tokens.
type TokenService interface {
	// Audience returns the service name of the tokens.
	Audience() string
	Issue(id identity.Identity, access []authz.Scope) (registrytoken.Token, error)
	// Resolve returns registrytoken.ErrNotRegistryToken for a bearer token
	// it did not issue.
	Resolve(token string) (identity.Identity, error)
}

// Access configures authentication and authorization of the OCI API.
type Access struct {
	Credentials CredentialResolver
	Policies    PolicyDecider
	Tokens      TokenService
}

// RequireAccess turns on authentication and per-route authorization: every
// request needs credentials, and the token endpoint /v2/token issues
// registry tokens. Without it, the handler serves every request, which only
// tests of the handlers use.
func (h *Handler) RequireAccess(access Access) {
	h.access = &access
}

// Metric labels of the authentication methods.
const (
	methodBasic  = "basic"
	methodBearer = "oidc"
)

// authRetryAfter is the Retry-After of a request whose credentials could not
// be checked, for example while the identity provider's keys are unavailable.
const authRetryAfter = "5"

var (
	errDenied          = errors.New("access to the resource is denied")
	errAuthUnavailable = errors.New("the credentials cannot be checked right now; retry later")
)

type identityKey struct{}

// requestIdentity returns the identity that authenticate stored, and false
// when access control is off.
func requestIdentity(ctx context.Context) (identity.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(identity.Identity)
	return id, ok
}

// authenticate resolves the request's credentials. Without credentials, or
// with invalid ones, it writes the 401 challenge and returns false.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, rt route) (*http.Request, bool) {
	ctx := r.Context()
	scheme, credentials, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	var (
		id     identity.Identity
		err    error
		method string
	)
	switch {
	case scheme == "":
		h.challenge(w, r, rt, "")
		return r, false
	case strings.EqualFold(scheme, "Basic"):
		method = methodBasic
		user, password, ok := r.BasicAuth()
		if !ok {
			err = errors.New("malformed basic credentials")
			break
		}
		id, err = h.access.Credentials.Basic(ctx, user, password)
	case strings.EqualFold(scheme, "Bearer"):
		token := strings.TrimSpace(credentials)
		method = registrytoken.Method
		id, err = h.access.Tokens.Resolve(token)
		if errors.Is(err, registrytoken.ErrNotRegistryToken) {
			method = methodBearer
			id, err = h.access.Credentials.Bearer(ctx, token)
		}
	default:
		method = methodBasic
		err = errors.New("unsupported authorization scheme " + scheme)
	}

	middleware.RecordAuth(ctx, method, err == nil)
	if method == methodBearer && err != nil {
		middleware.RecordAuthFailure(ctx, method, oidc.Reason(err))
	}
	if errors.Is(err, authn.ErrUnavailable) {
		telemetry.Logger(ctx).ErrorContext(ctx, "credential check failed", "method", method, "error", err)
		w.Header().Set("Retry-After", authRetryAfter)
		writeError(w, r, errAuthUnavailable)
		return r, false
	}
	if err != nil {
		telemetry.Logger(ctx).InfoContext(ctx, "authentication failed", "method", method, "error", err)
		errorParam := ""
		if strings.EqualFold(scheme, "Bearer") {
			errorParam = "invalid_token"
		}
		h.challenge(w, r, rt, errorParam)
		return r, false
	}

	audit.SetIdentity(ctx, id.Principal.ID, id.Principal.Method, id.CredentialID)
	principal := id.Principal.ID
	if principal == "" {
		principal = authz.PrincipalAnonymous
	}
	middleware.SetPrincipal(ctx, principal)
	return r.WithContext(context.WithValue(ctx, identityKey{}, id)), true
}

// challenge rejects a request with 401 UNAUTHORIZED and a Bearer challenge
// that sends the client to the token endpoint, with the scope the route
// needs. errorParam is "", "invalid_token" or "insufficient_scope".
func (h *Handler) challenge(w http.ResponseWriter, r *http.Request, rt route, errorParam string) {
	value := `Bearer realm="` + quoteEscape(tokenRealm(r)) + `",service="` + quoteEscape(h.access.Tokens.Audience()) + `"`
	if scope := routeScope(rt, r.Method); scope != "" {
		value += `,scope="` + quoteEscape(scope) + `"`
	}
	if errorParam != "" {
		value += `,error="` + errorParam + `"`
		// A token with too narrow a scope is no failed login: the
		// abuse limits read the code and do not count the 401.
		audit.SetErrorCode(r.Context(), errorParam)
	}
	w.Header().Set("WWW-Authenticate", value)
	writeError(w, r, errUnauthorized)
}

// tokenRealm returns the URL of the token endpoint on the host the client
// addressed.
func tokenRealm(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + tokenPath
}

// quoteEscape escapes a value for a quoted string of an HTTP header.
func quoteEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// routeAction returns the policy action that a route and method need, or ""
// for a method the route does not serve (the route then returns 405).
func routeAction(kind routeKind, method string) string {
	read := method == http.MethodGet || method == http.MethodHead
	switch kind {
	case routeCatalog:
		if method == http.MethodGet {
			return authz.ActionOCICatalog
		}
	case routeTags, routeReferrers:
		if method == http.MethodGet {
			return authz.ActionOCIPull
		}
	case routeManifest, routeBlob:
		switch {
		case read:
			return authz.ActionOCIPull
		case method == http.MethodDelete:
			return authz.ActionOCIDelete
		case method == http.MethodPut && kind == routeManifest:
			return authz.ActionOCIPush
		}
	case routeUploadStart:
		if method == http.MethodPost {
			return authz.ActionOCIPush
		}
	case routeUpload:
		switch method {
		case http.MethodGet, http.MethodPatch, http.MethodPut, http.MethodDelete:
			return authz.ActionOCIPush
		}
	}
	return ""
}

// routeScope returns the token scope that a challenge for the route
// requests, or "" for the base route and invalid names. Push routes request
// pull too, because clients need both to upload.
func routeScope(rt route, method string) string {
	if rt.kind == routeCatalog {
		return "registry:catalog:*"
	}
	if rt.name == "" || registry.ValidateName(rt.name) != nil {
		return ""
	}
	switch routeAction(rt.kind, method) {
	case authz.ActionOCIPull:
		return "repository:" + rt.name + ":pull"
	case authz.ActionOCIPush:
		return "repository:" + rt.name + ":pull,push"
	case authz.ActionOCIDelete:
		return "repository:" + rt.name + ":delete"
	}
	return ""
}

// authorize decides the route's action for the request's identity and
// writes the rejection when it is denied. A denial that a wider token would
// lift, and any denial of an anonymous request, gets a 401 challenge, so the
// client can fetch a token with the scope. Other denials get 403 DENIED.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, rt route) bool {
	action := routeAction(rt.kind, r.Method)
	if action == "" {
		return true
	}
	resource := authz.ResourceCatalog
	if rt.kind != routeCatalog {
		resource = authz.RepositoryResource(rt.name)
	}
	id, _ := requestIdentity(r.Context())
	decision, err := h.decide(r, id, action, resource)
	if err != nil {
		telemetry.Logger(r.Context()).ErrorContext(r.Context(), "authorization failed", "action", action, "resource", resource, "error", err)
		w.Header().Set("Retry-After", authRetryAfter)
		writeError(w, r, errAuthUnavailable)
		return false
	}
	if decision.Allowed() {
		return true
	}
	narrowedByToken := id.Principal.Method == registrytoken.Method && decision.Reason == authz.ReasonRestricted
	if id.Principal.Anonymous() || narrowedByToken {
		h.challenge(w, r, rt, "insufficient_scope")
		return false
	}
	writeError(w, r, errDenied)
	return false
}

// decide evaluates one action of the request's identity and records the
// decision for the audit event.
func (h *Handler) decide(r *http.Request, id identity.Identity, action, resource string) (authz.Decision, error) {
	req := requestEnvironment(r)
	req.Action, req.Resource = action, resource
	decision, err := h.access.Policies.Decide(r.Context(), id, req)
	if err != nil {
		return authz.Decision{}, err
	}
	audit.AddDecision(r.Context(), action, resource, decision)
	return decision, nil
}

// mayPull reports whether the request's identity may pull from repository
// name. It is true when access control is off.
func (h *Handler) mayPull(r *http.Request, name string) (bool, error) {
	if h.access == nil {
		return true, nil
	}
	id, _ := requestIdentity(r.Context())
	decision, err := h.decide(r, id, authz.ActionOCIPull, authz.RepositoryResource(name))
	return decision.Allowed(), err
}

// mayMountAnywhere reports whether the request may mount a blob without
// naming the source repository: always without access control, else only
// for root, which may pull every repository.
func (h *Handler) mayMountAnywhere(r *http.Request) bool {
	if h.access == nil {
		return true
	}
	id, _ := requestIdentity(r.Context())
	return id.Principal.ID == identity.RootPrincipalID
}

// requestEnvironment returns the request facts that policy conditions read:
// the client address, the time and whether TLS was used.
func requestEnvironment(r *http.Request) authz.Request {
	req := authz.Request{Time: time.Now().UTC(), SecureTransport: r.TLS != nil}
	if addrPort, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		req.SourceIP = addrPort.Addr().Unmap()
	}
	return req
}
