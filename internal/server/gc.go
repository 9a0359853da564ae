package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/gc"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// gcSubsystem runs the background jobs: garbage collection, the integrity
// scrub and the expiry of stale S3 multipart uploads, each when the
// configuration enables it, at start and then at its interval. With
// several replicas on one PostgreSQL database, a cluster-wide lock per job
// lets one replica at a time run it (docs/cluster.md).
type gcSubsystem struct {
	cfg      config.Config
	logger   *slog.Logger
	storage  *storageSubsystem
	metadata *metadataSubsystem
	objects  *objectsSubsystem
	tracing  *tracingSubsystem
	metrics  *serverMetrics // counts what background scrubs find; nil records nothing

	stop  context.CancelFunc
	loops sync.WaitGroup
}

func (g *gcSubsystem) Name() string    { return "gc" }
func (g *gcSubsystem) Validate() error { return nil } // config.Validate covers the gc keys

func (g *gcSubsystem) Start(ctx context.Context) error {
	jobs := g.jobs()
	if len(jobs) == 0 {
		return nil
	}
	runner := &jobRunner{locks: g.metadata.jobs, check: g.cfg.GC.LockCheckInterval, logger: g.logger}
	loopCtx, cancel := context.WithCancel(telemetry.WithLogger(context.WithoutCancel(ctx), g.logger))
	g.stop = cancel
	for _, job := range jobs {
		run := job.run
		job.run = func(ctx context.Context) {
			ctx, end := g.tracing.background(ctx, job.span)
			defer end()
			run(ctx)
		}
		g.loops.Go(func() { runner.loop(loopCtx, job) })
	}
	return nil
}

// jobs returns the background jobs the configuration enables.
func (g *gcSubsystem) jobs() []backgroundJob {
	var jobs []backgroundJob
	if g.cfg.GC.Enabled {
		collector := newCollector(g.cfg, g.metadata.blobs(g.storage), g.metadata.store, g.objects.store)
		jobs = append(jobs, backgroundJob{name: "gc", span: "gc.Collect", interval: g.cfg.GC.Interval, run: func(ctx context.Context) {
			report, err := collector.Run(ctx, false)
			g.metrics.recordCollection(report)
			g.logCollection(ctx, report, err)
		}})
	}
	if g.cfg.GC.Scrub.Enabled {
		scrubber := newScrubber(g.cfg, g.storage.driver, g.metadata.store)
		jobs = append(jobs, backgroundJob{name: "scrub", span: "gc.Scrub", interval: g.cfg.GC.Scrub.Interval, run: func(ctx context.Context) {
			report, err := scrubber.Run(ctx)
			g.metrics.recordScrub(report)
			g.logScrub(ctx, report, err)
		}})
	}
	if g.cfg.S3.Enabled {
		store := g.objects.store
		jobs = append(jobs, backgroundJob{name: "s3-multipart-expiry", span: "s3.ExpireUploads", interval: expirySweepInterval, run: func(ctx context.Context) {
			g.expireMultipart(ctx, store)
		}})
	}
	return jobs
}

// expirySweepInterval is how often stale multipart uploads are looked for.
const expirySweepInterval = time.Hour

// expireMultipart aborts multipart uploads older than the configured
// expiry.
func (g *gcSubsystem) expireMultipart(ctx context.Context, store *objects.Store) {
	removed, err := store.ExpireUploads(ctx, time.Now().Add(-g.cfg.S3.MultipartExpiry))
	if err != nil && ctx.Err() == nil {
		g.logger.Error("multipart upload expiry failed", "error", err)
	} else if removed > 0 {
		g.logger.Info("stale multipart uploads aborted", "count", removed)
	}
}

// logCollection logs the outcome of a background collection run.
func (g *gcSubsystem) logCollection(ctx context.Context, r *gc.Report, err error) {
	if err != nil {
		if ctx.Err() == nil {
			g.logger.Error("garbage collection failed", "error", err)
		}
		return
	}
	g.logger.Info("garbage collection finished",
		"duration", time.Since(r.Started).Round(time.Millisecond).String(),
		"blobs_deleted", len(r.DeletedBlobs), "blobs_unlinked", len(r.UnlinkedBlobs),
		"orphan_keys", len(r.OrphanKeys), "uploads_expired", len(r.ExpiredUploads),
		"multipart_expired", len(r.ExpiredMultipart), "manifests_deleted", len(r.DeletedManifests),
		"bytes_freed", r.FreedBytes(), "skipped", r.Skipped, "failures", r.Failures)
}

