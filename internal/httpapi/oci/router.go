package oci

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/registry"
)

// Handler serves /v2/ and everything below it.
type Handler struct {
	reg *registry.Registry
	// access is nil until RequireAccess turns access control on.
	access *Access
	// policy is nil until EnforcePolicy.
	policy PullPolicy
	// pushed is nil until OnManifestPushed.
	pushed func(ctx context.Context, repo string, m *metadata.Manifest)
}

// PullPolicy checks a manifest pull against the supply-chain policies. tag
// is the tag the client pulled by, or "" for a pull by digest. It returns an
// error wrapping supplychain.ErrDenied to reject the pull.
type PullPolicy interface {
	CheckManifest(ctx context.Context, repo, tag string, m *metadata.Manifest) error
}

// OnManifestPushed makes fn run after each manifest is stored through
// PUT, before the response is sent. fn handles its own errors. Call it
// before serving requests.
func (h *Handler) OnManifestPushed(fn func(ctx context.Context, repo string, m *metadata.Manifest)) {
	h.pushed = fn
}

// EnforcePolicy makes GET of a manifest pass p first. Call it before
// serving requests.
func (h *Handler) EnforcePolicy(p PullPolicy) { h.policy = p }

// New returns the OCI API handler over reg, without access control until
// RequireAccess.
func New(reg *registry.Registry) *Handler {
	return &Handler{reg: reg}
}

// route is a parsed /v2/ path.
type route struct {
	kind   routeKind
	name   string // repository name
	target string // reference, digest or upload id
}

type routeKind int

const (
	routeUnknown routeKind = iota
	routeBase
	routeCatalog
	routeTags
	routeManifest
	routeBlob
	routeUploadStart
	routeUpload
	routeReferrers
	routeToken
)

// parseRoute splits a /v2/ path into repository name and target. It works
// on the escaped path, so that a percent-encoded '/' or '.' can never
// sneak into a name: any '%' in a name makes it invalid.
func parseRoute(escapedPath string) route {
	p, ok := strings.CutPrefix(escapedPath, "/v2")
	if !ok {
		return route{}
	}
	if p == "" || p == "/" {
		return route{kind: routeBase}
	}
	p = strings.TrimPrefix(p, "/")
	if p == "_catalog" {
		return route{kind: routeCatalog}
	}
	if p == "token" {
		return route{kind: routeToken}
	}
	if name, ok := strings.CutSuffix(p, "/tags/list"); ok {
		return route{kind: routeTags, name: name}
	}
	if name, ok := strings.CutSuffix(p, "/blobs/uploads/"); ok {
		return route{kind: routeUploadStart, name: name}
	}
	if name, ok := strings.CutSuffix(p, "/blobs/uploads"); ok {
		return route{kind: routeUploadStart, name: name}
	}

	slash := strings.LastIndexByte(p, '/')
	if slash < 0 {
		return route{}
	}
	rest, last := p[:slash], p[slash+1:]
	switch {
	case strings.HasSuffix(rest, "/blobs/uploads"):
		return route{kind: routeUpload, name: strings.TrimSuffix(rest, "/blobs/uploads"), target: last}
	case strings.HasSuffix(rest, "/manifests"):
		return route{kind: routeManifest, name: strings.TrimSuffix(rest, "/manifests"), target: last}
	case strings.HasSuffix(rest, "/blobs"):
		return route{kind: routeBlob, name: strings.TrimSuffix(rest, "/blobs"), target: last}
	case strings.HasSuffix(rest, "/referrers"):
		return route{kind: routeReferrers, name: strings.TrimSuffix(rest, "/referrers"), target: last}
	}
	return route{}
}

// operations names each route and method for the HTTP metrics. A pair
// missing here (an unknown path, or a method the route does not serve) is
// middleware.OperationUnknown.
var operations = map[routeKind]map[string]string{
	routeBase:    {http.MethodGet: "base", http.MethodHead: "base"},
	routeCatalog: {http.MethodGet: "catalog"},
	routeTags:    {http.MethodGet: "tags_list"},
	routeManifest: {
		http.MethodGet: "manifest_get", http.MethodHead: "manifest_head",
		http.MethodPut: "manifest_put", http.MethodDelete: "manifest_delete",
	},
	routeBlob:        {http.MethodGet: "blob_get", http.MethodHead: "blob_head", http.MethodDelete: "blob_delete"},
	routeUploadStart: {http.MethodPost: "upload_start"},
	routeUpload: {
		http.MethodGet: "upload_status", http.MethodPatch: "upload_patch",
		http.MethodPut: "upload_complete", http.MethodDelete: "upload_cancel",
	},
	routeReferrers: {http.MethodGet: "referrers"},
	routeToken:     {http.MethodGet: "token", http.MethodPost: "token"},
}

