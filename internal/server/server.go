package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/config"
)

// Run builds cofferd from cfg, serves until ctx is done, then drains and
// stops. announce receives the one-time message with generated root
// credentials.
func Run(ctx context.Context, cfg config.Config, logger *slog.Logger, announce io.Writer) error {
	return run(ctx, cfg, logger, announce, clockHooks{})
}

// run is Run with the clock of the abuse limits replaceable by tests.
func run(ctx context.Context, cfg config.Config, logger *slog.Logger, announce io.Writer, hooks clockHooks) error {
	root, err := authn.LoadRoot(cfg.DataDir, cfg.Root.User, cfg.Root.Password, announce)
	if err != nil {
		return err
	}
	sealer, err := authn.LoadSealer(cfg.DataDir)
	if err != nil {
		return err
	}
	life := &lifecycle{logger: logger}
	metrics := newServerMetrics(cfg.Metrics)
	tracing := &tracingSubsystem{cfg: cfg.Tracing, logger: logger}
	storage := &storageSubsystem{cfg: cfg.Storage, metrics: metrics, tracing: tracing}
	meta := &metadataSubsystem{cfg: cfg.Metadata, tracing: tracing, metrics: metrics, recordEvents: cfg.Webhooks.Enabled}
	auditLog := &auditSubsystem{cfg: cfg.Audit, logger: logger, metrics: metrics}
	limits := newAbuseLimits(cfg.Limits, metrics, hooks)
	ids, err := newIdentityServices(cfg.Auth, root, sealer, meta)
	if err != nil {
		return err
	}
	objectStore := &objectsSubsystem{cfg: cfg, storage: storage, metadata: meta, metrics: metrics}
	api := &apiSubsystem{cfg: cfg, logger: logger, storage: storage, metadata: meta, objects: objectStore, root: root, identity: ids, life: life, metrics: metrics, tracing: tracing, audit: auditLog, limits: limits}
	life.all = []Subsystem{tracing, storage, meta, objectStore, auditLog}
	if ids.verifier != nil {
		life.all = append(life.all, &oidcSubsystem{verifier: ids.verifier})
	}
	if cfg.Webhooks.Enabled {
		api.webhooks = &webhooksSubsystem{cfg: cfg.Webhooks, logger: logger, metadata: meta, metrics: metrics}
		life.all = append(life.all, api.webhooks)
	}
	life.all = append(life.all, api)
	if cfg.S3.Enabled {
		life.all = append(life.all, &s3Subsystem{cfg: cfg, logger: logger, storage: storage, metadata: meta, objects: objectStore, root: root, identity: ids, metrics: metrics, tracing: tracing, audit: auditLog, limits: limits})
	}
	life.all = append(life.all, &gcSubsystem{cfg: cfg, logger: logger, storage: storage, metadata: meta, objects: objectStore, tracing: tracing, metrics: metrics})
	if metrics != nil && cfg.Metrics.Listen != "" {
		life.all = append(life.all, &metricsSubsystem{cfg: cfg, logger: logger, metrics: metrics})
	}

	if err := life.validate(); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := life.start(ctx); err != nil {
		_ = life.stop(stopCtx)
		return err
	}
	logger.Info("cofferd ready", "version", Version, "listen", cfg.Listen, "data_dir", cfg.DataDir, "root_user", root.User())

	select {
	case <-ctx.Done():
		logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	case err := <-api.listener.failed():
		api.listener.served <- err // shutdown reads it again
		logger.Error("listener failed", "listener", "api", "error", err)
	}
	stopCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	return life.stop(stopCtx)
}
