package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/httpapi/oci"
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
	root     *authn.Root
	life     *lifecycle
	draining atomic.Bool
	started  time.Time

	server   *http.Server
	listener net.Listener
	served   chan error
}

func (a *apiSubsystem) Name() string    { return "api" }
func (a *apiSubsystem) Validate() error { return nil }

func (a *apiSubsystem) Start(ctx context.Context) error {
	blobs := blob.New(a.storage.driver, a.metadata.store)
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
	handler := a.routes(oci.New(reg), admin.New(reg, info))

	listener, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Listen, err)
	}
	a.listener = listener
	a.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	a.served = make(chan error, 1)
	go func() {
		var err error
		if a.cfg.TLS.Enabled() {
			err = a.server.ServeTLS(listener, a.cfg.TLS.Cert, a.cfg.TLS.Key)
		} else {
			err = a.server.Serve(listener)
		}
		a.served <- err
	}()
	a.logger.Info("listening", "address", listener.Addr().String(), "tls", a.cfg.TLS.Enabled())
	return nil
}

// routes assembles the top-level handler. It dispatches on path prefixes
// itself, because http.ServeMux would clean and redirect paths such as
// "/v2/a/../b" before the OCI handler could reject them.
func (a *apiSubsystem) routes(ociHandler, adminHandler http.Handler) http.Handler {
	ociAPI := middleware.RequireBasic(a.root, oci.Challenge, ociHandler)
	adminAPI := middleware.RequireBasic(a.root, admin.Challenge, adminHandler)
	top := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case path == "/v2" || strings.HasPrefix(path, "/v2/"):
			ociAPI.ServeHTTP(w, r)
		case path == "/api/v1/openapi.json":
			adminHandler.ServeHTTP(w, r)
		case strings.HasPrefix(path, "/api/v1/"):
			adminAPI.ServeHTTP(w, r)
		case path == "/livez":
			writeHealth(w, http.StatusOK, nil)
		case path == "/readyz":
			a.readyz(w, r)
		default:
			http.NotFound(w, r)
		}
	})
	return middleware.Logging(a.logger, middleware.Recover(top))
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
	err := a.server.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		a.logger.Warn("shutdown timed out, closing remaining connections")
		_ = a.server.Close()
	}
	if served := <-a.served; served != nil && !errors.Is(served, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", served)
	}
	return err
}

func (a *apiSubsystem) Health(ctx context.Context) error { return nil }
