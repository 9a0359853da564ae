// Package admin serves the management API under /api/v1: JSON bodies,
// RFC 9457 problem details for errors, cursor pagination, and the OpenAPI
// document of the API at /api/v1/openapi.json.
package admin

import (
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// OpenAPI is the OpenAPI 3.1 document of the management API. docs/openapi.json
// is a copy that a test keeps identical.
//
//go:embed openapi.json
var OpenAPI []byte

// Repositories lists repositories and reads their usage.
type Repositories interface {
	Repositories(ctx context.Context, after string, limit int) ([]metadata.RepositoryInfo, error)
	Usage(ctx context.Context, repo string) (metadata.RepositoryUsage, error)
}

// SystemInfo describes the running server for GET /api/v1/system/info.
type SystemInfo struct {
	Version          string    `json:"version"`
	StorageDriver    string    `json:"storage_driver"`
	MetadataDriver   string    `json:"metadata_driver"`
	Started          time.Time `json:"started"`
	UptimeSeconds    int64     `json:"uptime_seconds"`
	CorruptBlobReads int64     `json:"corrupt_blob_reads"`
}

// Handler serves /api/v1.
type Handler struct {
	repos   Repositories
	objects Objects
	info    func() SystemInfo
	mux     *http.ServeMux
	// webhooks is nil until EnableWebhooks; wakeDispatcher may stay nil.
	webhooks       WebhookStore
	wakeDispatcher func()
	// trustStores and trustStatus are nil until EnableTrust.
	trustStores TrustStores
	trustStatus TrustStatus
	// authorizer is nil until SetAuthorizer; then every route is checked.
	authorizer Authorizer
	// identities and explainer are nil until EnableIdentity.
	identities IdentityStore
	explainer  Explainer
	// accessKeys is nil until EnableAccessKeys.
	accessKeys AccessKeys
	caller     Caller
	// attachments is nil until EnableAttachments.
	attachments Attachments
	// policy is nil until EnforcePolicy.
	policy DownloadPolicy
}

// DownloadPolicy checks an object download against the supply-chain
// policies. It returns an error wrapping supplychain.ErrDenied to reject
// the download.
type DownloadPolicy interface {
	CheckObject(ctx context.Context, o *metadata.Object) error
}

// EnforcePolicy makes GET of an object pass p first. Call it before
// serving requests.
func (h *Handler) EnforcePolicy(p DownloadPolicy) { h.policy = p }

// New returns the management API handler.
func New(repos Repositories, objectStore Objects, info func() SystemInfo) *Handler {
	h := &Handler{repos: repos, objects: objectStore, info: info, mux: http.NewServeMux()}
	h.registerObjects()
	h.handle("GET /api/v1/repositories", fixed(authz.ActionOCICatalog, authz.ResourceCatalog), h.listRepositories)
	h.handle("GET /api/v1/repositories/{path...}", onPath(authz.ActionOCIPull, "path", repositoryOfUsage), h.repositoryUsage)
	h.handle("GET /api/v1/system/info", fixed(authz.ActionSystemRead, authz.ManagementResource("system", "")), h.systemInfo)
	// The OpenAPI document is public, and unknown paths are 404 for all.
	h.handle("GET /api/v1/openapi.json", inHandler, h.openAPI)
	h.handle("/api/v1/", inHandler, h.notFound)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// WriteProblem writes a problem details body.
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	body, _ := json.Marshal(Problem{
		Type:     "about:blank",
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   detail,
		Instance: r.URL.Path,
	})
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Challenge rejects an unauthenticated management request with 401.
func Challenge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Basic realm="coffer"`)
	WriteProblem(w, r, http.StatusUnauthorized, "authentication required: send HTTP Basic credentials (root, a personal access token or a robot secret) or an OIDC access token as a bearer token")
}

// RejectBearer rejects a management request whose bearer token was not
// accepted: 401 with a Bearer challenge for an invalid token, 403 for a
// method that bearer tokens may not use, 503 when the credentials could not
// be checked. reason is a fixed label, safe to show.
func RejectBearer(w http.ResponseWriter, r *http.Request, status int, reason string) {
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="coffer", error="invalid_token"`)
		WriteProblem(w, r, status, "invalid bearer token ("+reason+"): send a valid access token or the root credentials with HTTP Basic")
	case http.StatusForbidden:
		WriteProblem(w, r, status, "bearer tokens allow only GET and HEAD requests on the management API; use the root credentials for changes")
	default:
		WriteProblem(w, r, status, "the credentials could not be checked because the identity provider or the metadata store is unavailable; retry later")
	}
}

func writeJSON(w http.ResponseWriter, v any) { writeJSONStatus(w, http.StatusOK, v) }

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Page is the envelope of every paginated list.
type Page[T any] struct {
	Items []T `json:"items"`
	// NextCursor is set when more items follow; pass it as ?cursor= to get them.
	NextCursor string `json:"next_cursor,omitempty"`
}

const (
	defaultLimit = 100
	maxLimit     = 1000
)

var errInvalidCursor = errors.New("invalid cursor")

// pageRequest reads ?limit= and ?cursor=. Cursors are opaque to clients:
// base64url of the last item's key.
func pageRequest(r *http.Request) (limit int, after string, err error) {
	limit = defaultLimit
	if value := r.URL.Query().Get("limit"); value != "" {
		limit, err = strconv.Atoi(value)
		if err != nil || limit < 1 || limit > maxLimit {
			return 0, "", errors.New("limit must be an integer from 1 to 1000")
		}
	}
	if cursor := r.URL.Query().Get("cursor"); cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			return 0, "", errInvalidCursor
		}
		after = string(raw)
	}
	return limit, after, nil
}

func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

type repositoryJSON struct {
	Name      string    `json:"name"`
	Manifests int64     `json:"manifests"`
	Tags      int64     `json:"tags"`
	Created   time.Time `json:"created"`
}

func (h *Handler) listRepositories(w http.ResponseWriter, r *http.Request) {
	limit, after, err := pageRequest(r)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	repos, err := h.repos.Repositories(r.Context(), after, limit+1)
	if err != nil {
		telemetry.Logger(r.Context()).ErrorContext(r.Context(), "list repositories failed", "error", err)
		WriteProblem(w, r, http.StatusInternalServerError, "listing repositories failed")
		return
	}
	page := Page[repositoryJSON]{Items: []repositoryJSON{}}
	if len(repos) > limit {
		repos = repos[:limit]
		page.NextCursor = encodeCursor(repos[limit-1].Name)
	}
	for _, repo := range repos {
		page.Items = append(page.Items, repositoryJSON(repo))
	}
	writeJSON(w, page)
}

func (h *Handler) systemInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, h.info())
}

func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(OpenAPI)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	WriteProblem(w, r, http.StatusNotFound, "no management endpoint "+r.Method+" "+r.URL.Path)
}
