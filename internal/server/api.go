package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authn/oidc"
	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/httpapi/oci"
	"github.com/cofferhq/coffer/internal/httpapi/stream"
	"github.com/cofferhq/coffer/internal/registry"
)

// Version is the cofferd version, set at build time with -ldflags.
var Version = "dev"

// apiSubsystem serves the OCI API, the management API and the health
// endpoints on the main listener.
type apiSubsystem struct {
	cfg      config.Config
	logger   *slog.Logger
	storage  *storageSubsystem
	metadata *metadataSubsystem
	objects  *objectsSubsystem
	root     *authn.Root
	// identity resolves credentials and decides requests for every API.
	identity *identityServices
	life     *lifecycle
	metrics  *serverMetrics
	// webhooks is nil when webhooks are disabled.
	webhooks *webhooksSubsystem
	tracing  *tracingSubsystem
	audit    *auditSubsystem
	limits   *middleware.AbuseLimits
	draining atomic.Bool
	started  time.Time

	listener *listener
}

func (a *apiSubsystem) Name() string    { return "api" }
func (a *apiSubsystem) Validate() error { return nil }

func (a *apiSubsystem) Start(ctx context.Context) error {
	blobs := a.metadata.blobs(a.storage)
	a.metrics.addCorruptReads(blobs.CorruptReads)
	reg := registry.New(a.metadata.store, blobs, a.cfg.Registry.MaxManifestBytes)
	a.started = time.Now().UTC()

	info := func() admin.SystemInfo {
		return admin.SystemInfo{
			Version:          Version,
			StorageDriver:    a.cfg.Storage.Driver,
			MetadataDriver:   a.cfg.Metadata.Driver,
			Started:          a.started,
			UptimeSeconds:    int64(time.Since(a.started).Seconds()),
			CorruptBlobReads: blobs.CorruptReads(),
		}
	}
	adminHandler := admin.New(reg, a.objects.store, info)
	adminHandler.SetAuthorizer(a.identity.authorizer)
	adminHandler.EnableIdentity(policyInvalidatingStore{a.metadata.store, a.identity.policies}, a.identity.authorizer)
	if a.webhooks != nil {
		adminHandler.EnableWebhooks(a.metadata.store, a.webhooks.wake)
	}
	sc, err := newSupplyChain(a.cfg, a.metadata.store, blobs, a.objects.store, a.metrics, a.logger)
	if err != nil {
		return err
	}
	adminHandler.EnableTrust(a.metadata.store, sc.status)
	adminHandler.EnableAttachments(sc.attachments)
	adminHandler.EnforcePolicy(sc.enforcer)
	adminHandler.EnableAccessKeys(a.identity.accessKeys(a.metadata.store), callerFromContext)
	ociHandler := oci.New(reg)
	access, err := newOCIAccess(ctx, a.root, a.identity)
	if err != nil {
		return err
	}
	ociHandler.RequireAccess(access)
	ociHandler.EnforcePolicy(sc.enforcer)
	if sc.signing != nil {
		ociHandler.OnManifestPushed(sc.signing.ManifestPushed)
	}
	handler := a.routes(ociHandler, routed(adminHandler))

	l, err := serve(ctx, "api", a.cfg.Listen, a.cfg.TLS, handler, a.logger)
	if err != nil {
		return err
	}
	a.listener = l
	return nil
}