// routeTemplates names each route for span names; the repository name,
// reference, digest and upload ID appear as placeholders.
var routeTemplates = map[routeKind]string{
	routeBase:        "/v2/",
	routeCatalog:     "/v2/_catalog",
	routeTags:        "/v2/{name}/tags/list",
	routeManifest:    "/v2/{name}/manifests/{reference}",
	routeBlob:        "/v2/{name}/blobs/{digest}",
	routeUploadStart: "/v2/{name}/blobs/uploads/",
	routeUpload:      "/v2/{name}/blobs/uploads/{uuid}",
	routeReferrers:   "/v2/{name}/referrers/{digest}",
	routeToken:       tokenPath,
}

func operationName(kind routeKind, method string) string {
	if name, ok := operations[kind][method]; ok {
		return name
	}
	return middleware.OperationUnknown
}

// ServeHTTP dispatches one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	rt := parseRoute(r.URL.EscapedPath())
	middleware.SetOperation(r.Context(), operationName(rt.kind, r.Method))
	if template, ok := routeTemplates[rt.kind]; ok {
		middleware.SetRoute(r, template)
	}

	if h.access != nil {
		if rt.kind == routeToken {
			h.serveToken(w, r)
			return
		}
		var ok bool
		if r, ok = h.authenticate(w, r, rt); !ok {
			return
		}
	}

	switch rt.kind {
	case routeUnknown, routeToken:
		writeError(w, r, errNotFound)
		return
	case routeBase:
		h.methods(w, r, map[string]http.HandlerFunc{http.MethodGet: h.base, http.MethodHead: h.base})
		return
	case routeCatalog:
		if h.access != nil && !h.authorize(w, r, rt) {
			return
		}
		h.methods(w, r, map[string]http.HandlerFunc{http.MethodGet: h.catalog})
		return
	}

	if err := registry.ValidateName(rt.name); err != nil {
		writeError(w, r, err)
		return
	}
	if strings.ContainsRune(rt.target, '%') {
		writeError(w, r, errNotFound)
		return
	}
	if h.access != nil && !h.authorize(w, r, rt) {
		return
	}
	h.dispatch(w, r, rt)
}

func (h *Handler) dispatch(w http.ResponseWriter, r *http.Request, rt route) {
	with := func(fn func(http.ResponseWriter, *http.Request, route)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { fn(w, r, rt) }
	}
	var table map[string]http.HandlerFunc
	switch rt.kind {
	case routeTags:
		table = map[string]http.HandlerFunc{http.MethodGet: with(h.listTags)}
	case routeManifest:
		table = map[string]http.HandlerFunc{
			http.MethodGet: with(h.getManifest), http.MethodHead: with(h.getManifest),
			http.MethodPut: with(h.putManifest), http.MethodDelete: with(h.deleteManifest),
		}
	case routeBlob:
		table = map[string]http.HandlerFunc{
			http.MethodGet: with(h.getBlob), http.MethodHead: with(h.getBlob),
			http.MethodDelete: with(h.deleteBlob),
		}
	case routeUploadStart:
		table = map[string]http.HandlerFunc{http.MethodPost: with(h.startUpload)}
	case routeUpload:
		table = map[string]http.HandlerFunc{
			http.MethodGet: with(h.uploadStatus), http.MethodPatch: with(h.patchUpload),
			http.MethodPut: with(h.completeUpload), http.MethodDelete: with(h.cancelUpload),
		}
	case routeReferrers:
		table = map[string]http.HandlerFunc{http.MethodGet: with(h.referrers)}
	}
	h.methods(w, r, table)
}

// methods calls the handler registered for the request method, or answers
// 405 UNSUPPORTED with an Allow header.
func (h *Handler) methods(w http.ResponseWriter, r *http.Request, table map[string]http.HandlerFunc) {
	if fn, ok := table[r.Method]; ok {
		fn(w, r)
		return
	}
	allowed := make([]string, 0, len(table))
	for m := range table {
		allowed = append(allowed, m)
	}
	slices.Sort(allowed)
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, r, errUnsupported)
}

func (h *Handler) base(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write([]byte("{}"))
	}
}
