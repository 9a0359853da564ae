package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/events"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/postgres"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	metadatatraced "github.com/cofferhq/coffer/internal/metadata/traced"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/filesystem"
	"github.com/cofferhq/coffer/internal/storage/memory"
	"github.com/cofferhq/coffer/internal/storage/reliable"
	s3storage "github.com/cofferhq/coffer/internal/storage/s3"
)

// storageSubsystem owns the blob storage driver, wrapped with the
// storage metrics when metrics are enabled, with spans when tracing is
// enabled, and then with retries, timeouts and a circuit breaker unless
// storage.reliability.enabled is false. The metrics and spans sit inside,
// so they count every try.
type storageSubsystem struct {
	cfg     config.Storage
	metrics *serverMetrics
	tracing *tracingSubsystem
	driver  storage.Driver
	// reliability is the outermost wrapper, whose BreakerState the
	// metrics can report; nil when disabled.
	reliability *reliable.Driver
	// presigner is the unwrapped s3 driver when storage.s3.redirect is on,
	// else nil. Presigning signs locally and sends no request, so it needs
	// none of the wrappers.
	presigner blob.Presigner
}

func (s *storageSubsystem) Name() string    { return "storage" }
func (s *storageSubsystem) Validate() error { return nil } // config.Validate covers the driver choice

func (s *storageSubsystem) Start(ctx context.Context) error {
	switch s.cfg.Driver {
	case "filesystem":
		d, err := filesystem.New(s.cfg.Filesystem.Root)
		if err != nil {
			return fmt.Errorf("filesystem storage at %s: %w", s.cfg.Filesystem.Root, err)
		}
		if !s.cfg.Filesystem.DirectIO {
			d.DisableDirectIO()
		}
		s.driver = d
	case "s3":
		c := s.cfg.S3
		d, err := s3storage.New(ctx, s3storage.Options{
			Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket, Prefix: c.Prefix, PathStyle: c.PathStyle,
			AccessKey: c.AccessKey, SecretKey: c.SecretKey, CACertFile: c.CACert,
			WrapTransport: s.tracing.transport(),
		})
		if err != nil {
			return fmt.Errorf("s3 storage in bucket %s: %w", c.Bucket, err)
		}
		s.driver = d
		if c.Redirect {
			s.presigner = d
		}
	case "memory":
		s.driver = memory.New()
	default:
		return fmt.Errorf("unknown storage driver %q", s.cfg.Driver)
	}
	s.driver = s.tracing.storage(s.metrics.instrument(s.driver))
	if r := s.cfg.Reliability; r.Enabled {
		s.reliability = reliable.Wrap(s.driver, reliable.Options{
			MaxAttempts: r.MaxAttempts, BaseDelay: r.BaseDelay, MaxDelay: r.MaxDelay, OperationTimeout: r.OperationTimeout,
			BreakerThreshold: r.BreakerThreshold, BreakerCooldown: r.BreakerCooldown,
			OnRetry: s.metrics.storageRetryCounter(),
		})
		s.metrics.addBreakerState(s.reliability)
		s.driver = s.reliability
	}
	return nil
}

func (s *storageSubsystem) Stop(ctx context.Context) error { return nil }

// newBlobStore returns a blob store over driver, configured by cfg, that
// keeps upload state and blob rows in meta. On S3, whose Move copies the
// content, committed uploads stay where they were written.
func newBlobStore(cfg config.Storage, driver storage.Driver, meta metadata.Store) *blob.Store {
	blobs := blob.New(driver, meta)
	if cfg.Driver == "s3" {
		blobs.KeepUploadsInPlace(meta)
	}
	if cfg.VerifyReads == "digest" {
		blobs.VerifyWholeReadsByDigest()
	}
	return blobs
}

// blobStore returns a blob store over the driver that keeps upload state in
// meta, with redirects enabled when storage.s3.redirect is on.
func (s *storageSubsystem) blobStore(meta metadata.Store) *blob.Store {
	blobs := newBlobStore(s.cfg, s.driver, meta)
	if s.presigner != nil {
		blobs.EnableRedirects(s.presigner, s.cfg.S3.RedirectExpiry)
	}
	return blobs
}

func (s *storageSubsystem) Health(ctx context.Context) error {
	return blob.New(s.driver, nil).Ping(ctx)
}

// metadataSubsystem owns the metadata store, wrapped with spans when
// tracing is enabled, and the locks that the replicas sharing it
// coordinate with.
type metadataSubsystem struct {
	cfg config.Metadata
	// recordEvents installs the event recorder, so that every change
	// writes its CloudEvents to the outbox.
	recordEvents bool
	tracing      *tracingSubsystem
	metrics      *serverMetrics
	store        metadata.Store
	// jobs lets one replica at a time run each background job.
	jobs jobLocks
	// sessions serialises writes to one upload session across replicas;
	// nil with SQLite, which one process owns.
	sessions blob.SharedSessionLocks
}

// blobs returns a blob store over the storage driver that keeps upload
// sessions in the metadata store and locks them across replicas.
func (m *metadataSubsystem) blobs(s *storageSubsystem) *blob.Store {
	store := s.blobStore(m.store)
	if m.sessions != nil {
		store.WithSharedSessionLocks(m.sessions)
	}
	return store
}

func (m *metadataSubsystem) Name() string    { return "metadata" }
func (m *metadataSubsystem) Validate() error { return nil }

func (m *metadataSubsystem) Start(ctx context.Context) error {
	switch m.cfg.Driver {
	case "sqlite":
		store, err := sqlite.Open(ctx, m.cfg.SQLite.Path)
		if err != nil {
			return fmt.Errorf("sqlite metadata at %s: %w", m.cfg.SQLite.Path, err)
		}
		m.store = m.wrap(store, "sqlite")
	case "postgres":
		store, err := postgres.Open(ctx, m.cfg.Postgres.URL)
		if err != nil {
			return fmt.Errorf("postgres metadata: %w", err)
		}
		m.store = m.wrap(store, "postgresql")
	default:
		return fmt.Errorf("unknown metadata driver %q", m.cfg.Driver)
	}
	if m.recordEvents {
		m.store.SetEventRecorder(events.Record)
	}
	jobs, sessions, err := newLocks(m.cfg)
	if err != nil {
		_ = m.store.Close()
		return err
	}
	m.jobs, m.sessions = jobs, sessions
	return nil
}

// Stop closes the lock connection, which releases every lock this replica
// still holds, and then the store.
func (m *metadataSubsystem) Stop(ctx context.Context) error {
	var errs []error
	if m.jobs != nil {
		if err := m.jobs.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("release cluster locks: %w", err))
		}
	}
	if err := m.store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (m *metadataSubsystem) Health(ctx context.Context) error { return m.store.Ping(ctx) }

// wrap adds spans (when tracing is on) and call durations (when metrics
// are on) to a metadata store. system is the db.system.name of the
// backend.
func (m *metadataSubsystem) wrap(store metadata.Store, system string) metadata.Store {
	tracer, observe := m.tracing.metadataTracer(), m.metrics.metadataObserver()
	if tracer == nil && observe == nil {
		return store
	}
	return metadatatraced.New(store, tracer, system).WithObserver(observe)
}