// routes assembles the top-level handler. It dispatches on path prefixes
// itself, because http.ServeMux would clean and redirect paths such as
// "/v2/a/../b" before the OCI handler could reject them.
func (a *apiSubsystem) routes(ociHandler, adminHandler http.Handler) http.Handler {
	httpMetrics := a.metrics.httpMetrics()
	ociAPI := middleware.Metrics(httpMetrics, "oci", a.limits.Handler("oci", middleware.FailedBasicLogin, oci.Reject, ociHandler))
	cors := middleware.CORSOptions{AllowedOrigins: a.cfg.CORS.AllowedOrigins, MaxAge: a.cfg.CORS.MaxAge}
	adminAuth := middleware.Authenticate(a.identity.resolver, admin.Challenge, admin.RejectBearer, oidc.Reason, adminHandler)
	adminLimited := a.limits.Handler("admin", middleware.FailedBasicLogin, admin.Reject, adminAuth)
	adminAPI := middleware.Metrics(httpMetrics, "admin", middleware.CORS(cors, adminLimited))
	openAPI := middleware.Metrics(httpMetrics, "admin", adminHandler)
	metricsAPI := a.metrics.mainListenerEndpoint(a.cfg.Metrics, a.root, a.logger)
	top := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case path == "/v2" || strings.HasPrefix(path, "/v2/"):
			ociAPI.ServeHTTP(w, r)
		case path == "/api/v1/openapi.json":
			openAPI.ServeHTTP(w, r)
		case strings.HasPrefix(path, "/api/v1/"):
			if hasDotSegment(path) {
				// http.ServeMux would redirect these to a cleaned path,
				// so a key with dot segments is rejected here instead.
				admin.WriteProblem(w, r, http.StatusBadRequest, dotSegmentDetail)
				return
			}
			adminAPI.ServeHTTP(w, r)
		case path == "/livez":
			writeHealth(w, http.StatusOK, nil)
		case path == "/readyz":
			a.readyz(w, r)
		case path == "/startupz":
			a.startupz(w)
		case metricsAPI != nil && path == a.cfg.Metrics.Path:
			metricsAPI.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
	logged := middleware.Logging(a.logger, a.audit.handler(a.auditProtocol, middleware.Recover(stream.MarkBodyErrors(top))))
	traced := a.tracing.handler(logged)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.untraced(r.URL.Path) {
			logged.ServeHTTP(w, r)
			return
		}
		traced.ServeHTTP(w, r)
	})
}

// untraced reports whether path is a health or metrics endpoint, which
// probes and scrapers call every few seconds and which get no span.
func (a *apiSubsystem) untraced(path string) bool {
	switch path {
	case "/livez", "/readyz", "/startupz":
		return true
	}
	return a.cfg.Metrics.Enabled && a.cfg.Metrics.Listen == "" && path == a.cfg.Metrics.Path
}

// readyz reports 200 when every subsystem is healthy and the server is
// not draining, else 503 with the failures.
func (a *apiSubsystem) readyz(w http.ResponseWriter, r *http.Request) {
	if a.draining.Load() {
		writeHealth(w, http.StatusServiceUnavailable, map[string]string{"server": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if failures := a.life.health(ctx); len(failures) > 0 {
		writeHealth(w, http.StatusServiceUnavailable, failures)
		return
	}
	writeHealth(w, http.StatusOK, nil)
}

// startupz reports 200 once every subsystem has started, else 503.
func (a *apiSubsystem) startupz(w http.ResponseWriter) {
	if !a.life.complete.Load() {
		writeHealth(w, http.StatusServiceUnavailable, map[string]string{"server": "starting"})
		return
	}
	writeHealth(w, http.StatusOK, nil)
}

// dotSegmentDetail explains the rejection of a management path with an
// empty, "." or ".." segment. Object keys with "." or ".." segments are
// invalid in both APIs, and only S3 reaches a key such as "a//b".
const dotSegmentDetail = "the path contains an empty, '.' or '..' segment: object keys with '.' or '..' segments are invalid, and a key with an empty segment, such as a//b, is only reachable through the S3 API"

// hasDotSegment reports whether a path has an empty, "." or ".." segment.
func hasDotSegment(path string) bool {
	for _, segment := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if segment == "" || segment == "." || segment == ".." {
			return true
		}
	}
	return false
}

func writeHealth(w http.ResponseWriter, status int, failures map[string]string) {
	body := map[string]any{"status": "ok"}
	if len(failures) > 0 {
		body = map[string]any{"status": "unavailable", "failures": failures}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// Stop lets in-flight requests finish within ctx's deadline. Upload
// sessions keep their committed offset, so a client cut off here resumes
// after the restart.
func (a *apiSubsystem) Stop(ctx context.Context) error {
	a.draining.Store(true)
	return a.listener.shutdown(ctx)
}

func (a *apiSubsystem) Health(ctx context.Context) error { return nil }

// blobReader reads whole blobs for the trust status, which checks the
// digest while it streams (see blob.Store.Open).
type blobReader struct{ blobs *blob.Store }

func (b blobReader) OpenBlob(ctx context.Context, d digest.Digest, size int64) (io.ReadCloser, error) {
	return b.blobs.Open(ctx, d, size, 0, size)
}