// logScrub logs the outcome of a background scrub.
func (g *gcSubsystem) logScrub(ctx context.Context, r *gc.ScrubReport, err error) {
	if err != nil {
		if ctx.Err() == nil {
			g.logger.Error("integrity scrub failed", "error", err)
		}
		return
	}
	level := slog.LevelInfo
	if r.Damaged() || r.Failures > 0 {
		level = slog.LevelError
	}
	g.logger.Log(ctx, level, "integrity scrub finished",
		"duration", time.Since(r.Started).Round(time.Millisecond).String(),
		"blobs", r.Blobs, "bytes", r.Bytes, "corrupt", len(r.Corrupt), "missing", len(r.Missing), "failures", r.Failures)
}

// Stop ends the loops and waits for a run in progress to notice, at most
// until ctx ends. The loops release their job locks as they end.
func (g *gcSubsystem) Stop(ctx context.Context) error {
	if g.stop == nil {
		return nil
	}
	g.stop()
	done := make(chan struct{})
	go func() {
		g.loops.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for background jobs to stop: %w", ctx.Err())
	}
}

func (g *gcSubsystem) Health(ctx context.Context) error { return nil }

// newCollector builds a garbage collector from cfg over blobs, meta and
// the object store.
func newCollector(cfg config.Config, blobs *blob.Store, meta metadata.Store, store *objects.Store) *gc.Collector {
	return gc.NewCollector(meta, blobs, store, gc.Options{
		GracePeriod:           cfg.GC.GracePeriod,
		UploadExpiry:          cfg.GC.UploadExpiry,
		MultipartExpiry:       cfg.S3.MultipartExpiry,
		UntaggedAge:           cfg.GC.Untagged.DeleteAfter,
		DeleteOrphanReferrers: cfg.GC.Referrers == config.ReferrersDeleteWithSubject,
	})
}

// newScrubber builds a scrubber from cfg over driver and meta.
func newScrubber(cfg config.Config, driver storage.Driver, meta metadata.Store) *gc.Scrubber {
	return gc.NewScrubber(meta, driver, gc.ScrubOptions{BytesPerSecond: cfg.GC.Scrub.MaxMBPerSecond * 1_000_000})
}

// CollectGarbage runs garbage collection once over the storage and the
// metadata store that cfg names, as "cofferd gc" does. With dryRun it
// changes nothing. It is safe while a server uses the same stores.
func CollectGarbage(ctx context.Context, cfg config.Config, logger *slog.Logger, dryRun bool) (*gc.Report, error) {
	return withStores(ctx, cfg, logger, func(ctx context.Context, driver storage.Driver, meta metadata.Store) (*gc.Report, error) {
		blobs := newBlobStore(cfg.Storage, driver, meta)
		return newCollector(cfg, blobs, meta, objects.New(meta, blobs, cfg.S3.Region)).Run(ctx, dryRun)
	})
}

// Scrub runs the integrity scrub once over the storage and the metadata
// store that cfg names, as "cofferd scrub" does. It is safe while a server
// uses the same stores.
func Scrub(ctx context.Context, cfg config.Config, logger *slog.Logger) (*gc.ScrubReport, error) {
	return withStores(ctx, cfg, logger, func(ctx context.Context, driver storage.Driver, meta metadata.Store) (*gc.ScrubReport, error) {
		return newScrubber(cfg, driver, meta).Run(ctx)
	})
}

// errMemoryStorage rejects a maintenance command on the memory driver, whose
// blobs live only inside the server process.
var errMemoryStorage = errors.New("storage.driver memory keeps blobs inside the server process, so another process cannot see them; " +
	"let the server run garbage collection (gc.enabled) and the scrub (gc.scrub.enabled) instead")

// withStores opens the storage driver and the metadata store as the server
// does, without metrics, runs fn and closes them.
func withStores[T any](ctx context.Context, cfg config.Config, logger *slog.Logger,
	fn func(context.Context, storage.Driver, metadata.Store) (T, error)) (T, error) {
	var zero T
	if cfg.Storage.Driver == "memory" {
		return zero, errMemoryStorage
	}
	storageSys := &storageSubsystem{cfg: cfg.Storage}
	if err := storageSys.Start(ctx); err != nil {
		return zero, err
	}
	metadataSys := &metadataSubsystem{cfg: cfg.Metadata}
	if err := metadataSys.Start(ctx); err != nil {
		return zero, err
	}
	defer func() {
		if err := metadataSys.Stop(context.WithoutCancel(ctx)); err != nil {
			logger.Warn("metadata store not closed cleanly", "error", err)
		}
	}()
	return fn(telemetry.WithLogger(ctx, logger), storageSys.driver, metadataSys.store)
}
