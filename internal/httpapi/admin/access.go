package admin

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Authorizer decides whether an identity may do a request.
// *identity.Authorizer implements it.
type Authorizer interface {
	Decide(ctx context.Context, id identity.Identity, req authz.Request) (authz.Decision, error)
}

// access returns the action and resource that a request to a route needs.
// ok false means the rule has written an error response itself.
type access func(w http.ResponseWriter, r *http.Request) (action, resource string, ok bool)

// fixed returns the rule of a route that always needs action on resource.
func fixed(action, resource string) access {
	return func(http.ResponseWriter, *http.Request) (string, string, bool) { return action, resource, true }
}

// onPath returns the rule of a route whose resource is built from a path
// parameter.
func onPath(action, param string, resource func(string) string) access {
	return func(_ http.ResponseWriter, r *http.Request) (string, string, bool) {
		return action, resource(r.PathValue(param)), true
	}
}

// inHandler marks a route whose handler calls h.allow itself, because the
// resource is in the request body.
var inHandler access = nil

// handle registers a route whose requests must pass rule before handler
// runs. Every route of /api/v1 is registered through it, so that none is
// left without access control.
func (h *Handler) handle(pattern string, rule access, handler http.HandlerFunc) {
	if rule == nil {
		h.mux.HandleFunc(pattern, handler)
		return
	}
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		action, resource, ok := rule(w, r)
		if !ok || !h.allow(w, r, action, resource) {
			return
		}
		handler(w, r)
	})
}

// SetAuthorizer turns on access control: from then on every request must
// be allowed by a, for the identity that the authentication layer stored
// with identity.NewContext. Without it every request that reaches the
// handler is allowed, which suits tests that exercise one feature.
func (h *Handler) SetAuthorizer(a Authorizer) {
	h.authorizer = a
}

// allow decides a request and records the decision for the audit trail. It
// writes 403 when the request is denied and 503 when the policies cannot
// be read, and returns whether the handler may go on.
func (h *Handler) allow(w http.ResponseWriter, r *http.Request, action, resource string) bool {
	if h.authorizer == nil {
		return true
	}
	ctx := r.Context()
	id, _ := identity.FromContext(ctx)
	d, err := h.authorizer.Decide(ctx, id, requestFacts(r, action, resource))
	if err != nil {
		telemetry.Logger(ctx).Error("authorization failed", "action", action, "resource", resource, "error", err)
		WriteProblem(w, r, http.StatusServiceUnavailable, "the access policies could not be read; retry later")
		return false
	}
	audit.AddDecision(ctx, action, resource, d)
	if !d.Allowed() {
		WriteProblem(w, r, http.StatusForbidden, fmt.Sprintf("access denied: %s may not %s on %s (%s)", principalName(id), action, resource, d.Reason))
		return false
	}
	return true
}

// principalName returns the principal ID for messages, or "anonymous".
func principalName(id identity.Identity) string {
	if id.Principal.Anonymous() {
		return authz.PrincipalAnonymous
	}
	return id.Principal.ID
}

// requestFacts returns the request description with the facts that
// conditions test: source address, time and TLS.
func requestFacts(r *http.Request, action, resource string) authz.Request {
	req := authz.Request{Action: action, Resource: resource, Time: time.Now().UTC(), SecureTransport: r.TLS != nil}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		req.SourceIP = addr.Unmap()
	}
	return req
}

// onObject returns the rule of an object route: action on the object that
// the bucket and key path parameters name.
func onObject(action string) access {
	return func(_ http.ResponseWriter, r *http.Request) (string, string, bool) {
		return action, authz.ObjectResource(r.PathValue("bucket"), r.PathValue("key")), true
	}
}

// onSession is the rule of the upload session routes: s3:PutObject on the
// object that the session writes.
func (h *Handler) onSession(w http.ResponseWriter, r *http.Request) (string, string, bool) {
	s, err := h.objects.Session(r.Context(), r.PathValue("id"))
	if err != nil {
		writeObjectError(w, r, err)
		return "", "", false
	}
	return authz.ActionS3PutObject, authz.ObjectResource(s.Bucket, s.Key), true
}

// repositoryOfUsage returns the repository resource of a usage path
// "<name>/usage". Other paths get the resource of the whole path, and the
// handler answers them with 404 once they are allowed.
func repositoryOfUsage(path string) string {
	name, _ := strings.CutSuffix(path, usageSuffix)
	return authz.RepositoryResource(name)
}

// webhookResource returns the resource of a webhook subscription.
func webhookResource(id string) string {
	return authz.ManagementResource("webhooks", id)
}
